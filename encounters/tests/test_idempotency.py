"""Exactly-once creates by `client_uuid`: the one implementation (`outreach.services.create_once`).

Tested here once, through `encounter_create`; the referral, tally and quick
log paths use the same function (their doors are tested in their own modules).
"""

import datetime
import threading
import uuid

import pytest
from django.db import connection

from encounters import services
from encounters.models import Encounter, Person, Referral
from outreach import services as outreach_services
from outreach.exceptions import Conflict
from outreach.models import AuditEntry, TallyEvent
from outreach.tests.factories import FieldSiteFactory, OutingFactory, UserFactory
from outreach.vocabulary import Role

MOMENT = datetime.datetime(2026, 5, 12, 10, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=3)))


@pytest.fixture
def site(db):
    return FieldSiteFactory()


def log(actor, team, site, key, **fields):
    return services.encounter_create(
        actor=actor, team=team, site=site, occurred_at=MOMENT, client_uuid=key, needs=["housing"], **fields
    )


def test_the_same_content_returns_the_same_record(worker_a, team_a, site):
    key = uuid.uuid4()
    first = log(worker_a, team_a, site, key, notes="Talked.")

    # The same instant written in UTC is the same content.
    again = services.encounter_create(
        actor=worker_a,
        team=team_a,
        site=site,
        occurred_at=MOMENT.astimezone(datetime.UTC),
        client_uuid=key,
        needs=["housing"],
        notes="Talked.",
    )

    assert again.pk == first.pk
    assert outreach_services.was_replayed(again)
    assert not outreach_services.was_replayed(first)
    assert Encounter.objects.count() == 1
    assert AuditEntry.objects.filter(model="encounters.encounter", action="create").count() == 1


def test_changed_content_is_a_conflict_and_changes_nothing(worker_a, team_a, site):
    key = uuid.uuid4()
    log(worker_a, team_a, site, key, notes="Talked.")

    with pytest.raises(Conflict):
        log(worker_a, team_a, site, key, notes="Something else.")

    assert Encounter.objects.get().notes == "Talked."


def test_a_record_the_caller_cannot_see_is_a_conflict(worker_a, worker_b, team_a, team_b, site):
    key = uuid.uuid4()
    log(worker_a, team_a, site, key)

    with pytest.raises(Conflict) as conflict:
        log(worker_b, team_b, site, key)

    assert "Talked" not in str(conflict.value)
    assert Encounter.objects.get().team == team_a


def test_the_conflict_names_the_uuid_for_a_row_error(worker_a, team_a, site):
    key = uuid.uuid4()
    log(worker_a, team_a, site, key)

    with pytest.raises(Conflict) as conflict:
        log(worker_a, team_a, site, key, depth="brief")

    assert set(conflict.value.as_validation_error().message_dict) == {"client_uuid"}


def test_referrals_and_taps_use_the_same_rule(worker_a, worker_b, team_a, team_b, site):
    key = uuid.uuid4()
    first = services.referral_create(actor=worker_a, team=team_a, service_kind="housing", client_uuid=key)
    assert services.referral_create(actor=worker_a, team=team_a, service_kind="housing", client_uuid=key) == first
    with pytest.raises(Conflict):
        services.referral_create(actor=worker_a, team=team_a, service_kind="kela", client_uuid=key)
    with pytest.raises(Conflict):
        services.referral_create(actor=worker_b, team=team_b, service_kind="housing", client_uuid=key)
    assert Referral.objects.count() == 1

    outing = OutingFactory(team=team_a, site=site)
    tap = uuid.uuid4()
    assert outreach_services.outing_tally_add(actor=worker_a, outing=outing, delta=1, client_uuid=tap) == 1
    assert outreach_services.outing_tally_add(actor=worker_a, outing=outing, delta=1, client_uuid=tap) == 1
    with pytest.raises(Conflict):
        outreach_services.outing_tally_add(actor=worker_a, outing=outing, delta=2, client_uuid=tap)
    outing.refresh_from_db()
    assert outing.tallied_contacts == 1
    assert TallyEvent.objects.count() == 1


def test_a_repeated_quick_log_makes_no_second_person(worker_a, team_a, site):
    outing = OutingFactory(team=team_a, site=site, participants=[worker_a])
    key = uuid.uuid4()

    def quick_log():
        return services.quick_log_save(
            actor=worker_a,
            outing=outing,
            occurred_at=MOMENT,
            new_alias="Kettu",
            referral_service_kind="housing",
            client_uuid=key,
            depth="conversation",
        )

    first = quick_log()
    again = quick_log()

    assert again.pk == first.pk
    assert outreach_services.was_replayed(again)
    assert Person.objects.count() == 1
    assert Referral.objects.get().encounter == first


def test_a_quick_log_error_keeps_nothing_and_names_the_prefixed_field(worker_a, team_a, site):
    from django.core.exceptions import ValidationError

    outing = OutingFactory(team=team_a, site=site, participants=[worker_a])

    with pytest.raises(ValidationError) as refused:
        services.quick_log_save(
            actor=worker_a, outing=outing, occurred_at=MOMENT, new_alias="Kettu", new_birth_year=1850
        )

    assert set(refused.value.message_dict) == {"new_birth_year"}
    assert not Person.objects.exists()
    assert not Encounter.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("key", [None, uuid.uuid4()], ids=["without a client_uuid", "with one"])
def test_a_referral_refused_after_the_encounter_keeps_nothing_outside_any_transaction(worker_a, team_a, key):
    """The create services leave their transaction to create_once (its own when none is open, with or
    without a client_uuid): a referral refused after the person and the encounter were written takes
    them back with it."""
    from django.core.exceptions import ValidationError

    outing = OutingFactory(team=team_a, site=FieldSiteFactory(), participants=[worker_a])

    with pytest.raises(ValidationError) as refused:
        services.quick_log_save(
            actor=worker_a,
            outing=outing,
            occurred_at=MOMENT,
            new_alias="Kettu",
            referral_service_kind="no-such-service",
            client_uuid=key,
        )

    assert set(refused.value.message_dict) == {"referral_service_kind"}
    assert not Person.objects.exists()
    assert not Encounter.objects.exists()
    assert not AuditEntry.objects.filter(model="encounters.encounter").exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_a_race_on_postgresql_makes_one_record(team_a):
    site = FieldSiteFactory()
    senders = [UserFactory(role=Role.WORKER, teams=[team_a]) for _ in range(4)]
    key = uuid.uuid4()
    start = threading.Barrier(len(senders))
    results, errors = [], []

    def send(sender):
        try:
            start.wait()
            # The same device's request, resent by several connections at once.
            encounter = services.encounter_create(
                actor=sender, team=team_a, site=site, occurred_at=MOMENT, client_uuid=key, workers=[senders[0]]
            )
            results.append(encounter.pk)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(sender,)) for sender in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Encounter.objects.filter(client_uuid=key).count() == 1
    assert set(results) == {Encounter.objects.get(client_uuid=key).pk}
