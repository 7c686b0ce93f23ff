"""Concurrent recomputes of the same report rollup rows, one after the other.

Every report rollup is kept by deleting the rows a change touches and
inserting them again from the source table (INSERT … SELECT), in the
transaction of the change. Two transactions that recompute the same rows at
once would, under PostgreSQL's READ COMMITTED, count them twice: the second
one's DELETE waits for the first to commit and then does not see the rows the
first inserted (they were not committed when that DELETE began), and its
INSERT … SELECT, a later statement, counts the first one's records as well.
Two workers saving encounters at the same site on the same day are enough.

So before it deletes, each recompute takes a transaction-scoped advisory lock
on what it recomputes: the sites of its (day, site) slices, the persons of
the person rollups, the outings of the outing counts, the days of the
referral counts. A second transaction that recomputes the same rows waits
until the first commits; its DELETE then sees the first one's rows. Locks are
re-entrant within a transaction and released at its end; one call takes all
its keys in order (sites, then persons, outings and referral days), so two
transactions do not wait for each other in a circle. Persons and outings
share a fixed number of keys (`BUCKETS`): a large import locks at most that
many, and two unrelated persons with the same key only wait for each other.
The person rollups are recomputed by person alone (`encounters.rollups`):
recomputed by slice as well, one person's rows would be rewritten under two
different locks.

SQLite runs one writing transaction at a time: there is nothing to do.
"""

import datetime
from collections.abc import Iterable

from django.db import connection

from .models import FieldSite

# Namespaces of the two-key advisory locks (the first key).
SITE, PERSON, OUTING, REFERRAL_DAY = 7301, 7302, 7303, 7304
BUCKETS = 1024


def lock(
    *,
    sites: Iterable[int | None] = (),
    persons: Iterable[int] = (),
    outings: Iterable[int] = (),
    referral_days: Iterable[datetime.date] = (),
    every_site: bool = False,
) -> None:
    """Wait for, then hold until this transaction ends, the rows recomputed for these keys.

    `sites`: the (day, site) slices of these sites (encounter, outing and feedback rollups; None is no
    site); `persons`: their person rollups (person-day rows, first encounters); `outings`: their
    encounter counts; `referral_days`: the referral counts of these days; `every_site`: the slices of
    every site, for a recompute of whole days (it rewrites them all). One statement for them all.
    """
    if connection.vendor != "postgresql":
        return
    if every_site:
        sites = [None, *FieldSite.objects.values_list("pk", flat=True)]
    keys = {
        *((SITE, site_id or 0) for site_id in sites),
        *((PERSON, person_id % BUCKETS) for person_id in persons),
        *((OUTING, outing_id % BUCKETS) for outing_id in outings),
        *((REFERRAL_DAY, day.toordinal()) for day in referral_days),
    }
    if not keys:
        return
    ordered = sorted(keys)
    with connection.cursor() as cursor:
        # In order (the subquery's), so that two transactions never wait for each other in a circle.
        cursor.execute(
            "SELECT COUNT(pg_advisory_xact_lock(n, k)) FROM "
            "(SELECT n, k FROM unnest(%s::int[], %s::int[]) AS t(n, k) ORDER BY n, k) AS keys",
            [[namespace for namespace, _key in ordered], [key for _namespace, key in ordered]],
        )
