"""Client-data rules held by the database, not only by forms."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from encounters.forms import PersonForm
from encounters.models import Consent, Encounter, FollowUp, Person, Referral
from encounters.tests.factories import EncounterFactory, PersonFactory, ReferralFactory
from outreach.tests.factories import FieldSiteFactory
from outreach.validators import validate_plausible_date
from reports.models import ClientFeedback


def rejected(make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


@pytest.mark.django_db
def test_an_anonymous_encounter_has_no_person():
    person = PersonFactory()
    encounter = EncounterFactory(team=person.team)
    assert encounter.anonymous is True
    rejected(lambda: Encounter.objects.filter(pk=encounter.pk).update(person=person))
    linked = EncounterFactory(team=person.team, person=person)
    assert linked.anonymous is False
    rejected(lambda: Encounter.objects.filter(pk=linked.pk).update(person=None))


@pytest.mark.django_db
def test_encounter_depth_and_duration_are_checked():
    encounter = EncounterFactory()
    rejected(lambda: Encounter.objects.filter(pk=encounter.pk).update(depth="deep"))
    rejected(lambda: Encounter.objects.filter(pk=encounter.pk).update(duration_minutes=24 * 60 + 1))


@pytest.mark.django_db
def test_encounter_stores_its_helsinki_date():
    import datetime

    # 23:30 on 31 January in Helsinki is still 31 January, though 21:30 UTC.
    at = datetime.datetime(2026, 1, 31, 21, 30, tzinfo=datetime.UTC)
    assert EncounterFactory(occurred_at=at).occurred_on == datetime.date(2026, 1, 31)
    # 00:30 on 1 June in Helsinki (summer time) is 31 May 21:30 UTC.
    at = datetime.datetime(2026, 5, 31, 21, 30, tzinfo=datetime.UTC)
    assert EncounterFactory(occurred_at=at).occurred_on == datetime.date(2026, 6, 1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "identifier",
    [
        {"first_name": "Matti"},
        {"last_name": "Meikäläinen"},
        {"identity_code": "131052-308T"},
        {"phone": "040 123 4567"},
        {"email": "matti@example.org"},
    ],
)
def test_a_pseudonymous_person_has_no_direct_identifiers(identifier):
    person = PersonFactory()
    rejected(lambda: Person.objects.filter(pk=person.pk).update(**identifier))


@pytest.mark.django_db
def test_a_pseudonymous_person_needs_an_alias_and_a_named_one_a_name():
    person = PersonFactory()
    rejected(lambda: Person.objects.filter(pk=person.pk).update(alias=""))
    rejected(lambda: Person.objects.filter(pk=person.pk).update(kind="named"))
    Person.objects.filter(pk=person.pk).update(kind="named", first_name="Matti")
    rejected(lambda: Person.objects.filter(pk=person.pk).update(kind="other"))


@pytest.mark.django_db
@pytest.mark.parametrize("year", [1899, 2101, 0])
def test_birth_year_must_be_plausible(year):
    person = PersonFactory()
    rejected(lambda: Person.objects.filter(pk=person.pk).update(birth_year=year))


@pytest.mark.django_db
def test_the_person_form_says_the_models_birth_year_rule(team_a):
    person = PersonFactory(team=team_a)
    form = PersonForm(data={"alias": "Tuuli", "birth_year": 1899, "gender": "unknown"}, person=person)
    person.birth_year = 1899

    assert form.errors["birth_year"] == ["The birth year is not plausible."]
    with pytest.raises(ValidationError) as error:
        person.full_clean()
    assert error.value.message_dict["birth_year"] == ["The birth year is not plausible."]


@pytest.mark.django_db
def test_a_person_cannot_be_merged_into_itself():
    person = PersonFactory()
    rejected(lambda: Person.objects.filter(pk=person.pk).update(merged_into=person))


@pytest.mark.django_db
def test_referral_status_is_a_known_code_and_connected_has_a_date():
    referral = ReferralFactory()
    rejected(lambda: Referral.objects.filter(pk=referral.pk).update(status="pending"))
    rejected(lambda: Referral.objects.filter(pk=referral.pk).update(status="connected"))


@pytest.mark.django_db
def test_a_follow_up_belongs_to_a_referral_or_a_person():
    import datetime

    referral = ReferralFactory()
    rejected(lambda: FollowUp.objects.create(team=referral.team, due_on=datetime.date(2026, 6, 1)))
    FollowUp.objects.create(team=referral.team, referral=referral, due_on=datetime.date(2026, 6, 1))


@pytest.mark.django_db
def test_consent_is_not_withdrawn_before_it_was_given():
    import datetime

    person = PersonFactory()
    rejected(
        lambda: Consent.objects.create(
            person=person,
            scope=Consent.Scope.PERSONAL_DATA,
            given_on=datetime.date(2026, 5, 2),
            withdrawn_on=datetime.date(2026, 5, 1),
        )
    )


@pytest.mark.django_db
@pytest.mark.parametrize("score", [0, 6])
def test_feedback_score_is_between_1_and_5(score):
    site = FieldSiteFactory()
    rejected(lambda: ClientFeedback.objects.create(site=site, score=score))


@pytest.mark.django_db
def test_needs_are_stored_as_a_set_of_codes_and_queried_with_has():
    encounter = EncounterFactory(needs=["substance_use", "housing", "housing"])
    encounter.refresh_from_db()
    # Vocabulary order, no duplicates.
    assert encounter.needs == ["substance_use", "housing"]
    assert Encounter.objects.filter(needs__has="housing").count() == 1
    assert Encounter.objects.filter(needs__has="mental_health").count() == 0
    with pytest.raises(ValidationError, match="not a valid choice"):  # refused before the database
        Encounter.objects.filter(needs__has="hunger").count()


def test_the_plausible_range_is_read_in_helsinki_days_whatever_zone_is_active():
    """2000-01-01 00:30 in Helsinki is 1999-12-31 in UTC: the Helsinki day decides."""
    helsinki = ZoneInfo("Europe/Helsinki")
    just_inside = datetime.datetime(2000, 1, 1, 0, 30, tzinfo=helsinki)
    just_outside = datetime.datetime(1999, 12, 31, 23, 30, tzinfo=helsinki)
    with timezone.override(ZoneInfo("UTC")):
        validate_plausible_date(just_inside)
        with pytest.raises(ValidationError):
            validate_plausible_date(just_outside)
    with timezone.override(ZoneInfo("America/New_York")):
        validate_plausible_date(just_inside)
