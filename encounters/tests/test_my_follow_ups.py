"""My follow-ups: what is overdue and due this week, with one tap to record the contact (an encounter and
the follow-up done, together) and one to postpone it."""

import datetime
from functools import partial

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from encounters.models import Encounter, FollowUp
from encounters.selectors import week_end
from encounters.services import follow_up_record_contact
from encounters.tests.factories import EncounterFactory, PersonFactory, ReferralFactory
from encounters.tests.test_write_defects import _at_once
from outreach.models import AccessLogEntry
from outreach.tests.factories import FieldSiteFactory, UserFactory
from outreach.vocabulary import ContactKind, ReferralStatus, Role


def url(name: str, *args) -> str:
    return reverse(f"encounters:{name}", args=args)


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def site(team_a):
    return FieldSiteFactory(team=team_a, name="Asema")


@pytest.fixture
def person(team_a, site):
    person = PersonFactory(team=team_a, alias="Kettu")
    EncounterFactory(team=team_a, site=site, person=person, anonymous=False)
    return person


@pytest.fixture
def overdue(team_a, person, worker_a, today):
    return FollowUp.objects.create(
        team=team_a, person=person, assigned_to=worker_a, due_on=today - datetime.timedelta(days=3)
    )


@pytest.fixture
def this_week(team_a, person, today):
    referral = ReferralFactory(team=team_a, person=person, status=ReferralStatus.MADE)
    return FollowUp.objects.create(team=team_a, referral=referral, person=person, due_on=week_end(today))


def test_the_page_lists_overdue_this_weeks_and_next_weeks(
    client, worker_a, worker_b, team_a, person, overdue, this_week, today
):
    next_week = FollowUp.objects.create(team=team_a, person=person, due_on=week_end(today) + datetime.timedelta(days=1))
    FollowUp.objects.create(team=team_a, person=person, due_on=week_end(today) + datetime.timedelta(days=8))
    FollowUp.objects.create(team=team_a, person=person, assigned_to=worker_b, due_on=today)  # someone else's
    FollowUp.objects.create(team=team_a, person=person, due_on=today, done_on=today)  # done
    client.force_login(worker_a)

    response = client.get(url("my_follow_ups"))

    assert response.status_code == 200
    assert response.context["overdue"] == [overdue]
    assert response.context["this_week"] == [this_week]
    assert response.context["next_week"] == [next_week]
    content = response.content.decode()
    assert url("follow_up_record", overdue.pk) in content
    assert url("follow_up_postpone", this_week.pk) in content
    assert AccessLogEntry.objects.filter(action="list", person_id=person.pk).count() == 1  # one row per person


def test_the_page_has_a_bounded_number_of_queries(
    client, worker_a, team_a, person, today, django_assert_max_num_queries
):
    for days in range(20):
        referral = ReferralFactory(team=team_a, person=person)
        FollowUp.objects.create(
            team=team_a, person=person, referral=referral, due_on=today - datetime.timedelta(days=days % 5)
        )
    client.force_login(worker_a)

    with django_assert_max_num_queries(6):
        response = client.get(url("my_follow_ups"))

    assert len(response.context["overdue"]) + len(response.context["this_week"]) == 20


def test_another_teams_follow_ups_are_not_listed(client, worker_b, overdue, this_week):
    client.force_login(worker_b)

    response = client.get(url("my_follow_ups"))

    assert response.context["overdue"] == []
    assert response.context["this_week"] == []


def test_experts_have_no_follow_ups_page(client, expert_a):
    client.force_login(expert_a)

    assert client.get(url("my_follow_ups")).status_code == 403


def test_recording_the_contact_makes_an_encounter_and_marks_it_done(client, worker_a, overdue, person, site, today):
    client.force_login(worker_a)

    response = client.post(
        url("follow_up_record", overdue.pk), {"contact_kind": "meeting", "notes": "Kävi toimistolla"}
    )

    assert response.status_code == 302
    overdue.refresh_from_db()
    assert (overdue.done_on, overdue.contact_kind) == (today, ContactKind.MEETING)
    assert "Kävi toimistolla" in overdue.notes
    encounter = Encounter.objects.exclude(pk__in=person.encounters.order_by("id").values("id")[:1]).get()
    assert (encounter.person, encounter.contact_kind, encounter.site, encounter.team_id) == (
        person,
        ContactKind.MEETING,
        site,
        overdue.team_id,
    )
    assert list(encounter.workers.all()) == [worker_a]


def test_recording_twice_records_once(client, worker_a, overdue, person):
    client.force_login(worker_a)
    client.post(url("follow_up_record", overdue.pk), {"contact_kind": "phone"})

    response = client.post(url("follow_up_record", overdue.pk), {"contact_kind": "phone"})

    assert response.status_code == 404
    assert person.encounters.count() == 2


def test_the_service_refuses_a_follow_up_done_meanwhile(worker_a, overdue, person, today):
    stale = FollowUp.objects.get(pk=overdue.pk)
    FollowUp.objects.filter(pk=overdue.pk).update(done_on=today)

    with pytest.raises(Exception, match="done already"):
        follow_up_record_contact(actor=worker_a, follow_up=stale, contact_kind=ContactKind.PHONE)
    assert person.encounters.count() == 1


@pytest.mark.parametrize("kind", ["field", "other", "letter", ""])
def test_the_contact_is_a_phone_call_or_a_meeting(client, worker_a, overdue, person, kind):
    client.force_login(worker_a)

    response = client.post(url("follow_up_record", overdue.pk), {"contact_kind": kind})

    assert response.status_code == 400
    overdue.refresh_from_db()
    assert overdue.done_on is None
    assert person.encounters.count() == 1


def test_a_referrals_follow_up_is_recorded_with_its_person(client, worker_a, team_a, person, today):
    referral = ReferralFactory(team=team_a, person=person)
    follow_up = FollowUp.objects.create(team=team_a, referral=referral, due_on=today)
    client.force_login(worker_a)

    client.post(url("follow_up_record", follow_up.pk), {"contact_kind": "phone"})

    assert person.encounters.filter(contact_kind="phone").count() == 1


def test_postpone_by_a_week(client, worker_a, overdue, today):
    client.force_login(worker_a)

    response = client.post(url("follow_up_postpone", overdue.pk), {"due_on": "2099-01-01"})

    assert response.status_code == 302
    overdue.refresh_from_db()
    assert overdue.due_on == today + datetime.timedelta(days=7)
    assert overdue.done_on is None


def test_postpone_to_a_chosen_date(client, worker_a, this_week, today):
    chosen = today + datetime.timedelta(days=20)
    client.force_login(worker_a)

    client.post(url("follow_up_postpone", this_week.pk), {"due_on": chosen.isoformat(), "chosen": "1"})

    this_week.refresh_from_db()
    assert this_week.due_on == chosen


@pytest.mark.parametrize("due_on", ["", "yesterday", "2020-01-01"])
def test_a_bad_postpone_date_changes_nothing(client, worker_a, this_week, due_on):
    before = this_week.due_on
    client.force_login(worker_a)

    response = client.post(url("follow_up_postpone", this_week.pk), {"due_on": due_on, "chosen": "1"})

    assert response.status_code == 400
    this_week.refresh_from_db()
    assert this_week.due_on == before


@pytest.mark.parametrize(("role", "status"), [("worker_b", 404), ("expert_a", 403)])
def test_who_may_not_record_or_postpone(client, request, overdue, person, role, status):
    client.force_login(request.getfixturevalue(role))

    assert client.post(url("follow_up_record", overdue.pk), {"contact_kind": "phone"}).status_code == status
    assert client.post(url("follow_up_postpone", overdue.pk)).status_code == status
    overdue.refresh_from_db()
    assert overdue.done_on is None
    assert overdue.due_on < timezone.localdate()
    assert person.encounters.count() == 1


def test_today_links_my_follow_ups(client, worker_a):
    client.force_login(worker_a)

    assert url("my_follow_ups") in client.get(url("today")).content.decode()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_two_workers_recording_the_same_follow_up_at_once_record_one_contact(worker_a, team_a, site):
    colleague = UserFactory(email="colleague@example.org", role=Role.WORKER, teams=[team_a])
    for round_ in range(3):
        person = PersonFactory(team=team_a, alias=f"Kettu {round_}")
        EncounterFactory(team=team_a, site=site, person=person, anonymous=False)
        follow_up = FollowUp.objects.create(team=team_a, person=person, due_on=timezone.localdate())

        raised = _at_once(
            partial(follow_up_record_contact, actor=worker_a, follow_up=follow_up, contact_kind="phone"),
            partial(
                follow_up_record_contact,
                actor=colleague,
                follow_up=FollowUp.objects.get(pk=follow_up.pk),
                contact_kind="meeting",
            ),
        )

        assert sorted(type(error).__name__ for error in raised if error) == ["ValidationError"]
        assert person.encounters.count() == 2
        assert FollowUp.objects.get(pk=follow_up.pk).done_on == timezone.localdate()
