"""How long does `import_records encounters` take for 100,000 rows?

Builds a fresh database (a temporary SQLite file, or the PostgreSQL database
named by --database-url, dropped and created again), seeds teams, users,
sites, outings and persons, writes a CSV of N encounter rows against them and
runs the command. Prints seconds and rows per second for:

- the import (the batched path the command uses for encounters),
- a dry run of the same file (everything checked, nothing kept),
- an export of everything and the re-import of that export (no changes),
- a sample through the row-by-row service path (the admin's), extrapolated.

    .venv/bin/python benchmarks/import_bench.py
    .venv/bin/python benchmarks/import_bench.py --database-url postgres://postgres@127.0.0.1:5432/bench_import
    .venv/bin/python benchmarks/import_bench.py --rows 10000 --service-sample 500
    .venv/bin/python benchmarks/import_bench.py --stages import --service-sample 0
"""

import argparse
import csv
import datetime
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default="", help="Default: a new SQLite file in a temporary directory.")
    parser.add_argument("--service-sample", type=int, default=2000, help="Rows for the row-by-row path (0: skip).")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument(
        "--stages",
        default="dry-run,import,export,re-import",
        help="Comma-separated, in this order: dry-run, import, export, re-import (which needs export).",
    )
    return parser.parse_args()


def fresh_postgres(url: str) -> None:
    """Drop and create the benchmark database, so every run starts empty."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    if not name.startswith("bench"):
        raise SystemExit("Refusing to drop a database whose name does not start with bench (as bench_import).")
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def main():
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="import-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    if url.startswith("postgres"):
        fresh_postgres(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    print(f"database: {connection.vendor} ({url.split('@')[-1]}), rows: {args.rows}")
    call_command("migrate", verbosity=0)
    world = seed(args.seed)
    path = workdir / "encounters.csv"
    write_file(path, world, args.rows, args.seed)
    print(f"file: {path.stat().st_size / 1e6:.1f} MB")

    stages = set(args.stages.split(","))
    email = world["user"].email
    command = ("import_records", "encounters", str(path), "--user", email)
    if "dry-run" in stages:
        timed("dry run", args.rows, call_command, *command, "--dry-run")
    if "import" in stages:
        timed("import", args.rows, call_command, *command)
    exported = workdir / "export.csv"
    if "export" in stages:
        timed("export", args.rows, call_command, "export_records", "encounters", str(exported), "--user", email)
    if "re-import" in stages:
        timed(
            "re-import of the export (no changes)",
            args.rows,
            call_command,
            "import_records",
            "encounters",
            str(exported),
            "--user",
            email,
        )
    if args.service_sample:
        service_path(world, args.service_sample, args.rows, workdir, args.seed)


def timed(label, rows, function, *args):
    # CPU seconds of this process too: on a shared machine they move less
    # than the wall time (PostgreSQL's own work is in its server processes).
    started, cpu_started = time.perf_counter(), time.process_time()
    function(*args)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    load = os.getloadavg()[0]
    print(f"{label}: {seconds:.1f} s, {rows / seconds:,.0f} rows/s (process CPU {cpu:.1f} s, load {load:.1f})")
    return seconds


def seed(seed: int) -> dict:
    from encounters.models import Person
    from outreach.models import FieldSite, Municipality, Outing, Team, User
    from outreach.vocabulary import OutingStatus, Role, SiteType

    rng = random.Random(seed)
    team = Team.objects.create(name="Kuopio")
    Team.objects.create(name="Varkaus")
    user = User.objects.create_user("bench.worker@example.org", role=Role.WORKER)
    user.teams.set([team])
    colleagues = [User.objects.create_user(f"bench.{n}@example.org", role=Role.WORKER) for n in range(4)]
    for colleague in colleagues:
        colleague.teams.set([team])
    kuopio = Municipality.objects.get(code="297")
    sites = FieldSite.objects.bulk_create(
        FieldSite(name=f"Site {n}", site_type=rng.choice(SiteType.values), municipality=kuopio, team=team)
        for n in range(20)
    )
    day = datetime.date(2025, 1, 1)
    outings = Outing.objects.bulk_create(
        Outing(
            team=team,
            site=rng.choice(sites),
            date=day + datetime.timedelta(days=n % 365),
            start_time=datetime.time(10),
            end_time=datetime.time(12),
            status=OutingStatus.DONE,
        )
        for n in range(2000)
    )
    through = Outing.participants.through
    through.objects.bulk_create(
        through(outing_id=outing.pk, user_id=worker.pk)
        for outing in outings
        for worker in rng.sample([user, *colleagues], 2)
    )
    persons = Person.objects.bulk_create(
        Person(team=team, alias=f"Alias {n}", birth_year=1960 + n % 40) for n in range(1000)
    )
    return {"team": team, "user": user, "sites": sites, "outings": outings, "persons": persons}


def write_file(path: Path, world: dict, rows: int, seed: int) -> None:
    from outreach.vocabulary import Action, AgeGroup, ContactKind, Depth, Gender, Need

    rng = random.Random(seed)
    helsinki = datetime.timezone(datetime.timedelta(hours=3))
    header = [
        "team", "client_uuid", "outing", "site", "occurred_at", "contact_kind", "depth", "person",
        "gender", "age_group", "needs", "actions", "duration_minutes", "notes",
    ]  # fmt: skip
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for n in range(rows):
            # Half the encounters belong to an outing (at its site and day).
            if n % 2:
                outing = rng.choice(world["outings"])
                site, day = outing.site, outing.date
            else:
                outing, site = None, rng.choice(world["sites"])
                day = datetime.date(2025, 1, 1) + datetime.timedelta(days=rng.randrange(365))
            moment = datetime.datetime.combine(day, datetime.time(rng.randrange(8, 20), rng.randrange(60)), helsinki)
            person = rng.choice(world["persons"]) if n % 5 == 0 else None
            writer.writerow(
                [
                    world["team"].pk,
                    uuid.UUID(int=rng.getrandbits(128), version=4),
                    outing.pk if outing else "",
                    site.pk,
                    moment.isoformat(),
                    rng.choice(ContactKind.values),
                    rng.choice(Depth.values),
                    person.pk if person else "",
                    rng.choice(Gender.values),
                    rng.choice(AgeGroup.values),
                    ";".join(rng.sample(Need.values, rng.randrange(4))),
                    ";".join(rng.sample(Action.values, rng.randrange(3))),
                    rng.choice(["", "5", "15", "45"]),
                    rng.choice(["", "", "puhui asumisesta", "=ei kaava"]),
                ]
            )


def service_path(world: dict, sample: int, rows: int, workdir: Path, seed: int) -> None:
    """The admin's path: encounter_create row by row, for a sample of new rows."""
    from encounters.resources import EncounterResource
    from outreach.resources import read_table

    path = workdir / "sample.csv"
    write_file(path, world, sample, seed + 1)
    table = read_table(path)
    resource = EncounterResource(user=world["user"])
    resource.compute_diff = False
    started = time.perf_counter()
    result = resource.import_data(table.dataset, user=world["user"])
    seconds = time.perf_counter() - started
    assert not result.has_errors()
    assert not result.has_validation_errors()
    per_second = sample / seconds
    print(
        f"row-by-row service path: {sample} rows in {seconds:.1f} s, {per_second:,.0f} rows/s"
        f" (~{rows / per_second / 60:.0f} min for {rows} rows)"
    )


if __name__ == "__main__":
    main()
