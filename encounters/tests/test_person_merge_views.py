"""Merging two records of one person and undoing it, and naming a pseudonymous person with consent,
from the person page. Workers and coordinators of the team only; another team's worker gets 404 and an
expert by experience 404 or 403, and sees none of these forms."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from encounters.models import Consent, Encounter, FollowUp, Person, PersonMerge, Referral
from encounters.tests.factories import EncounterFactory, PersonFactory, ReferralFactory
from outreach.models import AuditEntry
from outreach.tests.factories import OutingFactory
from outreach.vocabulary import Gender

# A valid personal identity code (its check character matches).
VALID_CODE = "131052-308T"


def html(response) -> str:
    return response.content.decode()


def url(name: str, *args) -> str:
    return reverse(f"encounters:{name}", args=args)


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def kept(team_a):
    return PersonFactory(team=team_a, alias="Kettu", birth_year=1985, gender=Gender.FEMALE)


@pytest.fixture
def duplicate(team_a):
    return PersonFactory(team=team_a, alias="Kettu K", birth_year=1986, gender=Gender.FEMALE)


@pytest.fixture
def duplicate_rows(team_a, duplicate, today):
    """Two encounters, a referral and a follow-up of the duplicate record."""
    encounters = [EncounterFactory(team=team_a, person=duplicate) for _ in range(2)]
    referral = ReferralFactory(team=team_a, person=duplicate)
    follow_up = FollowUp.objects.create(team=team_a, person=duplicate, due_on=today)
    return {"encounters": encounters, "referral": referral, "follow_up": follow_up}


def merge(client, kept, duplicate, **extra):
    return client.post(url("person_merge", kept.pk), {"merged": duplicate.pk, "confirm": "1", **extra})


def named_data(**changes) -> dict:
    data = {
        "named-consent_scopes": ["personal_data", "contact"],
        "named-first_name": "Maija",
        "named-last_name": "Meikäläinen",
        "named-identity_code": "",
        "named-phone": "040 123 4567",
        "named-email": "maija@example.org",
        "named-consent_given_on": timezone.localdate().isoformat(),
    }
    data.update(changes)
    return data


# Merging -----------------------------------------------------------------------------------------


def test_the_person_page_offers_the_merge_search_and_an_empty_history(client, worker_a, kept):
    client.force_login(worker_a)

    response = client.get(url("person_detail", kept.pk))

    assert response.status_code == 200
    content = html(response)
    assert "Merge a duplicate into this record" in content
    assert f'action="{url("person_merge", kept.pk)}"' in content
    assert "No records have been merged into this one." in content


def test_a_search_lists_the_teams_other_unmerged_persons_only(client, worker_a, team_a, team_b, kept, duplicate):
    other_team = PersonFactory(team=team_b, alias="Kettu B")
    already_merged = PersonFactory(team=team_a, alias="Kettu M", merged_into=kept)
    client.force_login(worker_a)

    response = client.post(url("person_merge", kept.pk), {"person_query": "kettu"})

    assert response.status_code == 200
    assert response.context["person_results"] == [duplicate]
    content = html(response)
    assert f'value="{duplicate.pk}"' in content
    for absent in (other_team, already_merged):
        assert f'id="id_merged_{absent.pk}"' not in content
    assert not PersonMerge.objects.exists()


def test_choosing_the_duplicate_shows_both_records_side_by_side_and_changes_nothing(
    client, worker_a, kept, duplicate, duplicate_rows
):
    client.force_login(worker_a)

    response = client.post(url("person_merge", kept.pk), {"merged": duplicate.pk})

    assert response.status_code == 200
    assert response.context["kept_side"]["person"] == kept
    assert response.context["merged_side"]["encounters"] == 2
    assert response.context["merged_side"]["referrals"] == 1
    assert response.context["merged_side"]["follow_ups"] == 1
    assert response.context["kept_side"]["encounters"] == 0
    content = html(response)
    assert "Kettu K" in content
    assert "1986" in content
    assert 'name="confirm" value="1"' in content
    duplicate.refresh_from_db()
    assert duplicate.merged_into is None
    assert not PersonMerge.objects.exists()
    assert Encounter.objects.filter(person=duplicate).count() == 2


def test_merging_moves_the_rows_to_the_kept_record_which_lists_the_merge(
    client, worker_a, kept, duplicate, duplicate_rows
):
    client.force_login(worker_a)

    response = merge(client, kept, duplicate)

    assert response.status_code == 302
    assert response.url == url("person_detail", kept.pk)
    duplicate.refresh_from_db()
    assert duplicate.merged_into == kept
    assert Encounter.objects.filter(person=kept).count() == 2
    assert Referral.objects.get(pk=duplicate_rows["referral"].pk).person == kept
    assert FollowUp.objects.get(pk=duplicate_rows["follow_up"].pk).person == kept
    record = PersonMerge.objects.get()
    assert (record.kept, record.merged, record.merged_by) == (kept, duplicate, worker_a)
    assert AuditEntry.objects.filter(
        action=AuditEntry.Action.CREATE, model="encounters.personmerge", actor=worker_a
    ).exists()

    page = client.get(response.url)
    assert "The duplicate was merged into this record." in html(page)
    assert page.context["merge_history"] == [record]
    assert page.context["encounter_count"] == 2
    assert f'action="{url("person_unmerge", duplicate.pk)}"' in html(page)


def test_a_coordinator_merges_too(client, with_totp, coordinator, kept, duplicate, duplicate_rows):
    client.force_login(with_totp(coordinator))

    response = merge(client, kept, duplicate)

    assert response.status_code == 302
    assert PersonMerge.objects.get().merged_by == coordinator


def test_a_merged_record_shows_the_notice_and_the_undo(client, worker_a, kept, duplicate, duplicate_rows):
    client.force_login(worker_a)
    merge(client, kept, duplicate)

    response = client.get(url("person_detail", duplicate.pk))

    assert response.status_code == 200
    content = html(response)
    assert 'id="merged-notice"' in content
    assert f'href="{url("person_detail", kept.pk)}"' in content
    assert f'action="{url("person_unmerge", duplicate.pk)}"' in content
    # A merged record is not changed, nor merged again, nor named.
    assert f'action="{url("person_merge", duplicate.pk)}"' not in content
    assert f'action="{url("person_make_named", duplicate.pk)}"' not in content
    assert client.post(url("person_merge", duplicate.pk), {"merged": kept.pk, "confirm": "1"}).status_code == 403


def test_undo_moves_the_rows_back_and_keeps_the_history(client, worker_a, kept, duplicate, duplicate_rows):
    own = EncounterFactory(team=kept.team, person=kept)
    client.force_login(worker_a)
    merge(client, kept, duplicate)

    response = client.post(url("person_unmerge", duplicate.pk))

    assert response.status_code == 302
    assert response.url == url("person_detail", duplicate.pk)
    duplicate.refresh_from_db()
    assert duplicate.merged_into is None
    assert set(Encounter.objects.filter(person=duplicate)) == set(duplicate_rows["encounters"])
    assert list(Encounter.objects.filter(person=kept)) == [own]
    assert Referral.objects.get(pk=duplicate_rows["referral"].pk).person == duplicate
    assert FollowUp.objects.get(pk=duplicate_rows["follow_up"].pk).person == duplicate
    record = PersonMerge.objects.get()
    assert (record.undone_by, record.undone_at is not None) == (worker_a, True)
    assert AuditEntry.objects.filter(
        action=AuditEntry.Action.UPDATE, model="encounters.personmerge", actor=worker_a
    ).exists()

    assert "The merge was undone." in html(client.get(response.url))
    history = html(client.get(url("person_detail", kept.pk)))
    assert "Undone" in history
    assert f'action="{url("person_unmerge", duplicate.pk)}"' not in history


def test_an_undone_merge_is_not_undone_twice(client, worker_a, kept, duplicate, duplicate_rows):
    client.force_login(worker_a)
    merge(client, kept, duplicate)
    client.post(url("person_unmerge", duplicate.pk))

    response = client.post(url("person_unmerge", duplicate.pk), follow=True)

    assert "This record is not merged into another one." in html(response)
    assert PersonMerge.objects.get().undone_by == worker_a
    assert Encounter.objects.filter(person=duplicate).count() == 2


def test_another_teams_person_cannot_be_picked_or_posted(client, worker_a, team_b, kept):
    stranger = PersonFactory(team=team_b, alias="Kettu B")
    EncounterFactory(team=team_b, person=stranger)
    client.force_login(worker_a)

    compare = client.post(url("person_merge", kept.pk), {"merged": stranger.pk})
    response = merge(client, kept, stranger)

    assert compare.status_code == 400
    assert response.status_code == 400
    assert "merged" in response.context["form"].errors
    assert "Duplicate record" in html(response)
    stranger.refresh_from_db()
    assert stranger.merged_into is None
    assert Encounter.objects.filter(person=stranger).count() == 1
    assert not PersonMerge.objects.exists()


def test_a_record_cannot_be_merged_into_itself(client, worker_a, kept):
    client.force_login(worker_a)

    response = merge(client, kept, kept)

    assert response.status_code == 400
    assert "merged" in response.context["form"].errors
    kept.refresh_from_db()
    assert kept.merged_into is None
    assert not PersonMerge.objects.exists()


def test_another_teams_worker_gets_404_and_changes_nothing(client, worker_b, kept, duplicate, duplicate_rows):
    client.force_login(worker_b)

    assert client.post(url("person_merge", kept.pk), {"person_query": "kettu"}).status_code == 404
    assert merge(client, kept, duplicate).status_code == 404
    assert client.post(url("person_make_named", kept.pk), named_data()).status_code == 404

    assert not PersonMerge.objects.exists()
    duplicate.refresh_from_db()
    kept.refresh_from_db()
    assert (duplicate.merged_into, kept.kind) == (None, Person.Kind.PSEUDONYMOUS)


def test_another_teams_worker_cannot_undo_a_merge(client, worker_a, worker_b, kept, duplicate, duplicate_rows):
    client.force_login(worker_a)
    merge(client, kept, duplicate)
    client.force_login(worker_b)

    assert client.post(url("person_unmerge", duplicate.pk)).status_code == 404

    duplicate.refresh_from_db()
    assert duplicate.merged_into == kept
    assert PersonMerge.objects.get().undone_at is None


def test_merging_and_naming_are_get_refused(client, worker_a, kept):
    client.force_login(worker_a)

    for name in ("person_merge", "person_unmerge", "person_make_named"):
        assert client.get(url(name, kept.pk)).status_code == 405


def test_an_expert_sees_no_merge_or_consent_forms_and_is_refused(
    client, expert_a, worker_a, team_a, kept, duplicate, duplicate_rows
):
    outing = OutingFactory(team=team_a, participants=[expert_a])
    EncounterFactory(team=team_a, site=outing.site, outing=outing, person=kept)
    EncounterFactory(team=team_a, site=outing.site, outing=outing, person=duplicate)
    client.force_login(expert_a)

    page = client.get(url("person_detail", kept.pk))

    assert page.status_code == 200
    content = html(page)
    for name in ("person_merge", "person_unmerge", "person_make_named"):
        assert url(name, kept.pk) not in content
    assert 'id="merges"' not in content
    assert 'id="make-named"' not in content
    assert client.post(url("person_merge", kept.pk), {"person_query": "kettu"}).status_code == 403
    assert merge(client, kept, duplicate).status_code == 403
    assert client.post(url("person_make_named", kept.pk), named_data()).status_code == 403
    assert not PersonMerge.objects.exists()
    kept.refresh_from_db()
    assert kept.kind == Person.Kind.PSEUDONYMOUS

    # A merge made by a worker: the expert cannot open the merged record nor undo it.
    client.force_login(worker_a)
    merge(client, kept, duplicate)
    client.force_login(expert_a)
    assert client.post(url("person_unmerge", duplicate.pk)).status_code in (403, 404)
    assert PersonMerge.objects.get().undone_at is None


# Consent and name --------------------------------------------------------------------------------


def test_a_pseudonymous_person_page_offers_recording_consent(client, worker_a, kept):
    client.force_login(worker_a)

    content = html(client.get(url("person_detail", kept.pk)))

    assert "Record consent and name" in content
    assert f'action="{url("person_make_named", kept.pk)}"' in content


def test_recording_consent_names_the_person_and_lists_the_consents(client, worker_a, kept, today):
    client.force_login(worker_a)

    response = client.post(url("person_make_named", kept.pk), named_data(**{"named-identity_code": VALID_CODE}))

    assert response.status_code == 302
    assert response.url == url("person_detail", kept.pk)
    kept.refresh_from_db()
    assert kept.kind == Person.Kind.NAMED
    assert (kept.first_name, kept.last_name, kept.identity_code) == ("Maija", "Meikäläinen", VALID_CODE)
    assert (kept.phone, kept.email) == ("040 123 4567", "maija@example.org")
    consents = Consent.objects.filter(person=kept)
    assert {consent.scope for consent in consents} == {"personal_data", "contact"}
    assert {(consent.given_on, consent.recorded_by) for consent in consents} == {(today, worker_a)}
    entry = AuditEntry.objects.get(action=AuditEntry.Action.UPDATE, model="encounters.person")
    assert entry.actor == worker_a
    assert "Meikäläinen" not in str(entry.changes)

    page = client.get(response.url)
    content = html(page)
    assert "Maija Meikäläinen" in content
    assert "Recording personal data" in content
    assert "Being contacted" in content
    assert "Not withdrawn" in content
    assert f'action="{url("person_make_named", kept.pk)}"' not in content


def test_a_named_person_cannot_be_named_again(client, worker_a, kept):
    client.force_login(worker_a)
    client.post(url("person_make_named", kept.pk), named_data())

    response = client.post(url("person_make_named", kept.pk), named_data(**{"named-first_name": "Liisa"}))

    assert response.status_code == 403
    kept.refresh_from_db()
    assert kept.first_name == "Maija"
    assert Consent.objects.filter(person=kept).count() == 2


def test_consent_to_personal_data_is_required(client, worker_a, kept):
    client.force_login(worker_a)

    response = client.post(url("person_make_named", kept.pk), named_data(**{"named-consent_scopes": ["contact"]}))

    assert response.status_code == 200
    assert "consent_scopes" in response.context["named_form"].errors
    content = html(response)
    assert "A named record needs consent to recording personal data." in content
    assert 'href="#id_named-consent_scopes"' in content
    assert 'value="Meikäläinen"' in content
    kept.refresh_from_db()
    assert (kept.kind, kept.first_name) == (Person.Kind.PSEUDONYMOUS, "")
    assert not Consent.objects.exists()


def test_an_invalid_identity_code_names_the_field_and_keeps_what_was_typed(client, worker_a, kept):
    client.force_login(worker_a)

    response = client.post(url("person_make_named", kept.pk), named_data(**{"named-identity_code": "131052-308A"}))

    assert response.status_code == 200
    errors = response.context["named_form"].errors
    assert list(errors) == ["identity_code"]
    content = html(response)
    assert "This personal identity code is not valid" in content
    assert 'value="131052-308A"' in content
    assert 'value="Maija"' in content
    # The page shows the record as it is stored: still pseudonymous, under its alias.
    assert response.context["person"].kind == Person.Kind.PSEUDONYMOUS
    kept.refresh_from_db()
    assert (kept.kind, kept.first_name, kept.identity_code) == (Person.Kind.PSEUDONYMOUS, "", "")
    assert not Consent.objects.exists()
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.UPDATE).exists()


def test_a_name_is_required(client, worker_a, kept):
    client.force_login(worker_a)

    response = client.post(
        url("person_make_named", kept.pk), named_data(**{"named-first_name": "", "named-last_name": ""})
    )

    assert response.status_code == 200
    assert "last_name" in response.context["named_form"].errors
    kept.refresh_from_db()
    assert kept.kind == Person.Kind.PSEUDONYMOUS
    assert not Consent.objects.exists()


def test_a_consent_date_in_the_future_is_refused(client, worker_a, kept, today):
    client.force_login(worker_a)
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()

    response = client.post(url("person_make_named", kept.pk), named_data(**{"named-consent_given_on": tomorrow}))

    assert response.status_code == 200
    assert "consent_given_on" in response.context["named_form"].errors
    assert not Consent.objects.exists()


def test_the_consent_date_defaults_to_today(client, worker_a, kept, today):
    client.force_login(worker_a)

    content = html(client.get(url("person_detail", kept.pk)))

    assert f'name="named-consent_given_on" value="{today.isoformat()}"' in content


def test_the_person_page_stays_within_its_query_budget_with_merges_and_consents(
    client, worker_a, team_a, kept, django_assert_max_num_queries
):
    client.force_login(worker_a)
    for _ in range(5):
        client.post(url("person_merge", kept.pk), {"merged": PersonFactory(team=team_a).pk, "confirm": "1"})
    client.post(url("person_make_named", kept.pk), named_data())
    assert PersonMerge.objects.filter(kept=kept).count() == 5

    with django_assert_max_num_queries(10):
        response = client.get(url("person_detail", kept.pk))

    assert response.status_code == 200
    assert len(response.context["merge_history"]) == 5
    assert len(response.context["consents"]) == 2
