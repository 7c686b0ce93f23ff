"""Every read that shows a person's data writes an access-log row (who, when, which person, what).

One helper (encounters.services.person_access_log) is called by every door:
the API's lists and records, the pages, the admin, the searches and exports.
"""

import datetime

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.urls import reverse

from encounters.models import Consent, FollowUp, Person
from encounters.services import person_access_log
from encounters.tests.factories import EncounterFactory, PersonFactory, ReferralFactory
from outreach.models import AccessLogEntry, Disclosure
from outreach.tests.api_helpers import api_client, results
from outreach.tests.factories import FieldSiteFactory, OutingFactory

IDENTITY_CODE = "131052-308T"


@pytest.fixture
def named(team_a):
    return Person.objects.create(
        team=team_a, kind=Person.Kind.NAMED, first_name="Maija", last_name="Meikäläinen", identity_code=IDENTITY_CODE
    )


@pytest.fixture
def other_named(team_a):
    return Person.objects.create(team=team_a, kind=Person.Kind.NAMED, first_name="Pekka", last_name="Puupää")


@pytest.fixture
def site(team_a):
    return FieldSiteFactory(team=team_a)


@pytest.fixture
def outing(team_a, site, worker_a):
    outing = OutingFactory(team=team_a, site=site, date=datetime.date(2026, 5, 12))
    outing.participants.add(worker_a)
    return outing


def logged(person, **filters) -> list[tuple]:
    rows = AccessLogEntry.objects.filter(person_id=person.pk, **filters).order_by("id")
    return [(row.actor_id, row.action, row.door) for row in rows]


# The API ---------------------------------------------------------------------------------------


def test_persons_list_with_kind_named_logs_each_person_shown(worker_a, named, other_named, team_a):
    PersonFactory(team=team_a)  # pseudonymous, not in the answer

    rows = results(api_client(worker_a).get("/api/v1/persons/", {"kind": "named"}))

    assert {row["id"] for row in rows} == {named.pk, other_named.pk}
    assert logged(named) == [(worker_a.pk, "list", "api")]
    assert logged(other_named) == [(worker_a.pk, "list", "api")]
    assert AccessLogEntry.objects.count() == 2


def test_a_persons_record_read_through_the_api_is_logged(worker_a, named):
    assert api_client(worker_a).get(f"/api/v1/persons/{named.pk}/").status_code == 200

    assert logged(named) == [(worker_a.pk, "view", "api")]


def test_encounter_list_filtered_by_person_logs_the_person(worker_a, named, team_a, site):
    EncounterFactory.create_batch(3, team=team_a, site=site, person=named, anonymous=False)
    EncounterFactory(team=team_a, site=site)

    rows = results(api_client(worker_a).get("/api/v1/encounters/", {"person": named.pk}))

    assert len(rows) == 3
    # One row per request for the person listed, not one per encounter.
    assert logged(named) == [(worker_a.pk, "list", "api")]


def test_referral_and_follow_up_lists_filtered_by_person_log_the_person(worker_a, named, team_a):
    referral = ReferralFactory(team=team_a, person=named)
    FollowUp.objects.create(team=team_a, person=named, referral=referral, due_on=datetime.date(2026, 6, 1))
    client = api_client(worker_a)

    assert len(results(client.get("/api/v1/referrals/", {"person": named.pk}))) == 1
    assert len(results(client.get("/api/v1/follow-ups/", {"person": named.pk}))) == 1
    assert client.get(f"/api/v1/referrals/{referral.pk}/").status_code == 200

    assert logged(named) == [(worker_a.pk, "list", "api"), (worker_a.pk, "list", "api"), (worker_a.pk, "view", "api")]


def test_a_list_that_shows_nobody_logs_nothing(worker_a, team_a, site):
    EncounterFactory(team=team_a, site=site)

    assert len(results(api_client(worker_a).get("/api/v1/encounters/"))) == 1

    assert not AccessLogEntry.objects.exists()


def test_another_teams_reader_gets_404_and_leaves_no_row(worker_b, named):
    assert api_client(worker_b).get(f"/api/v1/persons/{named.pk}/").status_code == 404
    assert results(api_client(worker_b).get("/api/v1/persons/", {"kind": "named"})) == []

    assert not AccessLogEntry.objects.exists()


# The pages -------------------------------------------------------------------------------------


def test_the_person_page_logs_a_view(client, worker_a, named):
    client.force_login(worker_a)

    assert client.get(reverse("encounters:person_detail", args=[named.pk])).status_code == 200

    assert logged(named) == [(worker_a.pk, "view", "page")]


def test_the_referral_page_that_shows_the_name_logs_a_view(client, worker_a, named, team_a):
    referral = ReferralFactory(team=team_a, person=named)
    client.force_login(worker_a)

    response = client.get(reverse("encounters:referral_detail", args=[referral.pk]))

    assert response.status_code == 200
    assert "Maija Meikäläinen" in response.content.decode()
    assert logged(named) == [(worker_a.pk, "view", "page")]


def test_a_person_search_logs_each_person_found(client, worker_a, named, other_named, outing):
    client.force_login(worker_a)

    response = client.post(reverse("encounters:person_search", args=[outing.pk]), {"person_query": "Maija"})

    assert response.status_code == 200
    # Found by name; in the field the name is shown as initials only.
    assert f'value="{named.pk}"' in response.content.decode()
    assert logged(named) == [(worker_a.pk, "search", "page")]
    assert logged(other_named) == []


def test_the_outing_page_logs_the_persons_of_its_encounters(client, worker_a, named, team_a, site, outing):
    EncounterFactory.create_batch(2, team=team_a, site=site, outing=outing, person=named, anonymous=False)
    client.force_login(worker_a)

    assert client.get(reverse("encounters:outing_detail", args=[outing.pk])).status_code == 200

    assert logged(named) == [(worker_a.pk, "list", "page")]


# The admin -------------------------------------------------------------------------------------


def test_the_admin_change_page_with_the_identity_code_logs_a_view(client, with_totp, coordinator, named):
    client.force_login(with_totp(coordinator))

    response = client.get(reverse("admin:encounters_person_change", args=[named.pk]))

    assert response.status_code == 200
    assert IDENTITY_CODE in response.content.decode()
    assert logged(named) == [(coordinator.pk, "view", "admin")]


def test_the_admin_person_list_and_its_search_log_each_person_shown(client, with_totp, coordinator, named, other_named):
    client.force_login(with_totp(coordinator))

    assert client.get(reverse("admin:encounters_person_changelist")).status_code == 200
    search = client.post(reverse("admin:encounters_person_changelist"), {"q": "Pekka", "_search": "1"})
    response = client.get(search.url)

    assert response.status_code == 200
    assert logged(named) == [(coordinator.pk, "list", "admin")]
    assert logged(other_named) == [(coordinator.pk, "list", "admin"), (coordinator.pk, "list", "admin")]


def test_admin_lists_and_pages_of_a_persons_records_log_the_person(client, with_totp, coordinator, named, team_a):
    referral = ReferralFactory(team=team_a, person=named)
    consent = Consent.objects.create(person=named, scope=Consent.Scope.PERSONAL_DATA)
    client.force_login(with_totp(coordinator))

    assert client.get(reverse("admin:encounters_referral_changelist")).status_code == 200
    assert client.get(reverse("admin:encounters_referral_change", args=[referral.pk])).status_code == 200
    assert client.get(reverse("admin:encounters_consent_change", args=[consent.pk])).status_code == 200

    assert logged(named) == [
        (coordinator.pk, "list", "admin"),
        (coordinator.pk, "view", "admin"),
        (coordinator.pk, "view", "admin"),
    ]


# Exports ---------------------------------------------------------------------------------------


def test_an_export_logs_each_person_and_records_a_disclosure(tmp_path, coordinator, named, team_a, site):
    from django.core.management import call_command

    EncounterFactory.create_batch(2, team=team_a, site=site, person=named, anonymous=False)
    EncounterFactory(team=team_a, site=site)
    path = tmp_path / "encounters.csv"

    call_command(
        "export_records",
        "encounters",
        str(path),
        user=coordinator.email,
        recipient="THL statistics",
        legal_basis="statutory",
    )

    assert logged(named) == [(coordinator.pk, "export", "command")]
    disclosure = Disclosure.objects.get()
    assert (disclosure.actor, disclosure.kind, disclosure.recipient, disclosure.legal_basis) == (
        coordinator,
        Disclosure.Kind.EXPORT,
        "THL statistics",
        "statutory",
    )
    assert disclosure.categories == ["pseudonymous", "encounters"]
    assert (disclosure.record_type, disclosure.record_count, disclosure.person_ids) == (
        "encounters.encounter",
        3,
        [named.pk],
    )


# Append-only ------------------------------------------------------------------------------------


def test_log_rows_cannot_be_changed_or_deleted_through_the_models(worker_a, named):
    person_access_log(actor=worker_a, persons=[named], action="view")
    entry = AccessLogEntry.objects.get()

    entry.action = "list"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AccessLogEntry.objects.filter(pk=entry.pk).update(action="list")
    with pytest.raises(PermissionError):
        AccessLogEntry.objects.all().delete()
    assert AccessLogEntry.objects.get().action == "view"


def test_the_log_outlives_the_person_record(worker_a, team_a):
    person = PersonFactory(team=team_a)
    person_access_log(actor=worker_a, persons=[person], action="view")
    person_id = person.pk

    person.delete()

    assert AccessLogEntry.objects.filter(person_id=person_id).count() == 1


def test_the_admin_offers_no_change_or_delete_of_log_rows(client, with_totp, superuser, named):
    person_access_log(actor=superuser, persons=[named], action="view")
    entry = AccessLogEntry.objects.get()
    client.force_login(with_totp(superuser))

    assert client.get(reverse("admin:outreach_accesslogentry_changelist")).status_code == 200
    delete_url = reverse("admin:outreach_accesslogentry_delete", args=[entry.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert AccessLogEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.postgresql
@pytest.mark.parametrize("table", ["outreach_accesslogentry", "outreach_disclosure"])
def test_postgresql_refuses_update_and_delete_of_log_rows(worker_a, named, table):
    person_access_log(actor=worker_a, persons=[named], action="view")
    Disclosure.objects.create(kind="export", recipient="x", categories=[], legal_basis="not_recorded")

    for statement in (f"UPDATE {table} SET at = now()", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        assert cursor.fetchone()[0] == 1


# Edits -----------------------------------------------------------------------------------------


def test_an_edit_on_the_person_page_writes_an_edit_row(client, worker_a, named):
    client.force_login(worker_a)

    response = client.post(
        reverse("encounters:person_edit", args=[named.pk]), {"alias": "", "gender": "unknown", "notes": "Moved"}
    )

    assert response.status_code == 302
    assert logged(named, action="edit") == [(worker_a.pk, "edit", "page")]


def test_an_edit_through_the_api_writes_an_edit_row(worker_a, named):
    response = api_client(worker_a).patch(f"/api/v1/persons/{named.pk}/", {"phone": "040 1"}, format="json")

    assert response.status_code == 200
    assert logged(named, action="edit") == [(worker_a.pk, "edit", "api")]


def test_an_edit_that_changes_nothing_writes_no_edit_row(worker_a, named):
    api_client(worker_a).patch(f"/api/v1/persons/{named.pk}/", {"first_name": "Maija"}, format="json")

    assert logged(named, action="edit") == []


def test_editing_a_persons_encounter_or_referral_logs_an_edit_of_the_person(worker_a, named, team_a, site):
    from encounters.services import encounter_update, referral_update

    encounter = EncounterFactory(team=team_a, site=site, person=named, anonymous=False, created_by=worker_a)
    referral = ReferralFactory(team=team_a, person=named)

    encounter_update(actor=worker_a, encounter=encounter, notes="Housing")
    referral_update(actor=worker_a, referral=referral, outcome_notes="Called")

    assert logged(named, action="edit") == [(worker_a.pk, "edit", "page"), (worker_a.pk, "edit", "page")]


def test_moving_an_encounter_to_another_person_logs_both(worker_a, named, other_named, team_a, site):
    from encounters.services import encounter_update

    encounter = EncounterFactory(team=team_a, site=site, person=named, anonymous=False, created_by=worker_a)

    encounter_update(actor=worker_a, encounter=encounter, person=other_named)

    assert logged(named, action="edit") == [(worker_a.pk, "edit", "page")]
    assert logged(other_named, action="edit") == [(worker_a.pk, "edit", "page")]


def test_naming_and_merging_are_logged_as_edits(worker_a, team_a):
    from encounters.services import person_make_named, person_merge

    kept = PersonFactory(team=team_a)
    duplicate = PersonFactory(team=team_a)

    person_make_named(actor=worker_a, person=kept, consent_scopes=["personal_data"], first_name="Maija")
    person_merge(actor=worker_a, kept=kept, merged=duplicate)

    assert logged(kept, action="edit") == [(worker_a.pk, "edit", "page")] * 2
    assert logged(duplicate, action="edit") == [(worker_a.pk, "edit", "page")]


def test_the_report_lists_an_edit_once(worker_a, coordinator, named):
    from encounters.services import person_update

    person_update(actor=worker_a, person=named, phone="040 123")

    rows = api_client(coordinator).get(f"/api/v1/persons/{named.pk}/access-log/").json()["results"]

    assert [(row["user"], row["action"]) for row in rows] == [(coordinator.pk, "access_log"), (worker_a.pk, "edit")]


def test_the_log_keeps_its_rows_when_the_record_is_pseudonymised_by_retention(worker_a, named, settings):
    from encounters.services import _pseudonymise

    person_access_log(actor=worker_a, persons=[named], action="view")

    _pseudonymise(named, datetime.date(2026, 12, 1))

    assert [row[1] for row in logged(named)] == ["view", "edit"]


def test_the_log_has_no_foreign_key_to_the_person():
    field = AccessLogEntry._meta.get_field("person_id")

    assert not field.is_relation
