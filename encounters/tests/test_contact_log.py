"""Logging a phone call or an office meeting with a known person, without an outing."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from encounters.models import Encounter, FollowUp
from encounters.tests.factories import PersonFactory
from outreach.models import AuditEntry
from outreach.tests.factories import FieldSiteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(team_a):
    return PersonFactory(team=team_a, alias="Kettu", gender="male", birth_year=1990)


@pytest.fixture
def office(team_a):
    return FieldSiteFactory(name="Office", team=team_a)


def contact_url(person) -> str:
    return reverse("encounters:person_contact_log", args=[person.pk])


def test_a_worker_logs_a_phone_call_from_the_person_page(client, worker_a, person, office):
    client.force_login(worker_a)
    assert contact_url(person) in client.get(reverse("encounters:person_detail", args=[person.pk])).content.decode()
    now = timezone.localtime() - datetime.timedelta(minutes=5)

    response = client.post(
        contact_url(person),
        {
            "contact_kind": "phone",
            "depth": "conversation",
            "site": office.pk,
            "date": now.date().isoformat(),
            "time": now.strftime("%H:%M"),
            "needs": ["housing"],
            "duration_minutes": "15",
            "notes": "",
        },
    )

    assert response.status_code == 302
    encounter = Encounter.objects.get()
    assert (encounter.person, encounter.outing, encounter.contact_kind, encounter.site) == (
        person,
        None,
        "phone",
        office,
    )
    assert encounter.gender == "male"
    assert encounter.needs == ["housing"]
    assert [w.pk for w in encounter.workers.all()] == [worker_a.pk]
    assert AuditEntry.objects.filter(model="encounters.encounter", action="create", actor=worker_a).exists()


def test_my_follow_ups_offer_to_log_a_contact(client, worker_a, team_a, person):
    FollowUp.objects.create(team=team_a, person=person, assigned_to=worker_a, due_on=timezone.localdate())
    client.force_login(worker_a)

    assert contact_url(person) in client.get(reverse("encounters:today")).content.decode()


def test_a_contact_in_the_future_or_without_a_site_is_refused_naming_the_field(client, worker_a, person, office):
    client.force_login(worker_a)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    response = client.post(
        contact_url(person),
        {"contact_kind": "phone", "depth": "brief", "site": "", "date": tomorrow.isoformat(), "time": "10:00"},
    )

    assert response.status_code == 200
    assert {"site", "time"} <= set(response.context["form"].errors)
    assert not Encounter.objects.exists()


def test_who_may_log_a_contact(client, worker_b, expert_a, person, office):
    client.force_login(worker_b)
    assert client.get(contact_url(person)).status_code == 404
    client.force_login(expert_a)
    # An expert by experience never sees a person record.
    assert client.get(contact_url(person)).status_code == 404
    client.logout()
    assert client.get(contact_url(person)).status_code == 302
