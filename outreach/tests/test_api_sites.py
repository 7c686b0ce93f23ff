"""The sites, teams, municipalities and users/me endpoints."""

import pytest

from outreach.models import AuditEntry, FieldSite
from outreach.tests.api_helpers import api_client, ids, results
from outreach.tests.factories import FieldSiteFactory, TeamFactory, municipality
from outreach.vocabulary import SiteType

URL = "/api/v1/sites/"


def detail(pk) -> str:
    return f"{URL}{pk}/"


def test_every_signed_in_user_reads_sites(worker_a, expert_a, worker_b):
    site = FieldSiteFactory(name="Market square", site_type=SiteType.STREET, municipality=municipality("857"))

    for user in (worker_a, expert_a, worker_b):
        rows = results(api_client(user).get(URL))
        assert [row["id"] for row in rows] == [site.pk]
    row = rows[0]
    assert {key: row[key] for key in ("name", "site_type", "municipality", "active")} == {
        "name": "Market square",
        "site_type": "street",
        "municipality": "857",
        "active": True,
    }
    assert api_client().get(URL).status_code == 401


def test_coordinator_creates_a_site_by_municipality_code(coordinator):
    response = api_client(coordinator).post(
        URL, {"name": "Church hall", "site_type": "food_distribution", "municipality": "297"}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert response.json()["municipality"] == "297"
    site = FieldSite.objects.get()
    assert site.municipality.code == "297"
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CREATE, model="outreach.fieldsite").exists()


def test_workers_and_experts_do_not_manage_sites(worker_a, expert_a):
    site = FieldSiteFactory()
    data = {"name": "X", "site_type": "event", "municipality": "297"}

    for user in (worker_a, expert_a):
        assert api_client(user).post(URL, data, format="json").status_code == 403
        assert api_client(user).patch(detail(site.pk), {"active": False}, format="json").status_code == 403
    assert FieldSite.objects.count() == 1
    site.refresh_from_db()
    assert site.active


def test_a_site_is_deactivated_not_deleted(coordinator):
    site = FieldSiteFactory()
    client = api_client(coordinator)

    assert client.delete(detail(site.pk)).status_code == 405
    response = client.patch(detail(site.pk), {"active": False}, format="json")

    assert response.status_code == 200
    site.refresh_from_db()
    assert site.active is False
    assert ids(client.get(URL, {"active": "false"})) == {site.pk}


def test_a_coordinator_does_not_manage_the_sites_of_teams_outside_their_areas(coordinator, team_other_area):
    site = FieldSiteFactory(team=team_other_area)
    client = api_client(coordinator)

    assert client.patch(detail(site.pk), {"name": "Renamed"}, format="json").status_code == 403
    response = client.post(
        URL, {"name": "X", "site_type": "event", "municipality": "297", "team": team_other_area.pk}, format="json"
    )
    assert response.status_code == 400
    assert "team" in response.json()


def test_admin_role_and_superuser_manage_all_sites(admin_user, superuser, team_other_area):
    site = FieldSiteFactory(team=team_other_area)

    for user in (admin_user, superuser):
        assert api_client(user).patch(detail(site.pk), {"name": user.email}, format="json").status_code == 200


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"site_type": "beach"}, "site_type"),
        ({"municipality": "999"}, "municipality"),
        ({"municipality": 297.5}, "municipality"),
        ({"season_start_month": 4}, "season_end_month"),
        ({"season_start_month": 13, "season_end_month": 1}, "season_start_month"),
        ({"latitude": "62.9"}, "longitude"),
        ({"latitude": "91", "longitude": "27"}, "latitude"),
        ({"schedule_weekday": 1}, "schedule_start_time"),
        (
            {
                "schedule_weekday": 1,
                "schedule_start_time": "12:00",
                "schedule_end_time": "10:00",
                "schedule_every_weeks": 1,
            },
            "schedule_end_time",
        ),
        ({"name": ""}, "name"),
    ],
)
def test_invalid_site_gets_400_naming_the_field(coordinator, changes, field):
    data = {"name": "Hall", "site_type": "event", "municipality": "297", **changes}

    response = api_client(coordinator).post(URL, data, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not FieldSite.objects.exists()


def test_site_filters(worker_a):
    hall = FieldSiteFactory(name="Church hall", site_type=SiteType.FOOD_DISTRIBUTION, municipality=municipality("297"))
    square = FieldSiteFactory(name="Square", site_type=SiteType.STREET, municipality=municipality("204"))
    client = api_client(worker_a)

    assert ids(client.get(URL, {"site_type": "street"})) == {square.pk}
    assert ids(client.get(URL, {"municipality": "297"})) == {hall.pk}
    assert ids(client.get(URL, {"name": "church"})) == {hall.pk}
    assert client.get(URL, {"site_type": "beach"}).status_code == 400


def test_site_list_query_count(worker_a, django_assert_max_num_queries):
    FieldSiteFactory.create_batch(25)

    with django_assert_max_num_queries(2):
        assert len(results(api_client(worker_a).get(URL))) == 25


# Teams, municipalities and the caller ---------------------------------------


def test_teams_are_those_the_user_sees(worker_a, coordinator, team_a, team_b, team_other_area, superuser):
    assert ids(api_client(worker_a).get("/api/v1/teams/")) == {team_a.pk}
    assert api_client(worker_a).get(f"/api/v1/teams/{team_b.pk}/").status_code == 404
    assert ids(api_client(coordinator).get("/api/v1/teams/")) == {team_a.pk, team_b.pk}
    assert ids(api_client(superuser).get("/api/v1/teams/")) == {team_a.pk, team_b.pk, team_other_area.pk}
    assert api_client(worker_a).post("/api/v1/teams/", {"name": "New"}).status_code == 405


def test_municipalities_by_code(worker_a):
    client = api_client(worker_a)

    response = client.get("/api/v1/municipalities/297/")
    assert response.status_code == 200
    assert response.json()["name_fi"] == "Kuopio"
    assert results(client.get("/api/v1/municipalities/", {"page_size": 100}))[0]["code"] == "140"
    assert client.get("/api/v1/municipalities/999/").status_code == 404


def test_users_me(worker_a, team_a, superuser):
    other = TeamFactory()
    worker_a.teams.add(other)

    response = api_client(worker_a).get("/api/v1/users/me/")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == worker_a.pk
    assert body["email"] == "worker.a@example.org"
    assert body["role"] == "worker"
    assert sorted(body["teams"]) == sorted([team_a.pk, other.pk])
    assert api_client(superuser).get("/api/v1/users/me/").json()["is_superuser"] is True
    assert api_client().get("/api/v1/users/me/").status_code == 401


@pytest.mark.parametrize("code", ["\x00", "29", "2970", "abc", True, ["297"], {"code": "297"}])
def test_a_malformed_municipality_code_is_a_400_naming_the_field(coordinator, code):
    data = {"name": "Hall", "site_type": "event", "municipality": code}

    response = api_client(coordinator).post(URL, data, format="json")

    assert response.status_code == 400
    assert "municipality" in response.json()
    assert not FieldSite.objects.exists()


@pytest.mark.parametrize("code", ["\x00", "29", "abc"])
def test_a_malformed_municipality_filter_is_a_400(worker_a, code):
    response = api_client(worker_a).get(URL, {"municipality": code})

    assert response.status_code == 400
    assert "municipality" in response.json()


def test_team_list_query_count(superuser, django_assert_max_num_queries):
    for _ in range(15):
        TeamFactory().municipalities.set([municipality("297"), municipality("857")])

    with django_assert_max_num_queries(3):
        rows = results(api_client(superuser).get("/api/v1/teams/"))
    assert len(rows) == 15
    assert all(set(row["municipalities"]) == {"297", "857"} for row in rows)
