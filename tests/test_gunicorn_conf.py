"""The production server's settings (config/gunicorn.conf.py): what the master does before it forks."""

import gc
import runpy
from pathlib import Path

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.template import engines
from django.template.backends.django import DjangoTemplates
from django.template.loaders.cached import Loader as CachedLoader
from django.utils.functional import empty
from django.utils.translation import trans_real

CONF = Path(__file__).resolve().parents[1] / "config" / "gunicorn.conf.py"


def test_the_master_freezes_what_it_loaded_before_each_fork():
    settings = runpy.run_path(str(CONF))
    assert settings["preload_app"] is True
    gc.unfreeze()
    try:
        settings["pre_fork"](server=None, worker=None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


class FakeServer:
    """What the hook reads of gunicorn's arbiter: its settings and its log."""

    def __init__(self, preload_app: bool) -> None:
        self.cfg = type("Cfg", (), {"preload_app": preload_app})()
        self.messages: list[str] = []
        self.log = type("Log", (), {"info": lambda _log, message, values: self.messages.append(message % values)})()


def cached_loader():
    engine = engines["django"]
    assert isinstance(engine, DjangoTemplates)
    loader = next(loader for loader in engine.engine.template_loaders if isinstance(loader, CachedLoader))
    loader.reset()
    return loader


def test_the_master_compiles_the_templates_and_loads_the_languages_before_the_first_fork():
    """No database access either (pytest-django refuses it to a test without `db`): a connection opened in
    the master would be shared by the workers forked from it."""
    settings = runpy.run_path(str(CONF))
    loader = cached_loader()
    loaded = trans_real._translations  # type: ignore[attr-defined]  # Django's cache of the catalogues
    loaded.pop("sv", None)
    staticfiles_storage._wrapped = empty  # type: ignore[attr-defined]  # a LazyObject: made anew on first use
    server = FakeServer(preload_app=True)

    settings["when_ready"](server)

    assert staticfiles_storage._wrapped is not empty  # type: ignore[attr-defined]

    compiled = set(loader.get_template_cache)
    assert {"encounters/outing_detail.html", "encounters/_quick_log_answer.html", "reports/period.html"} <= compiled
    assert "sv" in loaded
    assert len(server.messages) == 1
    assert server.messages[0].startswith("Warmed up: ")
    project_templates = list((CONF.parents[1] / "templates").rglob("*.html"))
    assert int(server.messages[0].split()[2]) >= len(project_templates) > 100


def test_without_the_app_loaded_in_the_master_nothing_is_warmed():
    settings = runpy.run_path(str(CONF))
    loader = cached_loader()
    server = FakeServer(preload_app=False)

    settings["when_ready"](server)

    assert not loader.get_template_cache
    assert server.messages == []


class FakeWorker:
    """What the per-worker hook reads of a gunicorn worker: its pid and its log."""

    def __init__(self) -> None:
        self.pid = 4242
        self.messages: list[str] = []
        self.log = type("Log", (), {"info": lambda _log, message, *args: self.messages.append(message % args)})()


@pytest.mark.django_db
def test_each_worker_connects_and_reads_every_table_before_it_serves(django_assert_num_queries):
    from django.apps import apps

    settings = runpy.run_path(str(CONF))
    worker = FakeWorker()
    tables = {model._meta.db_table for model in apps.get_models() if model._meta.managed}

    with django_assert_num_queries(len(tables)):
        settings["post_worker_init"](worker)

    assert worker.messages == [f"Worker 4242 connected to the database: {len(tables)} tables read"]
    assert len(tables) > 50


@pytest.mark.django_db
def test_a_worker_whose_database_does_not_answer_serves_all_the_same(monkeypatch, caplog):
    from django.db import OperationalError, connection

    from config import warmup

    def refused():
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refused)
    monkeypatch.setattr(connection, "close", lambda: None)  # the test's own transaction stays

    assert warmup.warm_connection() == 0
    assert "The database connection was not warmed up: OperationalError" in caplog.text
