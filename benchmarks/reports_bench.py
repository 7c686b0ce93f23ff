"""How fast are the reports at a million encounters?

Seeds a PostgreSQL database with `seed_demo --encounters N` (or reuses it when
it already holds data), then times side by side, in one run:

- the summary endpoint for a year, a quarter and a month (as the demo
  coordinator, as the demo worker and as a superuser), read from the rollups;
- the same summary computed from the raw tables (`summary_report_raw`, the
  reference the property test compares with), for the year;
- the reach endpoint (by site and by site type) and the extract endpoint for
  the year;
- the dashboard page `/reports/` and the period report as XLSX and PDF, when
  they exist in this build (otherwise a note says so);
- the floor without pre-aggregation: the summary's encounter, person and
  outing aggregates for the year by one hand-written SQL query over the raw
  tables.

Each figure is the median (and the fastest) of --repeat runs after one warm-up,
with the number of SQL queries of one run. Measurements only: nothing here is
asserted by the test suite.

    .venv/bin/python benchmarks/reports_bench.py                     # reuse or seed bench_reports
    .venv/bin/python benchmarks/reports_bench.py --reseed            # drop, create and seed again
    .venv/bin/python benchmarks/reports_bench.py --encounters 200000 --reseed
"""

import argparse
import datetime
import gc
import io
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_reports"


def ensure_database(url: str, *, reseed: bool) -> bool:
    """Create the database if it is missing (or dropped for --reseed); True when it was (re)created."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not reseed:
            return False
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return True


def timed(function, repeat: int) -> tuple[float, float, int]:
    """(median ms, fastest ms, queries of one run) after one warm-up run."""
    from django.db import connection

    queries = []
    with connection.execute_wrapper(
        lambda execute, sql, params, many, context: queries.append(sql) or execute(sql, params, many, context)
    ):
        function()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), min(times), len(queries)


# The floor: the summary's encounter, person and outing aggregates in one statement over the raw tables.
FLOOR_SQL = """
WITH enc AS (
    SELECT e.person_id, e.depth, e.gender, e.age_group, e.contact_kind, e.needs, s.site_type
    FROM encounters_encounter e JOIN outreach_fieldsite s ON s.id = e.site_id
    WHERE e.occurred_on BETWEEN %(start)s AND %(end)s
), persons AS (
    SELECT person_id, COUNT(*) AS n,
           (SELECT MIN(x.occurred_on) FROM encounters_encounter x WHERE x.person_id = enc.person_id) AS first_on
    FROM enc WHERE person_id IS NOT NULL GROUP BY person_id
), done AS (
    SELECT o.id, o.tallied_contacts,
           COALESCE(EXTRACT(EPOCH FROM (o.end_time - o.start_time)), 0)
           * (SELECT COUNT(*) FROM outreach_outing_participants p WHERE p.outing_id = o.id) AS seconds
    FROM outreach_outing o WHERE o.status = 'done' AND o.date BETWEEN %(start)s AND %(end)s
)
SELECT
    (SELECT ROW(COUNT(*), COUNT(*) FILTER (WHERE person_id IS NULL), COUNT(*) FILTER (WHERE depth = 'conversation'),
                COUNT(*) FILTER (WHERE gender = 'female'), COUNT(*) FILTER (WHERE gender = 'male'),
                COUNT(*) FILTER (WHERE age_group = '18_29'), COUNT(*) FILTER (WHERE age_group = '30_39'),
                COUNT(*) FILTER (WHERE contact_kind = 'field'), COUNT(*) FILTER (WHERE contact_kind = 'phone'),
                COUNT(*) FILTER (WHERE needs & 1 <> 0), COUNT(*) FILTER (WHERE needs & 2 <> 0),
                COUNT(*) FILTER (WHERE needs & 4 <> 0), COUNT(*) FILTER (WHERE needs & 8 <> 0),
                COUNT(*) FILTER (WHERE site_type = 'street'), COUNT(*) FILTER (WHERE site_type = 'day_centre'))::text
     FROM enc),
    (SELECT ROW(COUNT(*), COUNT(*) FILTER (WHERE first_on >= %(start)s), COUNT(*) FILTER (WHERE n = 1),
                COUNT(*) FILTER (WHERE n BETWEEN 2 AND 5), COUNT(*) FILTER (WHERE n BETWEEN 6 AND 9),
                COUNT(*) FILTER (WHERE n >= 10))::text
     FROM persons),
    (SELECT ROW(COUNT(*), SUM(tallied_contacts), SUM(seconds) / 3600,
                (SELECT COUNT(*) FROM encounters_encounter e WHERE e.outing_id IN (SELECT id FROM done)))::text
     FROM done)
"""


def _seed_or_reuse(*, created: bool, encounters: int) -> None:
    """Seed a new (or empty) database, rebuild missing rollups, or say that the data is reused."""
    from django.core.management import call_command

    from encounters.models import Encounter, EncounterDayCount
    from reports import rollups

    if created or not Encounter.objects.exists():
        began = time.perf_counter()
        call_command("seed_demo", encounters=encounters, stdout=io.StringIO(), verbosity=0)
        print(f"seed_demo --encounters {encounters}: {time.perf_counter() - began:.1f} s (rollups included)")
        began = time.perf_counter()
        rollups.rebuild_all()
        print(f"of which the rollups, rebuilt once more alone: {time.perf_counter() - began:.1f} s")
    elif not EncounterDayCount.objects.exists():
        began = time.perf_counter()
        rollups.rebuild_all()
        print(f"rebuild_report_rollups: {time.perf_counter() - began:.1f} s")
    else:
        print("reusing the seeded database and its rollups")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encounters", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--reseed", action="store_true", help="drop the database and seed it again")
    parser.add_argument("--repeat", type=int, default=11)
    args = parser.parse_args()

    created = ensure_database(args.database_url, reseed=args.reseed)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import logging

    for noisy in ("weasyprint", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import Resolver404, resolve

    from encounters.models import Encounter
    from outreach.models import User
    from outreach.services import api_token_create
    from reports.selectors import summary_report_raw

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    # Pages render without `collectstatic` having been run.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("migrate", verbosity=0)
    print(f"machine:   {os.cpu_count()} CPUs, Python {platform.python_version()}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        print(f"database:  {cursor.fetchone()[0].split(' on ')[0]}")
    _seed_or_reuse(created=created, encounters=args.encounters)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    last = Encounter.objects.order_by("-occurred_on").values_list("occurred_on", flat=True).first()
    print(f"encounters: {Encounter.objects.count():,}, the latest on {last}")

    month_start = last.replace(day=1)
    periods = {
        "month": (month_start, last),
        "quarter": (_months_back(month_start, 2), last),
        "year": (_months_back(month_start, 11), last),
    }
    users = {
        "coordinator": User.objects.get(email="coordinator@example.org"),
        "worker": User.objects.get(email="worker@example.org"),
        "superuser": User.objects.filter(is_superuser=True).order_by("pk").first(),
    }
    clients = {}
    for role, user in users.items():
        if user is None:
            continue
        _ensure_totp(user)
        _token, key = api_token_create(actor=None, user=user, name="reports benchmark")
        clients[role] = Client(HTTP_AUTHORIZATION=f"Token {key}")

    def get(role, path, params):
        def run():
            response = clients[role].get(path, params)
            assert response.status_code == 200, (path, response.status_code, response.content[:300])
            return response

        return run

    def dates(name):
        start, end = periods[name]
        return {"start": start.isoformat(), "end": end.isoformat()}

    rows = []
    for name in ("year", "quarter", "month"):
        for role in clients:
            rows.append((f"summary, {name}, {role}", get(role, "/api/v1/reports/summary/", dates(name))))
    year = periods["year"]
    rows.append(
        (
            "summary, year, coordinator, raw tables",
            lambda: summary_report_raw(user=users["coordinator"], start=year[0], end=year[1]),
        )
    )
    for group in ("site", "site_type"):
        rows.append(
            (f"reach by {group}, year", get("coordinator", "/api/v1/reports/reach/", {**dates("year"), "group": group}))
        )
    rows.append(("extract, year", get("coordinator", "/api/v1/reports/extract/", dates("year"))))
    notes = []
    for label, path, params in (
        ("dashboard /reports/, year", "/reports/", dates("year")),
        ("period report XLSX, quarter", "/reports/period/", {**dates("quarter"), "format": "xlsx"}),
        ("period report PDF, quarter", "/reports/period/", {**dates("quarter"), "format": "pdf"}),
    ):
        try:
            resolve(path)
        except Resolver404:
            notes.append(f"{label}: no such page in this build, skipped")
            continue
        rows.append((label, _page(users["coordinator"], path, params)))

    def floor():
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL, {"start": year[0], "end": year[1]})
            return cursor.fetchone()

    rows.append(("floor: one SQL query over the raw tables, year", floor))

    # What the production server does before it forks its workers (config/gunicorn.conf.py): what is
    # loaded by now stays out of the cycle collector's walks during the timed requests.
    gc.freeze()
    print(f"\n{'what':<50} {'median ms':>10} {'fastest ms':>11} {'queries':>8}")
    for label, function in rows:
        # The raw computation takes seconds: a few runs tell enough.
        median, fastest, queries = timed(function, 3 if "raw" in label else args.repeat)
        print(f"{label:<50} {median:>10.1f} {fastest:>11.1f} {queries:>8}")
    for note in notes:
        print(note)


def _months_back(day: datetime.date, months: int) -> datetime.date:
    year, month = day.year, day.month - months
    while month < 1:
        year, month = year - 1, month + 12
    return datetime.date(year, month, 1)


def _ensure_totp(user) -> None:
    """Coordinators and admins sign in (and get API keys) only with TOTP set up."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    needs_totp = user.is_superuser or user.role in ("coordinator", "admin")
    if needs_totp and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, generate_totp_secret())


def _page(user, path, params):
    """A page as the signed-in coordinator, whose TOTP is set up as the sign-in requires."""
    from django.test import Client

    _ensure_totp(user)
    client = Client()
    client.force_login(user)

    def run():
        response = client.get(path, params)
        assert response.status_code == 200, (path, response.status_code)
        return response

    return run


if __name__ == "__main__":
    main()
