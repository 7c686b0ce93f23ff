"""A coordinator produces a person's access log (page, PDF, API) and a copy of all their data."""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from encounters.models import Person
from encounters.services import person_access_log
from encounters.tests.factories import EncounterFactory, ReferralFactory
from outreach.models import AccessLogEntry, Disclosure
from outreach.tests.api_helpers import api_client
from outreach.tests.factories import FieldSiteFactory


@pytest.fixture
def named(team_a):
    return Person.objects.create(
        team=team_a, kind=Person.Kind.NAMED, first_name="Maija", last_name="Meikäläinen", identity_code="131052-308T"
    )


def api_url(person):
    return f"/api/v1/persons/{person.pk}/access-log/"


def page_url(person):
    return reverse("encounters:person_access_log", args=[person.pk])


def data_url(person):
    return reverse("encounters:person_data_export", args=[person.pk])


def old_row(actor, person, days):
    entry = AccessLogEntry(actor=actor, person_id=person.pk, action="view", door="page")
    entry.at = timezone.now() - datetime.timedelta(days=days)
    entry.save()
    return entry


# The API ---------------------------------------------------------------------------------------


def test_the_api_lists_every_read_newest_first_and_logs_its_own_reading(worker_a, coordinator, named):
    worker = api_client(worker_a)
    worker.get(f"/api/v1/persons/{named.pk}/")
    worker.get("/api/v1/persons/", {"kind": "named"})

    response = api_client(coordinator).get(api_url(named))

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(row["user"], row["action"]) for row in rows] == [
        (coordinator.pk, "access_log"),
        (worker_a.pk, "list"),
        (worker_a.pk, "view"),
    ]
    assert rows[0]["at"] >= rows[1]["at"] >= rows[2]["at"]
    assert AccessLogEntry.objects.filter(person_id=named.pk, action="access_log", actor=coordinator).count() == 1


def test_the_log_includes_edits_of_the_record(worker_a, coordinator, named):
    from encounters.services import person_update

    person_update(actor=worker_a, person=named, phone="040 123")

    rows = api_client(coordinator).get(api_url(named)).json()["results"]

    assert (worker_a.pk, "edit") in [(row["user"], row["action"]) for row in rows]


@pytest.mark.parametrize("user_fixture", ["worker_a", "expert_a"])
def test_workers_and_experts_get_403(request, user_fixture, named):
    user = request.getfixturevalue(user_fixture)

    assert api_client(user).get(api_url(named)).status_code == 403
    assert not AccessLogEntry.objects.filter(action="access_log").exists()


def test_a_coordinator_of_another_area_gets_404(named, team_other_area):
    from outreach.tests.factories import UserFactory
    from outreach.vocabulary import Role

    stranger = UserFactory(role=Role.COORDINATOR, teams=[team_other_area])

    assert api_client(stranger).get(api_url(named)).status_code == 404


def test_older_entries_need_a_reason_which_is_logged(coordinator, worker_a, named):
    old_row(worker_a, named, days=3 * 365)
    client = api_client(coordinator)

    assert [row["action"] for row in client.get(api_url(named)).json()["results"]] == ["access_log"]
    since = (timezone.localdate() - datetime.timedelta(days=4 * 365)).isoformat()
    refused = client.get(api_url(named), {"since": since})
    assert refused.status_code == 400
    assert "reason" in refused.json()

    rows = client.get(api_url(named), {"since": since, "reason": "Client's request 12/2026"}).json()["results"]

    assert [row["action"] for row in rows] == ["access_log", "access_log", "view"]
    assert AccessLogEntry.objects.filter(reason="Client's request 12/2026").count() == 1


# The page and the PDF ------------------------------------------------------------------------


def test_the_person_page_links_the_log_for_coordinators_only(client, with_totp, coordinator, worker_a, named):
    client.force_login(with_totp(coordinator))
    assert page_url(named) in client.get(reverse("encounters:person_detail", args=[named.pk])).content.decode()

    client.force_login(worker_a)
    assert page_url(named) not in client.get(reverse("encounters:person_detail", args=[named.pk])).content.decode()


def test_the_page_shows_the_last_two_years(client, with_totp, coordinator, worker_a, named):
    person_access_log(actor=worker_a, persons=[named], action="view")
    old_row(worker_a, named, days=800)
    client.force_login(with_totp(coordinator))

    response = client.get(page_url(named))

    assert response.status_code == 200
    assert response.content.decode().count("Viewed the record") == 1
    assert AccessLogEntry.objects.filter(action="access_log", actor=coordinator, door="page").count() == 1


def test_the_page_refuses_older_entries_without_a_reason(client, with_totp, coordinator, named):
    client.force_login(with_totp(coordinator))
    since = (timezone.localdate() - datetime.timedelta(days=1000)).isoformat()

    response = client.post(page_url(named), {"since": since, "reason": ""})

    assert response.status_code == 400
    assert "Give a reason" in response.content.decode()
    assert not AccessLogEntry.objects.exists()


def test_the_log_prints_as_pdf(client, with_totp, coordinator, worker_a, named):
    person_access_log(actor=worker_a, persons=[named], action="view")
    client.force_login(with_totp(coordinator))

    response = client.get(page_url(named), {"format": "pdf"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"] == f'attachment; filename="access-log-{named.pk}.pdf"'
    assert AccessLogEntry.objects.filter(action="print", actor=coordinator).count() == 1


@pytest.mark.parametrize("user_fixture", ["worker_a", "expert_a"])
def test_the_page_is_refused_to_workers_and_experts(request, client, user_fixture, named):
    client.force_login(request.getfixturevalue(user_fixture))

    assert client.get(page_url(named)).status_code == 403
    assert client.get(data_url(named), {"format": "json"}).status_code == 403
    assert not AccessLogEntry.objects.exists()


# The data-subject copy -----------------------------------------------------------------------


def test_the_data_subject_copy_holds_everything_and_is_logged(client, with_totp, coordinator, named, team_a):
    site = FieldSiteFactory(team=team_a)
    EncounterFactory(team=team_a, site=site, person=named, anonymous=False, notes="Asunto haussa")
    ReferralFactory(team=team_a, person=named)
    client.force_login(with_totp(coordinator))

    response = client.get(data_url(named), {"format": "json"})

    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["person"]["identity_code"] == "131052-308T"
    assert [e["notes"] for e in data["encounters"]] == ["Asunto haussa"]
    assert len(data["referrals"]) == 1
    assert AccessLogEntry.objects.filter(person_id=named.pk, action="export", actor=coordinator).count() == 1
    disclosure = Disclosure.objects.get()
    assert (disclosure.kind, disclosure.legal_basis, disclosure.person_ids) == (
        "data_subject_export",
        "data_subject_request",
        [named.pk],
    )
    assert disclosure.categories[0] == "identity"


def test_the_data_subject_copy_prints_as_pdf(client, with_totp, coordinator, named):
    client.force_login(with_totp(coordinator))

    response = client.get(data_url(named), {"format": "pdf"})

    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")


def test_the_data_subject_copy_by_command(tmp_path, coordinator, named):
    from django.core.management import call_command

    path = tmp_path / "person.json"

    call_command("export_person", str(named.pk), str(path), user=coordinator.email)

    assert json.loads(path.read_text())["person"]["last_name"] == "Meikäläinen"
    assert AccessLogEntry.objects.filter(person_id=named.pk, action="export", door="command").count() == 1
