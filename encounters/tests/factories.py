import datetime
from typing import cast

import factory

from encounters import referral_rollups, rollups
from encounters.models import Encounter, Person, Referral
from outreach.tests.factories import FieldSiteFactory, ModelFactory, TeamFactory
from outreach.vocabulary import Depth, ReferralStatus, ServiceKind

HELSINKI = datetime.timezone(datetime.timedelta(hours=3))


class _PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    team = factory.SubFactory(TeamFactory)
    alias = factory.Sequence(lambda n: f"Alias {n}")
    birth_year = 1980


PersonFactory = cast(ModelFactory[Person], _PersonFactory)


class _EncounterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Encounter

    team = factory.SubFactory(TeamFactory)
    site = factory.SubFactory(FieldSiteFactory)
    occurred_at = factory.LazyFunction(lambda: datetime.datetime(2026, 5, 12, 10, 30, tzinfo=HELSINKI))
    depth = Depth.CONVERSATION
    anonymous = factory.LazyAttribute(lambda o: o.person is None)
    person = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Test data skips the services; keep the report rollups as they would.
        encounter = super()._create(model_class, *args, **kwargs)
        rollups.encounters_changed(encounter)
        return encounter


EncounterFactory = cast(ModelFactory[Encounter], _EncounterFactory)


class _ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Referral

    team = factory.SubFactory(TeamFactory)
    service_kind = ServiceKind.ADULT_SOCIAL_WORK
    status = ReferralStatus.SUGGESTED
    referred_on = datetime.date(2026, 5, 12)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Test data skips the services; keep the report rollup as they would.
        referral = super()._create(model_class, *args, **kwargs)
        referral_rollups.referrals_changed(referral)
        return referral


ReferralFactory = cast(ModelFactory[Referral], _ReferralFactory)
