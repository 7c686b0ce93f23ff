"""Partner services as referral targets: the API's `partner_service`, the quick log and the encounter page."""

import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from encounters.models import Referral
from encounters.tests.factories import EncounterFactory, PersonFactory
from networks.models import PartnerOrganisation, PartnerService
from outreach.tests.api_helpers import api_client
from outreach.tests.factories import FieldSiteFactory, OutingFactory, municipality
from outreach.vocabulary import OutingStatus, ServiceKind

URL = "/api/v1/referrals/"


@pytest.fixture
def housing(db):
    partner = PartnerOrganisation.objects.create(name="Tuusniemen asunnot", kind="housing")
    service = PartnerService.objects.create(partner=partner, name="Asumisneuvonta", service_kind=ServiceKind.HOUSING)
    service.municipalities.set([municipality("857")])
    return service


@pytest.fixture
def inactive(housing):
    return PartnerService.objects.create(
        partner=housing.partner, name="Vanha palvelu", service_kind=ServiceKind.HOUSING, active=False
    )


@pytest.fixture
def person_a(team_a):
    return PersonFactory(team=team_a)


def test_a_partner_service_sets_partner_and_service_kind(worker_a, person_a, housing):
    response = api_client(worker_a).post(URL, {"person": person_a.pk, "partner_service": housing.pk}, format="json")

    assert response.status_code == 201, response.json()
    assert (response.json()["partner"], response.json()["service_kind"]) == (housing.partner_id, "housing")
    referral = Referral.objects.get()
    assert (referral.partner_service, referral.partner, referral.service_kind) == (housing, housing.partner, "housing")


@pytest.mark.parametrize("field", ["service_kind", "partner"])
def test_a_partner_service_that_does_not_fit_is_refused(worker_a, person_a, housing, field):
    other = PartnerOrganisation.objects.create(name="Kela")
    body = {"person": person_a.pk, "partner_service": housing.pk}
    body[field] = "kela" if field == "service_kind" else other.pk

    response = api_client(worker_a).post(URL, body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["partner_service"]
    assert not Referral.objects.exists()


def test_an_inactive_service_is_refused(worker_a, person_a, inactive):
    response = api_client(worker_a).post(URL, {"person": person_a.pk, "partner_service": inactive.pk}, format="json")

    assert response.status_code == 400
    assert "partner_service" in response.json()
    assert not Referral.objects.exists()


def test_a_referral_needs_a_service_kind_or_a_partner_service(worker_a, person_a):
    response = api_client(worker_a).post(URL, {"person": person_a.pk}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["service_kind"]


def test_changing_the_target_follows_the_service(worker_a, person_a, housing):
    referral = api_client(worker_a).post(URL, {"person": person_a.pk, "service_kind": "kela"}, format="json").json()

    response = api_client(worker_a).patch(f"{URL}{referral['id']}/", {"partner_service": housing.pk}, format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["service_kind"], response.json()["partner"]) == ("housing", housing.partner_id)


@pytest.fixture
def tuusniemi_outing(team_a, worker_a):
    site = FieldSiteFactory(name="Tuusniemen kirjasto", team=team_a, municipality=municipality("857"))
    today = timezone.localdate()
    return OutingFactory(
        team=team_a,
        site=site,
        date=today,
        start_time=datetime.time(0, 0),
        end_time=None,
        status=OutingStatus.PLANNED,
        started_at=timezone.make_aware(datetime.datetime.combine(today, datetime.time(0, 0))),
        participants=[worker_a],
    )


def test_the_quick_log_offers_active_services_of_the_municipality(
    client, worker_a, tuusniemi_outing, housing, inactive
):
    elsewhere = PartnerService.objects.create(
        partner=housing.partner, name="Kuopion asumisneuvonta", service_kind="housing"
    )
    elsewhere.municipalities.set([municipality("297")])
    everywhere = PartnerService.objects.create(partner=housing.partner, name="Puhelinneuvonta", service_kind="housing")
    client.force_login(worker_a)

    page = client.get(reverse("encounters:outing_detail", args=[tuusniemi_outing.pk])).content.decode()

    assert f'value="{housing.pk}" data-kind="housing"' in page
    assert f'value="{everywhere.pk}"' in page  # no municipality named: all of them
    assert f'value="{inactive.pk}"' not in page
    assert f'value="{elsewhere.pk}"' not in page


def test_the_quick_log_refers_to_the_chosen_service(client, worker_a, tuusniemi_outing, housing, inactive):
    client.force_login(worker_a)
    data = {
        "client_uuid": str(uuid.uuid4()),
        "depth": "conversation",
        "gender": "female",
        "age_group": "30_39",
        "contact_kind": "field",
        "new_alias": "Kettu",
        "referral_service_kind": "",
        "referral_partner_service": str(housing.pk),
        "referral_status": "suggested",
    }
    path = reverse("encounters:encounter_create", args=[tuusniemi_outing.pk])

    assert client.post(path, data).status_code == 302
    referral = Referral.objects.get()
    assert (referral.partner_service, referral.partner, referral.service_kind) == (housing, housing.partner, "housing")

    data.update(client_uuid=str(uuid.uuid4()), new_alias="Karhu", referral_partner_service=str(inactive.pk))
    response = client.post(path, data)
    assert response.status_code == 200
    assert "This service is not offered here." in response.content.decode()
    assert Referral.objects.count() == 1


def test_the_encounter_page_adds_a_referral_to_a_service(client, worker_a, team_a, tuusniemi_outing, housing):
    person = PersonFactory(team=team_a)
    encounter = EncounterFactory(
        team=team_a, site=tuusniemi_outing.site, outing=tuusniemi_outing, person=person, anonymous=False
    )
    client.force_login(worker_a)

    response = client.post(
        reverse("encounters:referral_add", args=[encounter.pk]),
        {"referral-service_kind": "", "referral-partner_service": housing.pk, "referral-status": "made"},
    )

    assert response.status_code == 302
    assert Referral.objects.get().partner_service == housing
