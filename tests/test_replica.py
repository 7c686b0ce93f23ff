"""Report reads on a real PostgreSQL streaming replica; writes on the primary only.

scripts/replica-cluster starts a throw-away primary and its hot standby (a
base backup) on free ports; the suite's migrated test database is copied to
the primary, and tests/replica_probe.py, run with DATABASE_URL on the primary
and DATABASE_REPLICA_URL on the standby, signs in a coordinator and asks for
the summary report while the standby replays and while its replay is paused.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.postgresql


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


@pytest.fixture
def primary_and_replica(db):
    """URLs of a primary holding the migrated schema and of its streaming replica."""
    work = tempfile.mkdtemp(prefix="outreach-replica-")
    primary_port, replica_port = free_ports(2)
    script = str(ROOT / "scripts" / "replica-cluster")
    try:
        subprocess.run([script, "start", work, str(primary_port), str(replica_port)], check=True, timeout=120)
        primary = f"postgres://postgres@127.0.0.1:{primary_port}"
        subprocess.run(["psql", "-q", f"{primary}/postgres", "-c", "CREATE DATABASE outreach"], check=True, timeout=60)
        settings = connection.settings_dict
        dump = subprocess.run(
            [
                "pg_dump",
                "--no-owner",
                "-h",
                settings["HOST"] or "127.0.0.1",
                "-p",
                str(settings["PORT"] or 5432),
                "-U",
                settings["USER"] or "postgres",
                settings["NAME"],
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            ["psql", "-q", "-v", "ON_ERROR_STOP=1", f"{primary}/outreach"],
            input=dump.stdout,
            check=True,
            capture_output=True,
            timeout=120,
        )
        yield f"{primary}/outreach", f"postgres://postgres@127.0.0.1:{replica_port}/outreach"
    finally:
        subprocess.run([script, "stop", work], check=False, timeout=60)
        shutil.rmtree(work, ignore_errors=True)


def test_reports_are_served_from_the_replica_and_writes_stay_on_the_primary(primary_and_replica):
    primary, replica = primary_and_replica
    env = {**os.environ, "DATABASE_URL": primary, "DATABASE_REPLICA_URL": replica}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings_test"
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "replica_probe.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    assert seen["replica_in_recovery"] is True
    assert seen["first"] == 1
    # The report's figures came from the replica, and nothing was written there.
    assert seen["first_queries"]["replica_queries"] > 0
    assert seen["first_queries"]["replica_writes"] == []
    assert seen["first_queries"]["primary_reads_of_encounters"] == []
    # While the replica's replay is paused, the report shows the replica's data, the API list the primary's.
    assert seen["primary_count"] == 2
    assert seen["while_paused"] == 1
    assert seen["api_list_while_paused"] == 2
    assert seen["after_resume"] == 2
    assert seen["audit_rows_added_on_primary"] == 1
    assert seen["dashboard_status"] == 200
    assert seen["dashboard_replica_queries"] > 0
    # An export reads the replica and writes its audit entry (every report made is logged) on the primary.
    assert seen["export_status"] == 200
    assert seen["export_replica_queries"] > 0
    assert seen["export_replica_writes"] == []
    assert seen["export_audit_rows_on_primary"] == 1
