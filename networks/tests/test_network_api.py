"""The network work API: partner-services, contact-persons, memberships, agreements, meetings,
meeting-tasks and communication. Workers read and log communication; the rest is written by
coordinators and admins."""

import pytest

from networks.models import (
    CommunicationActivity,
    ContactPerson,
    CooperationAgreement,
    MeetingTask,
    Network,
    NetworkMeeting,
    NetworkMembership,
    PartnerOrganisation,
    PartnerService,
)
from outreach.models import AuditEntry
from outreach.tests.api_helpers import api_client, results


@pytest.fixture
def partner(db):
    return PartnerOrganisation.objects.create(name="Kuopion Diakonia")


@pytest.fixture
def network(team_a):
    return Network.objects.create(name="Katuverkosto", kind=Network.Kind.STREET, coordinating_team=team_a)


@pytest.fixture
def contact(partner):
    return ContactPerson.objects.create(partner=partner, name="Liisa Laine", role="diakoni", phone="040 1")


def bodies(partner, network, contact, coordinator):
    meeting = NetworkMeeting.objects.create(network=network, date="2026-03-03")
    return {
        "/api/v1/partner-services/": {
            "partner": partner.pk,
            "name": "Ruoka-apu",
            "service_kind": "third_sector",
            "description": "Ti 10–12",
            "how_to_refer": "Tule paikalle",
            "municipalities": ["297"],
        },
        "/api/v1/contact-persons/": {"partner": partner.pk, "name": "Matti Mallikas", "role": "ohjaaja"},
        "/api/v1/memberships/": {
            "network": network.pk,
            "organisation": partner.pk,
            "joined_on": "2026-01-01",
            "representatives": [contact.pk],
        },
        "/api/v1/agreements/": {
            "network": network.pk,
            "title": "Yhteistyösopimus",
            "description": "Yhteiset kierrokset",
            "parties": [partner.pk],
            "agreed_on": "2026-01-10",
            "review_on": "2026-06-10",
        },
        "/api/v1/meetings/": {
            "network": network.pk,
            "date": "2026-03-01",
            "organisations": [partner.pk],
            "staff": [coordinator.pk],
            "participant_count": 9,
            "topics": "Kesän kierrokset",
            "decisions": "Kierrokset alkavat\nYhteinen ilmoitus",
        },
        "/api/v1/meeting-tasks/": {
            "meeting": meeting.pk,
            "title": "Varaa tila",
            "owner_user": coordinator.pk,
            "due_on": "2026-03-20",
        },
    }


MODELS = {
    "/api/v1/partner-services/": PartnerService,
    "/api/v1/contact-persons/": ContactPerson,
    "/api/v1/memberships/": NetworkMembership,
    "/api/v1/agreements/": CooperationAgreement,
    "/api/v1/meetings/": NetworkMeeting,
    "/api/v1/meeting-tasks/": MeetingTask,
}


def test_coordinators_create_each_record_with_the_contract_fields(coordinator, partner, network, contact):
    client = api_client(coordinator)
    for url, body in bodies(partner, network, contact, coordinator).items():
        before = MODELS[url]._default_manager.count()

        response = client.post(url, body, format="json")

        assert response.status_code == 201, (url, response.json())
        created = response.json()
        assert {key: created[key] for key in body} == body, url
        assert MODELS[url]._default_manager.count() == before + 1
        assert AuditEntry.objects.filter(action=AuditEntry.Action.CREATE, object_id=str(created["id"])).exists()


def test_workers_read_but_get_403_on_writes(worker_a, partner, network, contact, coordinator):
    client = api_client(worker_a)
    for url, body in bodies(partner, network, contact, coordinator).items():
        before = MODELS[url]._default_manager.count()
        assert client.get(url).status_code == 200, url
        assert client.post(url, body, format="json").status_code == 403, url
        assert MODELS[url]._default_manager.count() == before


def test_an_expert_reads_no_contact_persons(expert_a, contact):
    assert api_client(expert_a).get("/api/v1/contact-persons/").status_code == 403
    assert api_client(expert_a).get(f"/api/v1/contact-persons/{contact.pk}/").status_code == 403


def test_leaving_keeps_the_membership(coordinator, network, partner):
    membership = NetworkMembership.objects.create(network=network, organisation=partner, joined_on="2026-01-01")

    response = api_client(coordinator).patch(
        f"/api/v1/memberships/{membership.pk}/", {"left_on": "2026-02-01"}, format="json"
    )

    assert response.status_code == 200
    assert str(NetworkMembership.objects.get().left_on) == "2026-02-01"
    assert api_client(coordinator).get(f"/api/v1/networks/{network.pk}/").json()["member_organisations"] == []


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/memberships/", {"joined_on": "2026-02-01", "left_on": "2026-01-01"}, "left_on"),
        ("/api/v1/agreements/", {"title": "S", "agreed_on": "2026-02-01", "ends_on": "2026-01-01"}, "ends_on"),
        ("/api/v1/agreements/", {"title": "S", "agreed_on": "2026-02-01", "review_on": "2025-01-01"}, "review_on"),
        ("/api/v1/partner-services/", {"name": "P", "service_kind": "spaceflight"}, "service_kind"),
        ("/api/v1/meetings/", {"date": "2026-13-01"}, "date"),
    ],
)
def test_bad_input_gets_400_naming_the_field(coordinator, network, partner, url, body, field):
    links = {"network": network.pk, "organisation": partner.pk, "partner": partner.pk}
    response = api_client(coordinator).post(url, {**links, **body}, format="json")

    assert response.status_code == 400
    assert field in response.json()


def test_a_task_has_one_owner(coordinator, network, contact):
    meeting = NetworkMeeting.objects.create(network=network, date="2026-03-03")
    body = {"meeting": meeting.pk, "title": "T", "owner_user": coordinator.pk, "owner_contact": contact.pk}

    response = api_client(coordinator).post("/api/v1/meeting-tasks/", body, format="json")

    assert response.status_code == 400
    assert "owner_contact" in response.json()
    assert not MeetingTask.objects.exists()


def test_workers_log_communication_for_their_team(worker_a, team_a, team_b):
    body = {"kind": "presentation", "title": "Esittely valtuustolle", "date": "2026-03-02", "audience": "Valtuusto"}
    client = api_client(worker_a)

    response = client.post("/api/v1/communication/", {**body, "audience_size": 35}, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["team"] == team_a.pk
    assert CommunicationActivity.objects.get().created_by == worker_a
    assert client.post("/api/v1/communication/", {**body, "team": team_b.pk}, format="json").status_code == 400
    assert client.post("/api/v1/communication/", {**body, "kind": "rumour"}, format="json").status_code == 400
    assert CommunicationActivity.objects.count() == 1


def test_experts_do_not_log_communication(expert_a):
    body = {"kind": "presentation", "title": "Esittely", "date": "2026-03-02"}
    assert api_client(expert_a).post("/api/v1/communication/", body, format="json").status_code == 403
    assert not CommunicationActivity.objects.exists()


def test_list_query_counts(worker_a, network, partner, django_assert_max_num_queries):
    for number in range(15):
        organisation = PartnerOrganisation.objects.create(name=f"Org {number}")
        service = PartnerService.objects.create(partner=organisation, name="S", service_kind="housing")
        service.municipalities.set([])
        NetworkMembership.objects.create(network=network, organisation=organisation)
        meeting = NetworkMeeting.objects.create(network=network, date="2026-03-03")
        meeting.organisations.set([organisation, partner])
        MeetingTask.objects.create(meeting=meeting, title="T")
        CooperationAgreement.objects.create(network=network, title="A", agreed_on="2026-01-01").parties.set([partner])
    client = api_client(worker_a)
    for url in (
        "/api/v1/partner-services/",
        "/api/v1/memberships/",
        "/api/v1/agreements/",
        "/api/v1/meetings/",
        "/api/v1/meeting-tasks/",
    ):
        with django_assert_max_num_queries(7):
            assert len(results(client.get(url))) == 15, url
