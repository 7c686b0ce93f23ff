"""Keeping the outing rollups exact (`OutingDayCount` and `OutingWorkerDayCount` in `outreach.models`).

A row holds the done outings of one (day, site) slice and team. Whenever an
outing changes, its slices before and after the change are recomputed from
the outings table in the same transaction; the encounters app calls
`outings_changed` when the encounters that belong to an outing change
(it keeps `OutingEncounterCount`). `rebuild` recomputes everything.
"""

import datetime
from collections.abc import Callable, Iterable

from django.db import transaction
from django.db.models import Count, Q

from . import rollup_locks
from .models import Outing, OutingDayCount, OutingEncounterCount, OutingWorkerDayCount
from .vocabulary import OutingStatus

# Ids or days per query, under SQLite's limit on query parameters.
_CHUNK = 300
# Above this many (date, site) slices a refresh recomputes whole days (as the encounter rollups do).
_MAX_SLICES = 50


# Rollups of other apps that count something by the team of an outing (the
# client feedback rollup of `reports`) register here when their app is ready;
# the outing service calls them, in its transaction, with the ids of outings
# moved to another team.
TEAM_DEPENDENTS: list[Callable[[list[int]], None]] = []


def outing_teams_changed(outing_ids: Iterable[int]) -> None:
    ids = sorted(set(outing_ids))
    for dependent in TEAM_DEPENDENTS:
        dependent(ids)


def slices_of(outings: Iterable[Outing]) -> set[tuple[datetime.date, int]]:
    """The (date, site id) slices of these outings as they are now (take them before and after a change)."""
    return {(outing.date, outing.site_id) for outing in outings}


def outings_changed(*outings: Outing, before: Iterable[tuple[datetime.date, int]] = (), workers: bool = True) -> None:
    """Recompute the slices of these outings (as they are now, and `before` a change).

    `workers=False` when only tallies or encounters changed: the rollup by
    worker counts neither, so it is left as it is.
    """
    refresh(slices_of(outings) | set(before), workers=workers)


def outing_counted_values_changed(outing: Outing, *, workers: bool = True) -> None:
    """Recompute the slices of an outing whose counted values changed (it was made, its tally moved).

    Only done outings are counted (`_insert`), so an outing planned or going
    on changes no slice and nothing is recomputed. `outing.status` must be the
    stored one: just written, or read after the caller's UPDATE of the row,
    which waits for a concurrent change of the status to commit. A change
    that may move an outing in or out of its slices (its status, date or
    site) goes through `outings_changed` with the slices from before.
    """
    if outing.status == OutingStatus.DONE:
        outings_changed(outing, workers=workers)


def outing_ids_changed(outing_ids: Iterable[int]) -> None:
    """Recompute the slices of the done outings among these ids (their encounters changed).

    An outing not done is in no slice's counts (`_insert` sums the done ones),
    so its encounters change none: an encounter logged in the field, on an
    outing still going on, costs one look-up here. The caller holds the lock
    of the outings' sites (`rollup_locks`), which an outing's change of status
    takes too before its slices are recomputed: a status read here is either
    the committed one or one whose recompute will run after this transaction
    commits, and count what it wrote.
    """
    ids = list(set(outing_ids))
    slices: set[tuple[datetime.date, int]] = set()
    for start in range(0, len(ids), _CHUNK):
        done = Outing.objects.filter(pk__in=ids[start : start + _CHUNK], status=OutingStatus.DONE)
        slices.update(done.values_list("date", "site_id"))
    # Encounters change no participant's hours: the rollup by worker stays.
    refresh(slices, workers=False)


@transaction.atomic(savepoint=False)
def refresh(slices: set[tuple[datetime.date, int]], *, workers: bool = True) -> None:
    if not slices:
        return  # an empty Q() below would match, and recompute, every row
    if len(slices) > _MAX_SLICES:
        rollup_locks.lock(every_site=True)
        _refresh_days(sorted({day for day, _site in slices}), workers=workers)
        return
    # Waits for a concurrent recompute of these slices to commit (`outreach.rollup_locks`).
    rollup_locks.lock(sites=(site for _day, site in slices))
    ordered = sorted(slices)
    condition = Q()
    for day, site in ordered:
        condition |= Q(day=day, site_id=site)
    OutingDayCount.objects.filter(condition).delete()
    if workers:
        OutingWorkerDayCount.objects.filter(condition).delete()
    _insert(Outing.objects.filter(_outing_condition(ordered)), workers=workers)


def _refresh_days(days: list[datetime.date], *, workers: bool) -> None:
    """Recompute every slice of these days: a simple condition instead of a long OR of (day, site).

    A file import touches thousands of slices; as a chain of ORs they cost
    more to build and to run than the few more slices a day's rows hold.
    """
    for start in range(0, len(days), _CHUNK):
        chunk = days[start : start + _CHUNK]
        OutingDayCount.objects.filter(day__in=chunk).delete()
        if workers:
            OutingWorkerDayCount.objects.filter(day__in=chunk).delete()
        _insert(Outing.objects.filter(date__in=chunk), workers=workers)


@transaction.atomic
def rebuild() -> None:
    OutingDayCount.objects.all().delete()
    OutingWorkerDayCount.objects.all().delete()
    _insert(Outing.objects.all())


def _outing_condition(slices) -> Q:
    condition = Q()
    for day, site in slices:
        condition |= Q(date=day, site_id=site)
    return condition


def _insert(outings, *, workers: bool = True) -> None:
    """Sum the done outings among `outings` by (date, team, site), and by participant with `workers`, and
    write the rows."""
    done = outings.filter(status=OutingStatus.DONE).order_by()
    rows = done.annotate(participant_count=Count("participants")).values_list(
        "id", "date", "team_id", "site_id", "start_time", "end_time", "participant_count", "tallied_contacts"
    )
    logged = {
        outing_id: (encounters, talks)
        for outing_id, encounters, talks in OutingEncounterCount.objects.filter(
            outing__in=done.values("id")
        ).values_list("outing_id", "encounters", "conversations")
    }
    participants_of: dict[int, list[int]] = {}
    through = Outing.participants.through.objects.filter(outing__in=done.values("id"))
    for outing_id, user_id in through.values_list("outing_id", "user_id") if workers else ():
        participants_of.setdefault(outing_id, []).append(user_id)
    sums: dict[tuple, list[int]] = {}
    by_worker: dict[tuple, list[int]] = {}
    for outing_id, day, team, site, begins, ends, participants, tallied in rows:
        row = sums.setdefault((day, team, site), [0, 0, 0, 0, 0])
        row[0] += 1
        # An outing without an end time has no length yet.
        length = 0 if ends is None else _seconds(ends) - _seconds(begins)
        # Hours are duration × participants.
        row[1] += length * participants
        for user_id in participants_of.get(outing_id, ()):
            worker = by_worker.setdefault((day, team, site, user_id), [0, 0])
            worker[0] += 1
            worker[1] += length
        row[2] += tallied
        encounters, talks = logged.get(outing_id, (0, 0))
        row[3] += encounters
        row[4] += talks
    OutingDayCount.objects.bulk_create(
        [
            OutingDayCount(
                day=day,
                team_id=team,
                site_id=site,
                outings_done=n,
                participant_seconds=seconds,
                tallied_contacts=tallied,
                encounters=encounters,
                conversations=talks,
            )
            for (day, team, site), (n, seconds, tallied, encounters, talks) in sums.items()
        ],
        batch_size=1000,
    )
    OutingWorkerDayCount.objects.bulk_create(
        [
            OutingWorkerDayCount(day=day, team_id=team, site_id=site, user_id=user, outings_done=n, seconds=seconds)
            for (day, team, site, user), (n, seconds) in by_worker.items()
        ],
        batch_size=1000,
    )


def _seconds(moment: datetime.time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second
