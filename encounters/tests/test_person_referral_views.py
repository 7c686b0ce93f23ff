"""The person and referral pages: who may open them, the access log, editing a person, moving a
referral's status forward only, and its follow-ups. The Today page and the outing page link to them."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from encounters.models import FollowUp, Person, Referral
from encounters.tests.factories import EncounterFactory, PersonFactory, ReferralFactory
from outreach.models import AccessLogEntry, AuditEntry
from outreach.tests.factories import FieldSiteFactory, OutingFactory
from outreach.vocabulary import ContactKind, Gender, OutingStatus, ReferralStatus


def html(response) -> str:
    return response.content.decode()


def url(name: str, *args) -> str:
    return reverse(f"encounters:{name}", args=args)


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def person(team_a):
    return PersonFactory(team=team_a, alias="Kettu", birth_year=1985, gender=Gender.FEMALE)


@pytest.fixture
def named(team_a):
    return Person.objects.create(team=team_a, kind=Person.Kind.NAMED, first_name="Maija", last_name="Meikäläinen")


@pytest.fixture
def referral(team_a, person):
    return ReferralFactory(team=team_a, person=person, status=ReferralStatus.MADE, made_on=datetime.date(2026, 5, 12))


def views_logged(person) -> int:
    return AccessLogEntry.objects.filter(action=AccessLogEntry.Action.VIEW, person_id=person.pk).count()


# Access ------------------------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_sign_in(client, person, referral):
    for address in (url("person_detail", person.pk), url("referral_detail", referral.pk)):
        response = client.get(address)
        assert response.status_code == 302
        assert reverse("account_login") in response.url
    assert client.post(url("referral_status", referral.pk), {"status": "connected"}).status_code == 302
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.MADE
    assert views_logged(person) == 0


def test_a_worker_of_the_team_opens_the_person_and_referral_pages(client, worker_a, person, referral):
    client.force_login(worker_a)

    person_page = client.get(url("person_detail", person.pk))
    referral_page = client.get(url("referral_detail", referral.pk))

    assert person_page.status_code == 200
    assert "Kettu" in html(person_page)
    assert f'href="{url("referral_detail", referral.pk)}"' in html(person_page)
    assert referral_page.status_code == 200
    assert f'href="{url("person_detail", person.pk)}"' in html(referral_page)


def test_another_teams_worker_gets_404_and_changes_nothing(client, worker_b, person, referral, today):
    client.force_login(worker_b)

    assert client.get(url("person_detail", person.pk)).status_code == 404
    assert client.get(url("referral_detail", referral.pk)).status_code == 404
    assert client.post(url("person_edit", person.pk), {"alias": "Susi", "gender": "male"}).status_code == 404
    assert client.post(url("referral_status", referral.pk), {"status": "connected"}).status_code == 404
    follow_up = {"follow_up-due_on": today.isoformat(), "follow_up-contact_kind": "phone"}
    assert client.post(url("referral_follow_up_add", referral.pk), follow_up).status_code == 404
    assert client.post(url("person_follow_up_add", person.pk), follow_up).status_code == 404

    person.refresh_from_db()
    referral.refresh_from_db()
    assert (person.alias, referral.status) == ("Kettu", ReferralStatus.MADE)
    assert not FollowUp.objects.exists()
    assert views_logged(person) == 0


def test_an_expert_never_opens_a_named_person_nor_a_referral(client, expert_a, named, team_a):
    named_referral = ReferralFactory(team=team_a, person=named)
    pseudonymous_referral = ReferralFactory(team=team_a, person=PersonFactory(team=team_a))
    client.force_login(expert_a)

    assert client.get(url("person_detail", named.pk)).status_code == 404
    assert client.get(url("referral_detail", named_referral.pk)).status_code == 404
    assert client.get(url("referral_detail", pseudonymous_referral.pk)).status_code == 404
    assert client.post(url("referral_status", pseudonymous_referral.pk), {"status": "made"}).status_code == 404
    pseudonymous_referral.refresh_from_db()
    assert pseudonymous_referral.status == ReferralStatus.SUGGESTED
    assert views_logged(named) == 0


def test_an_expert_sees_a_pseudonymous_person_without_referrals_or_follow_ups(
    client, expert_a, person, referral, team_a, today
):
    FollowUp.objects.create(team=team_a, person=person, referral=referral, due_on=today, notes="Call the clinic")
    client.force_login(expert_a)
    # Experts see only the persons they met in outings they took part in.
    assert client.get(url("person_detail", person.pk)).status_code == 404
    outing = OutingFactory(team=team_a, participants=[expert_a])
    EncounterFactory(team=team_a, site=outing.site, outing=outing, person=person)

    response = client.get(url("person_detail", person.pk))

    assert response.status_code == 200
    content = html(response)
    assert "Kettu" in content
    # Person records are kept by the workers: no edit form, and a post is refused.
    assert url("person_edit", person.pk) not in content
    assert client.post(url("person_edit", person.pk), {"alias": "Susi"}).status_code == 403
    person.refresh_from_db()
    assert person.alias == "Kettu"
    assert 'id="referrals"' not in content
    assert 'id="follow-ups"' not in content
    assert "Call the clinic" not in content
    assert url("referral_detail", referral.pk) not in content


def test_a_worker_sees_the_name_of_a_named_person(client, worker_a, named):
    client.force_login(worker_a)

    response = client.get(url("person_detail", named.pk))

    assert response.status_code == 200
    assert "Maija Meikäläinen" in html(response)


# The person page ---------------------------------------------------------------------------------


def test_opening_a_person_page_is_logged(client, worker_a, person):
    client.force_login(worker_a)

    client.get(url("person_detail", person.pk))
    client.get(url("person_detail", person.pk))

    entry = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.VIEW).latest("at")
    assert entry.actor == worker_a
    assert entry.person_id == person.pk
    assert views_logged(person) == 2


def test_the_person_page_lists_encounters_newest_first_referrals_and_follow_ups(
    client, worker_a, team_a, person, referral, today
):
    site = FieldSiteFactory(name="Day centre")
    older = EncounterFactory(
        team=team_a, site=site, person=person, occurred_at=timezone.now() - datetime.timedelta(days=3)
    )
    newer = EncounterFactory(team=team_a, site=site, person=person, occurred_at=timezone.now(), needs=["housing"])
    EncounterFactory(team=team_a, site=site)  # anonymous, not theirs
    FollowUp.objects.create(team=team_a, person=person, referral=referral, due_on=today)
    client.force_login(worker_a)

    response = client.get(url("person_detail", person.pk))

    assert response.status_code == 200
    assert response.context["encounters"] == [newer, older]
    assert response.context["encounter_count"] == 2
    assert response.context["referrals"] == [referral]
    assert len(response.context["open_follow_ups"]) == 1
    assert response.context["inactive"] is False
    assert response.context["last_contact"] == today


def test_a_person_without_contact_for_ninety_days_is_shown_inactive(client, worker_a, team_a, person):
    # 91 days back by the Helsinki calendar, at noon: subtracting 91 × 24 h
    # from late evening would cross midnight when DST differs.
    day = timezone.localdate() - datetime.timedelta(days=91)
    noon = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
    EncounterFactory(team=team_a, person=person, occurred_at=noon)
    client.force_login(worker_a)

    response = client.get(url("person_detail", person.pk))

    assert response.context["inactive"] is True
    assert "Inactive" in html(response)


def test_the_person_page_shows_fifty_encounters_with_the_total(client, worker_a, team_a, person):
    site = FieldSiteFactory()
    start = timezone.now() - datetime.timedelta(days=60)
    for n in range(53):
        EncounterFactory(team=team_a, site=site, person=person, occurred_at=start + datetime.timedelta(hours=n))
    client.force_login(worker_a)

    response = client.get(url("person_detail", person.pk))

    assert len(response.context["encounters"]) == 50
    assert response.context["encounter_count"] == 53
    assert "And 3 earlier encounters, not shown." in html(response)


def test_the_person_page_runs_a_bounded_number_of_queries(
    client, worker_a, team_a, person, today, django_assert_max_num_queries
):
    outing = OutingFactory(team=team_a, status=OutingStatus.DONE)
    for _ in range(10):
        EncounterFactory(team=team_a, site=outing.site, outing=outing, person=person, needs=["housing"])
        made = ReferralFactory(team=team_a, person=person, partner=None)
        FollowUp.objects.create(team=team_a, person=person, referral=made, assigned_to=worker_a, due_on=today)
    client.force_login(worker_a)

    # Session, user, person, the audit row, encounter totals and list, referrals, follow-ups: not per row.
    with django_assert_max_num_queries(10):
        response = client.get(url("person_detail", person.pk))

    assert response.status_code == 200


def test_a_worker_edits_the_pseudonymous_details(client, worker_a, person):
    client.force_login(worker_a)

    response = client.post(
        url("person_edit", person.pk),
        {
            "alias": " Kettu2 ",
            "birth_year": "1986",
            "gender": "other",
            "engaged_on": "2026-05-01",
            "notes": "Prefers mornings",
        },
    )

    assert response.status_code == 302
    assert response.url == url("person_detail", person.pk)
    person.refresh_from_db()
    assert (person.alias, person.birth_year, person.gender) == ("Kettu2", 1986, Gender.OTHER)
    assert person.engaged_on == datetime.date(2026, 5, 1)
    assert person.notes == "Prefers mornings"
    entry = AuditEntry.objects.get(action=AuditEntry.Action.UPDATE, model="encounters.person")
    assert entry.actor == worker_a
    assert "Prefers mornings" not in str(entry.changes)


def test_an_edit_without_alias_names_the_field_and_changes_nothing(client, worker_a, person):
    client.force_login(worker_a)

    response = client.post(url("person_edit", person.pk), {"alias": "", "birth_year": "3000", "gender": "male"})

    assert response.status_code == 200
    content = html(response)
    assert "Alias or nickname: Give the person an alias or nickname." in content
    assert "Birth year:" in content
    person.refresh_from_db()
    assert (person.alias, person.birth_year, person.gender) == ("Kettu", 1985, Gender.FEMALE)
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.UPDATE).exists()


def test_a_follow_up_is_added_for_a_person(client, worker_a, person, today):
    client.force_login(worker_a)

    response = client.post(
        url("person_follow_up_add", person.pk),
        {"follow_up-due_on": today.isoformat(), "follow_up-contact_kind": "meeting", "follow_up-notes": "Coffee"},
    )

    assert response.status_code == 302
    follow_up = FollowUp.objects.get()
    assert (follow_up.person, follow_up.referral, follow_up.due_on) == (person, None, today)
    assert (follow_up.contact_kind, follow_up.assigned_to) == (ContactKind.MEETING, worker_a)
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CREATE, model="encounters.followup").exists()


# The referral page -------------------------------------------------------------------------------


def test_the_status_form_offers_only_the_allowed_next_statuses(client, worker_a, referral):
    client.force_login(worker_a)

    response = client.get(url("referral_detail", referral.pk))

    content = html(response)
    offered = {value for value, _label in response.context["status_form"]["status"].field.widget.choices}
    assert offered == {"made", "connected", "declined", "not_reached", "ended"}
    assert 'name="status" value="suggested"' not in content
    assert 'name="status" value="connected"' in content


def test_a_final_status_offers_no_change(client, worker_a, team_a, person):
    ended = ReferralFactory(team=team_a, person=person, status=ReferralStatus.ENDED)
    client.force_login(worker_a)

    response = client.get(url("referral_detail", ended.pk))

    assert 'name="status"' not in html(response)
    assert "is final" in html(response)


def test_the_status_moves_forward_with_outcome_and_follow_up_date(client, worker_a, referral, today):
    client.force_login(worker_a)
    due = today + datetime.timedelta(days=7)

    response = client.post(
        url("referral_status", referral.pk),
        {"status": "connected", "follow_up_due": due.isoformat(), "outcome_notes": "Got an appointment"},
    )

    assert response.status_code == 302
    assert response.url == url("referral_detail", referral.pk)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.CONNECTED
    assert referral.connected_on == today
    assert referral.follow_up_due == due
    assert referral.outcome_notes == "Got an appointment"
    entry = AuditEntry.objects.get(action=AuditEntry.Action.UPDATE, model="encounters.referral")
    assert "status" in entry.changes
    assert entry.actor == worker_a


def test_a_step_backwards_is_refused_naming_the_status_and_changes_nothing(client, worker_a, referral):
    client.force_login(worker_a)

    response = client.post(
        url("referral_status", referral.pk), {"status": "suggested", "outcome_notes": "Should not be saved"}
    )

    assert response.status_code == 200
    content = html(response)
    assert "Status: A referral cannot move from “Made” to “Suggested”." in content
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.MADE
    assert referral.outcome_notes == ""
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.UPDATE).exists()


def test_an_unknown_status_names_the_field(client, worker_a, referral):
    client.force_login(worker_a)

    response = client.post(url("referral_status", referral.pk), {"status": "lost"})

    assert response.status_code == 200
    assert "Status:" in html(response)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.MADE


def test_a_follow_up_is_added_to_a_referral_and_marked_done_there(client, worker_a, referral, person, today):
    client.force_login(worker_a)
    due = today + datetime.timedelta(days=3)

    response = client.post(
        url("referral_follow_up_add", referral.pk),
        {"follow_up-due_on": due.isoformat(), "follow_up-contact_kind": "phone", "follow_up-notes": "Ask how it went"},
    )

    assert response.status_code == 302
    follow_up = FollowUp.objects.get()
    assert (follow_up.referral, follow_up.person, follow_up.due_on) == (referral, person, due)
    page = html(client.get(url("referral_detail", referral.pk)))
    assert "Ask how it went" in page
    assert f'action="{url("follow_up_done", follow_up.pk)}"' in page

    back = url("referral_detail", referral.pk) + "#follow-ups"
    response = client.post(url("follow_up_done", follow_up.pk), {"next": back})

    assert response.status_code == 302
    assert response.url == back
    follow_up.refresh_from_db()
    assert follow_up.done_on == today
    assert AuditEntry.objects.filter(action=AuditEntry.Action.UPDATE, model="encounters.followup").exists()


def test_a_follow_up_without_a_date_names_the_field(client, worker_a, referral):
    client.force_login(worker_a)

    response = client.post(url("referral_follow_up_add", referral.pk), {"follow_up-contact_kind": "phone"})

    assert response.status_code == 200
    assert "Due on: Enter the date the follow-up is due." in html(response)
    assert not FollowUp.objects.exists()


def test_mark_done_never_redirects_off_site(client, worker_a, team_a, person, today):
    follow_up = FollowUp.objects.create(team=team_a, person=person, due_on=today)
    client.force_login(worker_a)

    response = client.post(url("follow_up_done", follow_up.pk), {"next": "https://evil.example/"})

    assert response.url == url("today")


# Links -------------------------------------------------------------------------------------------


def test_today_links_follow_ups_to_the_referral_or_the_person(client, worker_a, team_a, person, referral, today):
    FollowUp.objects.create(team=team_a, person=person, referral=referral, assigned_to=worker_a, due_on=today)
    alone = PersonFactory(team=team_a, alias="Susi")
    FollowUp.objects.create(team=team_a, person=alone, assigned_to=worker_a, due_on=today)
    client.force_login(worker_a)

    content = html(client.get(url("today")))

    links = [url("referral_detail", referral.pk), url("person_detail", alone.pk)]
    for link in links:
        assert f'href="{link}"' in content
        assert client.get(link).status_code == 200


def test_the_outing_page_links_linked_encounters_to_the_person_for_workers_only(
    client, worker_a, expert_a, team_a, person, today
):
    outing = OutingFactory(team=team_a, date=today, status=OutingStatus.PLANNED, participants=[worker_a, expert_a])
    EncounterFactory(team=team_a, site=outing.site, outing=outing, person=person, created_by=worker_a)
    link = f'href="{url("person_detail", person.pk)}"'

    client.force_login(worker_a)
    assert link in html(client.get(url("outing_detail", outing.pk)))

    client.force_login(expert_a)
    content = html(client.get(url("outing_detail", outing.pk)))
    assert link not in content
    assert "Kettu" not in content


def test_referrals_disappear_from_the_page_after_a_merge(client, worker_a, team_a, person, referral):
    """A merged record still opens (its links keep working) and points at the kept one."""
    from encounters.services import person_merge

    kept = PersonFactory(team=team_a, alias="Kettu kept")
    person_merge(actor=worker_a, kept=kept, merged=person)
    client.force_login(worker_a)

    response = client.get(url("person_detail", person.pk))

    assert response.status_code == 200
    assert response.context["referrals"] == []
    assert response.context["form"] is None
    assert f'href="{url("person_detail", kept.pk)}"' in html(response)
    assert Referral.objects.get(pk=referral.pk).person == kept
