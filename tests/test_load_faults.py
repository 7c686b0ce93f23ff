"""The production server under load and faults: no acknowledged encounter is lost or doubled.

A short run of benchmarks/load.py against gunicorn with the production
settings, started on a free port against the test database: field clients
start outings, save encounters (each with its client UUID), tap the tally and
open the outing page while one worker is killed and then the whole server is
stopped and started again. The clients send a failed request again with the
same UUID; afterwards every encounter and tap they were told was saved is in
the database exactly once.
"""

import importlib.util
import os
import secrets
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from outreach.tests.factories import FieldSiteFactory, UserFactory
from outreach.vocabulary import Role

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def load_module():
    spec = importlib.util.spec_from_file_location("load_benchmark", ROOT / "benchmarks" / "load.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["load_benchmark"] = module
    spec.loader.exec_module(module)
    return module


def database_url() -> str:
    settings = connection.settings_dict
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    return (
        f"postgres://{settings['USER']}{password}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
        f"/{settings['NAME']}"
    )


# Saves and taps as the pages send them without JavaScript (answered with a redirect) and with it
# (htmx: answered with the new entry and its undo).
@pytest.mark.parametrize("htmx", [False, True], ids=["no-javascript", "htmx"])
def test_no_encounter_is_lost_or_doubled_when_a_worker_dies_and_the_server_restarts(team_a, tmp_path, htmx):
    load = load_module()
    for index in range(3):
        UserFactory(email=f"field.{index}@example.org", role=Role.WORKER, teams=[team_a])
    FieldSiteFactory(team=team_a, name="Food bank")
    FieldSiteFactory(team=team_a, name="Day centre")
    call_command("createcachetable", "load_test_cache")
    secret = secrets.token_urlsafe(50)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "DATABASE_REPLICA_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url(),
        SECRET_KEY=secret,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        # Two workers need a shared cache; the database's serves here.
        CACHE_URL="db://load_test_cache",
        STATICFILES_BACKEND="django.contrib.staticfiles.storage.StaticFilesStorage",
        LOG_LEVEL="WARNING",
    )
    server = load.Server(load.free_port(), env, tmp_path / "gunicorn.pid", tmp_path / "gunicorn.log", workers=2)
    # The sessions are signed as the server will check them: with its key.
    with override_settings(SECRET_KEY=secret):
        clients = load.identities(6)
    server.start()
    try:
        outcome = load.run_load(
            url=f"http://127.0.0.1:{server.port}",
            clients=clients,
            duration=12,
            retry_window=60,
            faults=[("kill-worker", 3), ("restart", 7)],
            server=server,
            htmx=htmx,
        )
    finally:
        server.stop()
    check = load.check_exactly_once(outcome)
    report = load.table(outcome, check)
    print(report)

    assert [fault.split()[2] for fault in outcome.faults] == ["kill-worker:", "restart:"], report
    saves = outcome.kinds["save encounter"]
    assert saves.errors == 0, report
    # The restart refused connections for a while: requests were sent again.
    assert sum(stats.retries for stats in outcome.kinds.values()) > 0, report
    assert check.acknowledged == len(saves.latencies) > 0, report
    assert (check.lost, check.doubled, check.taps_lost) == (0, 0, 0), report
    assert check.taps_acknowledged > 0, report
