"""Sign-in: e-mail and password, invitations, password reset, TOTP, rate limits.

allauth does the work; these tests hold the promises that our settings,
adapter, middleware and user services make on top of it.
"""

import logging
import re
import time

import pytest
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import (
    SECRET_SESSION_KEY,
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from outreach.models import AuditEntry, User
from outreach.services import user_create, user_send_invitation, user_update
from outreach.vocabulary import Role

PASSWORD = "correct horse battery"  # what UserFactory sets
LOGIN_URL = reverse("account_login")
TOTP_ACTIVATE_URL = reverse("mfa_activate_totp")
MFA_AUTHENTICATE_URL = reverse("mfa_authenticate")


@pytest.fixture(autouse=True)
def _totp_tolerance(settings):
    # A code generated at the very end of a 30-second period must still pass
    # when the request lands in the next one.
    settings.MFA_TOTP_TOLERANCE = 1


def sign_in(client, email, password=PASSWORD):
    return client.post(LOGIN_URL, {"login": email, "password": password})


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


def open_totp_activation(client, password=PASSWORD, reauthenticate=False) -> str:
    """Open allauth's TOTP page; return the secret it shows as a QR code.

    Setting up a factor is a sensitive change, so allauth asks for the
    password again first (`reauthenticate`), except for a coordinator or admin
    who has just signed in and must set up their first one.
    """
    response = client.get(TOTP_ACTIVATE_URL)
    if reauthenticate:
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_reauthenticate"))
        response = client.post(response.url, {"password": password})
        assert response.status_code == 302
        assert response.url == TOTP_ACTIVATE_URL
        response = client.get(TOTP_ACTIVATE_URL)
    assert response.status_code == 200
    return client.session[SECRET_SESSION_KEY]


def totp_code(secret: str, offset: int = 0) -> str:
    """The code an authenticator app shows now (offset in periods)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + offset))


def form_errors(response) -> list[str]:
    form = response.context["form"]
    return [str(message) for messages in form.errors.values() for message in messages]


def login_entries(user):
    return AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN, actor=user)


# Password sign-in -----------------------------------------------------------


def test_sign_in_with_right_password_goes_home_and_is_audited(client, worker_a):
    response = sign_in(client, "worker.a@example.org")

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert signed_in_user_id(client) == str(worker_a.pk)
    entry = login_entries(worker_a).get()
    assert (entry.model, entry.object_id, entry.changes) == ("outreach.user", str(worker_a.pk), [])
    assert client.get(reverse("home"), follow=True).status_code == 200


def test_sign_in_ignores_case_of_email(client, worker_a):
    response = sign_in(client, "Worker.A@Example.org")

    assert response.status_code == 302
    assert signed_in_user_id(client) == str(worker_a.pk)


def test_wrong_password_is_refused_and_logged_without_the_address(client, worker_a, caplog):
    with caplog.at_level(logging.WARNING):
        response = sign_in(client, "worker.a@example.org", "not the password")

    assert response.status_code == 200
    assert form_errors(response) == [str(DefaultAccountAdapter.error_messages["email_password_mismatch"])]
    assert signed_in_user_id(client) is None
    assert not login_entries(worker_a).exists()
    assert any("Sign-in failed" in record.getMessage() for record in caplog.records)
    assert not any("worker.a" in record.getMessage() for record in caplog.records)


def test_inactive_user_cannot_sign_in(client, worker_a):
    user_update(actor=None, user=worker_a, is_active=False)

    response = sign_in(client, "worker.a@example.org")

    assert response.status_code == 302
    assert response.url == reverse("account_inactive")
    assert signed_in_user_id(client) is None
    assert not login_entries(worker_a).exists()


def test_sixth_attempt_after_five_failures_is_refused_even_with_right_password(client, worker_a, caplog):
    for _ in range(5):
        response = sign_in(client, "worker.a@example.org", "guess")
        assert form_errors(response) == [str(DefaultAccountAdapter.error_messages["email_password_mismatch"])]

    with caplog.at_level(logging.WARNING):
        response = sign_in(client, "worker.a@example.org")

    assert response.status_code == 200
    assert form_errors(response) == [str(DefaultAccountAdapter.error_messages["too_many_login_attempts"])]
    assert signed_in_user_id(client) is None
    assert not login_entries(worker_a).exists()
    assert any("too many failed attempts" in record.getMessage() for record in caplog.records)
    assert not any("worker.a" in record.getMessage() for record in caplog.records)


def test_failures_for_one_address_do_not_lock_out_another(client, worker_a, worker_b):
    for _ in range(5):
        sign_in(client, "worker.a@example.org", "guess")

    response = sign_in(client, "worker.b@example.org")

    assert response.status_code == 302
    assert signed_in_user_id(client) == str(worker_b.pk)


def test_successful_sign_in_does_not_reset_the_failure_count(client, worker_a):
    # allauth rolls back only the successful attempt, so an attacker who
    # knows one password cannot interleave it to keep guessing another's.
    for _ in range(4):
        sign_in(client, "worker.a@example.org", "guess")
    assert sign_in(client, "worker.a@example.org").status_code == 302
    client.post(reverse("account_logout"))
    sign_in(client, "worker.a@example.org", "guess")

    response = sign_in(client, "worker.a@example.org")

    assert form_errors(response) == [str(DefaultAccountAdapter.error_messages["too_many_login_attempts"])]


def test_sign_out(client, worker_a):
    client.force_login(worker_a)

    response = client.post(reverse("account_logout"))

    assert response.status_code == 302
    assert signed_in_user_id(client) is None
    assert client.get(reverse("home")).status_code == 302


def test_pages_need_sign_in(client, db):
    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response.url.startswith(LOGIN_URL)


def test_admin_login_goes_through_allauth(client, db):
    response = client.get(reverse("admin:login"))

    assert response.status_code == 302
    assert response.url.startswith(LOGIN_URL)


# No public sign-up -------------------------------------------------------------


def test_sign_up_is_closed(client, db):
    response = client.get(reverse("account_signup"))

    assert response.status_code == 200
    assert "account/signup_closed.html" in [t.name for t in response.templates]


def test_posting_to_sign_up_creates_no_user(client, db):
    response = client.post(
        reverse("account_signup"),
        {"email": "intruder@example.org", "password1": "a long passphrase here", "password2": "a long passphrase here"},
    )

    assert response.status_code == 200
    assert "account/signup_closed.html" in [t.name for t in response.templates]
    assert not User.objects.filter(email="intruder@example.org").exists()
    assert not EmailAddress.objects.filter(email="intruder@example.org").exists()
    assert signed_in_user_id(client) is None


def test_user_cannot_add_a_second_email_address(client, worker_a):
    client.force_login(worker_a)

    client.post(reverse("account_email"), {"action_add": "", "email": "other@example.org"})

    assert not EmailAddress.objects.filter(email="other@example.org").exists()
    assert sign_in(client.__class__(), "other@example.org").status_code == 200


# Multi-factor authentication --------------------------------------------------


@pytest.mark.parametrize("role_fixture", ["coordinator", "admin_user", "superuser"])
def test_mfa_is_required_for_coordinators_and_admins(client, request, role_fixture):
    user = request.getfixturevalue(role_fixture)

    response = sign_in(client, user.email)

    assert response.status_code == 302
    assert signed_in_user_id(client) == str(user.pk)
    for path in (reverse("home"), "/admin/", "/admin/outreach/user/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.url == TOTP_ACTIVATE_URL, path
    open_totp_activation(client)


def test_coordinator_activates_totp_gets_recovery_codes_and_then_reaches_pages(client, coordinator):
    sign_in(client, coordinator.email)
    secret = open_totp_activation(client)

    response = client.post(TOTP_ACTIVATE_URL, {"code": totp_code(secret)})

    assert response.status_code == 302
    assert response.url == reverse("mfa_view_recovery_codes")
    types = set(Authenticator.objects.filter(user=coordinator).values_list("type", flat=True))
    assert types == {Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES}
    assert client.get(reverse("mfa_view_recovery_codes")).status_code == 200
    assert client.get(reverse("home")).status_code == 200


def test_wrong_code_does_not_activate_totp(client, coordinator):
    sign_in(client, coordinator.email)
    secret = open_totp_activation(client)
    wrong = f"{(int(totp_code(secret)) + 1) % 1_000_000:06d}"

    response = client.post(TOTP_ACTIVATE_URL, {"code": wrong})

    assert response.status_code == 200
    assert not Authenticator.objects.filter(user=coordinator).exists()
    assert client.get(reverse("home")).url == TOTP_ACTIVATE_URL


def activate_totp(user) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)
    return secret


def test_coordinator_with_totp_must_give_the_code_at_sign_in(client, coordinator):
    secret = activate_totp(coordinator)

    response = sign_in(client, coordinator.email)

    # The password alone does not sign in: allauth asks for the code first.
    assert response.status_code == 302
    assert response.url == MFA_AUTHENTICATE_URL
    assert signed_in_user_id(client) is None
    assert not login_entries(coordinator).exists()
    assert client.get(reverse("home")).status_code == 302

    response = client.post(MFA_AUTHENTICATE_URL, {"code": totp_code(secret)})

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert signed_in_user_id(client) == str(coordinator.pk)
    assert login_entries(coordinator).count() == 1
    assert client.get(reverse("home")).status_code == 200


def test_wrong_totp_code_does_not_sign_in(client, coordinator):
    secret = activate_totp(coordinator)
    sign_in(client, coordinator.email)
    wrong = f"{(int(totp_code(secret)) + 1) % 1_000_000:06d}"

    response = client.post(MFA_AUTHENTICATE_URL, {"code": wrong})

    assert response.status_code == 200
    assert signed_in_user_id(client) is None
    assert not login_entries(coordinator).exists()


def test_recovery_code_signs_in_instead_of_totp(client, coordinator):
    activate_totp(coordinator)
    recovery = Authenticator.objects.get(user=coordinator, type=Authenticator.Type.RECOVERY_CODES)
    code = RecoveryCodes(recovery).get_unused_codes()[0]
    sign_in(client, coordinator.email)

    response = client.post(MFA_AUTHENTICATE_URL, {"code": code})

    assert response.status_code == 302
    assert signed_in_user_id(client) == str(coordinator.pk)
    assert client.get(reverse("home")).status_code == 200


def test_worker_is_not_forced_to_mfa_but_may_enable_it(client, worker_a):
    sign_in(client, worker_a.email)

    assert client.get(reverse("home"), follow=True).status_code == 200

    secret = open_totp_activation(client, reauthenticate=True)
    response = client.post(TOTP_ACTIVATE_URL, {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=worker_a, type=Authenticator.Type.TOTP).exists()

    # From now on the worker too is asked for the code.
    client.post(reverse("account_logout"))
    assert sign_in(client, worker_a.email).url == MFA_AUTHENTICATE_URL


def test_first_sign_in_goes_straight_to_the_setup_and_says_why(client, coordinator):
    response = sign_in(client, coordinator.email)

    assert response.status_code == 302
    assert response.url == TOTP_ACTIVATE_URL
    response = client.get(TOTP_ACTIVATE_URL, HTTP_ACCEPT_LANGUAGE="fi")
    # No second password prompt right after the password was given.
    assert response.status_code == 200
    assert "kaksivaiheinen" in response.content.decode().lower()


def test_setup_asks_for_the_password_again_when_the_sign_in_is_not_fresh(client, coordinator):
    sign_in(client, coordinator.email)
    session = client.session
    records = session["account_authentication_methods"]
    for record in records:
        record["at"] -= 3600
    session["account_authentication_methods"] = records
    session.save()

    response = client.get(TOTP_ACTIVATE_URL)

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_reauthenticate"))


def test_setup_secret_stays_the_same_while_the_page_is_reloaded_and_icons_are_fetched(client, coordinator):
    sign_in(client, coordinator.email)
    secret = open_totp_activation(client)

    # What a browser does by itself while the page is open: ask for icons.
    for path in ("/favicon.ico", "/apple-touch-icon.png", "/apple-touch-icon-precomposed.png"):
        response = client.get(path, HTTP_ACCEPT="image/avif,image/webp,image/*,*/*;q=0.8")
        assert response.status_code == 301, path
        assert response.url.startswith("/static/icons/"), path
    # A reload and a language switch show the same secret.
    assert client.get(TOTP_ACTIVATE_URL).status_code == 200
    client.post(reverse("set_language"), {"language": "sv", "next": TOTP_ACTIVATE_URL})
    assert client.get(TOTP_ACTIVATE_URL).status_code == 200
    assert client.session[SECRET_SESSION_KEY] == secret

    response = client.post(TOTP_ACTIVATE_URL, {"code": totp_code(secret)})

    assert response.status_code == 302
    assert Authenticator.objects.filter(user=coordinator, type=Authenticator.Type.TOTP).exists()
    assert SECRET_SESSION_KEY not in client.session


def test_requests_that_are_not_page_views_are_refused_not_sent_to_the_setup(client, coordinator):
    sign_in(client, coordinator.email)

    # A form post, an htmx call, an image and an API call are not page views.
    assert client.post(reverse("home")).status_code == 403
    assert client.get(reverse("home"), HTTP_HX_REQUEST="true").status_code == 403
    assert client.get("/static-missing.png", HTTP_ACCEPT="image/webp,*/*").status_code == 403
    response = client.get("/api/v1/users/me/", HTTP_ACCEPT="application/json")
    assert response.status_code == 403
    assert response.json()["detail"]
    # A page view still leads to the setup.
    response = client.get(reverse("home"), HTTP_ACCEPT="text/html,application/xhtml+xml")
    assert response.status_code == 302
    assert response.url == TOTP_ACTIVATE_URL


def test_mfa_works_for_a_user_created_outside_the_services(client, superuser):
    # createsuperuser and the factories leave no verified EmailAddress, and
    # allauth adds an unverified one when such a user opens the e-mail page or
    # asks for a password reset. The TOTP page that the middleware forces them
    # to must still accept them rather than send them in circles.
    sign_in(client, superuser.email)
    assert client.get(reverse("account_email")).status_code == 200
    assert EmailAddress.objects.filter(user=superuser, verified=False).exists()
    secret = open_totp_activation(client)

    response = client.post(TOTP_ACTIVATE_URL, {"code": totp_code(secret)})

    assert response.status_code == 302
    assert Authenticator.objects.filter(user=superuser, type=Authenticator.Type.TOTP).exists()
    assert client.get("/admin/").status_code == 200


# Invitations -------------------------------------------------------------------


def invitation_link(message) -> str:
    match = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


@pytest.fixture
def _site_url(settings):
    settings.SITE_URL = "http://testserver/"


@pytest.mark.usefixtures("_site_url")
def test_new_user_without_password_gets_an_invitation_on_commit(admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        user = user_create(actor=admin_user, email="New.Worker@Example.org", full_name="Maija Meikäläinen")
        assert mail.outbox == []

    assert len(callbacks) == 1
    assert not user.has_usable_password()
    assert EmailAddress.objects.filter(user=user, email="new.worker@example.org", verified=True, primary=True).exists()
    assert AuditEntry.objects.filter(action="create", model="outreach.user", object_id=str(user.pk)).exists()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.worker@example.org"]
    assert "\n" not in message.subject
    assert message.subject
    assert message.body.startswith("Hello Maija,")
    # Nothing personal beyond the greeting.
    assert "Meikäläinen" not in message.body
    assert "new.worker" not in message.body
    assert "http://testserver/accounts/login/" in message.body
    invitation_link(message)


@pytest.mark.parametrize(("role", "mentions_mfa"), [(Role.WORKER, False), (Role.COORDINATOR, True), (Role.ADMIN, True)])
def test_invitation_tells_coordinators_and_admins_about_the_second_step(
    admin_user, django_capture_on_commit_callbacks, role, mentions_mfa
):
    with django_capture_on_commit_callbacks(execute=True):
        user_create(actor=admin_user, email="new@example.org", role=role)

    assert ("authenticator app" in mail.outbox[0].body) is mentions_mfa


def _create_and_fail(admin_user: User) -> None:
    with transaction.atomic():
        user_create(actor=admin_user, email="ghost@example.org")
        raise RuntimeError


def test_rolled_back_creation_sends_no_invitation(admin_user, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        _create_and_fail(admin_user)

    assert callbacks == []
    assert mail.outbox == []
    assert not User.objects.filter(email="ghost@example.org").exists()


def test_user_created_with_a_password_gets_no_invitation(admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user = user_create(actor=admin_user, email="seeded@example.org", password="a long enough passphrase")

    assert mail.outbox == []
    assert user.check_password("a long enough passphrase")


@pytest.mark.usefixtures("_site_url")
def test_invitation_link_sets_the_password_once_and_the_user_signs_in(
    client, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = user_create(actor=admin_user, email="new@example.org", role=Role.WORKER)
    link = invitation_link(mail.outbox[0])

    # allauth moves the key out of the address before showing the form.
    response = client.get(link)
    assert response.status_code == 302
    form_url = response.url
    assert form_url.endswith("-set-password/")
    response = client.get(form_url)
    assert response.status_code == 200
    assert not response.context.get("token_fail")

    # The validators apply here too.
    response = client.post(form_url, {"password1": "short", "password2": "short"})
    assert response.status_code == 200
    assert response.context["form"].errors["password1"]
    user.refresh_from_db()
    assert not user.has_usable_password()

    new_password = "kahvia ja pullaa torilla"
    response = client.post(form_url, {"password1": new_password, "password2": new_password})
    assert response.status_code == 302
    assert response.url == reverse("account_reset_password_from_key_done")
    user.refresh_from_db()
    assert user.check_password(new_password)

    response = sign_in(client.__class__(), "new@example.org", new_password)
    assert response.status_code == 302
    assert response.url == reverse("home")

    # The link is spent: the token was derived from the old password.
    response = client.__class__().get(link)
    assert response.status_code == 200
    assert response.context["token_fail"]


@pytest.mark.usefixtures("_site_url")
def test_admin_can_resend_the_invitation(admin_user, worker_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user_send_invitation(actor=admin_user, user=worker_a)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["worker.a@example.org"]
    invitation_link(mail.outbox[0])
    entry = AuditEntry.objects.get(actor=admin_user, model="outreach.user", object_id=str(worker_a.pk))
    assert (entry.action, entry.changes) == ("update", ["invitation"])


def test_inactive_user_is_not_invited(admin_user, worker_a, django_capture_on_commit_callbacks):
    user_update(actor=admin_user, user=worker_a, is_active=False)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as excinfo:
        user_send_invitation(actor=admin_user, user=worker_a)

    assert "is_active" in excinfo.value.message_dict
    assert mail.outbox == []


def test_invitation_is_written_in_the_site_language(
    settings, monkeypatch, admin_user, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://etsiva.example.fi"
    settings.LANGUAGE_CODE = "fi"
    languages = []

    def render_and_note_language(template_name, context=None):
        languages.append(translation.get_language())
        return render_to_string(template_name, context)

    monkeypatch.setattr("outreach.services.render_to_string", render_and_note_language)
    with django_capture_on_commit_callbacks(execute=True):
        user_create(actor=admin_user, email="uusi@example.org")

    assert languages == ["fi", "fi"]
    assert "https://etsiva.example.fi/accounts/password/reset/key/" in mail.outbox[0].body


# Changing a user's e-mail address ------------------------------------------------


def test_changed_email_address_signs_in_and_the_old_one_no_longer_does(client, superuser):
    user = user_create(actor=superuser, email="old@example.org", password="a long enough passphrase")

    # A superuser sets the address at once; others need the old address to confirm.
    user_update(actor=superuser, user=user, email="New@Example.org")

    assert list(EmailAddress.objects.filter(user=user).values_list("email", "verified", "primary")) == [
        ("new@example.org", True, True)
    ]
    assert sign_in(client, "old@example.org", "a long enough passphrase").status_code == 200
    assert signed_in_user_id(client) is None
    assert sign_in(client, "new@example.org", "a long enough passphrase").status_code == 302
    assert signed_in_user_id(client) == str(user.pk)


# Password reset -------------------------------------------------------------------


def test_password_reset_mails_a_link_to_an_existing_user(client, worker_a):
    response = client.post(reverse("account_reset_password"), {"email": "worker.a@example.org"})

    assert response.status_code == 302
    assert response.url == reverse("account_reset_password_done")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["worker.a@example.org"]
    link = invitation_link(mail.outbox[0])
    form_url = client.get(link).url
    new_password = "uusi salasana kesällä"
    client.post(form_url, {"password1": new_password, "password2": new_password})
    worker_a.refresh_from_db()
    assert worker_a.check_password(new_password)


def test_password_reset_for_unknown_address_sends_nothing_and_reveals_nothing(client, worker_a):
    response = client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})

    # The same answer as for a known address, so addresses cannot be probed.
    assert response.status_code == 302
    assert response.url == reverse("account_reset_password_done")
    assert mail.outbox == []


# Password storage and rules --------------------------------------------------------


def test_production_settings_hash_passwords_with_argon2_first():
    import config.settings as production

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    hasher = Argon2PasswordHasher()  # argon2-cffi is installed
    encoded = hasher.encode("kahvia ja pullaa", hasher.salt())
    assert encoded.startswith("argon2$")
    assert hasher.verify("kahvia ja pullaa", encoded)


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Lyhyt1!", "password_too_short"),
        ("qwerty123456", "password_too_common"),
        ("385920175638", "password_entirely_numeric"),
    ],
)
def test_password_validators_reject_weak_passwords(password, code):
    with pytest.raises(ValidationError) as excinfo:
        password_validation.validate_password(password)

    assert code in [error.code for error in excinfo.value.error_list]


def test_password_validators_accept_a_passphrase():
    password_validation.validate_password("kahvia ja pullaa torilla")


def test_password_like_the_email_is_rejected(worker_a):
    with pytest.raises(ValidationError) as excinfo:
        password_validation.validate_password("worker.a@example.org", user=worker_a)

    assert "password_too_similar" in [error.code for error in excinfo.value.error_list]


# The admin's own login form ------------------------------------------------------


def test_admin_login_form_cannot_switch_to_another_account(client, worker_a, coordinator):
    # Django's admin login form would sign in with a password alone, past
    # allauth's rate limits and TOTP step. A signed-in worker who knows a
    # coordinator's password must not become the coordinator through it.
    activate_totp(coordinator)
    client.force_login(worker_a)

    response = client.post(reverse("admin:login"), {"username": coordinator.email, "password": PASSWORD})

    assert response.status_code in (302, 403)
    assert signed_in_user_id(client) == str(worker_a.pk)
    assert not login_entries(coordinator).exists()


def test_admin_login_form_post_while_signed_out_signs_nobody_in(client, coordinator):
    activate_totp(coordinator)

    response = client.post(reverse("admin:login"), {"username": coordinator.email, "password": PASSWORD})

    assert response.status_code == 302
    assert response.url.startswith(LOGIN_URL)
    assert signed_in_user_id(client) is None


def test_signed_in_staff_opening_admin_login_goes_to_the_admin(client, coordinator):
    activate_totp(coordinator)
    client.force_login(coordinator)

    response = client.get(reverse("admin:login") + "?next=/admin/outreach/")

    assert response.status_code == 302
    assert response.url == "/admin/outreach/"
    assert client.get("/admin/").status_code == 200


def test_signed_in_worker_gets_no_admin(client, worker_a):
    client.force_login(worker_a)

    response = client.get(reverse("admin:login"))

    assert response.status_code == 403
