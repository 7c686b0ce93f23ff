"""Accounts: nobody widens their own access, e-mail changes are confirmed, access changes are shown,
authors are deactivated rather than deleted (issue 8, defects 2 and 12)."""

import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from django.urls import reverse

from outreach.models import AccessChange, AuditEntry, EmailChange, User
from outreach.services import user_update
from outreach.tests.factories import TeamFactory, UserFactory
from outreach.vocabulary import Role

HOME = "/"


def change_url(user):
    return reverse("admin:outreach_user_change", args=[user.pk])


@pytest.fixture
def signed_in(client, with_totp):
    def sign_in(user):
        if user.requires_mfa:
            with_totp(user)
        client.force_login(user)
        return client

    return sign_in


def user_form(user, **overrides):
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role,
        "teams": [team.pk for team in user.teams.all()],
        "phone": user.phone,
        "is_active": "on",
    }
    data.update(overrides)
    return data


# Nobody changes their own role or teams -----------------------------------------


def test_an_admin_cannot_add_teams_to_themself_in_the_admin(signed_in, admin_user, team_a):
    client = signed_in(admin_user)

    response = client.post(change_url(admin_user), user_form(admin_user, teams=[team_a.pk]))

    # The fields are read-only on one's own account: the posted teams are ignored.
    assert response.status_code == 302
    admin_user.refresh_from_db()
    assert list(admin_user.teams.all()) == []
    assert not AccessChange.objects.exists()


@pytest.mark.parametrize("change", [{"role": Role.COORDINATOR}, {"is_superuser": True}, {"teams": "team_a"}], ids=str)
def test_the_service_refuses_own_role_and_team_changes(request, admin_user, team_a, change):
    if change.get("teams") == "team_a":
        change = {"teams": [team_a]}

    with pytest.raises(ValidationError) as refused:
        user_update(actor=admin_user, user=admin_user, **change)

    assert set(refused.value.message_dict) == set(change)
    admin_user.refresh_from_db()
    assert (admin_user.role, admin_user.is_superuser, list(admin_user.teams.all())) == (Role.ADMIN, False, [])


def test_a_superuser_cannot_change_their_own_teams_either(superuser, team_a):
    with pytest.raises(ValidationError):
        user_update(actor=superuser, user=superuser, teams=[team_a])


def test_own_name_and_phone_still_change(admin_user):
    user_update(actor=admin_user, user=admin_user, full_name="Aino Admin", teams=[], role=Role.ADMIN)

    admin_user.refresh_from_db()
    assert admin_user.full_name == "Aino Admin"


# E-mail changes are confirmed from the old address ----------------------------------


def confirmation_path(message) -> str:
    match = re.search(r"http://testserver(/account/email-change/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


@pytest.fixture
def _site_url(settings):
    settings.SITE_URL = "http://testserver/"


@pytest.mark.usefixtures("_site_url")
def test_an_admin_changing_an_email_sends_a_confirmation_to_the_old_address(
    signed_in, admin_user, worker_a, django_capture_on_commit_callbacks
):
    client = signed_in(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(change_url(worker_a), user_form(worker_a, email="attacker@example.org"))

    assert response.status_code == 302
    worker_a.refresh_from_db()
    assert worker_a.email == "worker.a@example.org"
    assert [message.to for message in mail.outbox] == [["worker.a@example.org"]]
    assert "attacker@example.org" in mail.outbox[0].body
    path = confirmation_path(mail.outbox[0])

    # Opening the link shows the change and changes nothing; the button confirms.
    anonymous = client.__class__()
    assert anonymous.get(path).status_code == 200
    worker_a.refresh_from_db()
    assert worker_a.email == "worker.a@example.org"
    confirmed = anonymous.post(path)
    assert confirmed.status_code == 302
    worker_a.refresh_from_db()
    assert worker_a.email == "attacker@example.org"
    assert EmailChange.objects.get().confirmed_at is not None
    assert AuditEntry.objects.filter(actor=worker_a, changes=["email"]).exists()
    # The link works once.
    assert anonymous.post(path).status_code == 404


def test_a_password_reset_cannot_be_sent_to_an_unconfirmed_address(client, admin_user, worker_a):
    user_update(actor=admin_user, user=worker_a, email="attacker@example.org")

    client.post(reverse("account_reset_password"), {"email": "attacker@example.org"})

    assert all(message.to != ["attacker@example.org"] for message in mail.outbox)


def test_a_bad_confirmation_link_is_404(client, db):
    response = client.get(reverse("email_change_confirm", args=["not-a-key"]))

    assert response.status_code == 404
    assert "invalid or has expired" in response.content.decode()


def test_a_superuser_changes_an_email_at_once(superuser, worker_a):
    user_update(actor=superuser, user=worker_a, email="new.address@example.org")

    worker_a.refresh_from_db()
    assert worker_a.email == "new.address@example.org"
    assert not EmailChange.objects.exists()


def test_an_address_of_another_user_is_refused(admin_user, worker_a, worker_b):
    with pytest.raises(ValidationError) as refused:
        user_update(actor=admin_user, user=worker_a, email=worker_b.email)

    assert "email" in refused.value.message_dict
    assert not EmailChange.objects.exists()


# Role and team changes are audited and shown to the coordinator ----------------------


def test_role_and_team_changes_are_shown_to_the_users_coordinator(
    client, with_totp, admin_user, coordinator, worker_a, team_a, team_b
):
    user_update(actor=admin_user, user=worker_a, role=Role.COORDINATOR, teams=[team_b])
    stranger = UserFactory(email="elsewhere@example.org", teams=[TeamFactory(name="Far away")])
    user_update(actor=admin_user, user=stranger, role=Role.EXPERT)

    change = AccessChange.objects.get(user=worker_a)
    assert (change.old_role, change.new_role, change.actor) == (Role.WORKER, Role.COORDINATOR, admin_user)
    assert list(change.teams_added.all()) == [team_b]
    assert list(change.teams_removed.all()) == [team_a]
    entry = AuditEntry.objects.get(model="outreach.user", object_id=str(worker_a.pk))
    assert set(entry.changes) == {"role", "teams"}

    client.force_login(with_totp(coordinator))
    response = client.get(HOME)
    assert response.status_code == 200
    content = response.content.decode()
    assert response.context["access_changes"] == [change]
    assert "Removed from Team A" in content
    assert "Added to Team B" in content
    assert "elsewhere@example.org" not in content


def test_a_worker_sees_no_access_changes(client, admin_user, worker_a, worker_b):
    user_update(actor=admin_user, user=worker_b, role=Role.EXPERT)
    client.force_login(worker_a)

    response = client.get(HOME, follow=True)

    assert "access_changes" not in response.context


# Users who have written anything are deactivated, never deleted ---------------------


def test_deleting_a_user_who_acted_is_refused_and_the_audit_keeps_the_actor(signed_in, superuser, worker_a):
    user_update(actor=worker_a, user=worker_a, full_name="Wilma Worker")
    entry = AuditEntry.objects.get(actor=worker_a)
    client = signed_in(superuser)

    response = client.post(reverse("admin:outreach_user_delete", args=[worker_a.pk]), {"post": "yes"}, follow=True)

    assert response.status_code == 200
    assert "cannot be deleted" in response.content.decode()
    assert User.objects.filter(pk=worker_a.pk).exists()
    entry.refresh_from_db()
    assert entry.actor == worker_a
    with pytest.raises(ProtectedError):
        worker_a.delete()


def test_the_bulk_delete_action_is_gone_and_deactivate_ends_sessions(signed_in, superuser, worker_a, client):
    from django.test import Client

    other = Client()
    other.force_login(worker_a)
    admin_client = signed_in(superuser)
    changelist = reverse("admin:outreach_user_changelist")

    actions = [name for name, _label in admin_client.get(changelist).context["action_form"].fields["action"].choices]
    assert "delete_selected" not in actions
    assert "deactivate" in actions
    response = admin_client.post(changelist, {"action": "deactivate", "_selected_action": [worker_a.pk]})

    assert response.status_code == 302
    worker_a.refresh_from_db()
    assert not worker_a.is_active
    assert other.get("/api/v1/users/me/").status_code == 401
    from django.contrib.sessions.models import Session

    assert not [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(worker_a.pk)]


def test_a_user_who_never_acted_can_be_deleted(signed_in, superuser):
    mistake = UserFactory(email="typo@example.org")
    client = signed_in(superuser)

    response = client.post(reverse("admin:outreach_user_delete", args=[mistake.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=mistake.pk).exists()
