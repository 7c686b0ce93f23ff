"""Sessions time out and client data is never cached (issue 8, defect 13)."""

import pytest
from django.contrib.sessions.models import Session

from outreach.services import user_update

ME = "/api/v1/users/me/"
OUTINGS = "/outings/"


def age_session(client, *, started_by=0, seen_by=0):
    session = client.session
    session["session_started_at"] -= started_by
    session["session_seen_at"] -= seen_by
    session.save()


def test_sessions_end_after_30_minutes_idle_and_12_hours_in_all(settings):
    assert settings.SESSION_IDLE_TIMEOUT == 30 * 60
    assert settings.SESSION_ABSOLUTE_TIMEOUT == 12 * 60 * 60
    assert settings.SESSION_COOKIE_AGE == 30 * 60


def test_an_active_session_goes_on(client, worker_a):
    client.force_login(worker_a)
    age_session(client, started_by=11 * 3600, seen_by=29 * 60)

    assert client.get(ME).status_code == 200
    assert client.get(OUTINGS).status_code == 200


def test_an_idle_session_ends(client, worker_a, settings):
    client.force_login(worker_a)
    age_session(client, seen_by=settings.SESSION_IDLE_TIMEOUT + 1)

    response = client.get(OUTINGS)

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
    assert client.get(ME).status_code == 401  # the session is gone: no credentials left


def test_a_session_ends_12_hours_after_sign_in_however_busy(client, worker_a, settings):
    client.force_login(worker_a)
    age_session(client, started_by=settings.SESSION_ABSOLUTE_TIMEOUT + 1)

    assert client.get(ME).status_code == 401
    assert client.get(OUTINGS).status_code == 302


def test_the_timeouts_are_settings(client, worker_a, settings):
    settings.SESSION_IDLE_TIMEOUT = 60
    client.force_login(worker_a)
    age_session(client, seen_by=61)

    assert client.get(OUTINGS).status_code == 302


def test_deactivation_ends_every_session_of_the_user(client, worker_a, worker_b, admin_user):
    from django.test import Client

    phone, laptop, colleague = Client(), Client(), Client()
    phone.force_login(worker_a)
    laptop.force_login(worker_a)
    colleague.force_login(worker_b)

    user_update(actor=admin_user, user=worker_a, is_active=False)

    owners = [session.get_decoded().get("_auth_user_id") for session in Session.objects.all()]
    assert str(worker_a.pk) not in owners
    assert owners == [str(worker_b.pk)]
    assert colleague.get(ME).status_code == 200


@pytest.mark.parametrize("path", [OUTINGS, ME, "/api/v1/persons/", "/account/tokens/", "/"])
def test_pages_and_api_answers_are_not_stored(client, worker_a, path):
    client.force_login(worker_a)

    response = client.get(path, follow=True)

    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]


def test_error_answers_are_not_stored_either(client, worker_a):
    client.force_login(worker_a)

    response = client.get("/api/v1/persons/999999/")

    assert response.status_code == 404
    assert "no-store" in response.headers["Cache-Control"]
