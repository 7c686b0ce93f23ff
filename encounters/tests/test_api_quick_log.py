"""POST /api/v1/encounters/quick-log/: the field page's quick log, through the same service."""

import uuid

import pytest

from encounters.models import Encounter, Person, Referral
from outreach.models import AuditEntry
from outreach.tests.api_helpers import api_client
from outreach.tests.factories import FieldSiteFactory, OutingFactory

URL = "/api/v1/encounters/quick-log/"


@pytest.fixture
def outing(team_a, worker_a, expert_a):
    return OutingFactory(team=team_a, site=FieldSiteFactory(), participants=[worker_a, expert_a])


def quick_log(outing, **fields) -> dict:
    return {"outing": outing.pk, "depth": "conversation", "gender": "female", "age_group": "30_39", **fields}


def test_a_worker_logs_a_new_person_an_encounter_and_a_referral(worker_a, outing):
    data = quick_log(outing, new_alias="Kettu", new_birth_year=1984, referral_service_kind="housing")

    response = api_client(worker_a).post(URL, data, format="json")

    assert response.status_code == 201
    encounter = Encounter.objects.get()
    assert response.json()["id"] == encounter.pk
    assert (encounter.outing, encounter.site, encounter.team) == (outing, outing.site, outing.team)
    assert encounter.person == Person.objects.get(alias="Kettu", birth_year=1984, team=outing.team)
    assert Referral.objects.get().encounter == encounter
    assert AuditEntry.objects.filter(action="create", actor=worker_a).count() == 3


def test_a_resend_logs_once(worker_a, outing):
    data = quick_log(outing, new_alias="Kettu", client_uuid=str(uuid.uuid4()))
    client = api_client(worker_a)

    first = client.post(URL, data, format="json")
    second = client.post(URL, data, format="json")

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    assert (Encounter.objects.count(), Person.objects.count()) == (1, 1)


def test_a_bad_new_person_names_its_field_and_keeps_nothing(worker_a, outing):
    response = api_client(worker_a).post(URL, quick_log(outing, new_alias="Kettu", new_birth_year=1850), format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"new_birth_year"}
    assert not Person.objects.exists()
    assert not Encounter.objects.exists()


def test_another_teams_outing_does_not_exist(worker_b, outing):
    response = api_client(worker_b).post(URL, quick_log(outing), format="json")

    assert response.status_code == 400
    assert "outing" in response.json()
    assert not Encounter.objects.exists()


def test_an_expert_logs_anonymously_but_creates_no_person(expert_a, outing):
    client = api_client(expert_a)

    assert client.post(URL, quick_log(outing), format="json").status_code == 201
    response = client.post(URL, quick_log(outing, new_alias="Kettu"), format="json")

    assert response.status_code == 403
    assert not Person.objects.exists()
    assert Encounter.objects.count() == 1


def test_anonymous_callers_are_refused(outing):
    assert api_client().post(URL, quick_log(outing), format="json").status_code == 401
    assert not Encounter.objects.exists()
