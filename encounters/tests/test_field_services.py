"""The rules behind the field pages, held by the services so that the API follows them too:
starting and finishing outings, the tally under concurrent taps, who may correct or delete an entry."""

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from encounters import permissions, services
from encounters.models import Encounter, Referral
from encounters.tests.factories import EncounterFactory, ReferralFactory
from outreach import services as outreach_services
from outreach.models import AuditEntry, Outing
from outreach.tests.factories import FieldSiteFactory, OutingFactory, TeamFactory, UserFactory
from outreach.vocabulary import OutingStatus, Role

HELSINKI = timezone.get_default_timezone()


def audit_for(instance, action):
    return AuditEntry.objects.filter(model=instance._meta.label_lower, object_id=str(instance.pk), action=action)


def days_ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


@pytest.fixture
def site_a(team_a):
    return FieldSiteFactory(name="Food bank", team=team_a)


@pytest.fixture
def outing_today(team_a, site_a, worker_a, expert_a):
    return OutingFactory(
        team=team_a,
        site=site_a,
        date=timezone.localdate(),
        start_time=datetime.time(0, 0),
        end_time=None,
        status=OutingStatus.PLANNED,
        participants=[worker_a, expert_a],
    )


# Starting and finishing an outing -----------------------------------------------------------


@pytest.mark.django_db
def test_outing_start_makes_a_planned_outing_of_today_started_now_with_the_actor_in_it(worker_a, team_a, site_a):
    colleague = UserFactory(role=Role.WORKER, teams=[team_a])
    at = timezone.localtime().replace(hour=9, minute=41, second=37)

    outing = outreach_services.outing_start(
        actor=worker_a, team=team_a, site=site_a, participants=[colleague, worker_a], at=at
    )

    outing.refresh_from_db()
    assert (outing.status, outing.date, outing.start_time, outing.end_time, outing.started_at) == (
        OutingStatus.PLANNED,
        at.date(),
        datetime.time(9, 41),
        None,
        at,
    )
    assert outing.is_in_progress
    assert set(outing.participants.all()) == {worker_a, colleague}
    assert outing.created_by == worker_a
    assert audit_for(outing, "create").get().actor == worker_a


@pytest.mark.django_db
def test_outing_start_is_refused_to_experts_other_teams_and_inactive_sites(expert_a, worker_a, team_a, team_b, site_a):
    with pytest.raises(PermissionDenied):
        outreach_services.outing_start(actor=expert_a, team=team_a, site=site_a)
    with pytest.raises(ValidationError) as error:
        outreach_services.outing_start(actor=worker_a, team=team_b, site=site_a)
    assert "team" in error.value.message_dict
    closed = FieldSiteFactory(team=team_a, active=False)
    with pytest.raises(ValidationError) as error:
        outreach_services.outing_start(actor=worker_a, team=team_a, site=closed)
    assert "site" in error.value.message_dict
    assert not Outing.objects.exists()


@pytest.mark.django_db
def test_starting_a_planned_outing_sets_the_start_to_now_drops_the_planned_end_and_adds_the_actor(
    worker_a, team_a, site_a
):
    colleague = UserFactory(role=Role.WORKER, teams=[team_a])
    day = datetime.date(2026, 5, 12)
    outing = OutingFactory(
        team=team_a,
        site=site_a,
        date=day,
        start_time=datetime.time(10),
        end_time=datetime.time(12),
        status=OutingStatus.PLANNED,
        participants=[colleague],
    )
    at = datetime.datetime.combine(day, datetime.time(9, 55), tzinfo=HELSINKI)

    outreach_services.outing_start_planned(actor=worker_a, outing=outing, at=at)

    outing.refresh_from_db()
    assert (outing.start_time, outing.end_time, outing.status) == (datetime.time(9, 55), None, OutingStatus.PLANNED)
    assert set(outing.participants.all()) == {colleague, worker_a}
    assert set(audit_for(outing, "update").get().changes) == {"start_time", "end_time", "started_at", "participants"}
    assert outing.started_at == at


@pytest.mark.django_db
def test_only_todays_planned_outings_can_be_started(worker_a, team_a, site_a):
    day = datetime.date(2026, 5, 12)
    at = datetime.datetime.combine(day, datetime.time(9), tzinfo=HELSINKI)
    tomorrow = OutingFactory(team=team_a, site=site_a, date=day + datetime.timedelta(days=1), status="planned")
    done = OutingFactory(team=team_a, site=site_a, date=day, status=OutingStatus.DONE)

    with pytest.raises(ValidationError) as error:
        outreach_services.outing_start_planned(actor=worker_a, outing=tomorrow, at=at)
    assert "date" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        outreach_services.outing_start_planned(actor=worker_a, outing=done, at=at)
    assert "status" in error.value.message_dict
    assert not AuditEntry.objects.filter(model="outreach.outing").exists()


@pytest.mark.django_db
def test_outing_finish_records_the_end_observations_and_notes_and_marks_it_done(worker_a, outing_today):
    # Yesterday's, left open: an end at 23:59 is in the past whatever the hour now.
    outing_today.date -= datetime.timedelta(days=1)
    outing_today.save(update_fields=["date"])
    outreach_services.outing_finish(
        actor=worker_a,
        outing=outing_today,
        end_time=datetime.time(23, 59),
        observations="Many young adults without housing.",
        notes="Rain.",
    )

    outing_today.refresh_from_db()
    assert outing_today.status == OutingStatus.DONE
    assert outing_today.end_time == datetime.time(23, 59)
    assert outing_today.observations == "Many young adults without housing."
    assert set(audit_for(outing_today, "update").get().changes) == {"status", "end_time", "observations", "notes"}


@pytest.mark.django_db
def test_outing_finish_refuses_an_end_before_the_start_experts_and_cancelled_outings(
    worker_a, expert_a, team_a, site_a
):
    outing = OutingFactory(
        team=team_a, site=site_a, start_time=datetime.time(10), end_time=None, status=OutingStatus.PLANNED
    )
    with pytest.raises(ValidationError) as error:
        outreach_services.outing_finish(actor=worker_a, outing=outing, end_time=datetime.time(9))
    assert "end_time" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        outreach_services.outing_finish(actor=expert_a, outing=outing, end_time=datetime.time(11))
    cancelled = OutingFactory(team=team_a, site=site_a, status=OutingStatus.CANCELLED)
    with pytest.raises(ValidationError) as error:
        outreach_services.outing_finish(actor=worker_a, outing=cancelled, end_time=datetime.time(13))
    assert "status" in error.value.message_dict
    outing.refresh_from_db()
    assert (outing.status, outing.end_time) == (OutingStatus.PLANNED, None)


# The tally under concurrent taps ------------------------------------------------------------


@pytest.mark.django_db
def test_two_workers_tapping_with_stale_copies_of_the_outing_both_count(worker_a, team_a, outing_today):
    colleague = UserFactory(role=Role.WORKER, teams=[team_a])
    first_phone = Outing.objects.get(pk=outing_today.pk)
    second_phone = Outing.objects.get(pk=outing_today.pk)

    assert outreach_services.outing_tally_add(actor=worker_a, outing=first_phone, delta=1) == 1
    # The second copy still says 0; an F() update adds to the stored value.
    assert second_phone.tallied_contacts == 0
    assert outreach_services.outing_tally_add(actor=colleague, outing=second_phone, delta=1) == 2
    assert outreach_services.outing_tally_add(actor=worker_a, outing=first_phone, delta=-1) == 1

    outing_today.refresh_from_db()
    assert outing_today.tallied_contacts == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_taps_from_many_threads_at_once_all_count_on_postgresql(team_a, site_a):
    workers = [UserFactory(role=Role.WORKER, teams=[team_a]) for _ in range(4)]
    outing = OutingFactory(team=team_a, site=site_a, status=OutingStatus.PLANNED, tallied_contacts=0)
    taps_each = 15
    start = threading.Barrier(len(workers))
    errors = []

    def tap(worker):
        try:
            stale = Outing.objects.get(pk=outing.pk)
            start.wait()
            for _ in range(taps_each):
                outreach_services.outing_tally_add(actor=worker, outing=stale, delta=1)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=tap, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    outing.refresh_from_db()
    assert outing.tallied_contacts == len(workers) * taps_each


# Who may correct an entry ---------------------------------------------------------------------


@pytest.fixture
def own_entry(worker_a, team_a, outing_today):
    return EncounterFactory(team=team_a, site=outing_today.site, outing=outing_today, created_by=worker_a)


@pytest.mark.django_db
def test_the_author_corrects_their_entry_for_fourteen_days(worker_a, own_entry):
    own_entry.created_at = days_ago(14)
    own_entry.save()

    services.encounter_update(actor=worker_a, encounter=own_entry, notes="Corrected.")

    own_entry.refresh_from_db()
    assert own_entry.notes == "Corrected."
    assert audit_for(own_entry, "update").get().actor == worker_a


@pytest.mark.django_db
def test_an_older_entry_is_corrected_only_by_a_coordinator(worker_a, coordinator, own_entry):
    own_entry.created_at = days_ago(15)
    own_entry.save()

    assert not permissions.can_edit_encounter(worker_a, own_entry)
    with pytest.raises(PermissionDenied):
        services.encounter_update(actor=worker_a, encounter=own_entry, notes="Too late.")
    own_entry.refresh_from_db()
    assert own_entry.notes == ""

    services.encounter_update(actor=coordinator, encounter=own_entry, notes="By the coordinator.")
    own_entry.refresh_from_db()
    assert own_entry.notes == "By the coordinator."


@pytest.mark.django_db
def test_a_worker_does_not_correct_a_colleagues_entry(team_a, own_entry):
    colleague = UserFactory(role=Role.WORKER, teams=[team_a])

    assert not permissions.can_edit_encounter(colleague, own_entry)
    with pytest.raises(PermissionDenied):
        services.encounter_update(actor=colleague, encounter=own_entry, notes="Not mine.")
    assert not audit_for(own_entry, "update").exists()


@pytest.mark.django_db
def test_an_expert_corrects_only_their_own_recent_entries(expert_a, worker_a, team_a, outing_today):
    theirs = EncounterFactory(team=team_a, site=outing_today.site, outing=outing_today, created_by=expert_a)
    not_theirs = EncounterFactory(team=team_a, site=outing_today.site, outing=outing_today, created_by=worker_a)

    services.encounter_update(actor=expert_a, encounter=theirs, gender="female")
    with pytest.raises(PermissionDenied):
        services.encounter_update(actor=expert_a, encounter=not_theirs, gender="female")
    theirs.created_at = days_ago(20)
    theirs.save()
    assert not permissions.can_edit_encounter(expert_a, theirs)


@pytest.mark.django_db
def test_a_coordinator_of_another_area_cannot_correct_an_entry(own_entry, with_totp):
    outsider = UserFactory(role=Role.COORDINATOR, teams=[TeamFactory(name="Far away")])

    assert not permissions.can_edit_encounter(outsider, own_entry)


# Who may delete an entry ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_author_deletes_their_entry_on_the_same_helsinki_day_only(worker_a, own_entry, outing_today):
    yesterday = EncounterFactory(
        team=outing_today.team, site=outing_today.site, outing=outing_today, created_by=worker_a
    )
    yesterday.created_at = timezone.now() - datetime.timedelta(days=1)
    yesterday.save()

    deleted_id = own_entry.pk

    services.encounter_delete(actor=worker_a, encounter=own_entry)
    with pytest.raises(PermissionDenied):
        services.encounter_delete(actor=worker_a, encounter=yesterday)

    assert list(Encounter.objects.all()) == [yesterday]
    entry = AuditEntry.objects.get(model="encounters.encounter", object_id=str(deleted_id), action="delete")
    assert entry.actor == worker_a


@pytest.mark.django_db
def test_a_coordinator_deletes_an_older_entry(coordinator, own_entry):
    own_entry.created_at = days_ago(30)
    own_entry.save()

    services.encounter_delete(actor=coordinator, encounter=own_entry)

    assert not Encounter.objects.exists()


@pytest.mark.django_db
def test_an_entry_with_a_referral_goes_only_with_the_referral_by_the_undo(worker_a, team_a, own_entry):
    referral = ReferralFactory(team=team_a, encounter=own_entry, created_by=worker_a)

    with pytest.raises(ValidationError):
        services.encounter_delete(actor=worker_a, encounter=own_entry)
    assert Encounter.objects.filter(pk=own_entry.pk).exists()

    services.encounter_delete(actor=worker_a, encounter=own_entry, with_referrals=True)

    assert not Encounter.objects.exists()
    assert not Referral.objects.exists()
    assert audit_for(referral, "delete").get().actor == worker_a


@pytest.mark.django_db
def test_the_undo_does_not_delete_a_referral_someone_else_made(worker_a, team_a, own_entry):
    colleague = UserFactory(role=Role.WORKER, teams=[team_a])
    ReferralFactory(team=team_a, encounter=own_entry, created_by=colleague)

    with pytest.raises(ValidationError):
        services.encounter_delete(actor=worker_a, encounter=own_entry, with_referrals=True)

    assert Encounter.objects.filter(pk=own_entry.pk).exists()
    assert Referral.objects.count() == 1
