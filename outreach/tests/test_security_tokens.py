"""API keys and the second factor: no key gets around MFA, keys expire and are revoked (issue 8, defect 1)."""

import datetime
import io

import pytest
from allauth.mfa.models import Authenticator
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from outreach.models import ApiToken
from outreach.services import api_token_create, user_update
from outreach.tests.test_api_tokens import ME, PAGE, key_on_page, sign_in_recently, with_key
from outreach.vocabulary import Role


def test_a_coordinator_without_totp_gets_nothing_with_a_key_made_before_promotion(worker_a, admin_user):
    _token, key = api_token_create(actor=None, user=worker_a)
    # A role change revokes keys; make the situation of a key that survived
    # (e.g. made before this rule) directly.
    worker_a.role = Role.COORDINATOR
    worker_a.save()

    response = with_key(key).get("/api/v1/persons/")

    assert response.status_code == 401
    assert "two-factor" in response.json()["detail"]


def test_a_coordinator_with_totp_uses_their_key(coordinator, with_totp):
    with_totp(coordinator)
    _token, key = api_token_create(actor=None, user=coordinator)

    assert with_key(key).get(ME).status_code == 200


def test_no_key_is_made_for_a_role_that_needs_totp_before_it_is_set_up(coordinator):
    with pytest.raises(ValidationError):
        api_token_create(actor=None, user=coordinator)
    assert not ApiToken.objects.exists()


def test_drf_create_token_refuses_a_coordinator_without_totp(coordinator):
    with pytest.raises(CommandError, match="two-factor"):
        call_command("drf_create_token", coordinator.email, stdout=io.StringIO(), stderr=io.StringIO())
    assert not ApiToken.objects.exists()


def test_the_page_asks_for_a_recent_sign_in_with_the_second_factor(client, coordinator, with_totp):
    with_totp(coordinator)
    sign_in_recently(client, coordinator)  # the password step only

    response = client.post(PAGE, {"name": "x"})

    assert response.status_code == 302
    assert response.url.startswith(reverse("mfa_reauthenticate"))
    assert not ApiToken.objects.exists()

    sign_in_recently(client, coordinator, second_factor=True)
    made = client.post(PAGE, {"name": "x"})
    assert made.status_code == 200
    assert with_key(key_on_page(made)).get(ME).status_code == 200


def test_a_stale_sign_in_is_not_enough(client, worker_a, settings):
    sign_in_recently(client, worker_a)
    session = client.session
    for step in session["account_authentication_methods"]:
        step["at"] -= settings.API_TOKEN_SIGN_IN_MAX_AGE + 1
    session.save()

    response = client.post(PAGE, {"name": "x"})

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_reauthenticate"))
    assert not ApiToken.objects.exists()


def test_keys_expire_after_the_configured_lifetime(worker_a, settings):
    settings.API_TOKEN_LIFETIME_DAYS = 30
    token, key = api_token_create(actor=None, user=worker_a)

    assert abs(token.expires_at - (timezone.now() + datetime.timedelta(days=30))) < datetime.timedelta(minutes=1)
    assert with_key(key).get(ME).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = with_key(key).get(ME)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_the_default_lifetime_is_90_days(worker_a):
    token, _key = api_token_create(actor=None, user=worker_a)

    assert (token.expires_at - token.created_at).days in (89, 90)


def test_the_page_shows_expiry_and_last_use(client, worker_a):
    token, key = api_token_create(actor=None, user=worker_a)
    with_key(key).get(ME)
    client.force_login(worker_a)

    content = client.get(PAGE).content.decode()

    assert "Expires" in content
    assert "Last used" in content
    assert "Never" not in content
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_password_change_revokes_the_keys(client, worker_a):
    worker_a.set_password("old passphrase for the test")
    worker_a.save()
    _token, key = api_token_create(actor=None, user=worker_a)
    client.force_login(worker_a)

    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": "old passphrase for the test",
            "password1": "a brand new passphrase 2026",
            "password2": "a brand new passphrase 2026",
        },
    )

    assert response.status_code == 302
    assert with_key(key).get(ME).status_code == 401
    assert not ApiToken.objects.filter(user=worker_a).exists()


@pytest.mark.parametrize("change", [{"role": Role.EXPERT}, {"is_active": False}])
def test_a_role_change_or_deactivation_revokes_the_keys(worker_a, admin_user, change):
    _token, key = api_token_create(actor=None, user=worker_a)

    user_update(actor=admin_user, user=worker_a, **change)

    assert not ApiToken.objects.filter(user=worker_a).exists()
    assert with_key(key).get(ME).status_code == 401


def test_removing_totp_revokes_the_keys(client, worker_a, with_totp):
    with_totp(worker_a)
    _token, key = api_token_create(actor=None, user=worker_a)
    sign_in_recently(client, worker_a, second_factor=True)
    session = client.session  # allauth asks for a fresh confirmation before a factor is removed
    session["account_authentication_methods"][-1]["reauthenticated"] = True
    session.save()
    totp = Authenticator.objects.get(user=worker_a, type=Authenticator.Type.TOTP)

    response = client.post(reverse("mfa_deactivate_totp"), {"code": ""})

    assert response.status_code == 302, response.content
    assert response.url == reverse("mfa_index"), response.url
    assert not Authenticator.objects.filter(pk=totp.pk).exists()
    assert not ApiToken.objects.filter(user=worker_a).exists()
    assert with_key(key).get(ME).status_code == 401
