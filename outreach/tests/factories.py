import datetime
import importlib

import factory
from django.apps import apps

from outreach import rollups
from outreach.models import Area, FieldSite, Municipality, Outing, Team, User
from outreach.vocabulary import OutingStatus, Role, SiteType


def municipality(code: str = "297") -> Municipality:
    """The municipalities come from a data migration; tests look them up.

    A transactional test (PostgreSQL races, browser tests) empties every table
    when it ends, the migration's rows included: the tests after it get them
    back from the same migration.
    """
    found = Municipality.objects.filter(code=code).first()
    if found is None:
        importlib.import_module("outreach.migrations.0002_municipalities").load(apps, None)
        found = Municipality.objects.get(code=code)
    return found


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Area {n}")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    full_name = factory.Faker("name", locale="fi_FI")
    role = Role.WORKER
    is_staff = factory.LazyAttribute(lambda o: o.role in (Role.ADMIN, Role.COORDINATOR))
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def teams(self, create, extracted, **kwargs):
        if create and extracted:
            self.teams.set(extracted)
        if create:
            self.save()


class FieldSiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FieldSite

    name = factory.Sequence(lambda n: f"Site {n}")
    site_type = SiteType.FOOD_DISTRIBUTION
    municipality = factory.LazyFunction(municipality)


class OutingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Outing
        skip_postgeneration_save = True

    team = factory.SubFactory(TeamFactory)
    site = factory.SubFactory(FieldSiteFactory)
    date = factory.LazyFunction(lambda: datetime.date(2026, 5, 12))
    start_time = datetime.time(10, 0)
    end_time = datetime.time(12, 0)
    status = OutingStatus.DONE

    @factory.post_generation
    def participants(self, create, extracted, **kwargs):
        if create and extracted:
            self.participants.set(extracted)
        if create:
            # Test data skips the services; keep the report rollups as they would.
            rollups.outings_changed(self)
