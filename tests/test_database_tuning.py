"""The connection options the settings add: SQLite's cache and journal, PostgreSQL without JIT and with
the page cost of data in memory."""

import io
import sqlite3

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper

from config.databases import SQLITE_INIT, tuned


def test_an_sqlite_database_gets_a_64_mb_cache_and_the_write_ahead_log(tmp_path, django_db_blocker):
    settings = tuned(
        {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(tmp_path / "tuned.sqlite3"),
            "OPTIONS": {},
            "CONN_MAX_AGE": 0,
            "CONN_HEALTH_CHECKS": False,
            "AUTOCOMMIT": True,
            "ATOMIC_REQUESTS": False,
        }
    )
    wrapper = DatabaseWrapper({**settings, "TIME_ZONE": None}, alias="tuning-probe")
    try:
        with django_db_blocker.unblock(), wrapper.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            assert cursor.fetchone()[0] == -65536
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
            cursor.execute("PRAGMA temp_store")
            assert cursor.fetchone()[0] == 2  # memory
    finally:
        wrapper.close()
    # The file itself stays in WAL mode for every later connection.
    with sqlite3.connect(tmp_path / "tuned.sqlite3") as plain:
        assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_options_given_in_the_settings_are_kept():
    given = tuned({"ENGINE": "django.db.backends.sqlite3", "OPTIONS": {"init_command": "PRAGMA foreign_keys=ON;"}})
    assert given["OPTIONS"]["init_command"] == "PRAGMA foreign_keys=ON;"
    assert tuned({"ENGINE": "django.db.backends.sqlite3"})["OPTIONS"]["init_command"] == SQLITE_INIT


def test_postgresql_runs_without_jit_and_with_the_page_cost_of_memory():
    assert tuned({"ENGINE": "django.db.backends.postgresql"})["OPTIONS"] == {
        "options": "-c jit=off -c random_page_cost=1.1"
    }


@pytest.mark.postgresql
@pytest.mark.django_db
def test_the_postgresql_connections_carry_the_options():
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
        cursor.execute("SHOW random_page_cost")
        assert cursor.fetchone()[0] == "1.1"


@pytest.mark.django_db
def test_the_checks_of_the_database_raise_no_warning_about_the_covering_index():
    """PostgreSQL builds the person rollup's covering index; SQLite builds it without its INCLUDE
    columns and is not to warn about it at every migrate (`make run`)."""
    out, err = io.StringIO(), io.StringIO()
    call_command("check", "--database", "default", stdout=out, stderr=err)
    assert "W040" not in out.getvalue() + err.getvalue()
    assert "System check identified no issues" in out.getvalue()
