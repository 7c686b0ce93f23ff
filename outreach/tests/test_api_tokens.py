"""API keys: the page /account/tokens/, `drf_create_token`, and `Authorization: Token`."""

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from outreach.models import ApiToken, AuditEntry
from outreach.services import api_token_create

ME = "/api/v1/users/me/"
PAGE = "/account/tokens/"


def with_key(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def sign_in_recently(client, user, *, second_factor=False):
    """Sign `user` in as allauth would, with its record of the steps (password, and TOTP if asked)."""
    import time

    client.force_login(user)
    session = client.session
    steps = [{"method": "password", "at": time.time()}]
    if second_factor:
        steps.append({"method": "mfa", "at": time.time(), "type": "totp"})
    session["account_authentication_methods"] = steps
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    return client


def key_on_page(response) -> str:
    match = re.search(r'id="new-key" type="text" value="([^"]+)"', response.content.decode())
    assert match, "the new key is shown"
    return match.group(1)


def test_a_user_makes_a_key_on_their_page_and_it_is_shown_once(client, worker_a):
    sign_in_recently(client, worker_a)

    response = client.post(PAGE, {"name": "Monthly report script"})

    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"] or "no-cache" in response.headers["Cache-Control"]
    key = key_on_page(response)
    token = ApiToken.objects.get(user=worker_a)
    assert token.name == "Monthly report script"
    assert key.startswith(token.prefix)
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CREATE, model="outreach.apitoken").exists()

    listing = client.get(PAGE).content.decode()
    assert token.prefix in listing
    assert key not in listing
    assert "Monthly report script" in listing


def test_the_key_works_and_stops_working_when_revoked(client, worker_a):
    sign_in_recently(client, worker_a)
    key = key_on_page(client.post(PAGE, {"name": ""}))
    token = ApiToken.objects.get()

    me = with_key(key).get(ME)
    assert me.status_code == 200
    assert me.json()["email"] == worker_a.email
    token.refresh_from_db()
    assert token.last_used_at is not None

    response = client.post(reverse("api_token_revoke", args=[token.pk]))

    assert response.status_code == 302
    assert not ApiToken.objects.exists()
    revoked = with_key(key).get(ME)
    assert revoked.status_code == 401
    assert revoked.headers["WWW-Authenticate"] == "Token"


def test_keys_are_stored_as_digests_only(worker_a):
    _token, key = api_token_create(actor=worker_a, user=worker_a)

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM outreach_apitoken")
        rows = cursor.fetchall()
    assert rows
    assert not any(key in str(value) for row in rows for value in row)


def test_a_user_cannot_revoke_someone_elses_key(client, worker_a, worker_b):
    token, key = api_token_create(actor=worker_b, user=worker_b)
    client.force_login(worker_a)

    assert client.post(reverse("api_token_revoke", args=[token.pk])).status_code == 404
    assert client.get(reverse("api_token_revoke", args=[token.pk])).status_code == 405
    assert with_key(key).get(ME).status_code == 200
    assert token.prefix not in client.get(PAGE).content.decode()


def test_the_page_needs_sign_in_and_csrf(worker_a):
    anonymous = Client()
    assert anonymous.get(PAGE).status_code == 302
    assert anonymous.post(PAGE).status_code == 302

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(worker_a)
    assert strict.post(PAGE, {"name": "x"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_a_coordinator_with_an_authenticator_uses_the_page(client, coordinator, with_totp):
    client.force_login(with_totp(coordinator))

    assert client.get(PAGE).status_code == 200


@pytest.mark.parametrize(
    "header",
    ["Token", "Token a b", "Token wrong-key", "Token \u00e4\u00e4"],
)
def test_bad_token_headers_are_401(worker_a, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.encode("utf-8").decode("latin-1"))

    assert client.get(ME).status_code == 401


def test_a_key_of_an_inactive_user_fails(worker_a):
    _token, key = api_token_create(actor=None, user=worker_a)
    worker_a.is_active = False
    worker_a.save()

    assert with_key(key).get(ME).status_code == 401


def test_token_requests_need_no_csrf_and_write(worker_a):
    _token, key = api_token_create(actor=None, user=worker_a)
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    response = client.post("/api/v1/persons/", {"alias": "Script"}, format="json")

    assert response.status_code == 201


def test_drf_create_token_prints_a_working_key(worker_a):
    out = io.StringIO()

    call_command("drf_create_token", "Worker.A@example.org", stdout=out, stderr=io.StringIO())

    key = out.getvalue().strip()
    assert with_key(key).get(ME).json()["id"] == worker_a.pk
    assert ApiToken.objects.filter(user=worker_a).count() == 1


def test_drf_create_token_reset_revokes_the_old_keys(worker_a):
    _token, old = api_token_create(actor=None, user=worker_a)
    out = io.StringIO()

    call_command("drf_create_token", worker_a.email, "--reset", stdout=out, stderr=io.StringIO())

    new = out.getvalue().strip()
    assert with_key(old).get(ME).status_code == 401
    assert with_key(new).get(ME).status_code == 200
    assert ApiToken.objects.filter(user=worker_a).count() == 1


def test_drf_create_token_refuses_an_unknown_user(db):
    with pytest.raises(CommandError):
        call_command("drf_create_token", "nobody@example.org", stdout=io.StringIO())
    assert not ApiToken.objects.exists()
