"""Each write rule, through every door: the pages, the API, the admin and `import_records`.

The rules live in one place (the permissions modules, the models' validators
and constraints, run by the services); these tests prove that no door lets
through what the rule refuses, and that the refusal changes nothing.
"""

import csv
import datetime
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from encounters.models import Encounter, Person
from encounters.tests.factories import PersonFactory
from outreach.models import AuditEntry, FieldSite, Outing
from outreach.tests.api_helpers import api_client
from outreach.tests.factories import FieldSiteFactory, OutingFactory, municipality
from outreach.vocabulary import SiteType


def write_csv(path, header, rows) -> str:
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def import_records(resource, path, user) -> tuple[bool, str]:
    """Run `import_records`; return (ok, everything it wrote)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_records", resource, path, "--user", user.email, stdout=out, stderr=err)
    except CommandError as error:
        return False, out.getvalue() + err.getvalue() + str(error)
    return True, out.getvalue() + err.getvalue()


@pytest.fixture
def signed_in(client, with_totp):
    def sign_in(user):
        if user.requires_mfa:
            with_totp(user)
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def site(db):
    return FieldSiteFactory(name="Leipäjono", municipality=municipality("297"))


@pytest.fixture
def outing(team_a, site, worker_a):
    return OutingFactory(team=team_a, site=site, participants=[worker_a])


def admin_url(model, action, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


# A coordinator manages the sites of their own areas only ------------------------


@pytest.fixture
def elsewhere(team_other_area):
    return FieldSiteFactory(name="Elsewhere", team=team_other_area, municipality=municipality("297"))


def _site_unchanged(site, team) -> None:
    site.refresh_from_db()
    assert (site.name, site.team) == ("Elsewhere", team)
    assert not AuditEntry.objects.filter(model="outreach.fieldsite", object_id=str(site.pk), action="update").exists()


def test_site_of_another_area_pages(signed_in, coordinator, elsewhere, team_other_area):
    client = signed_in(coordinator)

    response = client.post(
        reverse("outreach:site_edit", args=[elsewhere.pk]),
        {"name": "Taken over", "site_type": SiteType.STREET, "municipality": elsewhere.municipality.pk},
    )

    assert response.status_code == 403
    _site_unchanged(elsewhere, team_other_area)


def test_site_of_another_area_api(coordinator, elsewhere, team_other_area):
    response = api_client(coordinator).patch(f"/api/v1/sites/{elsewhere.pk}/", {"name": "Taken over"}, format="json")

    assert response.status_code == 403
    _site_unchanged(elsewhere, team_other_area)


def test_site_of_another_area_api_create_for_that_team(coordinator, team_other_area):
    data = {"name": "Planted", "site_type": "event", "municipality": "297", "team": team_other_area.pk}

    response = api_client(coordinator).post("/api/v1/sites/", data, format="json")

    assert response.status_code == 400
    assert "team" in response.json()
    assert not FieldSite.objects.filter(name="Planted").exists()


def test_site_of_another_area_admin(signed_in, coordinator, elsewhere, team_other_area):
    client = signed_in(coordinator)
    data = {
        "name": "Taken over",
        "site_type": SiteType.STREET,
        "municipality": elsewhere.municipality.pk,
        "team": "",
        "address": "",
        "active": "on",
    }

    response = client.post(admin_url(FieldSite, "change", elsewhere.pk), data)

    # Another area's site is shown read-only: a change is refused, and the
    # site keeps its team (the admin used to clear it).
    assert response.status_code == 403
    _site_unchanged(elsewhere, team_other_area)


def test_site_of_another_area_import(tmp_path, coordinator, elsewhere, team_other_area):
    path = write_csv(
        tmp_path / "sites.csv",
        ["id", "name", "site_type", "municipality", "active", "team"],
        [[elsewhere.pk, "Taken over", "street", "297", "true", team_other_area.pk]],
    )

    ok, output = import_records("sites", path, coordinator)

    assert not ok
    assert "line 2" in output
    _site_unchanged(elsewhere, team_other_area)


def test_site_management_is_refused_by_the_service_itself(coordinator, elsewhere, team_other_area, team_a):
    from django.core.exceptions import PermissionDenied, ValidationError

    from outreach import services

    with pytest.raises(PermissionDenied):
        services.site_update(actor=coordinator, site=elsewhere, name="Taken over")
    with pytest.raises(ValidationError) as refused:
        services.site_create(
            actor=coordinator, name="X", site_type="event", municipality=municipality("297"), team=team_other_area
        )
    assert "team" in refused.value.message_dict
    # Their own area's sites (and sites of no team) they manage.
    own = services.site_create(actor=coordinator, name="Own", site_type="event", municipality=municipality("297"))
    assert services.site_update(actor=coordinator, site=own, team=team_a).team == team_a
    _site_unchanged(elsewhere, team_other_area)


# Encounter dates out of the plausible range ------------------------------------------


def test_encounter_date_out_of_range_pages(signed_in, worker_a, team_a, site):
    # On the pages an encounter takes its outing's date; an outing of 1995 cannot be planned ...
    client = signed_in(worker_a)
    response = client.post(
        reverse("outreach:outing_create"),
        {"team": team_a.pk, "site": site.pk, "date": "1995-06-01", "start_time": "10:00", "end_time": "12:00"},
    )
    assert response.status_code == 200
    assert "date" in response.context["form"].errors
    assert not Outing.objects.exists()

    # ... and one that an old bulk load put there takes no encounter.
    old = OutingFactory(team=team_a, site=site, participants=[worker_a], date=datetime.date(1995, 6, 1))
    response = client.post(
        reverse("encounters:encounter_create", args=[old.pk]),
        {
            "depth": "conversation",
            "gender": "female",
            "age_group": "30_39",
            "contact_kind": "field",
            "referral_status": "suggested",
        },
    )
    assert response.status_code == 200
    assert "Enter a date between 2000-01-01 and" in response.content.decode()
    assert not Encounter.objects.exists()


def test_encounter_date_out_of_range_api(worker_a, site):
    data = {"site": site.pk, "occurred_at": "1995-05-12T10:30:00+03:00", "depth": "brief"}

    response = api_client(worker_a).post("/api/v1/encounters/", data, format="json")

    assert response.status_code == 400
    assert response.json()["occurred_at"][0].startswith("Enter a date between 2000-01-01 and")
    assert not Encounter.objects.exists()


def test_encounter_date_out_of_range_admin(signed_in, coordinator, team_a, site):
    client = signed_in(coordinator)
    data = {
        "team": team_a.pk,
        "site": site.pk,
        "outing": "",
        "occurred_at_0": "1995-05-12",
        "occurred_at_1": "10:30",
        "contact_kind": "field",
        "depth": "conversation",
        "person": "",
        "gender": "unknown",
        "age_group": "30_39",
        "first_contact": "unknown",
        "duration_minutes": "",
        "notes": "",
    }

    response = client.post(admin_url(Encounter, "add"), data)

    assert response.status_code == 200
    assert "occurred_at" in response.context["adminform"].form.errors
    assert not Encounter.objects.exists()


def test_encounter_date_out_of_range_import(tmp_path, worker_a, team_a, site, outing):
    path = write_csv(
        tmp_path / "encounters.csv",
        ["team", "site", "occurred_at", "depth"],
        [[team_a.pk, site.pk, "1995-05-12T10:30:00+03:00", "brief"]],
    )

    ok, output = import_records("encounters", path, worker_a)

    assert not ok
    assert "line 2: occurred_at:" in output
    assert not Encounter.objects.exists()


def test_the_plausible_range_ends_two_years_ahead(worker_a, team_a, site):
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from encounters import services

    too_late = timezone.now() + datetime.timedelta(days=2 * 366 + 2)
    with pytest.raises(ValidationError) as refused:
        services.encounter_create(actor=worker_a, team=team_a, site=site, occurred_at=too_late)
    assert set(refused.value.message_dict) == {"occurred_at"}
    in_range = timezone.now() + datetime.timedelta(days=2 * 366 - 2)
    assert services.encounter_create(actor=worker_a, team=team_a, site=site, occurred_at=in_range).pk


# Another team's person linked to an encounter ------------------------------------


@pytest.fixture
def person_b(team_b):
    return PersonFactory(team=team_b, alias="Naapuri")


def test_other_teams_person_pages(signed_in, worker_a, outing, person_b):
    client = signed_in(worker_a)
    data = {
        "depth": "conversation",
        "gender": "female",
        "age_group": "30_39",
        "contact_kind": "field",
        "referral_status": "suggested",
        "person": person_b.pk,
    }

    response = client.post(reverse("encounters:encounter_create", args=[outing.pk]), data)

    assert response.status_code == 200
    assert "person" in response.context["form"].errors
    assert not Encounter.objects.exists()


def test_other_teams_person_api(coordinator, team_a, site, person_b):
    # A coordinator sees both teams of the area, but an encounter and its person belong to one team.
    data = {"team": team_a.pk, "site": site.pk, "occurred_at": "2026-05-12T10:30:00+03:00", "person": person_b.pk}

    response = api_client(coordinator).post("/api/v1/encounters/", data, format="json")

    assert response.status_code == 400
    assert response.json()["person"] == ["The person belongs to another team."]
    assert not Encounter.objects.exists()


def test_other_teams_person_admin(signed_in, coordinator, team_a, site, person_b):
    client = signed_in(coordinator)
    data = {
        "team": team_a.pk,
        "site": site.pk,
        "outing": "",
        "occurred_at_0": "2026-05-12",
        "occurred_at_1": "10:30",
        "contact_kind": "field",
        "depth": "conversation",
        "person": person_b.pk,
        "gender": "unknown",
        "age_group": "30_39",
        "first_contact": "unknown",
        "duration_minutes": "",
        "notes": "",
    }

    response = client.post(admin_url(Encounter, "add"), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["person"] == ["The person belongs to another team."]
    assert not Encounter.objects.exists()


def test_other_teams_person_import(tmp_path, coordinator, team_a, site, person_b):
    path = write_csv(
        tmp_path / "encounters.csv",
        ["team", "site", "occurred_at", "depth", "person"],
        [[team_a.pk, site.pk, "2026-05-12T10:30:00+03:00", "brief", person_b.pk]],
    )

    ok, output = import_records("encounters", path, coordinator)

    assert not ok
    assert "line 2: person: The person belongs to another team." in output
    assert not Encounter.objects.exists()


# An expert by experience creates no person records ----------------------------------


def test_expert_creates_no_person_pages(signed_in, expert_a, team_a, site):
    outing = OutingFactory(team=team_a, site=site, participants=[expert_a])
    client = signed_in(expert_a)
    data = {
        "depth": "conversation",
        "gender": "female",
        "age_group": "30_39",
        "contact_kind": "field",
        "referral_status": "suggested",
        "new_alias": "Kettu",
    }

    client.post(reverse("encounters:encounter_create", args=[outing.pk]), data)

    # The form offers experts no person fields; a posted alias is ignored and
    # the encounter is logged anonymously.
    assert not Person.objects.exists()
    assert Encounter.objects.get().person is None


def test_expert_creates_no_person_api(expert_a, team_a):
    response = api_client(expert_a).post("/api/v1/persons/", {"alias": "Kettu", "team": team_a.pk}, format="json")

    assert response.status_code == 403
    assert not Person.objects.exists()


def test_expert_creates_no_person_admin(signed_in, expert_a, team_a):
    client = signed_in(expert_a)

    response = client.post(
        admin_url(Person, "add"), {"team": team_a.pk, "kind": "pseudonymous", "alias": "Kettu"}, follow=True
    )

    # The admin is not for experts at all: its login answers a signed-in expert with 403.
    assert response.status_code == 403
    assert not Person.objects.exists()


def test_expert_creates_no_person_import(tmp_path, expert_a, team_a):
    path = write_csv(tmp_path / "persons.csv", ["alias", "team"], [["Kettu", team_a.pk]])

    ok, _output = import_records("persons", path, expert_a)

    assert not ok
    assert not Person.objects.exists()


def test_expert_creates_no_person_service(expert_a, team_a):
    from django.core.exceptions import PermissionDenied

    from encounters import services

    with pytest.raises(PermissionDenied):
        services.person_create(actor=expert_a, team=team_a, alias="Kettu")
    assert not Person.objects.exists()
