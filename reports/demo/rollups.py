"""The report rollups of a demo load, counted while its rows are generated.

Rebuilding the rollups from the loaded tables (`reports.rollups.rebuild_all`)
reads every encounter, outing and feedback answer back, about 9 s for a
million encounters. The generator holds every value they sum as it makes the
rows, so it counts them on the way and the loader writes the rollup rows
like the rest. That is right only when the database held none of the rows
the rollups count: `seed_demo --force` into a database with encounters,
outings or feedback rebuilds from the tables instead (`seed_demo`).

The rollups' own definitions are the SQL in `encounters.rollups`,
`outreach.rollups` and `reports.rollups`; the columns by vocabulary code come
from there. reports/tests/test_seed_demo.py checks that what is counted here
is exactly what a rebuild gives.
"""

from __future__ import annotations

import datetime

from encounters import rollups as encounter_rollups
from encounters.models import EncounterDayCount, EncounterMixCount, PersonDayCount, PersonFirstEncounter
from outreach.models import OutingDayCount, OutingEncounterCount, OutingWorkerDayCount
from outreach.vocabulary import Depth
from reports import rollups as report_rollups
from reports.models import FeedbackDayCount

CONVERSATION = Depth.CONVERSATION.value

# The rollup tables, in the order `RollupCounts.write` fills them.
ROLLUP_MODELS = (
    EncounterDayCount,
    EncounterMixCount,
    PersonFirstEncounter,
    PersonDayCount,
    OutingEncounterCount,
    OutingDayCount,
    OutingWorkerDayCount,
    FeedbackDayCount,
)

# (day, team id, site id): the key of the encounter and outing rollups.
Slot = tuple[datetime.date, int, int]
# What `_emit` counts of an encounter: (gender, age group, depth, contact kind, anonymous).
MixKey = tuple[str, str, str, str, bool]

DAY_COUNT_COLUMNS = (
    "day", "team_id", "site_id", "total", "anonymous", "conversation", *encounter_rollups.CODE_FIELDS,
    *encounter_rollups.NEED_COLUMNS,
)  # fmt: skip
FEEDBACK_COUNT_COLUMNS = (
    "day", "site_id", "outing_team_id", "answers", "score_sum", *report_rollups.ANSWER_COLUMNS,
)  # fmt: skip

# Where each code is counted among a day-count row's counts (after total, anonymous, conversation).
_CODE_INDEX = {fieldcode: index for index, fieldcode in enumerate(encounter_rollups.CODE_FIELDS.values(), start=3)}
_NEED_INDEX = [
    (bit, index)
    for index, bit in enumerate(encounter_rollups.NEED_COLUMNS.values(), start=3 + len(encounter_rollups.CODE_FIELDS))
]
# And among a feedback row's counts (after answers, score sum).
_ANSWER_INDEX = {fieldcode: index for index, fieldcode in enumerate(report_rollups.ANSWER_COLUMNS.values(), start=2)}


class RollupCounts:
    """Sums of the generated rows by rollup key; `write` turns them into rollup rows."""

    def __init__(self) -> None:
        # slot -> [done outings, participant seconds, tallied contacts, encounters, conversations]
        self.outing_days: dict[Slot, list[int]] = {}
        # (day, team, site, user) -> [done outings, seconds]
        self.worker_days: dict[tuple[datetime.date, int, int, int], list[int]] = {}
        # (day, site, the outing's team) -> [answers, score sum, one per answer column]
        self.feedback_days: dict[tuple[datetime.date, int, int | None], list[int]] = {}
        self.encounter_mix: dict[Slot, dict[MixKey, int]] = {}
        self.encounter_needs: dict[Slot, dict[int, int]] = {}
        # (person, day, team, site) -> encounters
        self.person_days: dict[tuple[int, datetime.date, int, int], int] = {}
        # outing -> (encounters, conversations)
        self.outing_encounters: dict[int, tuple[int, int]] = {}

    def done_outing(self, slot: Slot, *, seconds: int, participants: tuple[int, ...], tallied: int) -> None:
        row = self.outing_days.setdefault(slot, [0, 0, 0, 0, 0])
        row[0] += 1
        row[1] += seconds * len(participants)
        row[2] += tallied
        day, team_id, site_id = slot
        for user_id in participants:
            worker = self.worker_days.setdefault((day, team_id, site_id, user_id), [0, 0])
            worker[0] += 1
            worker[1] += seconds

    def feedback(self, day: datetime.date, site_id: int, team_id: int | None, score: int, *answers: str) -> None:
        """One answer; `answers` in the order of the feedback's fields: got help, talk again."""
        row = self.feedback_days.get((day, site_id, team_id))
        if row is None:
            row = self.feedback_days[(day, site_id, team_id)] = [0] * (len(FEEDBACK_COUNT_COLUMNS) - 3)
        row[0] += 1
        row[1] += score
        for field, code in zip(("got_help", "talk_again"), answers, strict=True):
            row[_ANSWER_INDEX[(field, code)]] += 1

    def encounters(
        self,
        slot: Slot,
        outing_id: int | None,
        mix: dict[MixKey, int],
        needs: dict[int, int],
        persons: dict[int, int],
    ) -> None:
        """The encounters of one outing, or of one day's calls at an office, all in `slot`."""
        if not mix:
            return
        slot_mix = self.encounter_mix.setdefault(slot, {})
        for key, n in mix.items():
            slot_mix[key] = slot_mix.get(key, 0) + n
        slot_needs = self.encounter_needs.setdefault(slot, {})
        for mask, n in needs.items():
            slot_needs[mask] = slot_needs.get(mask, 0) + n
        day, team_id, site_id = slot
        person_days = self.person_days
        for person_id, n in persons.items():
            person_day = (person_id, day, team_id, site_id)
            person_days[person_day] = person_days.get(person_day, 0) + n
        if outing_id is not None:
            total = sum(mix.values())
            talks = sum(n for (_gender, _age, depth, _kind, _anonymous), n in mix.items() if depth == CONVERSATION)
            self.outing_encounters[outing_id] = (total, talks)
            outing_day = self.outing_days[slot]
            outing_day[3] += total
            outing_day[4] += talks

    def write(self, writer, first_on: dict[int, datetime.date]) -> None:
        """Write the rollup rows; `first_on`: each person's first encounter."""
        writer.write(EncounterDayCount, DAY_COUNT_COLUMNS, self._day_count_rows(), derived=True)
        writer.write(
            EncounterMixCount,
            ("day", "team_id", "site_id", "gender", "age_group", "depth", "encounters"),
            self._mix_rows(),
            derived=True,
        )
        writer.write(PersonFirstEncounter, ("person_id", "first_on"), first_on.items(), derived=True)
        writer.write(
            PersonDayCount,
            ("person_id", "day", "team_id", "site_id", "encounters", "first_on"),
            ((*key, n, first_on[key[0]]) for key, n in self.person_days.items()),
            derived=True,
        )
        writer.write(
            OutingEncounterCount,
            ("outing_id", "encounters", "conversations"),
            ((outing_id, *counts) for outing_id, counts in self.outing_encounters.items()),
            derived=True,
        )
        writer.write(
            OutingDayCount,
            ("day", "team_id", "site_id", "outings_done", "participant_seconds", "tallied_contacts", "encounters",
             "conversations"),
            ((*slot, *row) for slot, row in self.outing_days.items()),
            derived=True,
        )  # fmt: skip
        writer.write(
            OutingWorkerDayCount,
            ("day", "team_id", "site_id", "user_id", "outings_done", "seconds"),
            ((*key, *row) for key, row in self.worker_days.items()),
            derived=True,
        )
        writer.write(
            FeedbackDayCount,
            FEEDBACK_COUNT_COLUMNS,
            ((*key, *row) for key, row in self.feedback_days.items()),
            derived=True,
        )

    def _day_count_rows(self):
        for slot, mix in self.encounter_mix.items():
            counts = [0] * (len(DAY_COUNT_COLUMNS) - 3)
            for (gender, age_group, depth, kind, anonymous), n in mix.items():
                counts[0] += n
                if anonymous:
                    counts[1] += n
                if depth == CONVERSATION:
                    counts[2] += n
                counts[_CODE_INDEX[("gender", gender)]] += n
                counts[_CODE_INDEX[("age_group", age_group)]] += n
                counts[_CODE_INDEX[("contact_kind", kind)]] += n
            for mask, n in self.encounter_needs[slot].items():
                for bit, index in _NEED_INDEX:
                    if mask & bit:
                        counts[index] += n
            yield (*slot, *counts)

    def _mix_rows(self):
        for slot, mix in self.encounter_mix.items():
            counts: dict[tuple[str, str, str], int] = {}
            for (gender, age_group, depth, _kind, _anonymous), n in mix.items():
                counts[(gender, age_group, depth)] = counts.get((gender, age_group, depth), 0) + n
            for key, n in counts.items():
                yield (*slot, *key, n)
