"""Partners and networks in the admin: coordinators manage them, saved through the services."""

import datetime

import pytest
from django.urls import reverse

from networks.models import ContactPerson, Network, NetworkMeeting, PartnerOrganisation
from outreach.models import AuditEntry
from outreach.tests.factories import municipality
from outreach.vocabulary import ServiceKind


@pytest.fixture
def signed_in(client, with_totp):
    def sign_in(user):
        if user.requires_mfa:
            with_totp(user)
        client.force_login(user)
        return client

    return sign_in


def test_worker_gets_no_partner_admin(signed_in, worker_a):
    PartnerOrganisation.objects.create(name="Sininauha")
    client = signed_in(worker_a)

    response = client.get(reverse("admin:networks_partnerorganisation_changelist"), follow=True)

    assert response.status_code == 403
    assert b"Sininauha" not in response.content


def test_partner_form_offers_services_as_checkboxes(signed_in, coordinator):
    client = signed_in(coordinator)

    response = client.get(reverse("admin:networks_partnerorganisation_add"))

    assert response.status_code == 200
    assert 'type="checkbox" name="services" value="housing"' in response.content.decode()


def test_coordinator_creates_partner_through_the_service(signed_in, coordinator):
    client = signed_in(coordinator)

    response = client.post(
        reverse("admin:networks_partnerorganisation_add"),
        {
            "name": "Kuopion Seudun Sininauha",
            "kind": PartnerOrganisation.Kind.NGO,
            "services": [ServiceKind.THIRD_SECTOR, ServiceKind.HOUSING],
            "municipalities": [municipality("297").pk, municipality("857").pk],
            "active": "on",
        },
    )

    assert response.status_code == 302
    partner = PartnerOrganisation.objects.get()
    assert partner.services == [ServiceKind.HOUSING, ServiceKind.THIRD_SECTOR]
    assert {m.code for m in partner.municipalities.all()} == {"297", "857"}
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.model) == (
        coordinator,
        AuditEntry.Action.CREATE,
        "networks.partnerorganisation",
    )


def test_coordinator_adds_a_dated_membership(signed_in, coordinator):
    partner = PartnerOrganisation.objects.create(name="Kuopion seurakuntayhtymä")
    network = Network.objects.create(name="Katuverkosto", kind=Network.Kind.STREET)
    client = signed_in(coordinator)

    response = client.post(
        reverse("admin:networks_networkmembership_add"),
        {"network": network.pk, "organisation": partner.pk, "joined_on": "2026-03-01"},
    )

    assert response.status_code == 302
    membership = network.memberships.get()
    assert (membership.organisation, str(membership.joined_on), membership.left_on) == (partner, "2026-03-01", None)
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.model) == (AuditEntry.Action.CREATE, "networks.networkmembership")


def test_meeting_without_a_service_still_gets_an_audit_entry(signed_in, coordinator, worker_a):
    network = Network.objects.create(name="Matalan kynnyksen verkosto")
    client = signed_in(coordinator)

    response = client.post(
        reverse("admin:networks_networkmeeting_add"),
        {"network": network.pk, "date": "2026-05-20", "staff": [worker_a.pk], "topics": "Kevään jalkautumiset"},
    )

    assert response.status_code == 302
    meeting = NetworkMeeting.objects.get()
    assert meeting.date == datetime.date(2026, 5, 20)
    assert list(meeting.staff.all()) == [worker_a]
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.object_id) == (AuditEntry.Action.CREATE, str(meeting.pk))


def test_contact_person_deletion_is_audited(signed_in, coordinator):
    contact = ContactPerson.objects.create(partner=PartnerOrganisation.objects.create(name="Kela"), name="Liisa")
    client = signed_in(coordinator)

    response = client.post(reverse("admin:networks_contactperson_delete", args=[contact.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not ContactPerson.objects.exists()
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.object_id) == (AuditEntry.Action.DELETE, str(contact.pk))


def test_partners_are_not_deleted_in_the_admin(signed_in, coordinator):
    partner = PartnerOrganisation.objects.create(name="Kela")
    client = signed_in(coordinator)

    response = client.post(reverse("admin:networks_partnerorganisation_delete", args=[partner.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert PartnerOrganisation.objects.exists()


def test_contact_person_changelist_query_count(signed_in, coordinator, django_assert_max_num_queries):
    for n in range(30):
        partner = PartnerOrganisation.objects.create(name=f"Partner {n}", services=[ServiceKind.KELA])
        ContactPerson.objects.create(partner=partner, name=f"Contact {n}")
    client = signed_in(coordinator)

    with django_assert_max_num_queries(9):
        response = client.get(reverse("admin:networks_contactperson_changelist"))
    assert len(response.context["cl"].result_list) == 30

    with django_assert_max_num_queries(9):
        response = client.get(reverse("admin:networks_partnerorganisation_changelist"))
    assert len(response.context["cl"].result_list) == 30
