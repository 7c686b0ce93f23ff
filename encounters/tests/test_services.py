"""Writes go through services: they check the rules and leave an audit entry."""

import datetime
import itertools

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils import timezone

from encounters import services
from encounters.models import Consent, Encounter, Person, Referral
from encounters.rules import REFERRAL_TRANSITIONS
from encounters.tests.factories import EncounterFactory, PersonFactory, ReferralFactory
from outreach.models import AuditEntry
from outreach.tests.factories import FieldSiteFactory, OutingFactory
from outreach.vocabulary import ReferralStatus

AT = datetime.datetime(2026, 5, 12, 10, 15, tzinfo=datetime.timezone(datetime.timedelta(hours=3)))


@pytest.fixture
def outing_a(team_a, worker_a, expert_a):
    return OutingFactory(team=team_a, participants=[worker_a, expert_a])


def audit_for(instance, action):
    return AuditEntry.objects.filter(model=instance._meta.label_lower, object_id=str(instance.pk), action=action)


@pytest.mark.django_db
def test_encounter_create_takes_workers_from_the_outing_and_audits(worker_a, expert_a, outing_a):
    encounter = services.encounter_create(
        actor=worker_a,
        team=outing_a.team,
        site=outing_a.site,
        outing=outing_a,
        occurred_at=AT,
        needs=["housing", "substance_use"],
    )
    encounter.refresh_from_db()
    assert encounter.anonymous is True
    assert encounter.occurred_on == datetime.date(2026, 5, 12)
    assert encounter.needs == ["substance_use", "housing"]
    assert set(encounter.workers.all()) == {worker_a, expert_a}
    entry = audit_for(encounter, "create").get()
    assert entry.actor == worker_a
    # The log names fields, never values.
    assert "housing" not in str(entry.changes)


@pytest.mark.django_db
def test_encounter_create_refuses_links_across_teams(worker_a, outing_a, team_b):
    other_person = PersonFactory(team=team_b)
    with pytest.raises(ValidationError) as error:
        services.encounter_create(
            actor=worker_a, team=outing_a.team, site=outing_a.site, outing=outing_a, occurred_at=AT, person=other_person
        )
    assert "person" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.encounter_create(actor=worker_a, team=team_b, site=outing_a.site, occurred_at=AT)
    assert "team" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.encounter_create(
            actor=worker_a, team=outing_a.team, site=FieldSiteFactory(), outing=outing_a, occurred_at=AT
        )
    assert "site" in error.value.message_dict
    assert Encounter.objects.count() == 0
    assert AuditEntry.objects.filter(model="encounters.encounter").count() == 0


@pytest.mark.django_db
def test_expert_logs_only_anonymous_or_pseudonymous_encounters_in_their_outings(expert_a, outing_a, team_a):
    services.encounter_create(actor=expert_a, team=team_a, site=outing_a.site, outing=outing_a, occurred_at=AT)
    other_outing = OutingFactory(team=team_a)
    with pytest.raises(ValidationError) as error:
        services.encounter_create(
            actor=expert_a, team=team_a, site=other_outing.site, outing=other_outing, occurred_at=AT
        )
    assert "outing" in error.value.message_dict
    named = PersonFactory(team=team_a, kind=Person.Kind.NAMED, alias="", first_name="Named")
    with pytest.raises(ValidationError) as error:
        services.encounter_create(
            actor=expert_a, team=team_a, site=outing_a.site, outing=outing_a, occurred_at=AT, person=named
        )
    assert "person" in error.value.message_dict
    assert Encounter.objects.count() == 1


@pytest.mark.django_db
def test_unknown_vocabulary_code_is_refused_naming_the_field(worker_a, outing_a):
    with pytest.raises(ValidationError) as error:
        services.encounter_create(actor=worker_a, team=outing_a.team, site=outing_a.site, occurred_at=AT, depth="deep")
    assert "depth" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.encounter_create(
            actor=worker_a, team=outing_a.team, site=outing_a.site, occurred_at=AT, needs=["hunger"]
        )
    assert Encounter.objects.count() == 0


@pytest.mark.django_db
def test_encounter_update_links_a_person_and_keeps_the_anonymous_flag_true_to_it(worker_a, outing_a):
    encounter = EncounterFactory(team=outing_a.team, site=outing_a.site, outing=outing_a, created_by=worker_a)
    person = PersonFactory(team=outing_a.team)
    services.encounter_update(actor=worker_a, encounter=encounter, person=person, notes="x")
    encounter.refresh_from_db()
    assert (encounter.person, encounter.anonymous) == (person, False)
    assert set(audit_for(encounter, "update").get().changes) == {"person", "anonymous", "notes"}


@pytest.mark.django_db
def test_person_create_validates_and_pseudonymous_persons_carry_no_identifiers(worker_a, team_a, team_b):
    person = services.person_create(actor=worker_a, team=team_a, alias="Kettu", birth_year=1984, gender="male")
    assert audit_for(person, "create").exists()
    with pytest.raises(ValidationError) as error:
        services.person_create(actor=worker_a, team=team_a, alias="Susi", birth_year=1850)
    assert "birth_year" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.person_create(actor=worker_a, team=team_a, alias="Susi", first_name="Matti")
    with pytest.raises(ValidationError) as error:
        services.person_create(actor=worker_a, team=team_b, alias="Karhu")
    assert "team" in error.value.message_dict
    assert Person.objects.count() == 1


@pytest.mark.django_db
def test_a_person_becomes_named_only_with_consent(worker_a, expert_a, team_a):
    person = services.person_create(actor=worker_a, team=team_a, alias="Kettu")
    with pytest.raises(ValidationError):
        services.person_update(actor=worker_a, person=person, kind=Person.Kind.NAMED, first_name="Matti")
    with pytest.raises(ValidationError) as error:
        services.person_make_named(actor=worker_a, person=person, consent_scopes=["contact"], first_name="Matti")
    assert "consent_scopes" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        services.person_make_named(actor=expert_a, person=person, consent_scopes=["personal_data"], first_name="Matti")
    with pytest.raises(ValidationError) as error:
        services.person_make_named(
            actor=worker_a, person=person, consent_scopes=["personal_data"], first_name="M", identity_code="131052-308U"
        )
    assert "identity_code" in error.value.message_dict
    services.person_make_named(
        actor=worker_a,
        person=person,
        consent_scopes=["personal_data", "contact"],
        first_name="Matti",
        last_name="Meikäläinen",
        identity_code="131052-308t",
    )
    person.refresh_from_db()
    assert (person.kind, person.identity_code) == (Person.Kind.NAMED, "131052-308T")
    assert set(Consent.objects.filter(person=person).values_list("scope", flat=True)) == {"personal_data", "contact"}


@pytest.mark.django_db
def test_referral_create_in_any_status_stamps_dates(worker_a, team_a):
    referral = services.referral_create(
        actor=worker_a,
        team=team_a,
        service_kind="kela",
        status=ReferralStatus.CONNECTED,
        referred_on=datetime.date(2026, 3, 1),
    )
    assert (referral.made_on, referral.connected_on) == (datetime.date(2026, 3, 1), datetime.date(2026, 3, 1))
    assert audit_for(referral, "create").exists()


ALL_PAIRS = list(itertools.product(ReferralStatus.values, repeat=2))


@pytest.mark.django_db
@pytest.mark.parametrize(("current", "new"), ALL_PAIRS)
def test_referral_status_moves_only_forward(worker_a, team_a, current, new):
    referral = services.referral_create(actor=worker_a, team=team_a, service_kind="kela", status=current)
    allowed = new == current or new in REFERRAL_TRANSITIONS[current]
    if allowed:
        services.referral_update(actor=worker_a, referral=referral, status=new)
        referral.refresh_from_db()
        assert referral.status == new
    else:
        with pytest.raises(ValidationError) as error:
            services.referral_update(actor=worker_a, referral=referral, status=new, outcome_notes="changed")
        assert "status" in error.value.message_dict
        referral.refresh_from_db()
        assert (referral.status, referral.outcome_notes) == (current, "")


def test_transition_table_matches_the_design():
    assert {
        "suggested": {"made", "declined", "not_reached", "ended"},
        "made": {"connected", "declined", "not_reached", "ended"},
        "connected": {"ended"},
        "declined": set(),
        "not_reached": set(),
        "ended": set(),
    } == REFERRAL_TRANSITIONS


@pytest.mark.django_db
def test_referral_links_must_belong_to_the_team(worker_a, team_a, team_b):
    with pytest.raises(ValidationError) as error:
        services.referral_create(actor=worker_a, team=team_a, service_kind="kela", person=PersonFactory(team=team_b))
    assert "person" in error.value.message_dict
    assert Referral.objects.count() == 0


@pytest.mark.django_db
def test_experts_make_no_referrals(expert_a, team_a):
    with pytest.raises(PermissionDenied):
        services.referral_create(actor=expert_a, team=team_a, service_kind="kela")
    referral = ReferralFactory(team=team_a)
    with pytest.raises(PermissionDenied):
        services.referral_update(actor=expert_a, referral=referral, status="made")


@pytest.mark.django_db
def test_merge_moves_history_and_unmerge_moves_it_back(worker_a, worker_b, team_a):
    kept = PersonFactory(team=team_a, alias="Kettu")
    duplicate = PersonFactory(team=team_a, alias="Kettu 2")
    first = EncounterFactory(team=team_a, person=duplicate)
    second = EncounterFactory(team=team_a, person=kept)
    referral = ReferralFactory(team=team_a, person=duplicate)

    merge = services.person_merge(actor=worker_a, kept=kept, merged=duplicate)
    first.refresh_from_db()
    referral.refresh_from_db()
    duplicate.refresh_from_db()
    assert (first.person, referral.person, duplicate.merged_into) == (kept, kept, kept)
    assert set(kept.encounters.values_list("pk", flat=True)) == {first.pk, second.pk}

    # A record logged for the kept person after the merge stays with it.
    later = EncounterFactory(team=team_a, person=kept)
    services.person_unmerge(actor=worker_a, merge=merge)
    first.refresh_from_db()
    later.refresh_from_db()
    duplicate.refresh_from_db()
    assert (first.person, later.person, duplicate.merged_into) == (duplicate, kept, None)
    merge.refresh_from_db()
    assert merge.undone_by == worker_a
    with pytest.raises(ValidationError):
        services.person_unmerge(actor=worker_a, merge=merge)


@pytest.mark.django_db
def test_merge_is_refused_across_teams_into_itself_and_for_other_teams(worker_a, worker_b, team_a, team_b):
    a1, a2 = PersonFactory(team=team_a), PersonFactory(team=team_a)
    with pytest.raises(ValidationError):
        services.person_merge(actor=worker_a, kept=a1, merged=PersonFactory(team=team_b))
    with pytest.raises(ValidationError):
        services.person_merge(actor=worker_a, kept=a1, merged=a1)
    with pytest.raises(ValidationError):
        services.person_merge(actor=worker_b, kept=a1, merged=a2)
    a2.refresh_from_db()
    assert a2.merged_into is None


@pytest.mark.django_db
def test_a_named_record_is_never_merged_into_a_pseudonymous_one(worker_a, team_a):
    pseudonymous = PersonFactory(team=team_a)
    named = PersonFactory(team=team_a, kind=Person.Kind.NAMED, alias="", first_name="Maija")
    with pytest.raises(ValidationError) as error:
        services.person_merge(actor=worker_a, kept=pseudonymous, merged=named)
    assert "merged" in error.value.message_dict
    named.refresh_from_db()
    assert named.merged_into is None
    services.person_merge(actor=worker_a, kept=named, merged=pseudonymous)
    pseudonymous.refresh_from_db()
    assert pseudonymous.merged_into == named


# Encounters in bulk --------------------------------------------------------


@pytest.mark.django_db
def test_bulk_encounters_are_all_written_with_their_workers_and_audit(worker_a, expert_a, team_a):
    site = FieldSiteFactory()
    outing = OutingFactory(team=team_a, site=site, participants=[worker_a, expert_a])
    moment = datetime.datetime(2026, 5, 12, 10, 0, tzinfo=datetime.UTC)

    before = timezone.now()
    created = services.encounters_create_bulk(
        actor=worker_a,
        rows=[
            {"team": team_a, "site": site, "outing": outing, "occurred_at": moment, "needs": ["housing"]},
            {"team": team_a, "site": site, "occurred_at": moment, "depth": "brief"},
        ],
    )
    after = timezone.now()

    first, second = (Encounter.objects.get(pk=encounter.pk) for encounter in created)
    assert set(first.workers.all()) == {worker_a, expert_a}
    assert list(second.workers.all()) == [worker_a]
    assert (first.needs, second.depth, first.occurred_on) == (["housing"], "brief", datetime.date(2026, 5, 12))
    entries = AuditEntry.objects.filter(action="create", model="encounters.encounter", actor=worker_a)
    assert sorted(entries.values_list("object_id", "changes")) == sorted(
        (str(encounter.pk), ["person", "site", "team"]) for encounter in created
    )
    assert all(before <= at <= after for at in entries.values_list("at", flat=True))


def test_fields_the_bulk_path_leaves_unvalidated_have_no_rules_of_their_own():
    """The builder derives them, or they hold their defaults: a validator or choices added later must be run."""
    for name in [*services.BULK_DERIVED_FIELDS, *services.BULK_DEFAULTED_FIELDS]:
        field = Encounter._meta.get_field(name)
        assert isinstance(field, models.Field)
        assert field._validators == [], name  # type: ignore[attr-defined]  # not in django-stubs
        assert not field.choices, name
        assert field.has_default() or name in services.BULK_DERIVED_FIELDS, name


@pytest.mark.django_db
def test_bulk_encounters_validate_a_defaulted_field_that_a_row_gives(worker_a, team_a):
    site = FieldSiteFactory()
    moment = datetime.datetime(2026, 5, 12, 10, 0, tzinfo=datetime.UTC)
    rows = [
        {"team": team_a, "site": site, "occurred_at": moment},
        {"team": team_a, "site": site, "occurred_at": moment, "version": -1},
    ]

    with pytest.raises(services.RowErrors) as refused:
        services.encounters_create_bulk(actor=worker_a, rows=rows)

    assert list(refused.value.errors) == [1]
    assert list(refused.value.errors[1].message_dict) == ["version"]
    assert Encounter.objects.count() == 0


@pytest.mark.django_db
def test_bulk_encounters_of_one_outing_each_get_its_participants(worker_a, expert_a, team_a):
    site = FieldSiteFactory()
    outing = OutingFactory(team=team_a, site=site, participants=[worker_a, expert_a])
    other = OutingFactory(team=team_a, site=site, participants=[expert_a])
    moment = datetime.datetime(2026, 5, 12, 10, 0, tzinfo=datetime.UTC)
    rows = [
        {"team": team_a, "site": site, "outing": outing, "occurred_at": moment},
        {"team": team_a, "site": site, "outing": other, "occurred_at": moment},
        {"team": team_a, "site": site, "outing": outing, "occurred_at": moment, "workers": [worker_a]},
        {"team": team_a, "site": site, "outing": outing, "occurred_at": moment},
    ]

    created = services.encounters_create_bulk(actor=worker_a, rows=rows)

    assert [set(encounter.workers.all()) for encounter in created] == [
        {worker_a, expert_a},
        {expert_a},
        {worker_a},
        {worker_a, expert_a},
    ]


@pytest.mark.django_db
def test_bulk_encounters_refuse_as_encounter_create_does_and_write_nothing(worker_a, team_a, team_b):
    site = FieldSiteFactory()
    outing = OutingFactory(team=team_a, site=site)
    moment = datetime.datetime(2026, 5, 12, 10, 0, tzinfo=datetime.UTC)
    rows = [
        {"team": team_a, "site": site, "occurred_at": moment},
        {"team": team_a, "site": FieldSiteFactory(), "outing": outing, "occurred_at": moment},
        {"team": team_b, "site": site, "occurred_at": moment},
        {"team": team_a, "site": site, "occurred_at": moment, "duration_minutes": 24 * 60 + 1},
    ]

    with pytest.raises(services.RowErrors) as refused:
        services.encounters_create_bulk(actor=worker_a, rows=rows)

    assert {index: error.message_dict for index, error in refused.value.errors.items()} == {
        1: {"site": ["The site differs from the outing's site."]},
        2: {"team": ["You cannot record work for this team."]},
        3: {"duration_minutes": ["An encounter lasts at most 24 hours."]},
    }
    for index in (1, 2, 3):
        with pytest.raises(ValidationError) as single:
            services.encounter_create(actor=worker_a, **rows[index])
        assert single.value.message_dict == refused.value.errors[index].message_dict
    assert Encounter.objects.count() == 0
    assert not AuditEntry.objects.filter(model="encounters.encounter").exists()
