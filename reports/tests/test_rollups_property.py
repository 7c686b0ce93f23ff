"""The rollup-based reports give exactly the raw figures, whatever the history of writes.

Hypothesis builds random histories through the services — encounters
created, edited (date across Helsinki midnight, site, person, outing, depth,
needs), deleted; persons merged and unmerged; outings created in any status,
finished, re-timed, given participants and tallies, cancelled, moved to
another team; client feedback given at sites and outings and deleted;
referrals made from encounters or without one, moved forward in status,
re-dated, given to another team or encounter, deleted with their encounter —
and then compares the summary, the referral funnel, the reach, the extract
and the work by worker read from the rollups with
the raw computation (`*_raw`), for random periods, filters and users. A
rebuild from scratch must change nothing either.
"""

import contextlib
import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from encounters.models import Encounter, EncounterDayCount, PersonDayCount, PersonMerge, Referral, ReferralDayCount
from encounters.services import (
    encounter_create,
    encounter_delete,
    encounter_update,
    person_create,
    person_merge,
    person_unmerge,
    person_update,
    referral_create,
    referral_update,
)
from outreach.models import OutingDayCount, OutingWorkerDayCount
from outreach.services import outing_cancel, outing_create, outing_tally_add, outing_update
from outreach.tests.factories import AreaFactory, FieldSiteFactory, TeamFactory, UserFactory, municipality
from outreach.vocabulary import (
    AgeGroup,
    ContactKind,
    Depth,
    Gender,
    GotHelp,
    Need,
    OutingStatus,
    ReferralStatus,
    Role,
    ServiceKind,
    SiteType,
    TalkAgain,
)
from reports import rollups as report_rollups
from reports.dashboard import work_by_worker, work_by_worker_raw
from reports.feedback_selectors import GROUPS as FEEDBACK_GROUPS
from reports.feedback_selectors import feedback_breakdown, feedback_breakdown_raw
from reports.models import ClientFeedback, FeedbackDayCount
from reports.selectors import (
    REACH_GROUPS,
    extract_rows,
    extract_rows_raw,
    period_referrals,
    reach_report,
    reach_report_raw,
    referral_counts,
    referral_funnel_of,
    summary_report,
    summary_report_raw,
    summary_with_funnel,
)
from reports.services import feedback_delete, feedback_record

HELSINKI_WINTER = datetime.timezone(datetime.timedelta(hours=2))
FIRST_DAY = datetime.date(2026, 3, 26)  # DST begins on 29 March 2026
DAYS = 10

days = st.integers(0, DAYS - 1).map(lambda n: FIRST_DAY + datetime.timedelta(days=n))
# Around midnight too, so that the Helsinki date differs from the UTC one.
moments = st.builds(
    lambda day, minutes: (
        datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC) + datetime.timedelta(minutes=minutes)
    ),
    days,
    st.sampled_from([0, 30, 20 * 60 + 59, 21 * 60 + 30, 22 * 60, 23 * 60 + 50, 9 * 60]),
)
index = st.integers(0, 1000)


class RollupsEqualRawFigures(TestCase):
    def world(self):
        area = AreaFactory(name="Rollup area")
        self.teams = [TeamFactory(area=area), TeamFactory(area=area)]
        self.superuser = UserFactory(role=Role.ADMIN, is_superuser=True)
        self.workers = [UserFactory(role=Role.WORKER, teams=[team]) for team in self.teams]
        self.expert = UserFactory(role=Role.EXPERT, teams=[self.teams[0]])
        self.coordinator = UserFactory(role=Role.COORDINATOR, teams=[self.teams[0]])
        kuopio, kaavi = municipality("297"), municipality("204")
        self.sites = [
            FieldSiteFactory(site_type=SiteType.FOOD_DISTRIBUTION, municipality=kuopio),
            FieldSiteFactory(site_type=SiteType.STREET, municipality=kaavi),
            FieldSiteFactory(site_type=SiteType.STREET, municipality=kuopio),
        ]
        self.persons = [
            person_create(actor=self.superuser, team=team, alias=f"P{n}") for n, team in enumerate(self.teams * 2)
        ]
        self.outings = []

    def pick(self, items, n):
        item = items[n % len(items)] if items else None
        if item is not None and hasattr(item, "refresh_from_db"):
            item.refresh_from_db()  # a refused write may have left changes on the instance
        return item

    def write(self, data):
        """One random write through the services; refused writes (bad links) change nothing."""
        su = self.superuser
        op = data.draw(
            st.sampled_from(
                [
                    *["encounter"] * 6,
                    *["outing"] * 2,
                    "person",
                    "outing_update",
                    "tally",
                    "cancel",
                    "edit",
                    "edit",
                    "delete",
                    "merge",
                    "merge",
                    "unmerge",
                    "engage",
                    "feedback",
                    "feedback",
                    "feedback_delete",
                    "outing_team",
                    "referral",
                    "referral",
                    "referral_update",
                    "referral_update",
                ]
            )
        )
        team = self.pick(self.teams, data.draw(index))
        if op == "person":
            self.persons.append(person_create(actor=su, team=team, alias=f"P{len(self.persons)}"))
        elif op in ("outing", "outing_update", "tally", "cancel", "outing_team", "feedback", "feedback_delete"):
            self._outing_write(data, op, team)
        elif op == "encounter":
            self._encounter(data, team)
        elif op == "edit":
            encounter = self.pick(list(Encounter.objects.order_by("pk")), data.draw(index))
            if encounter is not None:
                self._edit(data, encounter)
        elif op == "delete":
            encounter = self.pick(list(Encounter.objects.order_by("pk")), data.draw(index))
            if encounter is not None:
                encounter_delete(actor=su, encounter=encounter, with_referrals=True)
        elif op in ("merge", "unmerge", "engage"):
            self._person_write(data, op)
        elif op in ("referral", "referral_update"):
            self._referral_write(data, op, team)

    def _outing_write(self, data, op, team):
        su = self.superuser
        if op == "outing":
            start = data.draw(st.sampled_from([datetime.time(9), datetime.time(17, 30)]))
            members = [w for w in [*self.workers, self.expert] if team in w.teams.all()]
            self.outings.append(
                outing_create(
                    actor=su,
                    team=team,
                    site=self.pick(self.sites, data.draw(index)),
                    date=data.draw(days),
                    start_time=start,
                    end_time=data.draw(st.sampled_from([None, datetime.time(20), datetime.time(19, 15)])),
                    status=data.draw(st.sampled_from(OutingStatus.values)),
                    participants=data.draw(st.lists(st.sampled_from(members), unique=True, max_size=2)),
                    tallied_contacts=data.draw(st.integers(0, 9)),
                )
            )
        elif op == "outing_update" and self.outings:
            outing = self.pick(self.outings, data.draw(index))
            outing_update(
                actor=su,
                outing=outing,
                status=data.draw(st.sampled_from(OutingStatus.values)),
                date=data.draw(days),
                site=self.pick(self.sites, data.draw(index)),
                participants=data.draw(st.lists(st.sampled_from(list(outing.team.members.all())), unique=True)),
            )
        elif op == "outing_team" and self.outings:
            # Moved to another team (without participants, who belong to the old one): its feedback follows.
            outing = self.pick(self.outings, data.draw(index))
            outing_update(actor=su, outing=outing, team=team, participants=[])
        elif op == "feedback":
            outing = data.draw(st.one_of(st.none(), st.sampled_from(self.outings))) if self.outings else None
            feedback_record(
                site=outing.site if outing is not None else self.pick(self.sites, data.draw(index)),
                outing=outing,
                score=data.draw(st.integers(1, 5)),
                got_help=data.draw(st.sampled_from(["", *GotHelp.values])),
                talk_again=data.draw(st.sampled_from(["", *TalkAgain.values])),
                given_on=data.draw(days),
            )
        elif op == "feedback_delete":
            answer = self.pick(list(ClientFeedback.objects.order_by("pk")), data.draw(index))
            if answer is not None:
                feedback_delete(actor=su, feedback=answer)
        elif op == "tally" and self.outings:
            outing_tally_add(
                actor=su, outing=self.pick(self.outings, data.draw(index)), delta=data.draw(st.integers(-3, 5))
            )
        elif op == "cancel" and self.outings:
            outing = self.pick(self.outings, data.draw(index))
            if outing.status != OutingStatus.DONE:
                outing_cancel(actor=su, outing=outing)

    def _referral_write(self, data, op, team):
        su = self.superuser
        if op == "referral":
            encounters = list(Encounter.objects.order_by("pk"))
            encounter = data.draw(st.one_of(st.none(), st.sampled_from(encounters))) if encounters else None
            referral_create(
                actor=su,
                team=encounter.team if encounter is not None else team,
                encounter=encounter,
                person=encounter.person if encounter is not None else None,
                service_kind=data.draw(st.sampled_from([ServiceKind.HOUSING, ServiceKind.KELA])),
                status=data.draw(st.sampled_from(ReferralStatus.values)),
                referred_on=data.draw(days),
            )
            return
        referral = self.pick(list(Referral.objects.order_by("pk")), data.draw(index))
        if referral is None:
            return
        fields: dict = {}
        for name in data.draw(st.sets(st.sampled_from(["status", "referred_on", "team", "encounter", "service_kind"]))):
            if name == "status":
                fields[name] = data.draw(st.sampled_from(ReferralStatus.values))
            elif name == "referred_on":
                fields[name] = data.draw(days)
            elif name == "team":
                fields[name] = team
            elif name == "encounter":
                fields[name] = self.pick(
                    list(Encounter.objects.filter(team=referral.team).order_by("pk")), data.draw(index)
                )
            else:
                fields[name] = data.draw(st.sampled_from([ServiceKind.HOUSING, ServiceKind.KELA]))
        referral_update(actor=su, referral=referral, **fields)

    def _person_write(self, data, op):
        su = self.superuser
        if op == "merge" and len(self.persons) >= 2:
            kept, merged = self.pick(self.persons, data.draw(index)), self.pick(self.persons, data.draw(index))
            kept.refresh_from_db()
            merged.refresh_from_db()
            person_merge(actor=su, kept=kept, merged=merged)
        elif op == "unmerge":
            merge = self.pick(list(PersonMerge.objects.filter(undone_at__isnull=True).order_by("pk")), data.draw(index))
            if merge is not None:
                person_unmerge(actor=su, merge=merge)
        elif op == "engage" and self.persons:
            person = self.pick(self.persons, data.draw(index))
            person.refresh_from_db()
            person_update(actor=su, person=person, engaged_on=data.draw(st.one_of(st.none(), days)))

    def _encounter(self, data, team):
        outing = data.draw(st.one_of(st.none(), st.sampled_from(self.outings))) if self.outings else None
        site = outing.site if outing is not None else self.pick(self.sites, data.draw(index))
        team = outing.team if outing is not None else team
        person = data.draw(st.one_of(st.none(), st.sampled_from(self.persons)))
        person.refresh_from_db() if person is not None else None
        if person is not None and person.merged_into_id is not None:
            person = person.merged_into  # as a worker would pick the kept record
        encounter_create(
            actor=self.superuser,
            team=team,
            site=site,
            outing=outing,
            person=person,
            occurred_at=data.draw(moments),
            depth=data.draw(st.sampled_from(Depth.values)),
            contact_kind=data.draw(st.sampled_from(ContactKind.values)),
            gender=data.draw(st.sampled_from(Gender.values)),
            age_group=data.draw(st.sampled_from(AgeGroup.values)),
            needs=data.draw(st.lists(st.sampled_from(Need.values), unique=True, max_size=3)),
        )

    def _edit(self, data, encounter):
        fields: dict = {}
        for name in data.draw(st.sets(st.sampled_from(["occurred_at", "site", "person", "outing", "depth", "needs"]))):
            if name == "occurred_at":
                fields[name] = data.draw(moments)
            elif name == "site":
                fields[name] = self.pick(self.sites, data.draw(index))
            elif name == "person":
                fields[name] = data.draw(st.one_of(st.none(), st.sampled_from(self.persons))) if self.persons else None
            elif name == "outing":
                fields[name] = data.draw(st.one_of(st.none(), st.sampled_from(self.outings))) if self.outings else None
                if fields[name] is not None:
                    fields["site"] = fields[name].site
                    fields["team"] = fields[name].team
            elif name == "depth":
                fields[name] = data.draw(st.sampled_from(Depth.values))
            else:
                fields[name] = data.draw(st.lists(st.sampled_from(Need.values), unique=True, max_size=3))
        encounter_update(actor=self.superuser, encounter=encounter, **fields)

    def assert_same_figures(self, data):
        for _ in range(3):
            first = data.draw(days) - datetime.timedelta(days=data.draw(st.integers(0, 3)))
            last = first + datetime.timedelta(days=data.draw(st.integers(0, DAYS)))
            user = data.draw(st.sampled_from([self.superuser, self.coordinator, *self.workers]))
            filters = {
                "municipality": data.draw(st.sampled_from([None, municipality("297"), municipality("204")])),
                "site_type": data.draw(st.sampled_from([None, SiteType.STREET, SiteType.FOOD_DISTRIBUTION])),
                "team": data.draw(st.sampled_from([None, *self.teams])),
            }
            arguments = {"user": user, "start": first, "end": last, **filters}
            assert summary_report(**arguments) == summary_report_raw(**arguments)
            assert summary_with_funnel(**arguments)[1] == referral_funnel_of(
                referral_counts(period_referrals(**arguments))
            )
            assert work_by_worker(**arguments) == work_by_worker_raw(**arguments)
            assert extract_rows(**arguments) == extract_rows_raw(**arguments)
            for group in REACH_GROUPS:
                assert reach_report(group=group, **arguments) == reach_report_raw(group=group, **arguments)
            with override_settings(REPORTS_FEEDBACK_MIN_ANSWERS=1):  # every figure shown, so every one compared
                for group in FEEDBACK_GROUPS:
                    rolled_up = feedback_breakdown(group=group, **arguments)
                    assert rolled_up == feedback_breakdown_raw(group=group, **arguments)

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.data())
    def test_rollups_equal_the_raw_computation(self, data):
        self.world()
        for _ in range(data.draw(st.integers(1, 25))):
            with contextlib.suppress(ValidationError, PermissionDenied):  # refused by the service: nothing changed
                self.write(data)
        self.assert_same_figures(data)
        # A rebuild from scratch gives the very same rows.
        before = self.rollup_rows()
        report_rollups.rebuild_all()
        assert self.rollup_rows() == before

    def rollup_rows(self):
        return (
            sorted(
                EncounterDayCount.objects.values_list("day", "team_id", "site_id", "total", "anonymous", "need_housing")
            ),
            sorted(
                PersonDayCount.objects.values_list("person_id", "day", "team_id", "site_id", "encounters", "first_on")
            ),
            sorted(OutingWorkerDayCount.objects.values_list("day", "team_id", "site_id", "user_id", "seconds")),
            sorted(
                FeedbackDayCount.objects.values_list(
                    "day", "site_id", "outing_team_id", "answers", "score_sum", *report_rollups.ANSWER_COLUMNS
                ),
                key=repr,  # outing_team_id is None for feedback given without an outing
            ),
            sorted(
                OutingDayCount.objects.values_list(
                    "day",
                    "team_id",
                    "site_id",
                    "outings_done",
                    "participant_seconds",
                    "tallied_contacts",
                    "encounters",
                    "conversations",
                )
            ),
            sorted(
                ReferralDayCount.objects.values_list(
                    "day",
                    "team_id",
                    "site_id",
                    "service_kind",
                    "status",
                    "has_made_on",
                    "has_connected_on",
                    "referrals",
                ),
                key=repr,  # site_id is None for a referral made without an encounter
            ),
        )
