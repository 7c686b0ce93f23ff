"""The directory, network and communication pages."""

import pytest
from django.urls import reverse
from django.utils import timezone

from networks.models import (
    CommunicationActivity,
    ContactPerson,
    MeetingTask,
    Network,
    NetworkMeeting,
    PartnerOrganisation,
    PartnerService,
)
from outreach.models import AuditEntry
from outreach.tests.factories import municipality

HTMX = {"HX-Request": "true"}


def url(name: str, *args) -> str:
    return reverse(f"networks:{name}", args=args)


@pytest.fixture
def directory(db):
    housing = PartnerOrganisation.objects.create(name="Tuusniemen asunnot", phone="017 555 123")
    service = PartnerService.objects.create(
        partner=housing, name="Asumisneuvonta", service_kind="housing", how_to_refer="Soita ma–pe"
    )
    service.municipalities.set([municipality("857")])
    kuopio = PartnerService.objects.create(partner=housing, name="Kuopion asumispalvelu", service_kind="housing")
    kuopio.municipalities.set([municipality("297")])
    PartnerService.objects.create(partner=housing, name="Vanha", service_kind="housing", active=False)
    ContactPerson.objects.create(partner=housing, name="Liisa Laine", phone="040 1", email="liisa@example.org")
    return housing


def test_the_directory_answers_a_search_by_post_as_one_types(client, worker_a, directory):
    client.force_login(worker_a)
    tuusniemi = municipality("857")

    page = client.get(url("directory"))
    answer = client.post(
        url("directory"), {"q": "asumis", "municipality": tuusniemi.pk, "service_kind": "housing"}, headers=HTMX
    )

    assert page.status_code == 200
    assert 'hx-post="/directory/"' in page.content.decode()
    content = answer.content.decode()
    assert answer.status_code == 200
    assert content.startswith('<section id="directory-results"')
    assert "Asumisneuvonta" in content
    assert "Soita ma–pe" in content
    assert "Kuopion asumispalvelu" not in content
    assert "Vanha" not in content
    assert 'href="tel:017555123"' in content


def test_the_directory_lists_and_filters_without_javascript(client, worker_a, directory, django_assert_max_num_queries):
    client.force_login(worker_a)
    for number in range(10):
        PartnerService.objects.create(partner=directory, name=f"Palvelu {number}", service_kind="other")

    with django_assert_max_num_queries(9):
        response = client.get(url("directory"), {"service_kind": "housing"})

    assert response.status_code == 200
    assert "Asumisneuvonta" in response.content.decode()
    assert "Palvelu 1" not in response.content.decode()


def test_contact_persons_show_to_workers_and_not_to_experts(client, worker_a, expert_a, directory):
    client.force_login(worker_a)
    assert 'href="mailto:liisa@example.org"' in client.get(url("partner_detail", directory.pk)).content.decode()

    client.force_login(expert_a)
    content = client.get(url("partner_detail", directory.pk)).content.decode()
    assert "Liisa Laine" not in content
    assert "liisa@example.org" not in content


def test_a_coordinator_adds_a_service_and_a_worker_may_not(client, coordinator, worker_a, directory, with_totp):
    data = {
        "name": "Ruoka-apu",
        "service_kind": "third_sector",
        "municipalities": [municipality("857").pk],
        "active": "on",
    }
    client.force_login(worker_a)
    assert client.post(url("service_create", directory.pk), data).status_code == 403

    client.force_login(with_totp(coordinator))
    response = client.post(url("service_create", directory.pk), data)

    assert response.status_code == 302
    service = PartnerService.objects.get(name="Ruoka-apu")
    assert service.partner == directory
    assert AuditEntry.objects.filter(model="networks.partnerservice", object_id=str(service.pk)).exists()
    bad = client.post(url("service_create", directory.pk), {**data, "service_kind": "x"})
    assert bad.status_code == 200
    assert "service_kind" in bad.context["form"].errors


def test_a_meeting_with_two_decisions_and_a_task_shows_on_the_owners_today_page(
    client, coordinator, worker_a, team_a, directory, with_totp
):
    network = Network.objects.create(name="Katuverkosto", kind=Network.Kind.STREET, coordinating_team=team_a)
    coordinator = with_totp(coordinator)
    client.force_login(coordinator)
    today = timezone.localdate()

    response = client.post(
        url("meeting_create", network.pk),
        {
            "date": today.isoformat(),
            "organisations": [directory.pk],
            "staff": [coordinator.pk, worker_a.pk],
            "participant_count": "8",
            "topics": "Kesän katutyö",
            "decisions": "Kierrokset alkavat toukokuussa\nYhteinen tiedote kaupungille",
            "task-TOTAL_FORMS": "3",
            "task-INITIAL_FORMS": "0",
            "task-0-title": "Kysy tilaa seurakunnalta",
            "task-0-owner_user": worker_a.pk,
            "task-0-due_on": today.isoformat(),
            "task-1-title": "",
            "task-2-title": "",
        },
    )

    meeting = NetworkMeeting.objects.get()
    assert response.status_code == 302
    assert response.url == url("meeting_detail", meeting.pk)
    assert list(meeting.organisations.all()) == [directory]
    task = MeetingTask.objects.get()
    assert (task.meeting, task.owner_user, task.due_on) == (meeting, worker_a, today)
    detail = client.get(url("meeting_detail", meeting.pk)).content.decode()
    assert "<li>Kierrokset alkavat toukokuussa</li>" in detail
    assert "<li>Yhteinen tiedote kaupungille</li>" in detail
    assert "Kysy tilaa seurakunnalta" in client.get(reverse("home")).content.decode()

    client.force_login(worker_a)
    assert f'id="task-{task.pk}"' in client.get(reverse("encounters:today")).content.decode()

    client.force_login(coordinator)
    assert client.post(url("task_done", task.pk)).status_code == 302
    task.refresh_from_db()
    assert task.done_on == today
    client.force_login(worker_a)
    assert f'id="task-{task.pk}"' not in client.get(reverse("encounters:today")).content.decode()


def test_a_task_row_without_a_title_is_refused(client, coordinator, team_a, with_totp):
    network = Network.objects.create(name="Katuverkosto")
    client.force_login(with_totp(coordinator))

    response = client.post(
        url("meeting_create", network.pk),
        {"date": "2026-03-03", "task-TOTAL_FORMS": "1", "task-INITIAL_FORMS": "0", "task-0-due_on": "2026-03-10"},
    )

    assert response.status_code == 200
    assert "Give the task a title." in response.content.decode()
    assert not NetworkMeeting.objects.exists()


def test_a_worker_logs_communication_in_a_few_taps(client, worker_a, team_a, expert_a):
    client.force_login(worker_a)

    response = client.post(
        url("communication"),
        {
            "kind": "social_media",
            "title": "Somepäivitys",
            "date": "2026-03-02",
            "team": team_a.pk,
            "audience_size": "250",
        },
    )

    assert response.status_code == 302
    activity = CommunicationActivity.objects.get()
    assert (activity.kind, activity.team, activity.audience_size, activity.created_by) == (
        "social_media",
        team_a,
        250,
        worker_a,
    )
    bad = client.post(url("communication"), {"kind": "social_media", "title": "", "date": "2026-03-02"})
    assert bad.status_code == 200
    assert "title" in bad.context["form"].errors
    client.force_login(expert_a)
    assert client.get(url("communication")).status_code == 403


def test_agreement_reviews_due_show_to_the_coordinator(client, coordinator, worker_a, team_a, with_totp):
    network = Network.objects.create(name="Matalan kynnyksen verkosto")
    today = timezone.localdate()
    network.agreements.create(title="Yhteistyösopimus", agreed_on=today.replace(year=today.year - 1), review_on=today)

    client.force_login(with_totp(coordinator))
    assert "Yhteistyösopimus" in client.get(reverse("home")).content.decode()
    assert "Yhteistyösopimus" in client.get(url("network_list")).content.decode()
    client.force_login(worker_a)
    assert 'id="reviews-due"' not in client.get(url("network_list")).content.decode()
