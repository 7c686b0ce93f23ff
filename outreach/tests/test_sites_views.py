"""Field sites outside the admin: the list with recent activity, and managing sites."""

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.forms import ModelChoiceField
from django.urls import reverse
from django.utils import timezone

from encounters.tests.factories import EncounterFactory
from outreach.forms import OutingPlanForm
from outreach.models import AuditEntry, FieldSite
from outreach.tests.factories import FieldSiteFactory, OutingFactory, municipality
from outreach.vocabulary import OutingStatus, SiteType

SITES = reverse("outreach:site_list")
NEW_SITE = reverse("outreach:site_create")


def html(response) -> str:
    return response.content.decode()


def listed(response) -> dict[str, Any]:
    """The listed sites by name, with the activity the view annotates them with."""
    return {site.name: site for site in response.context["sites"]}


@pytest.fixture
def today():
    return timezone.localdate()


def days_ago(today: datetime.date, days: int) -> datetime.date:
    return today - datetime.timedelta(days=days)


def at_noon(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def site_data(**extra) -> dict:
    data = {
        "name": "Market square",
        "site_type": SiteType.STREET,
        "municipality": municipality("297").pk,
        "address": "Kauppatori, Kuopio",
        "team": "",
        "latitude": "",
        "longitude": "",
        "season_start_month": "",
        "season_end_month": "",
        "schedule_weekday": "",
        "schedule_start_time": "",
        "schedule_end_time": "",
        "schedule_every_weeks": "",
    }
    data.update(extra)
    return data


@pytest.fixture
def manager(coordinator, with_totp):
    return with_totp(coordinator)


# -- The list and its activity ----------------------------------------------------


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_sign_in(client):
    site = FieldSiteFactory()
    for url in (
        SITES,
        NEW_SITE,
        reverse("outreach:site_edit", args=[site.pk]),
        reverse("outreach:site_deactivate", args=[site.pk]),
    ):
        response = client.get(url) if "deactivate" not in url else client.post(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    site.refresh_from_db()
    assert site.active


def test_site_list_counts_the_last_90_days_exactly(client, worker_a, team_a, team_b, today):
    busy = FieldSiteFactory(name="Busy food bank")
    quiet = FieldSiteFactory(name="Quiet corner")
    FieldSiteFactory(name="Never visited")
    # Outings done at the site by any team in the last 90 days (today and 89 days ago included) count.
    for days in (0, 10, 89):
        OutingFactory(team=team_a, site=busy, date=days_ago(today, days))
    OutingFactory(team=team_b, site=busy, date=days_ago(today, 30))
    # Not counted: 90 days ago, cancelled, planned (ahead or left unfinished), another site.
    OutingFactory(team=team_a, site=busy, date=days_ago(today, 90))
    OutingFactory(team=team_a, site=busy, date=days_ago(today, 5), status=OutingStatus.CANCELLED)
    OutingFactory(team=team_a, site=busy, date=today + datetime.timedelta(days=3), status=OutingStatus.PLANNED)
    OutingFactory(team=team_a, site=busy, date=days_ago(today, 2), status=OutingStatus.PLANNED)
    OutingFactory(team=team_a, site=quiet, date=days_ago(today, 200))
    for days in (0, 0, 45, 89):
        EncounterFactory(team=team_a, site=busy, occurred_at=at_noon(days_ago(today, days)))
    EncounterFactory(team=team_b, site=busy, occurred_at=at_noon(days_ago(today, 1)))
    EncounterFactory(team=team_a, site=busy, occurred_at=at_noon(days_ago(today, 90)))
    EncounterFactory(team=team_a, site=quiet, occurred_at=at_noon(days_ago(today, 200)))
    client.force_login(worker_a)

    response = client.get(SITES)

    assert response.status_code == 200
    sites = listed(response)
    assert (sites["Busy food bank"].recent_outings, sites["Busy food bank"].recent_encounters) == (4, 5)
    assert sites["Busy food bank"].latest_outing == today
    assert (sites["Quiet corner"].recent_outings, sites["Quiet corner"].recent_encounters) == (0, 0)
    assert sites["Quiet corner"].latest_outing == days_ago(today, 200)
    assert sites["Never visited"].latest_outing is None
    content = html(response)
    assert "Busy food bank" in content
    # Workers see the list but manage nothing.
    assert NEW_SITE not in content
    assert reverse("outreach:site_edit", args=[busy.pk]) not in content
    assert f"{reverse('outreach:outing_create')}?site={busy.pk}" in content


def test_site_list_query_count_does_not_grow_with_sites(client, worker_a, team_a, today, django_assert_num_queries):
    def add_sites(count):
        for _ in range(count):
            site = FieldSiteFactory(team=team_a)
            OutingFactory(team=team_a, site=site, date=today)
            EncounterFactory(team=team_a, site=site, occurred_at=at_noon(today))

    add_sites(2)
    client.force_login(worker_a)

    with django_assert_num_queries(5) as few:
        client.get(SITES)
    add_sites(20)
    with django_assert_num_queries(5):
        response = client.get(SITES)

    assert len(response.context["sites"]) == 22
    assert len(few.captured_queries) == 5
    # The 90-day encounter figures come from the day rollup, not from the encounter table.
    listing = next(query["sql"] for query in few.captured_queries if "recent_encounters" in query["sql"])
    assert "encounters_encounterdaycount" in listing
    assert '"encounters_encounter"' not in listing


def test_site_list_filters_by_type_municipality_and_active(client, worker_a):
    FieldSiteFactory(name="Street Kuopio", site_type=SiteType.STREET, municipality=municipality("297"))
    FieldSiteFactory(name="Food Kaavi", site_type=SiteType.FOOD_DISTRIBUTION, municipality=municipality("204"))
    FieldSiteFactory(name="Closed Kuopio", site_type=SiteType.STREET, active=False)
    client.force_login(worker_a)

    default = client.get(SITES)
    by_type = client.get(SITES, {"site_type": "street"})
    by_municipality = client.get(SITES, {"municipality": municipality("204").pk})
    inactive = client.get(SITES, {"active": "no"})
    everything = client.get(SITES, {"active": "all", "site_type": "street"})
    bad = client.get(SITES, {"site_type": "moon"})

    assert set(listed(default)) == {"Street Kuopio", "Food Kaavi"}
    assert set(listed(by_type)) == {"Street Kuopio"}
    assert set(listed(by_municipality)) == {"Food Kaavi"}
    assert set(listed(inactive)) == {"Closed Kuopio"}
    assert set(listed(everything)) == {"Street Kuopio", "Closed Kuopio"}
    assert bad.status_code == 200
    assert "site_type" in bad.context["filters"].errors


def test_expert_sees_the_site_list(client, expert_a):
    FieldSiteFactory(name="Day centre")
    client.force_login(expert_a)

    response = client.get(SITES)

    assert response.status_code == 200
    assert "Day centre" in listed(response)
    assert reverse("outreach:outing_create") not in html(response)


# -- Managing sites ----------------------------------------------------------------


@pytest.mark.parametrize("role_fixture", ["worker_a", "expert_a"])
def test_workers_and_experts_cannot_manage_sites(client, db, request, role_fixture):
    site = FieldSiteFactory(name="Old name")
    client.force_login(request.getfixturevalue(role_fixture))

    assert client.get(NEW_SITE).status_code == 403
    assert client.post(NEW_SITE, site_data()).status_code == 403
    edit = reverse("outreach:site_edit", args=[site.pk])
    assert client.get(edit).status_code == 403
    assert client.post(edit, site_data(name="New name")).status_code == 403
    assert client.post(reverse("outreach:site_deactivate", args=[site.pk])).status_code == 403
    site.refresh_from_db()
    assert (site.name, site.active) == ("Old name", True)
    assert FieldSite.objects.count() == 1


def test_coordinator_without_totp_is_sent_to_set_it_up(client, coordinator):
    client.force_login(coordinator)

    response = client.get(NEW_SITE)

    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")


def test_coordinator_creates_a_site_with_everything(client, manager, team_a):
    client.force_login(manager)
    assert client.get(NEW_SITE).status_code == 200

    response = client.post(
        NEW_SITE,
        site_data(
            team=team_a.pk,
            latitude="62,8924567",
            longitude="27.6782",
            season_start_month="4",
            season_end_month="9",
            schedule_weekday="3",
            schedule_start_time="18:00",
            schedule_end_time="21:00",
            schedule_every_weeks="2",
        ),
    )

    assert response.status_code == 302
    assert response.url == SITES
    site = FieldSite.objects.get()
    assert (site.name, site.site_type, site.municipality.code, site.team) == (
        "Market square",
        "street",
        "297",
        team_a,
    )
    assert site.address == "Kauppatori, Kuopio"
    # A decimal comma is fine; the sixth decimal is rounded away.
    assert (site.latitude, site.longitude) == (Decimal("62.89246"), Decimal("27.67820"))
    assert (site.season_start_month, site.season_end_month) == (4, 9)
    assert (site.schedule_weekday, site.schedule_every_weeks) == (3, 2)
    assert (site.schedule_start_time, site.schedule_end_time) == (datetime.time(18), datetime.time(21))
    assert site.active
    assert AuditEntry.objects.filter(
        model="outreach.fieldsite", object_id=str(site.pk), action="create", actor=manager
    ).exists()


def test_incomplete_schedule_names_each_missing_field_and_keeps_input(client, manager):
    client.force_login(manager)

    response = client.post(
        NEW_SITE,
        site_data(name="Half planned", schedule_weekday="1", schedule_start_time="10:00", season_start_month="4"),
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"schedule_end_time", "schedule_every_weeks", "season_end_month"}
    content = html(response)
    assert 'href="#id_schedule_end_time">Ends at: ' in content
    assert 'href="#id_season_end_month">Season ends (month): ' in content
    assert 'value="Half planned"' in content
    assert 'value="10:00"' in content
    assert not FieldSite.objects.exists()


def test_schedule_ending_before_it_starts_and_half_coordinates_are_refused(client, manager):
    client.force_login(manager)

    response = client.post(
        NEW_SITE,
        site_data(
            schedule_weekday="1",
            schedule_start_time="12:00",
            schedule_end_time="10:00",
            schedule_every_weeks="1",
            latitude="62.9",
        ),
    )

    errors = response.context["form"].errors
    assert errors["schedule_end_time"] == ["The end time must be after the start time."]
    assert errors["longitude"] == ["Coordinates need both latitude and longitude within range."]
    assert not FieldSite.objects.exists()


def test_coordinator_edits_a_site(client, manager, team_a):
    site = FieldSiteFactory(name="Old name", team=team_a)
    client.force_login(manager)
    url = reverse("outreach:site_edit", args=[site.pk])

    page = client.get(url)
    assert page.status_code == 200
    assert 'value="Old name"' in html(page)

    response = client.post(
        url, site_data(name="New name", team=team_a.pk, site_type="day_centre", municipality=municipality("204").pk)
    )

    assert response.status_code == 302
    site.refresh_from_db()
    assert (site.name, site.site_type, site.municipality.code) == ("New name", "day_centre", "204")
    entry = AuditEntry.objects.get(model="outreach.fieldsite", object_id=str(site.pk), action="update")
    assert {"name", "site_type", "municipality", "address"} <= set(entry.changes)


def test_coordinator_cannot_edit_sites_of_teams_outside_their_area(client, manager, team_other_area):
    site = FieldSiteFactory(name="Elsewhere", team=team_other_area)
    client.force_login(manager)

    response = client.post(reverse("outreach:site_edit", args=[site.pk]), site_data(name="Taken over"))

    assert response.status_code == 403
    site.refresh_from_db()
    assert site.name == "Elsewhere"


def test_admin_and_superuser_manage_every_site(client, admin_user, superuser, with_totp, team_other_area):
    site = FieldSiteFactory(name="Elsewhere", team=team_other_area)
    for user in (admin_user, superuser):
        with_totp(user)
        client.force_login(user)
        response = client.post(
            reverse("outreach:site_edit", args=[site.pk]),
            site_data(name=f"Renamed by {user.pk}", team=team_other_area.pk),
        )
        assert response.status_code == 302
        site.refresh_from_db()
        assert site.name == f"Renamed by {user.pk}"


@pytest.mark.django_db
def test_editing_a_missing_site_is_404(client, manager):
    client.force_login(manager)

    assert client.get(reverse("outreach:site_edit", args=[999999])).status_code == 404


def test_deactivated_site_leaves_planning_but_stays_in_the_list(client, manager, worker_a, team_a, today):
    site = FieldSiteFactory(name="Closing day centre", team=team_a)
    OutingFactory(team=team_a, site=site, date=today + datetime.timedelta(days=7), status=OutingStatus.PLANNED)
    deactivate = reverse("outreach:site_deactivate", args=[site.pk])
    client.force_login(manager)

    assert client.get(deactivate).status_code == 405
    response = client.post(deactivate, follow=True)

    assert response.status_code == 200
    site.refresh_from_db()
    assert not site.active
    assert "1 outing planned there stays planned" in html(response)
    assert AuditEntry.objects.filter(
        model="outreach.fieldsite", object_id=str(site.pk), action="update", changes=["active"]
    ).exists()
    site_field = OutingPlanForm(user=worker_a).fields["site"]
    assert isinstance(site_field, ModelChoiceField)
    assert site_field.queryset is not None
    assert site not in site_field.queryset
    client.force_login(worker_a)
    assert "Closing day centre" not in listed(client.get(SITES))
    assert "Closing day centre" in listed(client.get(SITES, {"active": "no"}))

    client.force_login(manager)
    client.post(reverse("outreach:site_reactivate", args=[site.pk]))
    site.refresh_from_db()
    assert site.active
