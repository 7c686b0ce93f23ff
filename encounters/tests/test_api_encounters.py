"""The encounters API: /api/v1/encounters/."""

import datetime
import uuid

import pytest
from django.utils import timezone

from encounters.models import Encounter, Person
from encounters.tests.factories import EncounterFactory, PersonFactory, ReferralFactory
from outreach.models import AuditEntry
from outreach.tests.api_helpers import api_client, ids, results
from outreach.tests.factories import FieldSiteFactory, OutingFactory, UserFactory, municipality
from outreach.vocabulary import Role, SiteType

URL = "/api/v1/encounters/"

CONTRACT_FIELDS = {
    "id",
    "team",
    "client_uuid",
    "outing",
    "site",
    "occurred_at",
    "contact_kind",
    "depth",
    "person",
    "gender",
    "age_group",
    "needs",
    "actions",
    "duration_minutes",
    "notes",
}


def detail(pk) -> str:
    return f"{URL}{pk}/"


@pytest.fixture
def site(db):
    return FieldSiteFactory(name="Food bank", site_type=SiteType.FOOD_DISTRIBUTION)


@pytest.fixture
def outing_a(team_a, site, worker_a, expert_a):
    return OutingFactory(team=team_a, site=site, participants=[worker_a, expert_a])


@pytest.fixture
def outing_b(team_b, site, worker_b):
    return OutingFactory(team=team_b, site=site, participants=[worker_b])


def payload(site_, **extra) -> dict:
    data = {
        "site": site_.pk,
        "occurred_at": "2026-05-12T10:30:00+03:00",
        "contact_kind": "field",
        "depth": "conversation",
        "gender": "female",
        "age_group": "30_39",
        "needs": ["housing", "mental_health"],
        "actions": ["advice"],
        "duration_minutes": 15,
        "notes": "Talked about housing.",
    }
    data.update(extra)
    return data


# Create --------------------------------------------------------------------


def test_worker_logs_an_encounter_and_team_defaults_to_their_only_team(worker_a, team_a, site):
    response = api_client(worker_a).post(URL, payload(site), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) >= CONTRACT_FIELDS
    assert body["team"] == team_a.pk
    assert body["site"] == site.pk
    assert body["outing"] is None
    assert body["person"] is None
    assert body["occurred_at"] == "2026-05-12T10:30:00+03:00"
    # Codes come back in vocabulary order, whatever order they were sent in.
    assert body["needs"] == ["mental_health", "housing"]
    assert body["actions"] == ["advice"]
    encounter = Encounter.objects.get()
    assert encounter.team == team_a
    assert encounter.anonymous is True
    assert encounter.created_by == worker_a
    assert encounter.occurred_on == datetime.date(2026, 5, 12)
    assert AuditEntry.objects.filter(
        action=AuditEntry.Action.CREATE, model="encounters.encounter", object_id=str(encounter.pk), actor=worker_a
    ).exists()


def test_occurred_at_in_utc_is_stored_as_the_same_instant_and_shown_in_helsinki_time(worker_a, site):
    response = api_client(worker_a).post(URL, payload(site, occurred_at="2026-05-12T22:30:00Z"), format="json")

    assert response.status_code == 201
    assert response.json()["occurred_at"] == "2026-05-13T01:30:00+03:00"
    # The Helsinki day, not the UTC one.
    assert response.json()["occurred_on"] == "2026-05-13"
    winter = api_client(worker_a).post(URL, payload(site, occurred_at="2026-01-15T08:00:00Z"), format="json")
    assert winter.json()["occurred_at"] == "2026-01-15T10:00:00+02:00"


def test_encounter_in_an_outing_may_leave_the_site_out(worker_a, outing_a):
    data = payload(outing_a.site, outing=outing_a.pk)
    del data["site"]

    response = api_client(worker_a).post(URL, data, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["site"] == outing_a.site_id
    assert response.json()["outing"] == outing_a.pk
    # The outing's participants are its workers.
    assert set(response.json()["workers"]) == {p.pk for p in outing_a.participants.all()}


def test_encounter_with_a_person_is_not_anonymous(worker_a, team_a, site):
    person = PersonFactory(team=team_a)

    response = api_client(worker_a).post(URL, payload(site, person=person.pk), format="json")

    assert response.status_code == 201
    assert response.json()["person"] == person.pk
    assert Encounter.objects.get().anonymous is False


def test_team_may_be_left_out_only_by_a_member_of_exactly_one_team(team_a, team_b, site):
    several = UserFactory(role=Role.WORKER, teams=[team_a, team_b])
    none = UserFactory(role=Role.WORKER)

    for user in (several, none):
        response = api_client(user).post(URL, payload(site), format="json")
        assert response.status_code == 400
        assert "team" in response.json()
    assert not Encounter.objects.exists()

    response = api_client(several).post(URL, payload(site, team=team_b.pk), format="json")
    assert response.status_code == 201
    assert response.json()["team"] == team_b.pk


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("depth", "deep"),
        ("contact_kind", "email"),
        ("gender", "f"),
        ("age_group", "30-39"),
        ("needs", ["housing", "flying"]),
        ("needs", "housing"),
        ("actions", ["hug"]),
        ("duration_minutes", 24 * 60 + 1),
        ("duration_minutes", -1),
        ("duration_minutes", "long"),
        ("occurred_at", "12.5.2026 10:30"),
        ("occurred_at", "1899-12-31T10:00:00+02:00"),
        ("occurred_at", "9999-12-31T23:59:59-12:00"),
        ("client_uuid", "not-a-uuid"),
        ("site", "abc"),
        ("site", 10**30),
        ("site", 1.5),
        ("outing", True),
        ("notes", "x" * 10_001),
        ("first_contact", "maybe"),
    ],
)
def test_invalid_values_get_400_naming_the_field_and_write_nothing(worker_a, site, field, value):
    response = api_client(worker_a).post(URL, payload(site, **{field: value}), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Encounter.objects.exists()


def test_ids_of_another_teams_records_do_not_exist_in_a_write(worker_a, team_b, site, outing_b):
    person_b = PersonFactory(team=team_b)
    client = api_client(worker_a)

    for field, value in [("team", team_b.pk), ("outing", outing_b.pk), ("person", person_b.pk)]:
        response = client.post(URL, payload(site, **{field: value}), format="json")
        assert response.status_code == 400, field
        assert field in response.json()
    assert not Encounter.objects.exists()


def test_a_coordinator_cannot_link_a_person_of_another_team_they_see(coordinator, team_a, team_b, site):
    # A coordinator sees both teams of the area, but an encounter and its
    # person belong to one team.
    person_b = PersonFactory(team=team_b)

    response = api_client(coordinator).post(URL, payload(site, team=team_a.pk, person=person_b.pk), format="json")

    assert response.status_code == 400
    assert "person" in response.json()
    assert not Encounter.objects.exists()


def test_malformed_json_is_a_400(worker_a):
    response = api_client(worker_a).post(URL, '{"site": 1,', content_type="application/json")

    assert response.status_code == 400
    assert not Encounter.objects.exists()


def test_unauthenticated_requests_are_refused(site):
    client = api_client()

    assert client.get(URL).status_code == 401
    assert client.post(URL, payload(site), format="json").status_code == 401
    assert not Encounter.objects.exists()


# Reading -------------------------------------------------------------------


def test_a_worker_sees_their_teams_encounters_only(worker_a, team_a, team_b, site):
    own = EncounterFactory(team=team_a, site=site)
    other = EncounterFactory(team=team_b, site=site)
    client = api_client(worker_a)

    assert ids(client.get(URL)) == {own.pk}
    assert client.get(detail(own.pk)).status_code == 200
    assert client.get(detail(other.pk)).status_code == 404
    assert client.patch(detail(other.pk), {"notes": "x"}, format="json").status_code == 404
    assert client.delete(detail(other.pk)).status_code == 404
    other.refresh_from_db()
    assert other.notes == ""


def test_an_expert_sees_only_the_encounters_of_their_outings_and_never_a_named_person(expert_a, team_a, site, outing_a):
    in_outing = EncounterFactory(team=team_a, site=site, outing=outing_a)
    outside = EncounterFactory(team=team_a, site=site)
    other_outing = EncounterFactory(team=team_a, site=site, outing=OutingFactory(team=team_a, site=site))
    named = PersonFactory(team=team_a, kind=Person.Kind.NAMED, alias="", first_name="Matti", last_name="M")
    with_named = EncounterFactory(team=team_a, site=site, outing=outing_a, person=named)
    client = api_client(expert_a)

    assert ids(client.get(URL)) == {in_outing.pk}
    for hidden in (outside, other_outing, with_named):
        assert client.get(detail(hidden.pk)).status_code == 404


def test_an_expert_logs_anonymous_encounters_in_their_outings_only(expert_a, team_a, site, outing_a):
    client = api_client(expert_a)
    elsewhere = OutingFactory(team=team_a, site=site)
    named = PersonFactory(team=team_a, kind=Person.Kind.NAMED, alias="", first_name="Matti", last_name="M")

    assert client.post(URL, payload(site, outing=outing_a.pk), format="json").status_code == 201
    no_outing = client.post(URL, payload(site), format="json")
    assert no_outing.status_code == 400
    assert "outing" in no_outing.json()
    not_theirs = client.post(URL, payload(site, outing=elsewhere.pk), format="json")
    assert not_theirs.status_code == 400
    assert "outing" in not_theirs.json()
    with_named = client.post(URL, payload(site, outing=outing_a.pk, person=named.pk), format="json")
    assert with_named.status_code == 400
    assert "person" in with_named.json()
    assert Encounter.objects.count() == 1


def test_a_superuser_sees_every_team(superuser, team_a, team_b, site):
    encounters = {EncounterFactory(team=team_a, site=site).pk, EncounterFactory(team=team_b, site=site).pk}

    assert ids(api_client(superuser).get(URL)) == encounters


# Filters and ordering ------------------------------------------------------


def test_filters(worker_a, team_a, site, outing_a):
    street = FieldSiteFactory(site_type=SiteType.STREET, municipality=municipality("857"))
    may = EncounterFactory(team=team_a, site=site, outing=outing_a, needs=["housing"])
    june = EncounterFactory(
        team=team_a,
        site=street,
        occurred_at=datetime.datetime(2026, 6, 2, 12, 0, tzinfo=datetime.UTC),
        needs=["substance_use"],
        depth="brief",
    )
    client = api_client(worker_a)

    assert ids(client.get(URL, {"date_after": "2026-06-01"})) == {june.pk}
    assert ids(client.get(URL, {"date_before": "2026-05-31"})) == {may.pk}
    assert ids(client.get(URL, {"start": "2026-05-12", "end": "2026-05-12"})) == {may.pk}
    assert ids(client.get(URL, {"site": street.pk})) == {june.pk}
    assert ids(client.get(URL, {"outing": outing_a.pk})) == {may.pk}
    assert ids(client.get(URL, {"municipality": "857"})) == {june.pk}
    assert ids(client.get(URL, {"site_type": "food_distribution"})) == {may.pk}
    assert ids(client.get(URL, {"need": "housing"})) == {may.pk}
    assert ids(client.get(URL, {"depth": "brief"})) == {june.pk}
    assert ids(client.get(URL, {"team": team_a.pk})) == {may.pk, june.pk}
    # Empty parameters and unknown parameter names are ignored.
    assert ids(client.get(URL, {"site": "", "colour": "blue"})) == {may.pk, june.pk}
    ordered = results(client.get(URL, {"ordering": "occurred_at"}))
    assert [row["id"] for row in ordered] == [may.pk, june.pk]


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("municipality", "999"),
        ("site_type", "beach"),
        ("need", "flying"),
        ("date_after", "2026-13-01"),
        ("start", "yesterday"),
        ("site", "abc"),
        ("team", "99999999999999999999999"),
    ],
)
def test_invalid_filters_get_400_naming_the_parameter(worker_a, parameter, value):
    response = api_client(worker_a).get(URL, {parameter: value})

    assert response.status_code == 400
    assert parameter in response.json()


def test_filter_by_another_teams_record_is_refused(worker_a, team_b, outing_b):
    response = api_client(worker_a).get(URL, {"team": team_b.pk})

    assert response.status_code == 400
    assert "team" in response.json()
    assert api_client(worker_a).get(URL, {"outing": outing_b.pk}).status_code == 400


def test_pagination(worker_a, team_a, site):
    EncounterFactory.create_batch(3, team=team_a, site=site)
    client = api_client(worker_a)

    page = client.get(URL, {"page_size": 2}).json()
    assert page["count"] == 3
    assert len(page["results"]) == 2
    assert page["next"]
    assert client.get(URL, {"page_size": 100000}).status_code == 200
    assert client.get(URL, {"page": 99}).status_code == 404


def test_list_query_count_does_not_grow_with_rows(worker_a, team_a, site, outing_a, django_assert_max_num_queries):
    for _ in range(30):
        encounter = EncounterFactory(team=team_a, site=site, outing=outing_a, person=PersonFactory(team=team_a))
        encounter.workers.set(outing_a.participants.all())
    client = api_client(worker_a)

    with django_assert_max_num_queries(4):
        rows = results(client.get(URL))
    assert len(rows) == 30
    assert all(len(row["workers"]) == 2 for row in rows)


# Update and delete ---------------------------------------------------------


def test_worker_updates_an_encounter(worker_a, team_a, site):
    encounter = EncounterFactory(team=team_a, site=site, created_by=worker_a)
    client = api_client(worker_a)

    response = client.patch(detail(encounter.pk), {"notes": "Follow up next week.", "needs": ["livelihood"]})

    assert response.status_code == 200, response.json()
    assert response.json()["needs"] == ["livelihood"]
    encounter.refresh_from_db()
    assert encounter.notes == "Follow up next week."
    assert encounter.needs == ["livelihood"]
    assert AuditEntry.objects.filter(action=AuditEntry.Action.UPDATE, object_id=str(encounter.pk)).exists()

    put = client.put(detail(encounter.pk), payload(site, team=team_a.pk, depth="brief"), format="json")
    assert put.status_code == 200, put.json()
    encounter.refresh_from_db()
    assert encounter.depth == "brief"


def test_only_the_author_or_a_coordinator_corrects_an_encounter(worker_a, team_a, site, coordinator):
    colleague = UserFactory(role=Role.WORKER, teams=[team_a])
    encounter = EncounterFactory(team=team_a, site=site, created_by=colleague)

    assert api_client(worker_a).patch(detail(encounter.pk), {"notes": "x"}, format="json").status_code == 403
    encounter.refresh_from_db()
    assert encounter.notes == ""
    assert api_client(coordinator).patch(detail(encounter.pk), {"notes": "y"}, format="json").status_code == 200
    encounter.refresh_from_db()
    assert encounter.notes == "y"


def test_update_refuses_unknown_codes_and_changes_nothing(worker_a, team_a, site):
    encounter = EncounterFactory(team=team_a, site=site, needs=["housing"], created_by=worker_a)

    response = api_client(worker_a).patch(detail(encounter.pk), {"needs": ["nope"]}, format="json")

    assert response.status_code == 400
    assert "needs" in response.json()
    encounter.refresh_from_db()
    assert encounter.needs == ["housing"]


def test_the_author_deletes_their_encounter_on_the_same_day(worker_a, team_a, site):
    encounter = EncounterFactory(team=team_a, site=site, created_by=worker_a)

    response = api_client(worker_a).delete(detail(encounter.pk))

    assert response.status_code == 204
    assert not Encounter.objects.filter(pk=encounter.pk).exists()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.DELETE, object_id=str(encounter.pk)).exists()


def test_nobody_but_a_coordinator_deletes_an_encounter_later_or_someone_elses(worker_a, team_a, site, coordinator):
    colleague = UserFactory(role=Role.WORKER, teams=[team_a])
    old = EncounterFactory(team=team_a, site=site, created_by=worker_a)
    Encounter.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=1))
    someone_elses = EncounterFactory(team=team_a, site=site, created_by=colleague)

    assert api_client(worker_a).delete(detail(old.pk)).status_code == 403
    assert api_client(worker_a).delete(detail(someone_elses.pk)).status_code == 403
    assert Encounter.objects.count() == 2

    assert api_client(coordinator).delete(detail(old.pk)).status_code == 204
    assert api_client(coordinator).delete(detail(someone_elses.pk)).status_code == 204
    assert not Encounter.objects.exists()


def test_an_expert_deletes_only_their_own_entry(expert_a, worker_a, team_a, site, outing_a):
    own = EncounterFactory(team=team_a, site=site, outing=outing_a, created_by=expert_a)
    workers = EncounterFactory(team=team_a, site=site, outing=outing_a, created_by=worker_a)

    assert api_client(expert_a).delete(detail(workers.pk)).status_code == 403
    assert api_client(expert_a).delete(detail(own.pk)).status_code == 204
    assert list(Encounter.objects.all()) == [workers]


def test_an_encounter_with_referrals_is_not_deleted(worker_a, team_a, site):
    encounter = EncounterFactory(team=team_a, site=site, created_by=worker_a)
    ReferralFactory(team=team_a, encounter=encounter)

    response = api_client(worker_a).delete(detail(encounter.pk))

    assert response.status_code == 400
    assert Encounter.objects.filter(pk=encounter.pk).exists()


# Exactly-once creation -----------------------------------------------------


def test_the_same_create_twice_makes_one_record_and_answers_with_it(worker_a, site):
    client = api_client(worker_a)
    data = payload(site, client_uuid=str(uuid.uuid4()))

    first = client.post(URL, data, format="json")
    second = client.post(URL, data, format="json")

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert Encounter.objects.count() == 1
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CREATE, model="encounters.encounter").count() == 1


def test_a_repeat_with_the_same_content_written_differently_is_the_same(worker_a, team_a, site):
    client = api_client(worker_a)
    key = str(uuid.uuid4())
    first = client.post(URL, payload(site, client_uuid=key), format="json")

    # Same instant in UTC, codes in another order, team given explicitly.
    same = payload(site, client_uuid=key, occurred_at="2026-05-12T07:30:00Z", needs=["housing", "mental_health"])
    second = client.post(URL, {**same, "team": team_a.pk}, format="json")

    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert Encounter.objects.count() == 1


def test_a_repeat_with_different_content_is_a_conflict_and_changes_nothing(worker_a, site):
    client = api_client(worker_a)
    key = str(uuid.uuid4())
    client.post(URL, payload(site, client_uuid=key), format="json")

    response = client.post(URL, payload(site, client_uuid=key, notes="Something else"), format="json")

    assert response.status_code == 409
    assert Encounter.objects.count() == 1
    assert Encounter.objects.get().notes == "Talked about housing."


def test_a_uuid_of_another_teams_record_is_a_conflict(worker_a, worker_b, site):
    key = str(uuid.uuid4())
    assert api_client(worker_a).post(URL, payload(site, client_uuid=key), format="json").status_code == 201

    response = api_client(worker_b).post(URL, payload(site, client_uuid=key), format="json")

    assert response.status_code == 409
    assert "Talked about housing" not in response.content.decode()
    assert Encounter.objects.count() == 1
    assert Encounter.objects.get().team.members.filter(pk=worker_a.pk).exists()


def test_two_sends_racing_make_one_record(worker_a, team_a, site, monkeypatch):
    """Both sends pass the uniqueness check before either row exists; the unique
    constraint then decides, and the loser answers as a repeat."""
    key = str(uuid.uuid4())
    first = api_client(worker_a).post(URL, payload(site, client_uuid=key), format="json")
    checks = []

    def check_that_misses(self, exclude=None):
        checks.append(self.client_uuid)  # the other send's row was not there yet

    monkeypatch.setattr(Encounter, "validate_unique", check_that_misses)

    response = api_client(worker_a).post(URL, payload(site, client_uuid=key), format="json")

    assert len(checks) == 1
    assert response.status_code == 200
    assert response.json() == first.json()
    assert Encounter.objects.filter(client_uuid=key).count() == 1


def test_creates_without_client_uuid_are_not_deduplicated(worker_a, site):
    client = api_client(worker_a)

    assert client.post(URL, payload(site), format="json").status_code == 201
    assert client.post(URL, payload(site), format="json").status_code == 201
    assert Encounter.objects.count() == 2


def test_client_uuid_is_fixed_at_creation(worker_a, team_a, site):
    key = uuid.uuid4()
    encounter = EncounterFactory(team=team_a, site=site, client_uuid=key, created_by=worker_a)

    response = api_client(worker_a).patch(detail(encounter.pk), {"client_uuid": str(uuid.uuid4())}, format="json")

    assert response.status_code == 200
    encounter.refresh_from_db()
    assert encounter.client_uuid == key


def test_another_team_outside_the_area_is_invisible_to_a_coordinator(coordinator, team_other_area, site):
    hidden = EncounterFactory(team=team_other_area, site=site)

    assert api_client(coordinator).get(detail(hidden.pk)).status_code == 404
    assert hidden.pk not in ids(api_client(coordinator).get(URL))
