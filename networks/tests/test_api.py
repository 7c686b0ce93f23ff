"""The partners and networks API: /api/v1/partners/ and /api/v1/networks/."""

import pytest

from networks.models import ContactPerson, Network, NetworkMembership, PartnerOrganisation
from outreach.models import AuditEntry
from outreach.tests.api_helpers import api_client, ids, results

PARTNERS = "/api/v1/partners/"
NETWORKS = "/api/v1/networks/"


@pytest.fixture
def partner(db):
    partner = PartnerOrganisation.objects.create(
        name="Kuopion Diakonia", kind=PartnerOrganisation.Kind.PARISH, services=["housing", "third_sector"]
    )
    partner.municipalities.set([])
    ContactPerson.objects.create(partner=partner, name="Liisa Laine", role="Diakoni")
    return partner


def test_everyone_signed_in_reads_partners(worker_a, expert_a, partner):
    for user in (worker_a, expert_a):
        rows = results(api_client(user).get(PARTNERS))
        assert [row["id"] for row in rows] == [partner.pk]
        assert rows[0]["services"] == ["housing", "third_sector"]
    # Partner staff's names are personal data: workers read them, experts by experience do not.
    assert results(api_client(worker_a).get(PARTNERS))[0]["contacts"][0]["name"] == "Liisa Laine"
    assert rows[0]["contacts"] == []
    assert api_client().get(PARTNERS).status_code == 401


def test_coordinator_creates_and_updates_a_partner(coordinator):
    client = api_client(coordinator)

    response = client.post(
        PARTNERS,
        {
            "name": "A-klinikka",
            "kind": "ngo",
            "municipalities": ["297", "857"],
            "services": ["mental_health_substance"],
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    partner = PartnerOrganisation.objects.get()
    assert partner.services == ["mental_health_substance"]
    assert set(partner.municipalities.values_list("code", flat=True)) == {"297", "857"}
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CREATE, model="networks.partnerorganisation").exists()

    update = client.patch(f"{PARTNERS}{partner.pk}/", {"active": False, "municipalities": ["297"]}, format="json")

    assert update.status_code == 200
    partner.refresh_from_db()
    assert partner.active is False
    assert list(partner.municipalities.values_list("code", flat=True)) == ["297"]
    assert client.delete(f"{PARTNERS}{partner.pk}/").status_code == 405


def test_workers_and_experts_do_not_manage_partners_or_networks(worker_a, expert_a, partner):
    network = Network.objects.create(name="Street network", kind=Network.Kind.STREET)
    for user in (worker_a, expert_a):
        client = api_client(user)
        assert client.post(PARTNERS, {"name": "X"}, format="json").status_code == 403
        assert client.patch(f"{PARTNERS}{partner.pk}/", {"name": "Y"}, format="json").status_code == 403
        assert client.post(NETWORKS, {"name": "X"}, format="json").status_code == 403
        assert client.patch(f"{NETWORKS}{network.pk}/", {"name": "Y"}, format="json").status_code == 403
    partner.refresh_from_db()
    assert partner.name == "Kuopion Diakonia"
    assert Network.objects.get().name == "Street network"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "Kuopion Diakonia"}, "name"),
        ({"name": "New", "kind": "church"}, "kind"),
        ({"name": "New", "services": ["flying"]}, "services"),
        ({"name": "New", "municipalities": ["999"]}, "municipalities"),
        ({"name": "New", "website": "not a url"}, "website"),
    ],
)
def test_invalid_partner_gets_400_naming_the_field(coordinator, partner, data, field):
    response = api_client(coordinator).post(PARTNERS, data, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert PartnerOrganisation.objects.count() == 1


def test_partner_filters(worker_a, partner):
    other = PartnerOrganisation.objects.create(name="Kela Kuopio", kind="kela", services=["kela"])
    other.municipalities.set([])
    client = api_client(worker_a)

    assert ids(client.get(PARTNERS, {"service": "housing"})) == {partner.pk}
    assert ids(client.get(PARTNERS, {"kind": "kela"})) == {other.pk}
    assert ids(client.get(PARTNERS, {"name": "diak"})) == {partner.pk}
    assert client.get(PARTNERS, {"service": "flying"}).status_code == 400


def test_coordinator_creates_a_network_with_members(coordinator, team_a, partner):
    contact = partner.contacts.get()

    response = api_client(coordinator).post(
        NETWORKS,
        {
            "name": "Low-threshold network",
            "kind": "low_threshold",
            "member_contacts": [contact.pk],
            "coordinating_team": team_a.pk,
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    network = Network.objects.get()
    assert list(network.member_contacts.all()) == [contact]
    assert response.json()["member_organisations"] == []
    assert network.coordinating_team == team_a
    NetworkMembership.objects.create(network=network, organisation=partner)
    assert api_client(coordinator).get(f"{NETWORKS}{network.pk}/").json()["member_organisations"] == [partner.pk]
    assert ids(api_client(coordinator).get(NETWORKS, {"kind": "low_threshold"})) == {network.pk}


def test_network_refuses_unknown_members_and_teams_out_of_sight(coordinator, team_other_area):
    client = api_client(coordinator)

    for field, value in [
        ("member_contacts", [424242]),
        ("coordinating_team", team_other_area.pk),
        ("kind", "club"),
    ]:
        response = client.post(NETWORKS, {"name": "N", field: value}, format="json")
        assert response.status_code == 400
        assert field in response.json()
    assert not Network.objects.exists()


def test_list_query_counts(worker_a, django_assert_max_num_queries):
    for number in range(20):
        partner = PartnerOrganisation.objects.create(name=f"Partner {number}")
        ContactPerson.objects.create(partner=partner, name=f"Contact {number}")
        network = Network.objects.create(name=f"Network {number}")
        NetworkMembership.objects.create(network=network, organisation=partner)
    client = api_client(worker_a)

    with django_assert_max_num_queries(4):
        assert len(results(client.get(PARTNERS))) == 20
    with django_assert_max_num_queries(4):
        assert len(results(client.get(NETWORKS))) == 20
