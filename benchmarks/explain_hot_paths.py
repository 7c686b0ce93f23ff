"""EXPLAIN ANALYZE of the hot paths' queries, on a seeded PostgreSQL database (docs/SCALING.md).

Requests the hot paths in process (Django's test client, as the demo worker
and coordinator), records each path's SQL, and prints for every SELECT that
took longer than --min-ms its plan with actual times (`EXPLAIN (ANALYZE,
BUFFERS)`), then a line per path: queries, the database time they took, and
the median and 95th percentile wall time of --repeat more requests.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python benchmarks/explain_hot_paths.py

The paths: the encounter list API (page of 100), the person list API (page of
100) and a person search, the outing page, Today, the sites page (90-day
figures), the dashboard. Writes nothing except the access-log rows and audit
entries that those reads leave, as in use.
"""

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--min-ms", type=float, default=5.0, help="Explain SELECTs slower than this (ms).")
    parser.add_argument(
        "--repeat", type=int, default=11, help="Timed requests per path for the median and p95 (default %(default)s)."
    )
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from encounters.models import Encounter
    from outreach.models import Outing, User

    worker = User.objects.get(email="worker@example.org")
    coordinator = User.objects.get(email="coordinator@example.org")
    if not Authenticator.objects.filter(user=coordinator, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(coordinator, generate_totp_secret())
    print(f"{connection.settings_dict['NAME']}: {Encounter.objects.count():,} encounters")
    outing = Outing.objects.filter(team__in=worker.teams.all()).order_by("-date", "-id").first()
    assert outing is not None
    as_worker, as_coordinator = Client(), Client()
    as_worker.force_login(worker)
    as_coordinator.force_login(coordinator)
    paths = [
        ("encounter list API, page of 100", as_worker, "get", "/api/v1/encounters/?page_size=100", None),
        ("person list API, page of 100", as_worker, "get", "/api/v1/persons/?page_size=100", None),
        ("outing page", as_worker, "get", f"/field/outings/{outing.pk}/", None),
        ("Today", as_worker, "get", "/field/", None),
        ("sites page (90-day figures)", as_coordinator, "get", "/sites/", None),
        ("dashboard", as_coordinator, "get", "/reports/", None),
    ]
    # What the production server does before it forks its workers (config/gunicorn.conf.py): what is
    # loaded by now stays out of the cycle collector's walks during the timed requests.
    gc.freeze()
    summary = []
    for name, client, method, url, data in paths:
        getattr(client, method)(url, data)  # warm: connections, caches
        with CaptureQueriesContext(connection) as captured:
            begin = time.perf_counter()
            response = getattr(client, method)(url, data)
            wall = (time.perf_counter() - begin) * 1000
        assert response.status_code == 200, (name, response.status_code)
        queries = list(captured.captured_queries)  # before the next request resets the log
        database_ms = sum(float(query["time"]) for query in queries) * 1000
        walls = []
        for _ in range(args.repeat):
            begin = time.perf_counter()
            getattr(client, method)(url, data)
            walls.append((time.perf_counter() - begin) * 1000)
        walls.sort()
        median, p95 = statistics.median(walls), walls[min(len(walls) - 1, round(0.95 * (len(walls) - 1)))]
        summary.append(
            f"{name:<34} {response.status_code}  {len(queries):>3} queries"
            f"  database {database_ms:7.1f} ms  wall {wall:7.1f} ms; {args.repeat} more: median {median:7.1f} ms,"
            f" p95 {p95:7.1f} ms"
        )
        print(f"\n=== {name}: {url}")
        for query in queries:
            if float(query["time"]) * 1000 < args.min_ms or not query["sql"].lstrip().upper().startswith("SELECT"):
                continue
            print(f"--- {float(query['time']) * 1000:.1f} ms\n{query['sql'][:600]}")
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
                print("\n".join(row[0] for row in cursor.fetchall()))
    print("\n" + "\n".join(summary))


if __name__ == "__main__":
    main()
