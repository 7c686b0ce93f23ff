"""The Django admin: who reaches it, what each role may open, and that saving goes through the services."""

import datetime

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse

from outreach.admin import RoleAdmin
from outreach.models import AuditEntry, FieldSite, Outing, Team, User
from outreach.tests.factories import FieldSiteFactory, OutingFactory, UserFactory, municipality
from outreach.vocabulary import OutingStatus, Role, SiteType


def changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def add_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


@pytest.fixture
def signed_in(client, with_totp):
    """`signed_in(user)`: the test client, signed in as `user` (with TOTP, which staff roles need)."""

    def sign_in(user):
        if user.requires_mfa:
            with_totp(user)
        client.force_login(user)
        return client

    return sign_in


def admin_request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


# Who reaches the admin ------------------------------------------------------------


@pytest.mark.parametrize("user_fixture", ["worker_a", "expert_a"])
def test_worker_and_expert_get_no_admin(request, signed_in, user_fixture):
    user = request.getfixturevalue(user_fixture)
    FieldSiteFactory(name="Hidden site")
    client = signed_in(user)

    for url in [reverse("admin:index"), changelist_url(FieldSite), changelist_url(User), add_url(Outing)]:
        response = client.get(url)
        # Sent to the admin's login view, which answers 403 to a signed-in user without access.
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))
        final = client.get(url, follow=True)
        assert final.status_code == 403
        assert b"Hidden site" not in final.content
        assert b"result_list" not in final.content


def test_worker_cannot_post_to_the_admin(signed_in, worker_a):
    client = signed_in(worker_a)

    response = client.post(add_url(User), {"email": "new@example.org", "role": Role.ADMIN})

    assert response.status_code == 302
    assert not User.objects.filter(email="new@example.org").exists()
    assert not AuditEntry.objects.exists()


def test_worker_cannot_use_admin_autocomplete(signed_in, worker_a):
    FieldSiteFactory(name="Hidden site")
    client = signed_in(worker_a)

    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "outreach", "model_name": "outing", "field_name": "site", "term": "Hidden"},
        follow=True,
    )

    assert response.status_code == 403
    assert b"Hidden site" not in response.content


def test_anonymous_visitor_is_sent_to_the_allauth_sign_in(client):
    response = client.get(changelist_url(FieldSite), follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))
    assert b"result_list" not in response.content


def test_admin_login_view_never_shows_djangos_password_form(client, worker_a):
    client.force_login(worker_a)

    response = client.post(reverse("admin:login"), {"username": "root@example.org", "password": "x"})

    assert response.status_code == 403


def test_staff_member_at_admin_login_goes_on_to_next_page(signed_in, admin_user):
    client = signed_in(admin_user)

    response = client.get(reverse("admin:login"), {"next": changelist_url(Team)})
    assert response.status_code == 302
    assert response.url == changelist_url(Team)

    response = client.get(reverse("admin:login"), {"next": "https://evil.example.com/"})
    assert response.url == reverse("admin:index")


def test_coordinator_without_totp_is_sent_to_set_it_up(client, coordinator):
    client.force_login(coordinator)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")


def test_is_staff_alone_does_not_open_the_admin(signed_in, team_a):
    worker = UserFactory(role=Role.WORKER, is_staff=True, teams=[team_a])
    client = signed_in(worker)

    assert client.get(reverse("admin:index"), follow=True).status_code == 403


def test_inactive_admin_gets_no_admin(signed_in, admin_user):
    client = signed_in(admin_user)
    User.objects.filter(pk=admin_user.pk).update(is_active=False)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 302


# What admins and superusers may open --------------------------------------------


def _pages_for(user) -> list[str]:
    request = admin_request(user)
    pages = []
    for model, model_admin in admin.site._registry.items():
        if model_admin.has_view_permission(request):
            pages.append(changelist_url(model))
        if model_admin.has_add_permission(request):
            pages.append(add_url(model))
    return pages


@pytest.mark.parametrize("user_fixture", ["admin_user", "superuser"])
def test_admin_and_superuser_open_every_page_they_may_use(request, signed_in, user_fixture, team_a):
    user = request.getfixturevalue(user_fixture)
    user.teams.add(team_a)
    client = signed_in(user)
    pages = _pages_for(user)

    assert client.get(reverse("admin:index")).status_code == 200
    # The pages the role exists for are among them.
    for model in (User, Team, FieldSite, Outing):
        assert changelist_url(model) in pages
        assert add_url(model) in pages
    assert changelist_url(AuditEntry) in pages
    for url in pages:
        assert client.get(url).status_code == 200, url


def test_superuser_may_open_every_registered_model(superuser):
    request = admin_request(superuser)

    for model, model_admin in admin.site._registry.items():
        assert model_admin.has_view_permission(request), model


def test_every_outreach_admin_decides_by_role():
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in {"outreach", "encounters", "networks", "reports"}:
            assert isinstance(model_admin, RoleAdmin), model


def test_every_model_of_ours_is_in_the_admin():
    from django.apps import apps

    for label in ("outreach", "encounters", "networks", "reports"):
        for model in apps.get_app_config(label).get_models():
            if hasattr(model, "instance_type"):
                # A change-history table (simple-history): read through its record's history view.
                continue
            assert model in admin.site._registry, model


def test_groups_are_not_in_the_admin():
    from django.contrib.auth.models import Group

    assert Group not in admin.site._registry


# Coordinators --------------------------------------------------------------------


def test_coordinator_reaches_sites_partners_and_networks(signed_in, coordinator):
    from networks.models import Network, PartnerOrganisation

    client = signed_in(coordinator)

    for model in (FieldSite, PartnerOrganisation, Network, Outing):
        assert client.get(changelist_url(model)).status_code == 200, model
        assert client.get(add_url(model)).status_code == 200, model


@pytest.mark.parametrize("model", [User, Team, "outreach.Municipality", "outreach.Area", AuditEntry])
def test_coordinator_gets_403_on_users_teams_and_municipalities(signed_in, coordinator, model):
    from django.apps import apps

    if isinstance(model, str):
        model = apps.get_model(model)
    client = signed_in(coordinator)

    assert client.get(changelist_url(model)).status_code == 403
    assert client.get(add_url(model)).status_code == 403


def test_coordinator_index_lists_only_their_models(signed_in, coordinator):
    client = signed_in(coordinator)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert changelist_url(FieldSite).encode() in response.content
    assert changelist_url(User).encode() not in response.content
    assert changelist_url(Team).encode() not in response.content


def test_coordinator_cannot_post_a_user(signed_in, coordinator):
    client = signed_in(coordinator)

    response = client.post(add_url(User), {"email": "new@example.org", "role": Role.ADMIN})

    assert response.status_code == 403
    assert not User.objects.filter(email="new@example.org").exists()


def test_coordinator_sees_outings_of_visible_teams_only(signed_in, coordinator, team_a, team_other_area):
    mine = OutingFactory(team=team_a, site=FieldSiteFactory(name="Our site"))
    other = OutingFactory(team=team_other_area, site=FieldSiteFactory(name="Faraway site"))
    client = signed_in(coordinator)

    response = client.get(changelist_url(Outing))

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [mine]
    # Another area's outing is not found, not shown.
    assert client.get(change_url(other)).status_code == 302


# Users ---------------------------------------------------------------------------


def test_user_add_form_has_no_password(signed_in, admin_user):
    client = signed_in(admin_user)

    response = client.get(add_url(User))

    assert response.status_code == 200
    assert set(response.context["adminform"].form.fields) == {"email", "full_name", "role", "teams"}


def test_admin_creates_user_through_the_service(signed_in, admin_user, team_a, django_capture_on_commit_callbacks):
    client = signed_in(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            add_url(User),
            {
                "email": "Uusi.Tyontekija@Example.org",
                "full_name": "Uusi Työntekijä",
                "role": Role.COORDINATOR,
                "teams": [team_a.pk],
            },
        )

    assert response.status_code == 302
    user = User.objects.get(email="uusi.tyontekija@example.org")
    assert user.role == Role.COORDINATOR
    assert user.is_staff  # derived from the role by user_create
    assert not user.has_usable_password()
    assert list(user.teams.all()) == [team_a]
    entry = AuditEntry.objects.get(model="outreach.user", object_id=str(user.pk))
    assert (entry.actor, entry.action) == (admin_user, AuditEntry.Action.CREATE)
    assert [message.to for message in mail.outbox] == [["uusi.tyontekija@example.org"]]


def test_duplicate_email_is_refused_on_the_form(signed_in, admin_user, worker_a, django_capture_on_commit_callbacks):
    client = signed_in(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(add_url(User), {"email": worker_a.email.upper(), "role": Role.WORKER})

    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors
    assert User.objects.filter(email__iexact=worker_a.email).count() == 1
    assert not AuditEntry.objects.exists()
    assert mail.outbox == []


def test_admin_changes_user_through_the_service(signed_in, admin_user, worker_a, team_a, team_b):
    client = signed_in(admin_user)

    response = client.post(
        change_url(worker_a),
        {
            "email": worker_a.email,
            "full_name": worker_a.full_name,
            "role": Role.COORDINATOR,
            "teams": [team_b.pk],
            "phone": "",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    worker_a.refresh_from_db()
    assert worker_a.role == Role.COORDINATOR
    assert worker_a.is_staff
    assert list(worker_a.teams.all()) == [team_b]
    entry = AuditEntry.objects.get(model="outreach.user", object_id=str(worker_a.pk))
    assert entry.action == AuditEntry.Action.UPDATE
    assert set(entry.changes) == {"role", "teams"}


def test_admin_role_cannot_change_a_superuser(signed_in, admin_user, superuser):
    client = signed_in(admin_user)
    assert client.get(change_url(superuser)).context["title"].startswith("View")

    response = client.post(change_url(superuser), {"email": "taken@example.org", "role": Role.ADMIN, "is_active": "on"})

    assert response.status_code == 403
    superuser.refresh_from_db()
    assert superuser.email == "root@example.org"


def test_admin_role_cannot_make_a_superuser(signed_in, admin_user):
    client = signed_in(admin_user)

    client.post(add_url(User), {"email": "new@example.org", "role": Role.ADMIN, "is_superuser": "on"})

    assert not User.objects.get(email="new@example.org").is_superuser


def test_send_invitation_again(signed_in, admin_user, worker_a, django_capture_on_commit_callbacks):
    inactive = UserFactory(email="gone@example.org", is_active=False)
    client = signed_in(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            changelist_url(User),
            {"action": "send_invitation", "_selected_action": [worker_a.pk, inactive.pk]},
        )

    assert response.status_code == 302
    assert [message.to for message in mail.outbox] == [[worker_a.email]]
    assert AuditEntry.objects.filter(model="outreach.user", object_id=str(worker_a.pk)).exists()
    assert not AuditEntry.objects.filter(object_id=str(inactive.pk)).exists()


def test_user_changelist_query_count(signed_in, admin_user, team_a, team_b, django_assert_max_num_queries):
    client = signed_in(admin_user)
    for n in range(30):
        UserFactory(teams=[team_a, team_b] if n % 2 else [team_a])

    with django_assert_max_num_queries(11):
        response = client.get(changelist_url(User))

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 31


# Sites and outings -------------------------------------------------------------


def test_coordinator_creates_site_through_the_service(signed_in, coordinator, team_a):
    client = signed_in(coordinator)

    response = client.post(
        add_url(FieldSite),
        {
            "name": "Ruokajakelu Puijonlaakso",
            "site_type": SiteType.FOOD_DISTRIBUTION,
            "municipality": municipality("297").pk,
            "team": team_a.pk,
            "address": "",
            "active": "on",
        },
    )

    assert response.status_code == 302
    site = FieldSite.objects.get(name="Ruokajakelu Puijonlaakso")
    assert site.municipality.code == "297"
    entry = AuditEntry.objects.get(model="outreach.fieldsite", object_id=str(site.pk))
    assert (entry.actor, entry.action) == (coordinator, AuditEntry.Action.CREATE)


def test_site_constraint_error_is_shown_on_the_form(signed_in, coordinator):
    client = signed_in(coordinator)

    response = client.post(
        add_url(FieldSite),
        {
            "name": "Street",
            "site_type": SiteType.STREET,
            "municipality": municipality("297").pk,
            "season_start_month": "4",
            "active": "on",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not FieldSite.objects.exists()
    assert not AuditEntry.objects.exists()


def test_site_changelist_query_count(signed_in, coordinator, team_a, django_assert_max_num_queries):
    for n in range(30):
        FieldSiteFactory(team=team_a if n % 2 else None, municipality=municipality("297" if n % 3 else "204"))
    client = signed_in(coordinator)

    with django_assert_max_num_queries(11):
        response = client.get(changelist_url(FieldSite))

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 30


def _outing_form(team, site, **overrides):
    data = {
        "team": team.pk,
        "site": site.pk,
        "date": "2026-05-12",
        "start_time": "10:00",
        "end_time": "12:00",
        "status": OutingStatus.DONE,
        "tallied_contacts": "14",
        "observations": "",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_coordinator_creates_outing_through_the_service(signed_in, coordinator, team_a, worker_a, expert_a):
    site = FieldSiteFactory()
    client = signed_in(coordinator)

    response = client.post(add_url(Outing), _outing_form(team_a, site, participants=[worker_a.pk, expert_a.pk]))

    assert response.status_code == 302
    outing = Outing.objects.get()
    assert (outing.team, outing.site, outing.date) == (team_a, site, datetime.date(2026, 5, 12))
    assert set(outing.participants.all()) == {worker_a, expert_a}
    assert outing.created_by == coordinator
    assert AuditEntry.objects.filter(model="outreach.outing", action=AuditEntry.Action.CREATE).count() == 1


def test_outing_for_a_team_out_of_reach_is_refused(signed_in, coordinator, team_other_area):
    site = FieldSiteFactory()
    client = signed_in(coordinator)

    response = client.post(add_url(Outing), _outing_form(team_other_area, site))

    assert response.status_code == 200
    assert "team" in response.context["adminform"].form.errors
    assert not Outing.objects.exists()
    assert not AuditEntry.objects.exists()


def test_outing_ending_before_it_starts_is_refused(signed_in, coordinator, team_a):
    client = signed_in(coordinator)

    response = client.post(add_url(Outing), _outing_form(team_a, FieldSiteFactory(), end_time="09:00"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not Outing.objects.exists()


def test_outing_change_writes_one_update_entry(signed_in, coordinator, team_a, worker_a):
    outing = OutingFactory(team=team_a, participants=[worker_a])
    client = signed_in(coordinator)

    response = client.post(
        change_url(outing), _outing_form(team_a, outing.site, status=OutingStatus.CANCELLED, participants=[worker_a.pk])
    )

    assert response.status_code == 302
    outing.refresh_from_db()
    assert outing.status == OutingStatus.CANCELLED
    entry = AuditEntry.objects.get(model="outreach.outing")
    assert entry.action == AuditEntry.Action.UPDATE
    assert set(entry.changes) == {"status", "tallied_contacts"}


def test_outing_changelist_query_count(signed_in, coordinator, team_a, django_assert_max_num_queries):
    for n in range(30):
        OutingFactory(team=team_a, site=FieldSiteFactory(), date=datetime.date(2026, 5, 1 + n))
    client = signed_in(coordinator)

    with django_assert_max_num_queries(13):
        response = client.get(changelist_url(Outing))

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 30


# Records without a service, and the audit log -----------------------------------------


def test_team_saved_in_the_admin_gets_an_audit_entry(signed_in, admin_user, area):
    client = signed_in(admin_user)

    response = client.post(
        add_url(Team), {"name": "Team C", "area": area.pk, "municipalities": [municipality("204").pk], "active": "on"}
    )

    assert response.status_code == 302
    team = Team.objects.get(name="Team C")
    assert [m.code for m in team.municipalities.all()] == ["204"]
    entry = AuditEntry.objects.get(model="outreach.team")
    assert (entry.actor, entry.action, entry.object_id) == (admin_user, AuditEntry.Action.CREATE, str(team.pk))


@pytest.mark.parametrize("user_fixture", ["admin_user", "superuser"])
def test_audit_entries_are_read_only(request, signed_in, user_fixture):
    user = request.getfixturevalue(user_fixture)
    client = signed_in(user)
    entry = AuditEntry.objects.create(
        actor=user, action=AuditEntry.Action.VIEW, model="encounters.person", object_id="1"
    )

    assert client.get(changelist_url(AuditEntry)).status_code == 200
    assert client.get(add_url(AuditEntry)).status_code == 403
    assert client.post(change_url(entry), {"action": "delete", "model": "x"}).status_code == 403
    delete_url = reverse("admin:outreach_auditentry_delete", args=[entry.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.action == AuditEntry.Action.VIEW


def test_client_records_leave_no_copy_in_djangos_admin_log(signed_in, coordinator, team_a):
    from encounters.models import Person

    client = signed_in(coordinator)

    response = client.post(
        reverse("admin:encounters_person_add"), {"team": team_a.pk, "alias": "Pipsa", "gender": "female"}
    )

    assert response.status_code == 302
    assert Person.objects.filter(alias="Pipsa").exists()
    assert not LogEntry.objects.exists()
