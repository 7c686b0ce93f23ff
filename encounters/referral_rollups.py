"""Keeping the referral rollup exact (`ReferralDayCount` in `encounters.models`).

The rule of the other rollups: whenever referrals change, the days they were
and are counted on (`referred_on`) are recomputed from the referrals table in
the same transaction, by the service that made the change. A referral counts
at the site of the encounter it came from (none without one), so an
encounter moved to another site recomputes its referrals' days too
(`encounters_moved`). A day holds a few hundred referrals at most: the day is
the slice. `rebuild` recomputes everything (`manage.py rebuild_report_rollups`).
"""

import datetime
from collections.abc import Iterable

from django.db import connection, transaction

from outreach import rollup_locks

from .models import Encounter, Referral, ReferralDayCount

# Days per statement, under SQLite's limit on query parameters.
_CHUNK = 500

_quote = connection.ops.quote_name
_INSERT_SQL = f"""
    INSERT INTO {_quote(ReferralDayCount._meta.db_table)}
        (day, team_id, site_id, service_kind, status, has_made_on, has_connected_on, referrals)
    SELECT r.referred_on, r.team_id, e.site_id, r.service_kind, r.status,
           r.made_on IS NOT NULL, r.connected_on IS NOT NULL, COUNT(*)
    FROM {_quote(Referral._meta.db_table)} r
    LEFT JOIN {_quote(Encounter._meta.db_table)} e ON e.id = r.encounter_id
    WHERE {{where}}
    GROUP BY r.referred_on, r.team_id, e.site_id, r.service_kind, r.status,
             r.made_on IS NOT NULL, r.connected_on IS NOT NULL
"""


def days_of(referrals: Iterable[Referral]) -> set[datetime.date]:
    """The days these referrals are counted on as they are now (take them before and after a change)."""
    return {referral.referred_on for referral in referrals}


def referrals_changed(*referrals: Referral, before: Iterable[datetime.date] = ()) -> None:
    """Recompute the days of these referrals (as they are now, and `before` a change)."""
    refresh(days_of(referrals) | set(before))


def encounters_moved(encounter_ids: Iterable[int]) -> None:
    """The referrals made from these encounters now count at the encounters' new site."""
    ids = sorted(set(encounter_ids))
    days: set[datetime.date] = set()
    for start in range(0, len(ids), _CHUNK):
        days.update(
            Referral.objects.filter(encounter_id__in=ids[start : start + _CHUNK]).values_list("referred_on", flat=True)
        )
    refresh(days)


@transaction.atomic
def refresh(days: set[datetime.date]) -> None:
    # Waits for a concurrent recompute of these days to commit (`outreach.rollup_locks`).
    rollup_locks.lock(referral_days=days)
    ordered = sorted(days)
    for start in range(0, len(ordered), _CHUNK):
        chunk = [connection.ops.adapt_datefield_value(day) for day in ordered[start : start + _CHUNK]]
        placeholders = ", ".join(["%s"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {_quote(ReferralDayCount._meta.db_table)} WHERE day IN ({placeholders})", chunk
            )
            cursor.execute(_INSERT_SQL.format(where=f"r.referred_on IN ({placeholders})"), chunk)


@transaction.atomic
def rebuild() -> None:
    ReferralDayCount.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_SQL.format(where="1 = 1"))
