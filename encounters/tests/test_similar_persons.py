"""Duplicates caught before they are made: one matching rule (selectors.persons_similar) for the person
form, the quick log and the API's POST /api/v1/persons/similar/."""

import pytest
from django.urls import reverse

from encounters.models import Encounter, Person
from encounters.selectors import persons_similar, trigram_similarity
from encounters.tests.factories import EncounterFactory, PersonFactory
from encounters.tests.test_field_views import quick_log
from outreach.models import AccessLogEntry
from outreach.tests.api_helpers import api_client
from outreach.tests.factories import OutingFactory
from outreach.vocabulary import Gender, OutingStatus

SIMILAR = "/api/v1/persons/similar/"
CODE = "131052-308T"


def url(name: str, *args) -> str:
    return reverse(f"encounters:{name}", args=args)


@pytest.fixture
def kettu(team_a):
    return PersonFactory(team=team_a, alias="Kettu", birth_year=1985, gender=Gender.FEMALE)


@pytest.fixture
def named(team_a):
    return Person.objects.create(
        team=team_a,
        kind=Person.Kind.NAMED,
        alias="Maikki",
        first_name="Maija",
        last_name="Meikäläinen",
        identity_code=CODE,
        birth_year=1952,
        gender=Gender.FEMALE,
    )


def ids(matches) -> list[int]:
    return [match.person.pk for match in matches]


# The rule ----------------------------------------------------------------------------------------


def test_the_python_similarity_follows_pg_trgm():
    # As PostgreSQL answers: similarity('Kettu', 'Ketu') = 0.5714286, 'Kettu' in 'Kettu Ketunen' 0.54545456.
    assert trigram_similarity("Kettu", "kettu") == 1.0
    assert trigram_similarity("Kettu", "Ketu") == pytest.approx(0.5714286)
    assert trigram_similarity("Kettu", "Kettu Ketunen") == pytest.approx(0.54545456)
    assert trigram_similarity("Maija Meikäläinen", "Maija Meikalainen") == pytest.approx(0.54545456)
    assert trigram_similarity("Kettu", "Susi") == 0.0


def test_the_same_identity_code_is_found_whatever_else_differs(worker_a, team_a, named):
    found = persons_similar(worker_a, team=team_a, identity_code="131052-308t", alias="Someone", birth_year=1990)

    assert ids(found) == [named.pk]
    assert found[0].reasons[0] == "identity_code"


def test_a_similar_alias_with_the_same_birth_year_and_gender(worker_a, team_a, kettu):
    PersonFactory(team=team_a, alias="Kettu", birth_year=1970, gender=Gender.FEMALE)  # too old
    PersonFactory(team=team_a, alias="Kettu", birth_year=1985, gender=Gender.MALE)  # another gender

    found = persons_similar(worker_a, team=team_a, alias="Ketu", birth_year=1986, gender=Gender.FEMALE)

    assert ids(found) == [kettu.pk]
    assert found[0].reasons == ["alias", "birth_year", "gender"]


def test_near_identical_names(worker_a, team_a, named):
    found = persons_similar(worker_a, team=team_a, first_name="Maija", last_name="Meikalainen", birth_year=1952)

    assert ids(found) == [named.pk]
    assert "name" in found[0].reasons


def test_an_unknown_birth_year_or_gender_does_not_rule_a_record_out(worker_a, team_a):
    unknown = PersonFactory(team=team_a, alias="Kettu", birth_year=None, gender=Gender.UNKNOWN)

    found = persons_similar(worker_a, team=team_a, alias="Kettu", birth_year=1985, gender=Gender.FEMALE)

    assert ids(found) == [unknown.pk]
    assert found[0].reasons == ["alias"]


def test_another_teams_person_is_never_suggested(worker_a, worker_b, team_a, team_b, kettu):
    assert persons_similar(worker_b, alias="Kettu", birth_year=1985, gender=Gender.FEMALE) == []
    assert persons_similar(worker_b, team=team_a, alias="Kettu") == []


def test_a_merged_record_is_not_suggested(worker_a, team_a, kettu):
    PersonFactory(team=team_a, alias="Kettu", birth_year=1985, merged_into=kettu)

    assert ids(persons_similar(worker_a, team=team_a, alias="Kettu")) == [kettu.pk]


def test_the_best_come_first_and_at_most_ten(worker_a, team_a, kettu):
    for _ in range(12):
        PersonFactory(team=team_a, alias="Kettu Ketunen", birth_year=1984, gender=Gender.FEMALE)

    found = persons_similar(worker_a, team=team_a, alias="Kettu", birth_year=1985, gender=Gender.FEMALE)

    assert len(found) == 10
    assert found[0].person == kettu


# The API ------------------------------------------------------------------------------------------


def test_the_api_answers_ids_and_reasons(worker_a, kettu, named):
    response = api_client(worker_a).post(
        SIMILAR, {"alias": "Kettu", "birth_year": 1985, "gender": "female"}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {"results": [{"id": kettu.pk, "reasons": ["alias", "birth_year", "gender"]}]}
    logged = AccessLogEntry.objects.get(person_id=kettu.pk)
    assert (logged.action, logged.door, logged.actor) == ("search", "api", worker_a)


def test_the_api_finds_the_identity_code(worker_a, named):
    response = api_client(worker_a).post(SIMILAR, {"identity_code": CODE}, format="json")

    assert response.status_code == 200
    assert response.json()["results"] == [{"id": named.pk, "reasons": ["identity_code"]}]


def test_the_api_never_answers_another_teams_person(worker_b, kettu, named):
    response = api_client(worker_b).post(SIMILAR, {"alias": "Kettu", "identity_code": CODE}, format="json")

    assert response.status_code == 200
    assert response.json() == {"results": []}
    assert not AccessLogEntry.objects.exists()


def test_an_expert_gets_only_the_pseudonymous_persons_of_their_outings(expert_a, team_a, kettu, named):
    outing = OutingFactory(team=team_a, participants=[expert_a], status=OutingStatus.DONE)
    EncounterFactory(team=team_a, site=outing.site, outing=outing, person=kettu, anonymous=False)
    EncounterFactory(team=team_a, site=outing.site, outing=outing, person=named, anonymous=False)
    PersonFactory(team=team_a, alias="Kettu", birth_year=1985)  # of the team, not met by them

    response = api_client(expert_a).post(
        SIMILAR, {"alias": "Kettu", "identity_code": CODE, "first_name": "Maija"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["results"] == [{"id": kettu.pk, "reasons": ["alias"]}]


def test_no_fields_give_no_results(worker_a, kettu):
    response = api_client(worker_a).post(SIMILAR, {}, format="json")

    assert response.status_code == 200
    assert response.json() == {"results": []}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"birth_year": "nineteen"}, "birth_year"),
        ({"birth_year": 1800}, "birth_year"),
        ({"birth_year": 2999}, "birth_year"),
        ({"gender": "cat"}, "gender"),
        ({"identity_code": "131052-308A"}, "identity_code"),
        ({"alias": "x" * 101}, "alias"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(worker_a, data, field):
    response = api_client(worker_a).post(SIMILAR, data, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_signed_out_gets_401(db):
    assert api_client().post(SIMILAR, {"alias": "Kettu"}, format="json").status_code == 401


def test_creating_through_the_api_still_creates_when_duplicates_exist(worker_a, kettu):
    # The client asks /similar/ first; the create itself is the worker's answer "a new person".
    response = api_client(worker_a).post("/api/v1/persons/", {"alias": "Kettu", "birth_year": 1985}, format="json")

    assert response.status_code == 201
    assert Person.objects.filter(alias="Kettu").count() == 2


# The person form ----------------------------------------------------------------------------------


def test_the_person_form_offers_the_duplicates_first(client, worker_a, team_a, kettu):
    client.force_login(worker_a)

    response = client.post(
        url("person_create"), {"team": team_a.pk, "alias": "Ketu", "birth_year": "1985", "gender": "female"}
    )

    assert response.status_code == 200
    assert [match.person for match in response.context["similar"]] == [kettu]
    assert url("person_detail", kettu.pk) in response.content.decode()
    assert Person.objects.count() == 1


def test_a_new_person_anyway(client, worker_a, team_a, kettu):
    client.force_login(worker_a)

    response = client.post(
        url("person_create"),
        {"team": team_a.pk, "alias": "Ketu", "birth_year": "1985", "gender": "female", "confirm_new": "1"},
    )

    created = Person.objects.get(alias="Ketu")
    assert response.status_code == 302
    assert response.url == url("person_detail", created.pk)
    assert created.team == team_a
    assert created.kind == Person.Kind.PSEUDONYMOUS


def test_the_person_form_creates_when_nobody_is_similar(client, worker_a, team_a, kettu):
    client.force_login(worker_a)

    response = client.post(url("person_create"), {"team": team_a.pk, "alias": "Susi", "gender": "male"})

    assert response.status_code == 302
    assert Person.objects.filter(alias="Susi", gender="male").count() == 1


def test_the_person_form_names_a_bad_field(client, worker_a, team_a):
    client.force_login(worker_a)

    response = client.post(url("person_create"), {"team": team_a.pk, "alias": "", "birth_year": "1700"})

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"alias", "birth_year", "gender"}
    assert not Person.objects.exists()


def test_the_person_form_refuses_another_team(client, worker_a, team_b):
    client.force_login(worker_a)

    response = client.post(url("person_create"), {"team": team_b.pk, "alias": "Susi", "gender": "male"})

    assert response.status_code == 200
    assert "team" in response.context["form"].errors
    assert not Person.objects.exists()


def test_experts_make_no_person_records(client, expert_a):
    client.force_login(expert_a)

    assert client.get(url("person_create")).status_code == 403


# The quick log ------------------------------------------------------------------------------------


@pytest.fixture
def outing(team_a, worker_a):
    return OutingFactory(team=team_a, participants=[worker_a], status=OutingStatus.DONE)


def test_the_quick_log_offers_the_duplicates_before_creating(client, worker_a, outing, kettu):
    client.force_login(worker_a)

    response = client.post(
        url("encounter_create", outing.pk),
        quick_log(new_alias="Kettu", new_birth_year="1985", new_gender="female"),
    )

    assert response.status_code == 200
    assert [match.person for match in response.context["similar"]] == [kettu]
    content = response.content.decode()
    assert f'name="link_person" value="{kettu.pk}"' in content
    assert 'name="new_person_confirmed"' in content
    assert not Encounter.objects.exists()
    assert Person.objects.count() == 1


def test_the_quick_log_offers_them_to_htmx_too(client, worker_a, outing, kettu):
    client.force_login(worker_a)

    response = client.post(
        url("encounter_create", outing.pk), quick_log(new_alias="kettu", new_birth_year="1984"), HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert "encounters/_outing_log.html" in [template.name for template in response.templates]
    assert f'value="{kettu.pk}"' in response.content.decode()
    assert not Encounter.objects.exists()


def test_this_is_them_links_the_encounter_and_makes_no_person(client, worker_a, outing, kettu):
    client.force_login(worker_a)

    response = client.post(
        url("encounter_create", outing.pk),
        quick_log(new_alias="Kettu", new_birth_year="1985", new_gender="female", link_person=str(kettu.pk)),
    )

    assert response.status_code == 302
    encounter = Encounter.objects.get()
    assert encounter.person == kettu
    assert Person.objects.count() == 1


def test_a_new_person_after_all(client, worker_a, outing, kettu):
    client.force_login(worker_a)

    response = client.post(
        url("encounter_create", outing.pk),
        quick_log(new_alias="Kettu", new_birth_year="1985", new_person_confirmed="1"),
    )

    assert response.status_code == 302
    assert Person.objects.filter(alias="Kettu").count() == 2
    assert Encounter.objects.get().person != kettu


def test_this_is_them_cannot_link_another_teams_person(client, worker_a, outing, team_b):
    other = PersonFactory(team=team_b, alias="Kettu")
    client.force_login(worker_a)

    response = client.post(url("encounter_create", outing.pk), quick_log(new_alias="Kettu", link_person=str(other.pk)))

    assert response.status_code == 200
    assert "person" in response.context["form"].errors
    assert not Encounter.objects.exists()


def test_another_teams_person_is_not_offered_in_the_quick_log(client, worker_a, outing, team_b):
    PersonFactory(team=team_b, alias="Kettu", birth_year=1985)
    client.force_login(worker_a)

    response = client.post(url("encounter_create", outing.pk), quick_log(new_alias="Kettu", new_birth_year="1985"))

    assert response.status_code == 302
    person = Encounter.objects.get().person
    assert person is not None
    assert person.alias == "Kettu"
