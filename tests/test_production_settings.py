"""With DEBUG off the app refuses to serve on unsafe settings (issue 8, defect 7).

Each case runs in a fresh interpreter, with its own environment, so that the
settings module is read as a production server would read it.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD = {
    "SECRET_KEY": "k8Qz-3vN1x0R7pYc2LwA9sHfT6uJmE4bD5oGiK1nZqXyV8rW0aSdFgHjK",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "DATABASE_URL": "sqlite:////tmp/outreach-settings-test.sqlite3",
}


def run(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "EMAIL_BACKEND", "CACHE_URL"}}
    clean.update({"DJANGO_SETTINGS_MODULE": "config.settings", "WEB_CONCURRENCY": "1"})
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def start(**env: str) -> subprocess.CompletedProcess:
    """Load the WSGI application, as gunicorn (and runserver) do."""
    return run("import config.wsgi; print('started')", **env)


def test_good_production_settings_start():
    result = start(**GOOD)

    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "insecure-development-key-change-me-in-production-0123456789"}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"EMAIL_BACKEND": ""}, "EMAIL_BACKEND"),
        ({"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}, "EMAIL_BACKEND"),
        ({"WEB_CONCURRENCY": "4"}, "CACHE_URL"),
    ],
    ids=["no-key", "development-key", "short-key", "no-mail", "console-mail", "workers-without-shared-cache"],
)
def test_unsafe_production_settings_refuse_to_start(missing, message):
    env = {**GOOD, **missing}
    env = {k: v for k, v in env.items() if v}

    result = start(**env)

    assert result.returncode != 0
    assert "Refusing to start with DEBUG off" in result.stderr
    assert message in result.stderr
    assert "started" not in result.stdout


@pytest.mark.parametrize("cache_url", ["redis://127.0.0.1:6379/0", "db://django_cache"])
def test_several_workers_start_with_a_shared_cache(cache_url):
    result = start(**GOOD, WEB_CONCURRENCY="4", CACHE_URL=cache_url)

    assert result.returncode == 0, result.stderr


def test_debug_starts_on_the_development_defaults():
    result = start(DEBUG="true", DATABASE_URL=GOOD["DATABASE_URL"])

    assert result.returncode == 0, result.stderr


def test_check_deploy_reports_the_problems():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "ERROR"],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "EMAIL_BACKEND"}}
        | {"DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": GOOD["DATABASE_URL"]},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "outreach.E001" in result.stderr


@pytest.mark.parametrize("database_url", [None, "postgres://postgres@127.0.0.1:5432/outreach"])
def test_secure_cookies_do_not_depend_on_the_database(database_url):
    env = dict(GOOD)
    if database_url is None:
        env.pop("DATABASE_URL")
    else:
        env["DATABASE_URL"] = database_url
    code = (
        "from django.conf import settings; import django; django.setup(); "
        "print(settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE)"
    )

    result = run(code, **env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]
