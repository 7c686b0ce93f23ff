import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from outreach import services
from outreach.models import AccessChange, AuditEntry, Outing
from outreach.tests.factories import FieldSiteFactory, OutingFactory, UserFactory
from outreach.vocabulary import OutingStatus, Role

# A planned outing is dated ahead (or at most two weeks back).
NEXT_WEEK = timezone.localdate() + datetime.timedelta(days=7)


@pytest.mark.django_db
def test_outing_create_checks_team_times_and_audits(worker_a, expert_a, team_a, team_b):
    site = FieldSiteFactory()
    outing = services.outing_create(
        actor=worker_a,
        team=team_a,
        site=site,
        date=NEXT_WEEK,
        start_time=datetime.time(10),
        end_time=datetime.time(12),
        participants=[worker_a, expert_a],
    )
    assert outing.status == OutingStatus.PLANNED
    assert set(outing.participants.all()) == {worker_a, expert_a}
    assert AuditEntry.objects.filter(model="outreach.outing", object_id=str(outing.pk), actor=worker_a).exists()

    with pytest.raises(ValidationError) as error:
        services.outing_create(actor=worker_a, team=team_b, site=site, date=NEXT_WEEK, start_time=datetime.time(10))
    assert "team" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.outing_create(
            actor=worker_a,
            team=team_a,
            site=site,
            date=NEXT_WEEK,
            start_time=datetime.time(12),
            end_time=datetime.time(11),
        )
    assert Outing.objects.count() == 1


@pytest.mark.django_db
def test_experts_do_not_plan_outings(expert_a, team_a):
    with pytest.raises(PermissionDenied):
        services.outing_create(
            actor=expert_a,
            team=team_a,
            site=FieldSiteFactory(),
            date=datetime.date(2026, 5, 12),
            start_time=datetime.time(10),
        )


@pytest.mark.django_db
def test_tally_counts_every_tap_even_from_stale_copies(worker_a, team_a):
    outing = OutingFactory(team=team_a)
    first_phone = Outing.objects.get(pk=outing.pk)
    second_phone = Outing.objects.get(pk=outing.pk)
    services.outing_tally_add(actor=worker_a, outing=first_phone, delta=1)
    services.outing_tally_add(actor=worker_a, outing=second_phone, delta=1)
    services.outing_tally_add(actor=worker_a, outing=first_phone, delta=1)
    outing.refresh_from_db()
    assert outing.tallied_contacts == 3


@pytest.mark.django_db
def test_tally_never_goes_below_zero_and_is_scoped(worker_a, worker_b, team_a):
    outing = OutingFactory(team=team_a)
    assert services.outing_tally_add(actor=worker_a, outing=outing, delta=-1) == 0
    with pytest.raises(ValidationError):
        services.outing_tally_add(actor=worker_b, outing=outing, delta=1)
    outing.refresh_from_db()
    assert outing.tallied_contacts == 0


@pytest.mark.django_db
def test_outing_update_records_changed_fields_only(worker_a, team_a):
    outing = OutingFactory(team=team_a, status=OutingStatus.PLANNED, end_time=None)
    services.outing_update(
        actor=worker_a, outing=outing, status=OutingStatus.DONE, end_time=datetime.time(13), notes=""
    )
    entry = AuditEntry.objects.get(model="outreach.outing", action="update")
    assert set(entry.changes) == {"status", "end_time"}


@pytest.mark.django_db
def test_user_update_records_teams_only_when_they_change(admin_user, team_a, team_b, worker_a):
    before = AuditEntry.objects.filter(model="outreach.user", object_id=str(worker_a.pk)).count()

    services.user_update(actor=admin_user, user=worker_a, teams=[team_a], full_name="Ville V.")

    entry = AuditEntry.objects.filter(model="outreach.user", object_id=str(worker_a.pk)).latest("pk")
    assert entry.changes == ["full_name"]
    assert not AccessChange.objects.filter(user=worker_a).exists()
    services.user_update(actor=admin_user, user=worker_a, teams=[team_a])
    assert AuditEntry.objects.filter(model="outreach.user", object_id=str(worker_a.pk)).count() == before + 1

    services.user_update(actor=admin_user, user=worker_a, teams=[team_a, team_b])

    entry = AuditEntry.objects.filter(model="outreach.user", object_id=str(worker_a.pk)).latest("pk")
    assert entry.changes == ["teams"]
    assert AccessChange.objects.filter(user=worker_a).count() == 1


@pytest.mark.django_db
def test_user_create_derives_staff_from_role(admin_user, team_a):
    coordinator = services.user_create(
        actor=admin_user, email="New.Coordinator@Example.org", role=Role.COORDINATOR, teams=[team_a]
    )
    assert coordinator.email == "new.coordinator@example.org"
    assert coordinator.is_staff is True
    assert not coordinator.has_usable_password()
    worker = services.user_create(actor=admin_user, email="w@example.org", role=Role.WORKER)
    assert worker.is_staff is False
    services.user_update(actor=admin_user, user=worker, role=Role.ADMIN)
    assert worker.is_staff is True
    with pytest.raises(ValidationError) as error:
        services.user_create(actor=admin_user, email="w@example.org")
    assert "email" in error.value.message_dict


@pytest.mark.django_db
def test_a_participant_who_left_the_team_may_stay_on_the_outing(worker_a, team_a, team_b):
    leaver = UserFactory(teams=[team_a])
    outing = OutingFactory(
        team=team_a,
        status=OutingStatus.PLANNED,
        date=timezone.localdate() + datetime.timedelta(days=7),
        participants=[worker_a, leaver],
    )
    leaver.teams.set([team_b])

    services.outing_update(actor=worker_a, outing=outing, participants=[worker_a, leaver], notes="Kept.")

    newcomer = UserFactory(teams=[team_b], full_name="Olli Ulkopuolinen")
    with pytest.raises(ValidationError) as error:
        services.outing_update(actor=worker_a, outing=outing, participants=[worker_a, leaver, newcomer])
    assert error.value.message_dict["participants"] == [f"Not members of the team {team_a}: Olli Ulkopuolinen."]
    assert set(outing.participants.all()) == {worker_a, leaver}


@pytest.mark.django_db
def test_insert_many_writes_the_shared_and_the_varying_values_of_every_row_converted_by_their_fields():
    """Both paths: one statement over arrays on PostgreSQL, a prepared INSERT per row elsewhere."""
    actor = UserFactory()
    at = datetime.datetime(2026, 3, 29, 1, 30, tzinfo=datetime.UTC)  # the night the clocks go forward
    written = services.insert_many(
        AuditEntry,
        same={"at": at, "actor": actor.pk, "action": AuditEntry.Action.CREATE, "changes": ["site", "team"]},
        varying={"model": ["encounters.encounter", "encounters.person"], "object_id": ["7", "1234567890123"]},
    )

    assert written == 2
    rows = AuditEntry.objects.order_by("object_id").values_list(
        "at", "actor", "action", "model", "object_id", "changes"
    )
    assert list(rows) == [
        (at, actor.pk, "create", "encounters.person", "1234567890123", ["site", "team"]),
        (at, actor.pk, "create", "encounters.encounter", "7", ["site", "team"]),
    ]


@pytest.mark.django_db
def test_insert_many_of_no_rows_writes_nothing():
    assert services.insert_many(AuditEntry, same={"action": "create"}, varying={"model": [], "object_id": []}) == 0
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_audit_many_writes_one_entry_per_record_as_audit_does():
    actor, other = UserFactory(), UserFactory()
    services.audit(actor=actor, action=AuditEntry.Action.CREATE, instance=other, changes=["role", "email"])
    single = AuditEntry.objects.get()
    AuditEntry.objects.all().delete()

    assert (
        services.audit_many(actor=actor, action=AuditEntry.Action.CREATE, instances=[other], changes=["role", "email"])
        == 1
    )

    bulk = AuditEntry.objects.get()
    fields = ("actor_id", "action", "model", "object_id", "changes")
    assert [getattr(bulk, name) for name in fields] == [getattr(single, name) for name in fields]
