import datetime
import importlib
from typing import Any, Protocol, TypeVar, cast

import factory
from django.apps import apps
from django.db import models

from outreach import rollups
from outreach.models import Area, FieldSite, Municipality, Outing, Team, User
from outreach.vocabulary import OutingStatus, Role, SiteType

M = TypeVar("M", bound=models.Model)


class ModelFactory(Protocol[M]):
    """A factory as the tests use it: calling it makes the model.

    factory_boy types `Factory()` as an instance of the factory class (its
    metaclass's `__call__` is what makes the model), so each factory below is
    published under this type.
    """

    def __call__(self, **kwargs: Any) -> M: ...

    def create_batch(self, size: int, **kwargs: Any) -> list[M]: ...


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


class _AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Area {n}")


AreaFactory = cast(ModelFactory[Area], _AreaFactory)


class _TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


TeamFactory = cast(ModelFactory[Team], _TeamFactory)


def _set_teams(user: User, create: bool, extracted: Any, **kwargs: Any) -> None:
    if create and extracted:
        user.teams.set(extracted)
    if create:
        user.save()


class _UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    full_name = factory.Faker("name", locale="fi_FI")
    role = Role.WORKER
    is_staff = factory.LazyAttribute(lambda o: o.role in (Role.ADMIN, Role.COORDINATOR))
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    teams = factory.post_generation(_set_teams)


UserFactory = cast(ModelFactory[User], _UserFactory)


class _FieldSiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FieldSite

    name = factory.Sequence(lambda n: f"Site {n}")
    site_type = SiteType.FOOD_DISTRIBUTION
    municipality = factory.LazyFunction(municipality)


FieldSiteFactory = cast(ModelFactory[FieldSite], _FieldSiteFactory)


def _set_participants(outing: Outing, create: bool, extracted: Any, **kwargs: Any) -> None:
    if create and extracted:
        outing.participants.set(extracted)
    if create:
        # Test data skips the services; keep the report rollups as they would.
        rollups.outings_changed(outing)


class _OutingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Outing
        skip_postgeneration_save = True

    team = factory.SubFactory(TeamFactory)
    site = factory.SubFactory(FieldSiteFactory)
    date = factory.LazyFunction(lambda: datetime.date(2026, 5, 12))
    start_time = datetime.time(10, 0)
    end_time = datetime.time(12, 0)
    status = OutingStatus.DONE

    participants = factory.post_generation(_set_participants)


OutingFactory = cast(ModelFactory[Outing], _OutingFactory)
