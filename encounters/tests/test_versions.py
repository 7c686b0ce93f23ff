"""Stale edits refused: persons, encounters and referrals carry a version.

The API answers a read of one record with a strong ETag of its version and
refuses a PUT/PATCH whose If-Match names another (412, nothing changed); the
pages send the version with the form and refuse a stale save with what a
colleague changed meanwhile.
"""

import datetime
import threading

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from encounters.models import Encounter, Person, Referral
from encounters.services import encounter_update, person_update, referral_update
from encounters.tests.factories import EncounterFactory, PersonFactory, ReferralFactory
from outreach.exceptions import StaleVersion
from outreach.models import AuditEntry
from outreach.tests.api_helpers import api_client
from outreach.tests.factories import FieldSiteFactory, OutingFactory
from outreach.vocabulary import OutingStatus


@pytest.fixture
def person(team_a):
    return PersonFactory(team=team_a, alias="Kettu", gender="female")


@pytest.fixture
def outing(team_a, worker_a):
    site = FieldSiteFactory(team=team_a, name="Asema")
    return OutingFactory(
        team=team_a, site=site, date=timezone.localdate(), status=OutingStatus.PLANNED, participants=[worker_a]
    )


@pytest.fixture
def encounter(outing, worker_a, person):
    return EncounterFactory(
        team=outing.team,
        site=outing.site,
        outing=outing,
        person=person,
        created_by=worker_a,
        occurred_at=timezone.now() - datetime.timedelta(hours=1),
        gender="female",
    )


@pytest.fixture
def referral(team_a, person, worker_a):
    return ReferralFactory(team=team_a, person=person, created_by=worker_a, referred_on=timezone.localdate())


# (API path, a change a colleague makes through the service, the field it changes, a body of our own)
def person_case(record, worker):
    return (
        f"/api/v1/persons/{record.pk}/",
        lambda: person_update(actor=worker, person=Person.objects.get(pk=record.pk), alias="Repo"),
        "alias",
        {"notes": "Met at the station"},
    )


def encounter_case(record, worker):
    return (
        f"/api/v1/encounters/{record.pk}/",
        lambda: encounter_update(actor=worker, encounter=Encounter.objects.get(pk=record.pk), depth="brief"),
        "depth",
        {"notes": "Talked about housing"},
    )


def referral_case(record, worker):
    return (
        f"/api/v1/referrals/{record.pk}/",
        lambda: referral_update(actor=worker, referral=Referral.objects.get(pk=record.pk), status="made"),
        "status",
        {"outcome_notes": "Called the service"},
    )


CASES = [("person", person_case), ("encounter", encounter_case), ("referral", referral_case)]


@pytest.fixture(params=CASES, ids=[name for name, _case in CASES])
def case(request, worker_a):
    name, make = request.param
    record = request.getfixturevalue(name)
    return (record, *make(record, worker_a))


# The API ---------------------------------------------------------------------------------------


def test_a_read_of_one_record_carries_a_strong_etag_of_its_version(case, worker_a):
    _record, path, _change, _field, _body = case

    response = api_client(worker_a).get(path)

    assert response.status_code == 200
    assert response["ETag"] == '"v1"'
    assert response.json()["version"] == 1


def test_a_patch_with_the_current_version_saves_and_answers_the_next_etag(case, worker_a):
    record, path, _change, _field, body = case

    response = api_client(worker_a).patch(path, body, format="json", HTTP_IF_MATCH='"v1"')

    assert response.status_code == 200, response.content
    assert response["ETag"] == '"v2"'
    assert response.json()["version"] == 2
    record.refresh_from_db()
    assert record.version == 2
    assert getattr(record, next(iter(body))) == next(iter(body.values()))


def test_a_patch_with_a_stale_if_match_answers_412_and_changes_nothing(case, worker_a):
    record, path, change, field, body = case
    change()  # a colleague's save: version 2
    record.refresh_from_db()
    before = getattr(record, next(iter(body)))
    audits = AuditEntry.objects.count()

    response = api_client(worker_a).patch(path, body, format="json", HTTP_IF_MATCH='"v1"')

    assert response.status_code == 412
    assert response["Content-Type"] == "application/json"
    assert response["ETag"] == '"v2"'
    assert response.json()["version"] == 2
    assert field in response.json()["changed"]
    assert "detail" in response.json()
    record.refresh_from_db()
    assert record.version == 2
    assert getattr(record, next(iter(body))) == before
    assert AuditEntry.objects.count() == audits


def test_a_put_with_a_stale_if_match_answers_412_too(worker_a, person):
    person_update(actor=worker_a, person=Person.objects.get(pk=person.pk), alias="Repo")
    body = {"alias": "Susi", "birth_year": 1980, "gender": "female", "team": person.team_id}

    response = api_client(worker_a).put(f"/api/v1/persons/{person.pk}/", body, format="json", HTTP_IF_MATCH='"v1"')

    assert response.status_code == 412
    person.refresh_from_db()
    assert person.alias == "Repo"


@pytest.mark.parametrize("header", ['W/"v1"', "v1", '"1"', "garbage"])
def test_an_if_match_of_no_version_of_ours_is_refused_as_stale(worker_a, person, header):
    response = api_client(worker_a).patch(
        f"/api/v1/persons/{person.pk}/", {"notes": "x"}, format="json", HTTP_IF_MATCH=header
    )

    assert response.status_code == 412
    person.refresh_from_db()
    assert (person.notes, person.version) == ("", 1)


def test_without_if_match_a_patch_proceeds_as_before(case, worker_a):
    record, path, change, _field, body = case
    change()

    response = api_client(worker_a).patch(path, body, format="json")

    assert response.status_code == 200
    assert response["ETag"] == '"v3"'
    record.refresh_from_db()
    assert record.version == 3


def test_if_match_star_matches_any_version(worker_a, person):
    response = api_client(worker_a).patch(
        f"/api/v1/persons/{person.pk}/", {"notes": "x"}, format="json", HTTP_IF_MATCH="*"
    )

    assert response.status_code == 200


def test_a_list_carries_no_etag(worker_a, person):
    response = api_client(worker_a).get("/api/v1/persons/")

    assert response.status_code == 200
    assert not response.has_header("ETag")


def test_another_teams_record_is_404_whatever_if_match_says(worker_b, person):
    response = api_client(worker_b).patch(
        f"/api/v1/persons/{person.pk}/", {"notes": "x"}, format="json", HTTP_IF_MATCH='"v1"'
    )

    assert response.status_code == 404


def test_a_change_that_changes_nothing_keeps_the_version(worker_a, person):
    response = api_client(worker_a).patch(f"/api/v1/persons/{person.pk}/", {"alias": "Kettu"}, format="json")

    assert response.status_code == 200
    assert response["ETag"] == '"v1"'


def test_a_merge_raises_the_version_of_the_records_it_moves(worker_a, person, encounter, referral, team_a):
    from encounters.services import person_merge

    duplicate = PersonFactory(team=team_a, alias="Kettu 2")
    EncounterFactory(team=team_a, site=encounter.site, person=duplicate)

    person_merge(actor=worker_a, kept=person, merged=duplicate)

    duplicate.refresh_from_db()
    assert duplicate.version == 2
    assert Encounter.objects.get(person=person, pk__gt=encounter.pk).version == 2


# The pages -------------------------------------------------------------------------------------


def person_form(person, **values):
    data = {"alias": person.alias, "birth_year": person.birth_year or "", "gender": person.gender, "notes": ""}
    return {**data, "version": 1, **values}


def test_the_person_form_sends_the_version(client, worker_a, person):
    client.force_login(worker_a)

    page = client.get(reverse("encounters:person_detail", args=[person.pk]))

    assert '<input type="hidden" name="version" value="1"' in page.content.decode()


def test_a_stale_person_form_is_refused_with_what_the_colleague_changed(client, worker_a, person):
    person_update(actor=worker_a, person=Person.objects.get(pk=person.pk), alias="Repo", gender="male")
    client.force_login(worker_a)

    response = client.post(reverse("encounters:person_edit", args=[person.pk]), person_form(person, notes="Mine"))

    assert response.status_code == 200
    text = response.content.decode()
    assert "nothing was saved" in text
    assert "Alias or nickname: Repo" in text
    assert "Gender: Male" in text
    # The next save is based on the version stored now: a second Save, seen the changes, goes through.
    assert '<input type="hidden" name="version" value="2"' in text
    person.refresh_from_db()
    assert (person.alias, person.notes, person.version) == ("Repo", "", 2)

    again = client.post(
        reverse("encounters:person_edit", args=[person.pk]), person_form(person, notes="Mine", version=2)
    )

    assert again.status_code == 302
    person.refresh_from_db()
    assert (person.alias, person.notes, person.version) == ("Repo", "Mine", 3)


def encounter_form(**values):
    data = {"occurred_time": "10:45", "depth": "conversation", "gender": "female", "age_group": "unknown"}
    return {**data, "contact_kind": "field", "first_contact": "", "version": 1, **values}


def test_a_stale_encounter_form_is_refused_with_what_the_colleague_changed(client, worker_a, encounter):
    client.force_login(worker_a)
    page = client.get(reverse("encounters:encounter_edit", args=[encounter.pk]))
    assert '<input type="hidden" name="version" value="1"' in page.content.decode()
    encounter_update(actor=worker_a, encounter=Encounter.objects.get(pk=encounter.pk), needs=["housing"])

    response = client.post(reverse("encounters:encounter_edit", args=[encounter.pk]), encounter_form(notes="Mine"))

    assert response.status_code == 200
    text = response.content.decode()
    assert "nothing was saved" in text
    assert "Needs: Housing" in text
    encounter.refresh_from_db()
    assert (encounter.notes, encounter.needs, encounter.version) == ("", ["housing"], 2)


def test_a_current_encounter_form_saves(client, worker_a, encounter):
    client.force_login(worker_a)

    response = client.post(reverse("encounters:encounter_edit", args=[encounter.pk]), encounter_form(notes="Mine"))

    assert response.status_code == 302
    encounter.refresh_from_db()
    assert (encounter.notes, encounter.version) == ("Mine", 2)


def test_a_stale_referral_form_is_refused_with_what_the_colleague_changed(client, worker_a, referral):
    client.force_login(worker_a)
    page = client.get(reverse("encounters:referral_detail", args=[referral.pk]))
    assert '<input type="hidden" name="version" value="1"' in page.content.decode()
    referral_update(actor=worker_a, referral=Referral.objects.get(pk=referral.pk), status="made")

    response = client.post(
        reverse("encounters:referral_status", args=[referral.pk]),
        {"status": "declined", "outcome_notes": "Mine", "version": 1},
    )

    assert response.status_code == 200
    text = response.content.decode()
    assert "nothing was saved" in text
    assert "Status: Made" in text
    referral.refresh_from_db()
    assert (referral.status, referral.outcome_notes, referral.version) == ("made", "", 2)


def test_a_form_without_a_version_saves_as_before(client, worker_a, referral):
    client.force_login(worker_a)

    response = client.post(reverse("encounters:referral_status", args=[referral.pk]), {"status": "made"})

    assert response.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.version) == ("made", 2)


def test_the_service_refuses_a_stale_version_and_names_the_changes(worker_a, referral):
    referral_update(actor=worker_a, referral=referral, outcome_notes="First")

    with pytest.raises(StaleVersion) as refused:
        referral_update(actor=worker_a, referral=referral, expected_version=1, outcome_notes="Second")

    assert refused.value.current_version == 2
    assert refused.value.changes == [("outcome_notes", "outcome notes", "First")]


# Two workers at once (PostgreSQL: real row locks) --------------------------------------------------


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_workers_saving_the_same_referral_at_once_one_is_refused(worker_a, team_a):
    referral = ReferralFactory(team=team_a, referred_on=timezone.localdate())
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def save(status: str) -> None:
        try:
            barrier.wait()
            referral_update(
                actor=worker_a, referral=Referral.objects.get(pk=referral.pk), expected_version=1, status=status
            )
            outcomes.append("saved")
        except StaleVersion:
            outcomes.append("stale")
        finally:
            connection.close()  # the thread's own connection

    threads = [threading.Thread(target=save, args=(status,)) for status in ("made", "declined")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["saved", "stale"]
    referral.refresh_from_db()
    assert referral.version == 2
    assert referral.history.count() == 2


def test_the_schema_names_if_match_and_the_412_of_each_versioned_update(client, worker_a):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)

    for path in ("/api/v1/persons/{id}/", "/api/v1/encounters/{id}/", "/api/v1/referrals/{id}/"):
        for method in ("put", "patch"):
            operation = schema["paths"][path][method]
            assert "412" in operation["responses"], (path, method)
            assert "If-Match" in [parameter["name"] for parameter in operation["parameters"]]
    assert "412" not in schema["paths"]["/api/v1/sites/{id}/"]["patch"]["responses"]
