"""Client data sent out is recorded: recipient, data categories, legal basis, user and time."""

import pytest

from encounters.models import Consent, Person
from encounters.services import referral_create, referral_update
from encounters.tests.factories import PersonFactory
from networks.models import PartnerOrganisation
from outreach.models import Disclosure


@pytest.fixture
def partner(db):
    return PartnerOrganisation.objects.create(name="A-klinikka", services=["mental_health_substance"])


@pytest.fixture
def named(team_a):
    return Person.objects.create(team=team_a, kind=Person.Kind.NAMED, first_name="Maija", last_name="M")


def test_a_referral_to_a_partner_records_a_disclosure(worker_a, team_a, named, partner):
    Consent.objects.create(person=named, scope=Consent.Scope.INFORMATION_SHARING)

    referral_create(actor=worker_a, team=team_a, person=named, partner=partner, service_kind="mental_health_substance")

    disclosure = Disclosure.objects.get()
    assert (disclosure.actor, disclosure.kind, disclosure.recipient, disclosure.legal_basis) == (
        worker_a,
        "referral",
        "A-klinikka",
        "consent",
    )
    assert disclosure.categories == ["identity", "referrals"]
    assert disclosure.person_ids == [named.pk]
    assert disclosure.at is not None


def test_without_a_consent_to_share_the_basis_is_not_recorded(worker_a, team_a, partner):
    person = PersonFactory(team=team_a)

    referral_create(actor=worker_a, team=team_a, person=person, partner=partner, service_kind="housing")

    disclosure = Disclosure.objects.get()
    assert (disclosure.legal_basis, disclosure.categories) == ("not_recorded", ["pseudonymous", "referrals"])


def test_a_referral_without_a_partner_or_person_discloses_nothing(worker_a, team_a, named, partner):
    referral = referral_create(actor=worker_a, team=team_a, person=named, service_kind="kela")
    referral_create(actor=worker_a, team=team_a, partner=partner, service_kind="kela")
    assert not Disclosure.objects.exists()

    referral_update(actor=worker_a, referral=referral, partner=partner)

    assert Disclosure.objects.get().recipient == "A-klinikka"
