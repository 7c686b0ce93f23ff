"""Server time of saving an encounter from the outing page, with a large data set.

Runs in-process through Django's test client (no network, no browser), as the
demo worker, against a database filled by `seed_demo` (1,000,000 encounters
by default; seeded first when the database is empty). Starts outings through
the Start outing page and posts the quick log to them: a new outing every
--per-outing saves, as in the field, so that each outing page lists a
realistic number of encounters. Prints the median, 95th percentile and
maximum of the server time and the number of SQL queries for:

- an anonymous conversation (the three-tap case) with htmx from the form the
  page drew as new (answered with the new entry, its undo and the form's next
  key: the browser clears the form), with htmx from a form drawn again after
  an error (answered with the quick log drawn again), and without JavaScript
  (answered with a redirect);
- an encounter with a new pseudonymous person (no duplicate offered: the
  worker has answered "a new person") and a referral;
- a tap on the tally; opening the outing page and the Today page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_field_bench \\
        .venv/bin/python benchmarks/encounter_save_bench.py --saves 300

The rows the benchmark writes are deleted again at the end, so that it can
be run repeatedly against the same seeded database.
"""

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEMO_WORKER = "worker@example.org"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--saves", type=int, default=300, help="Saves per case (default %(default)s).")
    parser.add_argument("--per-outing", type=int, default=30, help="Encounters per outing before a new one starts.")
    parser.add_argument(
        "--seed-encounters",
        type=int,
        default=1_000_000,
        help="Encounters seed_demo writes when the database is empty (default %(default)s).",
    )
    parser.add_argument("--warmup", type=int, default=10, help="Untimed requests first (connections, caches).")
    return parser.parse_args()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def report(name: str, seconds: list[float], queries: list[int]) -> None:
    ms = [s * 1000 for s in seconds]
    print(
        f"{name:<48} n={len(ms):<4} median {statistics.median(ms):7.1f} ms   p95 {percentile(ms, 0.95):7.1f} ms"
        f"   max {max(ms):7.1f} ms   queries {statistics.median(queries):.0f}"
    )


def main():
    args = parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Templates name static files; the manifest storage would need collectstatic first.
    os.environ.setdefault("STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage")
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from encounters.models import Encounter, Person, Referral
    from outreach.models import AuditEntry, FieldSite, Outing, TallyEvent, User
    from reports import demo

    # Not setup_test_environment(): its template instrumentation would add to every render.
    call_command("migrate", verbosity=0)
    if not demo.database_has_data():
        print(f"seeding {args.seed_encounters:,} encounters (seed_demo) ...", flush=True)
        call_command("seed_demo", encounters=args.seed_encounters, verbosity=0)
    total = Encounter.objects.count()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}, encounters: {total:,}")

    worker = User.objects.get(email=DEMO_WORKER)
    team = worker.teams.get()
    site = FieldSite.objects.filter(team=team, active=True).order_by("name").first()
    client = Client()
    client.force_login(worker)
    htmx = {"HX-Request": "true"}
    started_at = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    outings: list[int] = []

    def new_outing() -> int:
        response = client.post(reverse("encounters:outing_start"), {"team": team.pk, "site": site.pk})
        assert response.status_code == 302, response.status_code
        outing_id = int(response.url.rstrip("/").rsplit("/", 1)[1])
        outings.append(outing_id)
        return outing_id

    def quick_log(**extra) -> dict:
        data = {
            "client_uuid": str(uuid.uuid4()),
            "depth": "conversation",
            "gender": "female",
            "age_group": "30_39",
            "contact_kind": "field",
            "needs": ["housing"],
            "person": "",
            "referral_service_kind": "",
            "referral_status": "suggested",
        }
        data.update(extra)
        return data

    def run(name, count, request, expect):
        seconds, queries = [], []
        outing_id = new_outing()
        for index in range(args.warmup + count):
            if index and index % args.per_outing == 0:
                outing_id = new_outing()
            with CaptureQueriesContext(connection) as captured:
                begin = time.perf_counter()
                response = request(outing_id, index)
                elapsed = time.perf_counter() - begin
            assert response.status_code == expect, (name, response.status_code)
            if index >= args.warmup:
                seconds.append(elapsed)
                queries.append(len(captured.captured_queries))
        report(name, seconds, queries)

    def save_htmx(outing_id, index):
        data = quick_log(quick_log_fresh="1")
        return client.post(reverse("encounters:encounter_create", args=[outing_id]), data, headers=htmx)

    def save_htmx_redrawn(outing_id, index):
        return client.post(reverse("encounters:encounter_create", args=[outing_id]), quick_log(), headers=htmx)

    def save_plain(outing_id, index):
        return client.post(reverse("encounters:encounter_create", args=[outing_id]), quick_log())

    def save_with_person_and_referral(outing_id, index):
        data = quick_log(
            new_alias=f"Bench {uuid.uuid4().hex[:8]}",
            new_birth_year="1985",
            referral_service_kind="housing",
            referral_status="made",
            new_person_confirmed="1",
            quick_log_fresh="1",
        )
        return client.post(reverse("encounters:encounter_create", args=[outing_id]), data, headers=htmx)

    def tally(outing_id, index):
        data = {"delta": "1", "client_uuid": str(uuid.uuid4())}
        return client.post(reverse("encounters:outing_tally", args=[outing_id]), data, headers=htmx)

    def outing_page(outing_id, index):
        return client.get(reverse("encounters:outing_detail", args=[outing_id]))

    def today_page(outing_id, index):
        return client.get(reverse("encounters:today"))

    try:
        run("save: anonymous conversation (htmx)", args.saves, save_htmx, 200)
        run("save: the same, form drawn again (htmx)", args.saves, save_htmx_redrawn, 200)
        run("save: anonymous conversation (no JavaScript)", args.saves, save_plain, 302)
        run("save: new pseudonymous person + referral (htmx)", args.saves, save_with_person_and_referral, 200)
        run("tally +1 (htmx)", args.saves, tally, 200)
        run("open the outing page", min(args.saves, 100), outing_page, 200)
        run("open the Today page", min(args.saves, 100), today_page, 200)
    finally:
        # Remove what the benchmark wrote, so that the seeded data stays as it was.
        encounters = Encounter.objects.filter(outing_id__in=outings)
        person_ids = list(encounters.exclude(person=None).values_list("person_id", flat=True))
        Referral.objects.filter(encounter__in=encounters).delete()
        encounters.delete()
        Person.objects.filter(pk__in=person_ids).delete()
        TallyEvent.objects.filter(outing_id__in=outings).delete()
        Outing.objects.filter(pk__in=outings).delete()
        AuditEntry.objects.filter(id__gt=started_at).delete()


if __name__ == "__main__":
    main()
