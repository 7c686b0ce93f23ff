"""Run by tests/test_replica.py in a process of its own, with DATABASE_URL naming a primary and
DATABASE_REPLICA_URL its streaming replica: prints what it saw as JSON.

In a process of its own because the test suite's database settings (and its
transaction around each test, inside which every read goes to the primary)
are fixed when the suite starts.
"""

import datetime
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django

django.setup()

from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret  # noqa: E402
from django.db import connections  # noqa: E402
from django.db.models import Sum  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from encounters.models import Encounter, EncounterDayCount  # noqa: E402
from encounters.tests.factories import EncounterFactory  # noqa: E402
from outreach.models import AuditEntry, User  # noqa: E402
from outreach.replica import replica_reads  # noqa: E402
from outreach.tests.factories import AreaFactory, FieldSiteFactory, TeamFactory, UserFactory  # noqa: E402
from outreach.vocabulary import Role  # noqa: E402

WRITES = ("INSERT", "UPDATE", "DELETE")


def wait_for_replica(count: int) -> None:
    """Until the replica holds `count` encounters and their day rollup: test data written by the
    factories commits the encounter and its rollup refresh one after the other."""
    deadline = time.monotonic() + 30

    def replayed() -> tuple[int, int]:
        rollup = EncounterDayCount.objects.using("replica").aggregate(total=Sum("total"))["total"] or 0
        return Encounter.objects.using("replica").count(), rollup

    while replayed() != (count, count):
        if time.monotonic() > deadline:
            raise SystemExit("the replica did not catch up within 30 s")
        time.sleep(0.05)


def summary(client: Client) -> tuple[int, dict[str, Any]]:
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        response = client.get("/api/v1/reports/summary/", {"start": "2026-05-01", "end": "2026-05-31"})
    assert response.status_code == 200, response.content
    return response.json()["encounters_total"], {
        "replica_queries": len(replica.captured_queries),
        "replica_writes": [q["sql"] for q in replica.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)],
        "primary_reads_of_encounters": [
            q["sql"] for q in primary.captured_queries if "encounters_" in q["sql"] and "SELECT" in q["sql"].upper()
        ],
    }


def main() -> None:
    seen: dict[str, Any] = {}
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        seen["replica_in_recovery"] = cursor.fetchone()[0]

    team = TeamFactory(name="Team A", area=AreaFactory(name="Pohjois-Savo"))
    site = FieldSiteFactory(team=team)
    coordinator = cast(User, UserFactory(email="coordinator@example.org", role=Role.COORDINATOR, teams=[team]))
    TOTP.activate(coordinator, generate_totp_secret())
    occurred = datetime.datetime(2026, 5, 12, 10, 30, tzinfo=datetime.UTC)
    EncounterFactory(team=team, site=site, occurred_at=occurred)
    wait_for_replica(1)

    client = Client()
    client.force_login(coordinator)
    seen["first"], seen["first_queries"] = summary(client)

    # The replica stops replaying: a new encounter on the primary is not
    # there yet, and the report, served from the replica, does not count it.
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")
    EncounterFactory(team=team, site=site, occurred_at=occurred)
    seen["primary_count"] = Encounter.objects.count()
    seen["while_paused"], _ = summary(client)
    # The worker's own pages read the primary: the outing list's API sees both.
    seen["api_list_while_paused"] = client.get("/api/v1/encounters/").json()["count"]
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_resume()")
    wait_for_replica(2)
    seen["after_resume"], _ = summary(client)

    # A write inside replica_reads() goes to the primary.
    before = AuditEntry.objects.count()
    with replica_reads():
        AuditEntry.objects.create(action=AuditEntry.Action.CREATE, actor=coordinator, model="probe")
    seen["audit_rows_added_on_primary"] = AuditEntry.objects.count() - before

    with CaptureQueriesContext(connections["replica"]) as replica:
        response = client.get("/reports/")
    seen["dashboard_status"] = response.status_code
    seen["dashboard_replica_queries"] = len(replica.captured_queries)

    # The period report (an export too, with format=csv|xlsx|pdf) is logged in the audit log: on the primary.
    before = AuditEntry.objects.count()
    with CaptureQueriesContext(connections["replica"]) as replica:
        response = client.get("/reports/period/", {"start": "2026-05-01", "end": "2026-05-31", "format": "xlsx"})
    seen["export_status"] = response.status_code
    seen["export_replica_queries"] = len(replica.captured_queries)
    seen["export_replica_writes"] = [
        q["sql"] for q in replica.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)
    ]
    seen["export_audit_rows_on_primary"] = AuditEntry.objects.count() - before
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
