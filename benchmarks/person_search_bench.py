"""Server time of the persons page's search and the duplicate check, with many persons in one team.

Seeds --persons pseudonymous and named persons (default 100,000; 90 % of them
in one team, the rest in two others) and --encounters with the big team's
persons (default 300,000 over 400 days) into the database of DATABASE_URL when
it has fewer, then times, as a worker of the big team:

- `persons_listed` with a typed text (what the persons page runs on each
  keystroke: the count — capped at PERSONS_COUNTED, as the page shows "more
  than 1,000" — and the first page, with the last contacts), for
  aliases, parts of names and birth years;
- `persons_listed` with a filter and no text (active, inactive);
- the same, as a coordinator who sees all three teams;
- `persons_similar` (the duplicate check before a person is made).

Prints the median, 95th percentile and maximum in milliseconds, and the plan
of one search on PostgreSQL, so that the use of the trigram indexes
(migration encounters 0010) can be seen.

    createdb -h 127.0.0.1 -U postgres person_search_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/person_search_bench \\
        .venv/bin/python benchmarks/person_search_bench.py --persons 100000

The seeded rows stay (a second run reuses them); drop the database to start over.
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SYLLABLES = ["ka", "ke", "ki", "ko", "ku", "ta", "te", "ti", "to", "tu", "sa", "si", "su", "ma", "mi", "mu", "na", "ni"]
FIRST_NAMES = ["Maija", "Matti", "Liisa", "Juha", "Anna", "Mikko", "Sari", "Timo", "Aino", "Jari", "Eeva", "Pekka"]
LAST_NAMES = ["Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Hämäläinen", "Laine", "Heikkinen", "Koskinen"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=100_000, help="Persons in the database (default %(default)s).")
    parser.add_argument(
        "--encounters",
        type=int,
        default=300_000,
        help="Encounters with the big team's persons over 400 days (default %(default)s).",
    )
    parser.add_argument("--repeat", type=int, default=30, help="Timed runs per query (default %(default)s).")
    parser.add_argument("--seed", type=int, default=11)
    return parser.parse_args()


def alias(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def seed_encounters(wanted: int, team, worker, rng: random.Random) -> None:
    """Encounters with the big team's persons over the last 400 days, so that the active and inactive
    filters (a contact within 90 days) read a real encounter table."""
    from django.utils import timezone

    from encounters.models import Encounter, Person
    from outreach.tests.factories import FieldSiteFactory

    missing = max(0, wanted - Encounter.objects.filter(team=team).count())
    if not missing:
        return
    started = time.perf_counter()
    site = FieldSiteFactory()
    person_ids = list(Person.objects.filter(team=team).values_list("id", flat=True))
    now = timezone.now()
    batch = []
    for _n in range(missing):
        at = now - datetime.timedelta(days=rng.randint(0, 400), minutes=rng.randint(0, 600))
        batch.append(
            Encounter(
                team=team,
                site=site,
                occurred_at=at,
                occurred_on=timezone.localtime(at).date(),
                anonymous=False,
                person_id=rng.choice(person_ids),
                created_by=worker,
            )
        )
        if len(batch) == 5000:
            Encounter.objects.bulk_create(batch)
            batch = []
    Encounter.objects.bulk_create(batch)
    print(f"seeded {missing:,} encounters in {time.perf_counter() - started:.1f} s")


def seed(persons: int, encounters: int, rng: random.Random):
    from django.utils import timezone

    from encounters.models import Person
    from outreach.models import Team
    from outreach.tests.factories import UserFactory
    from outreach.vocabulary import Gender, Role

    teams = [Team.objects.get_or_create(name=f"Bench team {n}")[0] for n in range(3)]
    worker = UserFactory(email=f"bench.{time.time_ns()}@example.org", role=Role.WORKER, teams=[teams[0]])
    coordinator = UserFactory(email=f"bench.c.{time.time_ns()}@example.org", role=Role.COORDINATOR, teams=teams)
    have = Person.objects.filter(team__in=teams).count()
    missing = max(0, persons - have)
    genders = [Gender.FEMALE, Gender.MALE, Gender.OTHER, Gender.UNKNOWN]
    started = time.perf_counter()
    batch = []
    for _n in range(missing):
        team = teams[0] if rng.random() < 0.9 else rng.choice(teams[1:])
        named = rng.random() < 0.2
        created = timezone.now() - datetime.timedelta(days=rng.randint(0, 2000))
        batch.append(
            Person(
                team=team,
                kind=Person.Kind.NAMED if named else Person.Kind.PSEUDONYMOUS,
                alias=alias(rng),
                first_name=rng.choice(FIRST_NAMES) if named else "",
                last_name=rng.choice(LAST_NAMES) if named else "",
                birth_year=rng.randint(1945, 2006),
                gender=rng.choice(genders),
                created_at=created,
            )
        )
        if len(batch) == 5000:
            Person.objects.bulk_create(batch)
            batch = []
    Person.objects.bulk_create(batch)
    if missing:
        print(f"seeded {missing:,} persons in {time.perf_counter() - started:.1f} s")
    seed_encounters(encounters, teams[0], worker, rng)
    from django.db import connection

    if connection.vendor == "postgresql":
        # The planner's statistics after a bulk load, as autovacuum would gather them soon after.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE encounters_person")
            cursor.execute("ANALYZE encounters_encounter")
    return worker, coordinator, teams[0]


def timed(function, repeat: int) -> tuple[list[float], object]:
    result = function()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - started) * 1000)
    return times, result


def report(name: str, times: list[float], found: int) -> None:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(
        f"{name:<42} median {statistics.median(times):7.1f} ms  p95 {p95:7.1f} ms  "
        f"max {max(times):7.1f} ms  ({found} found)"
    )


def main() -> None:
    args = parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from encounters.models import Person
    from encounters.person_views import CappedPaginator
    from encounters.selectors import PERSONS_PAGE_SIZE, persons_last_contact, persons_listed, persons_similar

    call_command("migrate", verbosity=0)
    worker, coordinator, team = seed(args.persons, args.encounters, random.Random(args.seed))
    today = timezone.localdate()
    total = Person.objects.count()
    print(
        f"database: {connection.vendor}, persons: {total:,} ({Person.objects.filter(team=team).count():,} in the team)"
    )

    def page(query: str = "", status: str = "", user=worker):
        def run() -> int:
            rows = persons_listed(user, today=today, query=query, status=status)
            shown = CappedPaginator(rows, PERSONS_PAGE_SIZE).get_page(1)  # the page's own count, capped
            listed = list(shown.object_list)
            persons_last_contact(listed)
            return shown.paginator.count

        return run

    for query in ("kakutu", "Tumi", "ko", "Virta", "mäkinen", "1984", "zzzz"):
        times, found = timed(page(query), args.repeat)
        report(f"search {query!r}", times, int(found))  # type: ignore[call-overload]
    for status in ("active", "inactive", "engaged"):
        times, found = timed(page(status=status), args.repeat)
        report(f"filter {status}", times, int(found))  # type: ignore[call-overload]
    for query, status in (("ko", ""), ("mäkinen", ""), ("", "inactive")):
        times, found = timed(page(query, status, user=coordinator), args.repeat)
        report(f"coordinator of 3 teams: {query or status!r}", times, int(found))  # type: ignore[call-overload]
    for fields in (
        {"alias": "Kakutu", "birth_year": 1980, "gender": "female"},
        {"alias": "Tumisa"},
        {"first_name": "Maija", "last_name": "Virtanen", "birth_year": 1970},
    ):

        def similar(fields: dict = fields) -> int:
            return len(persons_similar(worker, team=team, **fields))

        times, found = timed(similar, args.repeat)
        report(f"similar {fields}", times, int(found))  # type: ignore[call-overload]
    if connection.vendor == "postgresql":
        sql, params = persons_listed(worker, today=today, query="kakutu").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN ANALYZE {sql} LIMIT {PERSONS_PAGE_SIZE}", params)
            print("\nplan of search 'kakutu':")
            for (line,) in cursor.fetchall():
                print("  " + line)


if __name__ == "__main__":
    main()
