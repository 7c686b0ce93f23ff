"""The persons API: /api/v1/persons/, pseudonymous by default, named only with consent."""

import pytest

from encounters.models import Consent, Person
from encounters.tests.factories import EncounterFactory, PersonFactory
from outreach.models import AccessLogEntry, AuditEntry
from outreach.tests.api_helpers import api_client, ids, results
from outreach.tests.factories import OutingFactory, UserFactory
from outreach.vocabulary import Role

URL = "/api/v1/persons/"
IDENTIFIERS = {"first_name", "last_name", "identity_code", "phone", "email"}


def detail(pk, suffix="") -> str:
    return f"{URL}{pk}/{suffix}"


def named_person(team, **extra):
    return PersonFactory(
        team=team, kind=Person.Kind.NAMED, alias="", first_name="Matti", last_name="Meikäläinen", **extra
    )


def test_worker_creates_a_pseudonymous_person(worker_a, team_a):
    response = api_client(worker_a).post(URL, {"alias": "Tuulikki", "birth_year": 1975, "gender": "female"})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert {"id", "alias", "birth_year", "gender", "team"} <= set(body)
    assert body["team"] == team_a.pk
    assert body["kind"] == "pseudonymous"
    person = Person.objects.get()
    assert (person.alias, person.birth_year, person.gender, person.team) == ("Tuulikki", 1975, "female", team_a)
    assert person.created_by == worker_a
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CREATE, model="encounters.person").exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"alias": "Tuuli", "first_name": "Tuulikki"}, "first_name"),
        ({"alias": "Tuuli", "identity_code": "131052-308T"}, "identity_code"),
        ({"alias": "Tuuli", "phone": "0401234567"}, "phone"),
        ({"alias": ""}, "alias"),
        ({"birth_year": 1975}, "alias"),
        ({"alias": "Tuuli", "birth_year": 1800}, "birth_year"),
        ({"alias": "Tuuli", "birth_year": "old"}, "birth_year"),
        ({"alias": "Tuuli", "gender": "n"}, "gender"),
        ({"alias": "x" * 101}, "alias"),
    ],
)
def test_invalid_person_gets_400_naming_the_field(worker_a, data, field):
    response = api_client(worker_a).post(URL, data, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Person.objects.exists()


def test_kind_cannot_be_set_by_a_create(worker_a):
    response = api_client(worker_a).post(URL, {"alias": "Tuuli", "kind": "named"}, format="json")

    assert response.status_code == 201
    assert Person.objects.get().kind == Person.Kind.PSEUDONYMOUS


def test_make_named_records_consent_and_names(worker_a, team_a):
    person = PersonFactory(team=team_a)

    response = api_client(worker_a).post(
        detail(person.pk, "make-named/"),
        {
            "consent_scopes": ["personal_data", "contact"],
            "first_name": "Tuulikki",
            "last_name": "Virtanen",
            "identity_code": "131052-308t",
            "phone": "040 123 4567",
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["kind"] == "named"
    assert response.json()["last_name"] == "Virtanen"
    person.refresh_from_db()
    assert person.kind == Person.Kind.NAMED
    assert person.identity_code == "131052-308T"
    assert set(person.consents.values_list("scope", flat=True)) == {"personal_data", "contact"}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"consent_scopes": ["contact"], "last_name": "Virtanen"}, "consent_scopes"),
        ({"consent_scopes": [], "last_name": "Virtanen"}, "consent_scopes"),
        ({"consent_scopes": ["personal_data"]}, "last_name"),
        ({"consent_scopes": ["personal_data"], "last_name": "V", "identity_code": "131052-308A"}, "identity_code"),
        ({"consent_scopes": ["everything"], "last_name": "V"}, "consent_scopes"),
    ],
)
def test_make_named_refuses_without_consent_or_with_bad_identifiers(worker_a, team_a, data, field):
    person = PersonFactory(team=team_a)

    response = api_client(worker_a).post(detail(person.pk, "make-named/"), data, format="json")

    assert response.status_code == 400
    assert field in response.json()
    person.refresh_from_db()
    assert person.kind == Person.Kind.PSEUDONYMOUS
    assert not Consent.objects.exists()


def met_in_outing_of(expert, person):
    """An encounter with `person` at an outing the expert took part in."""
    outing = OutingFactory(team=person.team, participants=[expert])
    EncounterFactory(team=person.team, site=outing.site, outing=outing, person=person)


def test_an_expert_cannot_make_a_person_named(expert_a, team_a):
    person = PersonFactory(team=team_a)
    met_in_outing_of(expert_a, person)

    response = api_client(expert_a).post(
        detail(person.pk, "make-named/"), {"consent_scopes": ["personal_data"], "last_name": "V"}, format="json"
    )

    assert response.status_code == 403
    person.refresh_from_db()
    assert person.kind == Person.Kind.PSEUDONYMOUS


def test_names_of_a_named_person_can_be_corrected(worker_a, team_a):
    person = named_person(team_a)

    response = api_client(worker_a).patch(detail(person.pk), {"last_name": "Virtanen"}, format="json")

    assert response.status_code == 200
    person.refresh_from_db()
    assert person.last_name == "Virtanen"


def test_identifiers_cannot_be_added_to_a_pseudonymous_person_by_update(worker_a, team_a):
    person = PersonFactory(team=team_a)

    response = api_client(worker_a).patch(detail(person.pk), {"email": "a@example.org"}, format="json")

    assert response.status_code == 400
    assert "email" in response.json()
    person.refresh_from_db()
    assert person.email == ""


def test_an_expert_never_sees_named_persons_nor_the_named_fields(expert_a, team_a):
    pseudonymous = PersonFactory(team=team_a)
    met_in_outing_of(expert_a, pseudonymous)
    not_met = PersonFactory(team=team_a)
    named = named_person(team_a)
    met_in_outing_of(expert_a, named)
    client = api_client(expert_a)

    rows = results(client.get(URL))
    # Only the pseudonymous persons met in the expert's own outings.
    assert [row["id"] for row in rows] == [pseudonymous.pk]
    assert client.get(detail(not_met.pk)).status_code == 404
    assert not IDENTIFIERS & set(rows[0])
    assert client.get(detail(named.pk)).status_code == 404
    assert not IDENTIFIERS & set(client.get(detail(pseudonymous.pk)).json())
    assert client.patch(detail(named.pk), {"notes": "x"}, format="json").status_code == 404


def test_a_worker_sees_their_teams_persons_only(worker_a, team_a, team_b):
    own = PersonFactory(team=team_a)
    other = PersonFactory(team=team_b)
    client = api_client(worker_a)

    assert ids(client.get(URL)) == {own.pk}
    assert client.get(detail(other.pk)).status_code == 404
    assert client.patch(detail(other.pk), {"alias": "x"}, format="json").status_code == 404
    response = client.post(URL, {"alias": "New", "team": worker_a.teams.get().pk + 1000}, format="json")
    assert response.status_code == 400
    assert "team" in response.json()


def test_a_person_cannot_be_created_for_another_team(worker_a, team_b):
    response = api_client(worker_a).post(URL, {"alias": "New", "team": team_b.pk}, format="json")

    assert response.status_code == 400
    assert "team" in response.json()
    assert not Person.objects.exists()


def test_merged_records_are_not_listed_but_their_url_answers(worker_a, team_a):
    kept = PersonFactory(team=team_a)
    merged = PersonFactory(team=team_a, merged_into=kept)
    client = api_client(worker_a)

    assert ids(client.get(URL)) == {kept.pk}
    response = client.get(detail(merged.pk))
    assert response.status_code == 200
    assert response.json()["merged_into"] == kept.pk


def test_reading_a_named_person_is_audited(worker_a, team_a):
    named = named_person(team_a)

    assert api_client(worker_a).get(detail(named.pk)).status_code == 200

    assert AccessLogEntry.objects.filter(
        action=AccessLogEntry.Action.VIEW, person_id=named.pk, actor=worker_a, door="api"
    ).exists()


def test_filters(worker_a, team_a):
    tuuli = PersonFactory(team=team_a, alias="Tuuli", gender="female")
    PersonFactory(team=team_a, alias="Pekka", gender="male")
    client = api_client(worker_a)

    assert ids(client.get(URL, {"alias": "tuu"})) == {tuuli.pk}
    assert ids(client.get(URL, {"gender": "female"})) == {tuuli.pk}
    assert client.get(URL, {"gender": "f"}).status_code == 400


def test_team_left_out_by_a_member_of_several_teams(team_a, team_b):
    user = UserFactory(role=Role.WORKER, teams=[team_a, team_b])

    response = api_client(user).post(URL, {"alias": "Tuuli"}, format="json")

    assert response.status_code == 400
    assert "team" in response.json()


def test_list_query_count(worker_a, team_a, django_assert_max_num_queries):
    PersonFactory.create_batch(25, team=team_a)

    # The page, the count, the access-log rows.
    with django_assert_max_num_queries(4):
        assert len(results(api_client(worker_a).get(URL))) == 25
