"""Users per role, so that every test can check who may and who may not."""

import os

import pytest
from django.core.cache import cache

from outreach.tests.factories import AreaFactory, TeamFactory, UserFactory
from outreach.vocabulary import Role


@pytest.fixture(autouse=True)
def _clear_cache():
    # allauth keeps its rate-limit counters in the cache.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def area(db):
    return AreaFactory(name="Pohjois-Savo")


@pytest.fixture
def team_a(area):
    return TeamFactory(name="Team A", area=area)


@pytest.fixture
def team_b(area):
    return TeamFactory(name="Team B", area=area)


@pytest.fixture
def team_other_area(db):
    return TeamFactory(name="Team elsewhere", area=AreaFactory(name="Elsewhere"))


@pytest.fixture
def worker_a(team_a):
    return UserFactory(email="worker.a@example.org", role=Role.WORKER, teams=[team_a])


@pytest.fixture
def worker_b(team_b):
    return UserFactory(email="worker.b@example.org", role=Role.WORKER, teams=[team_b])


@pytest.fixture
def expert_a(team_a):
    return UserFactory(email="expert.a@example.org", role=Role.EXPERT, teams=[team_a])


@pytest.fixture
def coordinator(team_a):
    return UserFactory(email="coordinator@example.org", role=Role.COORDINATOR, teams=[team_a])


@pytest.fixture
def admin_user(db):
    return UserFactory(email="admin@example.org", role=Role.ADMIN)


@pytest.fixture
def superuser(db):
    return UserFactory(email="root@example.org", role=Role.ADMIN, is_superuser=True, is_staff=True)


@pytest.fixture
def with_totp(db):
    """Give a user a TOTP authenticator, so that the MFA requirement for
    coordinators and admins (outreach.middleware) lets them through:
    `with_totp(coordinator)` returns the user."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    def activate(user):
        TOTP.activate(user, generate_totp_secret())
        return user

    return activate


@pytest.fixture(autouse=True)
def _reset_language():
    # The test client activates the language of each request in this thread;
    # without a reset it leaks into the next test's messages.
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _postgresql_only(request):
    """`@pytest.mark.postgresql` tests run on PostgreSQL only.

    On the SQLite default they are skipped; where the suite runs on
    PostgreSQL (`DATABASE_URL`, as CI does) they always run, and a
    PostgreSQL-only test finding another database there fails instead of
    skipping, so that CI cannot pass without them.
    """
    if request.node.get_closest_marker("postgresql") is None:
        return
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.fail("DATABASE_URL names PostgreSQL but the tests run on another database.")
    pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://…")
