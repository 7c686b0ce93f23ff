"""`manage.py seed_demo`: a realistic, reproducible demo data set on an empty database.

The same tests run on SQLite (bulk_create) and PostgreSQL (COPY): the data
must be the same whichever way it was written.
"""

import datetime
import io
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Count, F, Max, Sum
from django.utils import timezone

from encounters.models import Consent, Encounter, FollowUp, Person, Referral
from encounters.services import encounter_create, follow_up_create, person_create, referral_create
from encounters.validators import identity_code_birth_date
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
from outreach.models import Area, AuditEntry, FieldSite, Municipality, Outing, Team, User
from outreach.services import outing_create
from outreach.vocabulary import AgeGroup, Depth, OutingStatus, ReferralStatus, Role, ServiceKind, SiteType
from reports import demo
from reports.demo.rollups import ROLLUP_MODELS
from reports.models import ClientFeedback, StructuralObservation
from reports.services import feedback_record

pytestmark = pytest.mark.django_db

HELSINKI = ZoneInfo("Europe/Helsinki")
# The period ends on a fixed day, so the content is the same whatever day the tests run.
TODAY = datetime.date(2026, 11, 20)
SMALL = 300

ALL_MODELS = [
    User,
    Area,
    Team,
    FieldSite,
    Outing,
    Outing.participants.through,
    Person,
    Consent,
    Encounter,
    Encounter.workers.through,
    Referral,
    FollowUp,
    PartnerOrganisation,
    ContactPerson,
    Network,
    NetworkMeeting,
    PartnerService,
    NetworkMembership,
    CooperationAgreement,
    MeetingTask,
    CommunicationActivity,
    StructuralObservation,
    ClientFeedback,
    AuditEntry,
    EmailAddress,
]


def seed(**options) -> str:
    out = io.StringIO()
    options.setdefault("encounters", SMALL)
    options.setdefault("today", TODAY)
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {model._meta.label_lower: model._base_manager.count() for model in ALL_MODELS}


@pytest.fixture
def seeded():
    return seed()


# Running it ---------------------------------------------------------------------------


def test_fills_an_empty_database_and_prints_the_logins():
    assert not demo.database_has_data()

    output = seed()

    for email in ("worker@example.org", "coordinator@example.org", "admin@example.org", "expert@example.org"):
        assert email in output
    assert demo.DEMO_PASSWORD in output
    assert "two-factor" in output
    # Every kind of record exists.
    for label, count in row_counts().items():
        assert count > 0, label
    assert Encounter.objects.count() == SMALL
    # One audit entry summarises the load (plus one per user account), not one per row.
    assert AuditEntry.objects.filter(model="demo", action=AuditEntry.Action.IMPORT).count() == 1
    assert AuditEntry.objects.count() == 1 + User.objects.count()


def test_demo_users_have_their_roles_teams_and_password():
    seed(password="another-demo-password-42")

    kuopio, tuka = Team.objects.get(name="Kuopio"), Team.objects.get(name="Tuusniemi–Kaavi")
    assert kuopio.area == tuka.area == Area.objects.get(name="Pohjois-Savo")
    assert set(kuopio.municipalities.values_list("code", flat=True)) == {"297"}
    assert set(tuka.municipalities.values_list("code", flat=True)) == {"857", "204"}
    assert set(Municipality.objects.filter(outreach_active=True).values_list("code", flat=True)) >= {
        "297",
        "857",
        "204",
    }

    worker = User.objects.get(email="worker@example.org")
    expert = User.objects.get(email="expert@example.org")
    coordinator = User.objects.get(email="coordinator@example.org")
    admin = User.objects.get(email="admin@example.org")
    assert (worker.role, list(worker.teams.all())) == (Role.WORKER, [kuopio])
    assert (expert.role, list(expert.teams.all())) == (Role.EXPERT, [kuopio])
    assert coordinator.role == Role.COORDINATOR
    assert set(coordinator.teams.all()) == {kuopio, tuka}
    assert admin.role == Role.ADMIN
    assert admin.is_superuser
    assert admin.is_staff
    assert not worker.is_staff
    assert not expert.is_superuser
    for user in (worker, expert, coordinator, admin):
        assert user.check_password("another-demo-password-42")
        assert EmailAddress.objects.filter(user=user, email=user.email, verified=True).exists()
    # MFA is set up by the coordinator and the admin themselves at first login.
    assert coordinator.requires_mfa
    assert admin.requires_mfa
    assert not Authenticator.objects.exists()
    # Enough workers for outings of two or three.
    assert User.objects.filter(role=Role.WORKER, teams=kuopio).count() >= 3
    assert User.objects.filter(role=Role.WORKER, teams=tuka).count() >= 2


def test_refuses_a_non_empty_database_unless_forced(seeded):
    before = row_counts()

    with pytest.raises(CommandError) as error:
        seed()

    assert "--force" in str(error.value)
    assert "already has data" in str(error.value)
    assert row_counts() == before


def test_if_empty_does_nothing_on_a_non_empty_database(seeded):
    before = row_counts()

    output = seed(if_empty=True)

    assert "already has data" in output
    assert row_counts() == before


def test_if_empty_seeds_an_empty_database():
    output = seed(if_empty=True)

    assert "worker@example.org" in output
    assert Encounter.objects.count() == SMALL


def test_force_adds_activity_and_reuses_reference_data(seeded):
    before = row_counts()

    output = seed(force=True, seed=7)

    after = row_counts()
    assert after["encounters.encounter"] == before["encounters.encounter"] + SMALL
    assert after["outreach.outing"] > before["outreach.outing"]
    for label in ("outreach.user", "outreach.team", "outreach.fieldsite", "networks.partnerorganisation"):
        assert after[label] == before[label], label
    assert "password unchanged" in output


def test_a_password_the_validators_refuse_writes_nothing():
    with pytest.raises(CommandError) as error:
        seed(password="12345678")

    assert "--password" in str(error.value)
    assert not demo.database_has_data()
    assert AuditEntry.objects.count() == 0


def test_runs_with_the_defaults_on_todays_date():
    result = demo.seed_demo(encounters=SMALL)

    assert result.period is not None
    assert result.period[1] == timezone.localdate()
    assert Encounter.objects.count() == SMALL
    latest = Encounter.objects.order_by("-occurred_on").values_list("occurred_on", flat=True).first()
    assert latest is not None
    assert latest <= result.period[1]


def test_zero_encounters_still_gives_users_sites_and_outings():
    seed(encounters=0)

    assert Encounter.objects.count() == 0
    assert User.objects.filter(email="worker@example.org").exists()
    assert Outing.objects.filter(status=OutingStatus.DONE).exists()


# Realistic proportions ---------------------------------------------------------------------


def test_street_work_happens_in_spring_and_summer_only(seeded):
    street = FieldSite.objects.filter(site_type=SiteType.STREET)
    assert street.exists()
    assert all((s.season_start_month, s.season_end_month) == (4, 9) for s in street)

    months = set(Encounter.objects.filter(site__site_type=SiteType.STREET).values_list("occurred_on__month", flat=True))
    outing_months = set(Outing.objects.filter(site__site_type=SiteType.STREET).values_list("date__month", flat=True))
    assert months
    assert months <= set(range(4, 10))
    assert outing_months <= set(range(4, 10))


def test_food_distributions_and_the_day_centre_are_busiest(seeded):
    reach: Counter[str] = Counter()
    for row in Encounter.objects.values("site__site_type").annotate(n=Count("id")):
        reach[row["site__site_type"]] += row["n"]
    done = Outing.objects.filter(status=OutingStatus.DONE)
    for row in done.values("site__site_type").annotate(n=Sum("tallied_contacts")):
        reach[row["site__site_type"]] += row["n"]

    busiest = [site_type for site_type, _n in reach.most_common(2)]
    assert set(busiest) == {SiteType.FOOD_DISTRIBUTION, SiteType.DAY_CENTRE}
    assert reach[SiteType.STREET] < reach[SiteType.DAY_CENTRE] / 3
    # Food distributions: many tallied brief contacts per outing.
    food_tallies = done.filter(site__site_type=SiteType.FOOD_DISTRIBUTION).values_list("tallied_contacts", flat=True)
    assert all(15 <= tally <= 60 for tally in food_tallies)


def test_conversations_are_more_common_at_the_day_centre_than_at_food_distributions(seeded):
    def conversation_share(site_type):
        encounters = Encounter.objects.filter(site__site_type=site_type)
        return encounters.filter(depth=Depth.CONVERSATION).count() / encounters.count()

    assert conversation_share(SiteType.DAY_CENTRE) > conversation_share(SiteType.FOOD_DISTRIBUTION)


def test_a_minority_of_encounters_is_linked_to_persons(seeded):
    linked = Encounter.objects.filter(person__isnull=False).count()

    assert 0.05 * SMALL < linked < 0.3 * SMALL
    # Persons are met more than once, on average.
    assert linked > Person.objects.count() * 2
    assert Person.objects.filter(kind=Person.Kind.NAMED).exists()


def test_working_age_adults_are_the_most_common_age_groups(seeded):
    by_age = Counter(Encounter.objects.values_list("age_group", flat=True))

    working_age = [by_age[AgeGroup.AGE_30_39], by_age[AgeGroup.AGE_40_49], by_age[AgeGroup.AGE_50_64]]
    assert sum(working_age) > SMALL / 2
    assert by_age.most_common(1)[0][0] in (AgeGroup.AGE_30_39, AgeGroup.AGE_40_49, AgeGroup.AGE_50_64)
    assert min(working_age) > max(by_age[AgeGroup.UNDER_18], by_age[AgeGroup.AGE_65_PLUS], by_age[AgeGroup.UNKNOWN])


def test_referrals_end_in_varied_ways(seeded):
    statuses = Counter(Referral.objects.values_list("status", flat=True))

    assert len(statuses) >= 4
    assert statuses[ReferralStatus.CONNECTED] > 0
    assert Referral.objects.filter(partner__isnull=False).exists()
    assert Referral.objects.filter(partner__isnull=True).exists()


def test_follow_ups_are_due_this_week_and_next(seeded):
    open_follow_ups = FollowUp.objects.filter(done_on__isnull=True)

    assert open_follow_ups.filter(due_on__range=(TODAY, TODAY + datetime.timedelta(days=13))).exists()
    assert FollowUp.objects.filter(done_on__isnull=False, done_on__lte=TODAY).exists()
    # Open referrals carry the due date of their next follow-up.
    for follow_up in open_follow_ups.select_related("referral"):
        assert follow_up.referral is not None
        assert follow_up.referral.follow_up_due == follow_up.due_on
        assert follow_up.referral.status in (ReferralStatus.SUGGESTED, ReferralStatus.MADE, ReferralStatus.CONNECTED)


def test_planned_and_cancelled_outings(seeded):
    planned = Outing.objects.filter(status=OutingStatus.PLANNED)
    assert planned.exists()
    assert all(TODAY <= outing.date <= TODAY + datetime.timedelta(days=13) for outing in planned)
    assert Outing.objects.filter(status=OutingStatus.CANCELLED).exists()
    assert not Outing.objects.filter(status=OutingStatus.DONE, date__gte=TODAY).exists()
    # Experts by experience join some outings.
    assert Outing.objects.filter(participants__role=Role.EXPERT).exists()


def test_client_feedback_is_mostly_good(seeded):
    scores = list(ClientFeedback.objects.values_list("score", flat=True))

    assert scores
    assert sum(1 for score in scores if score >= 4) > len(scores) * 0.6
    assert not ClientFeedback.objects.filter(outing__isnull=True).exists()
    assert not ClientFeedback.objects.exclude(outing__site=F("site")).exists()
    assert not ClientFeedback.objects.exclude(outing__date=F("given_on")).exists()


# Consistency --------------------------------------------------------------------------------------


def test_encounters_agree_with_their_outings_persons_and_dates(seeded):
    encounters = Encounter.objects.select_related("outing", "person")
    for encounter in encounters:
        local = encounter.occurred_at.astimezone(HELSINKI)
        assert encounter.occurred_on == local.date()
        assert encounter.anonymous == (encounter.person is None)
        assert local.date() <= TODAY
        if encounter.outing is not None:
            outing = encounter.outing
            assert (encounter.site_id, encounter.team_id) == (outing.site_id, outing.team_id)
            assert outing.status == OutingStatus.DONE
            assert outing.date == local.date()
            assert outing.end_time is not None
            assert outing.start_time <= local.time() < outing.end_time
        else:
            assert encounter.contact_kind != "field"
        if encounter.person is not None:
            assert encounter.person.team_id == encounter.team_id
    # An expert by experience logs anonymous encounters only.
    assert not Encounter.objects.filter(created_by__role=Role.EXPERT, person__isnull=False).exists()
    assert Encounter.objects.filter(outing__isnull=True).exists()


def test_records_pass_model_validation(seeded):
    for model in (Encounter, Referral, Person, Outing, FieldSite, FollowUp, Consent):
        for instance in model._base_manager.all()[:40]:
            instance.full_clean()
    for person in Person.objects.filter(kind=Person.Kind.NAMED):
        assert person.consents.filter(scope=Consent.Scope.PERSONAL_DATA).exists()
        if person.identity_code:
            born = identity_code_birth_date(person.identity_code)
            assert born is not None
            assert born.year == person.birth_year
    # Foreign keys hold (checked at commit, which a test never reaches).
    connection.check_constraints()


def test_referral_dates_tell_a_consistent_story(seeded):
    for referral in Referral.objects.select_related("encounter", "partner"):
        assert referral.encounter is not None
        assert referral.team_id == referral.encounter.team_id
        assert referral.person_id == referral.encounter.person_id
        assert referral.referred_on == referral.encounter.occurred_on
        dates = [referral.referred_on, referral.made_on, referral.connected_on, referral.closed_on]
        known = [d for d in dates if d is not None]
        assert known == sorted(known)
        assert max(known) <= TODAY
        assert referral.status_changed_on == max(known)
        if referral.status == ReferralStatus.CONNECTED:
            assert referral.connected_on is not None
        if referral.status in (ReferralStatus.DECLINED, ReferralStatus.NOT_REACHED, ReferralStatus.ENDED):
            assert referral.closed_on is not None
        else:
            assert referral.closed_on is None
        if referral.partner is not None:
            assert referral.service_kind in referral.partner.services
        assert "referral" in referral.encounter.actions


# Reproducible ----------------------------------------------------------------------------------------


def fingerprint() -> dict[str, list]:
    """The generated content by natural keys: ids differ between runs on PostgreSQL."""
    workers: dict[int, list[str]] = {}
    for encounter_id, email in Encounter.workers.through.objects.values_list("encounter_id", "user__email"):
        workers.setdefault(encounter_id, []).append(email)
    participants: dict[int, list[str]] = {}
    for outing_id, email in Outing.participants.through.objects.values_list("outing_id", "user__email"):
        participants.setdefault(outing_id, []).append(email)
    encounters = [
        (*row[1:], tuple(sorted(workers.get(row[0], []))))
        for row in Encounter.objects.values_list(
            "id",
            "site__name",
            "outing__date",
            "outing__start_time",
            "occurred_at",
            "contact_kind",
            "depth",
            "gender",
            "age_group",
            "first_contact",
            "needs",
            "actions",
            "duration_minutes",
            "notes",
            "person__alias",
            "person__birth_year",
            "created_by__email",
        )
    ]
    outings = [
        (*row[1:], tuple(sorted(participants.get(row[0], []))))
        for row in Outing.objects.values_list(
            "id",
            "site__name",
            "team__name",
            "date",
            "start_time",
            "end_time",
            "status",
            "tallied_contacts",
            "observations",
            "notes",
        )
    ]

    def rows(model, *fields):
        return sorted(model.objects.values_list(*fields), key=repr)

    return {
        "encounters": sorted(encounters, key=repr),
        "outings": sorted(outings, key=repr),
        "persons": rows(
            Person,
            "team__name",
            "kind",
            "alias",
            "birth_year",
            "gender",
            "first_name",
            "last_name",
            "identity_code",
            "engaged_on",
        ),
        "referrals": rows(
            Referral,
            "encounter__occurred_at",
            "service_kind",
            "partner__name",
            "status",
            "referred_on",
            "made_on",
            "connected_on",
            "closed_on",
            "follow_up_due",
            "person__alias",
        ),
        "follow_ups": rows(FollowUp, "referral__encounter__occurred_at", "due_on", "done_on", "contact_kind"),
        "consents": rows(Consent, "person__alias", "scope", "given_on", "withdrawn_on"),
        "feedback": rows(ClientFeedback, "site__name", "outing__date", "given_on", "score", "language", "comment"),
        "meetings": rows(NetworkMeeting, "network__name", "date", "topics", "decisions", "participant_count"),
        "observations": rows(StructuralObservation, "theme", "site__name", "observed_on", "reported_on"),
        "communication": rows(CommunicationActivity, "kind", "title", "date", "audience_size"),
    }


def fingerprint_of_a_run(**options) -> dict[str, list]:
    """Seed, take the fingerprint and roll the database back to empty."""
    with transaction.atomic():
        seed(**options)
        result = fingerprint()
        transaction.set_rollback(True)
    assert not demo.database_has_data()
    return result


def test_the_same_seed_gives_the_same_data():
    first = fingerprint_of_a_run(seed=11)
    second = fingerprint_of_a_run(seed=11)

    assert len(first["encounters"]) == SMALL
    assert first == second


def test_another_seed_gives_other_data():
    first = fingerprint_of_a_run(seed=11)
    other = fingerprint_of_a_run(seed=12)

    assert first["encounters"] != other["encounters"]
    assert first["outings"] != other["outings"]


# Loading -------------------------------------------------------------------------------------------


def test_the_loader_fits_the_database_and_counts_what_it_wrote():
    result = demo.seed_demo(encounters=SMALL, today=TODAY)

    assert result.loader == ("copy" if connection.vendor == "postgresql" else "bulk_create")
    for model in demo.BULK_MODELS:
        label = model._meta.label_lower
        assert result.counts[label] == model._base_manager.count(), label
    assert result.counts["encounters.encounter"] == SMALL
    assert result.bulk_rows == sum(model._base_manager.count() for model in demo.BULK_MODELS)
    assert result.rows_per_second > 0


def test_rows_added_after_the_load_get_ids_after_the_loaded_ones(seeded):
    """The loader numbers every table's rows itself, link rows and rollups included; the database's own
    numbering carries on after them (a collision would fail the insert)."""
    numbered = [model for model in (*demo.BULK_MODELS, *ROLLUP_MODELS) if model._meta.pk.attname == "id"]
    loaded = {model: model._base_manager.aggregate(last=Max("pk"))["last"] for model in numbered}
    assert all(loaded.values()), "the demo fills every numbered table"
    worker = User.objects.get(email="worker@example.org")
    team = Team.objects.get(name="Kuopio")
    site = FieldSite.objects.filter(team=team).order_by("id").first()
    assert site is not None
    day = TODAY + datetime.timedelta(days=1)  # a day with no rollup rows yet
    outing = outing_create(
        actor=worker,
        team=team,
        site=site,
        date=day,
        start_time=datetime.time(10),
        end_time=datetime.time(12),
        status=OutingStatus.DONE,
        participants=[worker],
    )
    person = person_create(actor=worker, team=team, alias="Uusi U.")
    encounter = encounter_create(
        actor=worker,
        team=team,
        site=site,
        outing=outing,
        person=person,
        occurred_at=datetime.datetime.combine(day, datetime.time(11), tzinfo=HELSINKI),
    )
    referral = referral_create(
        actor=worker, team=team, service_kind=ServiceKind.HOUSING, person=person, encounter=encounter, referred_on=day
    )
    # Due today: a follow-up may not be due far back from the real date, whatever the demo's TODAY.
    follow_up_create(actor=worker, team=team, referral=referral, person=person, due_on=timezone.localdate())
    feedback_record(site=site, outing=outing, score=4, given_on=day)
    Consent.objects.create(person=person, scope=Consent.Scope.CONTACT, given_on=day, recorded_by=worker)

    for model, last_loaded in loaded.items():
        added = model._base_manager.filter(pk__gt=last_loaded)
        assert added.exists(), model._meta.label
        assert model._base_manager.count() == len(set(model._base_manager.values_list("pk", flat=True)))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY and its index handling exist on PostgreSQL only")
def test_a_big_postgresql_load_restores_indexes_and_constraints_and_writes_the_same_data():
    def schema():
        with connection.cursor() as cursor:
            tables = [model._meta.db_table for model in (*demo.BULK_MODELS, *ROLLUP_MODELS)]
            cursor.execute(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
                "WHERE indrelid = ANY(%s::regclass[])",
                [tables],
            )
            indexes = sorted(cursor.fetchall())
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = ANY(%s::regclass[])",
                [tables],
            )
            return indexes, sorted(cursor.fetchall())

    before = schema()
    with transaction.atomic():
        demo.seed_demo(encounters=SMALL, today=TODAY, seed=5, writer=demo.CopyWriter(suspend_constraints=False))
        plain = fingerprint()
        transaction.set_rollback(True)

    writer = demo.CopyWriter(suspend_constraints=True)
    demo.seed_demo(encounters=SMALL, today=TODAY, seed=5, writer=writer)

    assert fingerprint() == plain
    assert schema() == before
    connection.check_constraints()
