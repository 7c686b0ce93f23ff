"""Structural observations from the field, and a worker's own month."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from outreach.models import AuditEntry
from outreach.tests.factories import OutingFactory
from reports import services
from reports.models import StructuralObservation
from reports.tests.conftest import Q2

NEW = "/reports/observations/new/"
LIST = "/reports/observations/"


def test_a_worker_records_an_observation_from_the_phone(client, world, worker_a, team_a):
    client.force_login(worker_a)
    form = client.get(NEW)
    assert form.status_code == 200
    # One team: the team is not asked; the municipality is preset from the team's sites.
    assert form.context["form"].fields["team"].widget.is_hidden
    response = client.post(
        NEW,
        {
            "theme": "loneliness",
            "description": "Older men come to the food distribution only to talk.",
            "municipality": world["kuopio"].pk,
            "observed_on": "2026-05-05",
            "team": team_a.pk,
        },
    )
    assert response.status_code == 302
    observation = StructuralObservation.objects.get(theme="loneliness")
    assert (observation.team, observation.created_by, observation.observed_on) == (
        team_a,
        worker_a,
        datetime.date(2026, 5, 5),
    )
    assert AuditEntry.objects.filter(model="reports.structuralobservation", action="create", actor=worker_a).exists()


def test_from_the_finish_outing_page_the_outings_site_is_preset(client, world, worker_a):
    client.force_login(worker_a)
    finish = client.get(f"/field/outings/{world['o3'].pk}/finish/")
    assert f'href="{NEW}?outing={world["o3"].pk}"' in finish.content.decode()
    form = client.get(NEW, {"outing": world["o3"].pk}).context["form"]
    assert form.initial["site"] == world["street"]
    assert form.initial["municipality"] == world["street"].municipality


def test_another_teams_outing_is_404(client, world, worker_b):
    client.force_login(worker_b)
    assert client.get(NEW, {"outing": world["o1"].pk}).status_code == 404


def test_a_missing_description_is_named_and_nothing_is_saved(client, world, worker_a, team_a):
    client.force_login(worker_a)
    before = StructuralObservation.objects.count()
    response = client.post(
        NEW, {"theme": "housing", "municipality": world["kuopio"].pk, "observed_on": "2026-05-05", "team": team_a.pk}
    )
    assert response.status_code == 200
    assert "description" in response.context["form"].errors
    assert StructuralObservation.objects.count() == before


def test_a_site_in_another_municipality_is_refused(worker_a, world, team_a):
    with pytest.raises(ValidationError) as error:
        services.observation_create(
            actor=worker_a,
            team=team_a,
            theme="housing",
            municipality=world["kuopio"],
            site=world["street"],
            description="x",
        )
    assert "site" in error.value.message_dict


def test_a_worker_cannot_record_for_another_team(worker_a, world, team_b):
    with pytest.raises(ValidationError) as error:
        services.observation_create(
            actor=worker_a, team=team_b, theme="housing", municipality=world["kuopio"], description="x"
        )
    assert "team" in error.value.message_dict


def test_an_expert_by_experience_records_no_observations(client, world, expert_a, team_a):
    client.force_login(expert_a)
    assert client.get(NEW).status_code == 403
    assert client.get(LIST, Q2).status_code == 403
    with pytest.raises(PermissionDenied):
        services.observation_create(
            actor=expert_a, team=team_a, theme="housing", municipality=world["kuopio"], description="x"
        )


def test_coordinators_see_observations_by_theme_and_municipality_over_time(client, world, coordinator, with_totp):
    StructuralObservation.objects.create(
        team=world["o1"].team,
        theme="housing",
        municipality=world["kuopio"],
        observed_on=datetime.date(2026, 5, 9),
        description="Again full.",
    )
    client.force_login(with_totp(coordinator))
    response = client.get(LIST, Q2)
    assert response.status_code == 200
    [group] = response.context["groups"]
    assert (group["municipality"], group["total"], group["reported"]) == ("Kuopio", 2, 0)
    assert [(month["month"], month["count"]) for month in group["months"]] == [
        (datetime.date(2026, 4, 1), 1),
        (datetime.date(2026, 5, 1), 1),
    ]


def test_the_observation_list_needs_a_bounded_number_of_queries(
    client, world, coordinator, with_totp, django_assert_max_num_queries
):
    client.force_login(with_totp(coordinator))
    with django_assert_max_num_queries(20):
        assert client.get(LIST, Q2).status_code == 200


def test_a_coordinator_marks_an_observation_reported_upward(client, world, coordinator, with_totp):
    observation = StructuralObservation.objects.get()
    client.force_login(with_totp(coordinator))
    response = client.post(
        f"/reports/observations/{observation.pk}/reported/",
        {"reported_to": "Social and health committee", "reported_on": "2026-05-15"},
    )
    assert response.status_code == 302
    observation.refresh_from_db()
    assert (observation.reported_to, observation.reported_on) == (
        "Social and health committee",
        datetime.date(2026, 5, 15),
    )
    entry = AuditEntry.objects.filter(model="reports.structuralobservation", action="update").get()
    assert (entry.actor, entry.changes) == (coordinator, ["reported_on", "reported_to"])


def test_reported_before_it_was_observed_is_refused(client, world, coordinator, with_totp):
    observation = StructuralObservation.objects.get()
    client.force_login(with_totp(coordinator))
    response = client.post(
        f"/reports/observations/{observation.pk}/reported/", {"reported_to": "Board", "reported_on": "2026-01-01"}
    )
    assert response.status_code == 400
    assert "reported_on" in response.context["form"].errors
    observation.refresh_from_db()
    assert observation.reported_on is None


def test_a_worker_cannot_mark_observations_reported(client, world, worker_a):
    observation = StructuralObservation.objects.get()
    client.force_login(worker_a)
    response = client.post(
        f"/reports/observations/{observation.pk}/reported/", {"reported_to": "Board", "reported_on": "2026-05-15"}
    )
    assert response.status_code == 403
    observation.refresh_from_db()
    assert observation.reported_on is None


def test_another_areas_coordinator_gets_404_for_an_observation(client, world, team_other_area, with_totp):
    from outreach.tests.factories import UserFactory
    from outreach.vocabulary import Role

    elsewhere = with_totp(UserFactory(email="c2@example.org", role=Role.COORDINATOR, teams=[team_other_area]))
    client.force_login(elsewhere)
    observation = StructuralObservation.objects.get()
    response = client.post(
        f"/reports/observations/{observation.pk}/reported/", {"reported_to": "Board", "reported_on": "2026-05-15"}
    )
    assert response.status_code == 404


# A worker's own month -------------------------------------------------------------


def test_the_worker_sees_their_own_outings_hours_and_encounters(client, world, worker_a, team_a, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *args: datetime.date(2026, 5, 25))
    # A June outing does not count in May.
    OutingFactory(team=team_a, site=world["food"], date=datetime.date(2026, 6, 1), participants=[worker_a])
    client.force_login(worker_a)
    response = client.get("/reports/me/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    this_month, last_month = response.context["months"]
    # May: the 2 h food outing and the 1 h street outing; 2 encounters logged there are not named on worker A.
    assert (this_month["outings"], this_month["hours"]) == (2, 3.0)
    # April: the first food outing (2 h) and the 7 encounters worker A is named on.
    assert (last_month["outings"], last_month["hours"], last_month["encounters"]) == (1, 2.0, 7)
    assert 'id="own-work"' in response.content.decode()
    assert "<html" not in response.content.decode()


def test_the_today_page_loads_the_workers_own_figures(client, world, worker_a):
    client.force_login(worker_a)
    content = client.get("/field/").content.decode()
    assert 'hx-get="/reports/me/"' in content


def test_the_coordinators_home_links_to_the_dashboard_first(client, world, coordinator, with_totp):
    client.force_login(with_totp(coordinator))
    content = client.get("/").content.decode()
    main = content.split('id="main"')[1]
    assert main.index('href="/reports/"') < main.index("coordinator-teams")
