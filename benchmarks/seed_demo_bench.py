"""How fast does `manage.py seed_demo --encounters N` load, and with how much memory?

Creates a fresh database, migrates it, runs the command and prints rows per
second and the peak memory of this process. Measurements only: nothing here
is asserted by the test suite.

    .venv/bin/python benchmarks/seed_demo_bench.py                      # 1,000,000 on PostgreSQL
    .venv/bin/python benchmarks/seed_demo_bench.py --encounters 200000
    .venv/bin/python benchmarks/seed_demo_bench.py --sqlite --encounters 100000

PostgreSQL: the database named in --database-url (default
postgres://postgres@127.0.0.1:5432/bench_seed) is dropped and created again,
so never point it at a database you want to keep. It is dropped again at
the end unless --keep is given.
"""

import argparse
import io
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_seed"


def recreate_postgres_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_postgres_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


def peak_rss_mb() -> float:
    # Linux reports kilobytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encounters", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--sqlite", action="store_true", help="use a temporary SQLite file instead")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    temporary = None
    if args.sqlite:
        temporary = tempfile.TemporaryDirectory(prefix="seed-bench-")
        url = f"sqlite:///{temporary.name}/bench.sqlite3"
    else:
        url = args.database_url
        recreate_postgres_database(url)

    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.apps import apps
    from django.core.management import call_command
    from django.db import connection

    from reports import demo

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter()
    rss_before = peak_rss_mb()

    output = io.StringIO()
    call_command("seed_demo", encounters=args.encounters, seed=args.seed, stdout=output, verbosity=0)
    seconds = time.perf_counter() - migrated

    models = apps.get_models(include_auto_created=True)
    rows = {model._meta.label_lower: model._base_manager.count() for model in models}
    bulk_rows = sum(rows[model._meta.label_lower] for model in demo.BULK_MODELS)
    encounters = rows["encounters.encounter"]
    size = ""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database())), version()")
            size, server = cursor.fetchone()
    else:
        import sqlite3

        server = f"SQLite {sqlite3.sqlite_version}"
        size = f"{Path(url.removeprefix('sqlite:///')).stat().st_size / 2**20:.0f} MB"

    print(f"machine:        {os.cpu_count()} CPUs, Python {platform.python_version()}, {server.split(' on ')[0]}")
    print(f"database:       {connection.vendor} ({size} after the load), migrate {migrated - started:.1f} s")
    print(f"encounters:     {encounters:,}")
    print(f"rows bulk-loaded ({', '.join(sorted(m._meta.model_name for m in demo.BULK_MODELS))}): {bulk_rows:,}")
    print(f"seed_demo:      {seconds:.1f} s wall, users and reference data included")
    print(f"rate:           {encounters / seconds:,.0f} encounters/s, {bulk_rows / seconds:,.0f} rows/s")
    print(f"peak memory:    {peak_rss_mb():.0f} MB (after migrate, before seeding: {rss_before:.0f} MB)")

    connection.close()
    if temporary is not None:
        temporary.cleanup()
    elif not args.keep:
        drop_postgres_database(url)


if __name__ == "__main__":
    main()
