"""Two transactions recomputing the same rollup rows at once count them once (`outreach.rollup_locks`).

On PostgreSQL, under READ COMMITTED: the first transaction has saved and
recomputed its slice but not committed when the second starts its own. Without
the lock the second one's DELETE missed the first one's new rows and its
INSERT … SELECT counted the first one's encounter again.
"""

import datetime
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from encounters.services import encounter_create, referral_create
from encounters.tests.factories import PersonFactory
from outreach.tests.factories import FieldSiteFactory, OutingFactory
from outreach.vocabulary import OutingStatus, ServiceKind
from reports.services import feedback_record
from reports.tests.test_rollup_writes import every_rollup_row

DAY = datetime.date(2026, 5, 12)
MOMENT = datetime.datetime(2026, 5, 12, 10, 0, tzinfo=datetime.UTC)


def _concurrently(first_write, second_write) -> list[Exception]:
    """`first_write` commits only after `second_write` has begun (and had time to reach its recompute)."""
    first_done, second_started = threading.Event(), threading.Event()
    errors: list[Exception] = []

    def first():
        try:
            with transaction.atomic():
                first_write()
                first_done.set()
                second_started.wait(10)
                time.sleep(0.4)  # the second one is now waiting, on the lock or on the deleted rows
        except Exception as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            first_done.set()
            connection.close()

    def second():
        try:
            first_done.wait(10)
            second_started.set()
            with transaction.atomic():
                second_write()
        except Exception as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_encounters_saved_at_once_at_one_site_and_outing_are_counted_once(team_a, worker_a):
    site = FieldSiteFactory(team=team_a)
    outing = OutingFactory(team=team_a, site=site, date=DAY, status=OutingStatus.DONE, participants=[worker_a])
    person = PersonFactory(team=team_a)

    def save(with_person):
        return encounter_create(
            actor=worker_a,
            team=team_a,
            site=site,
            outing=outing,
            person=person if with_person else None,
            occurred_at=MOMENT,
        )

    # Rows already in the slice: the second transaction's DELETE meets them locked by the first.
    save(True)
    save(False)

    errors = _concurrently(lambda: save(True), lambda: save(True))

    assert errors == []
    kept = every_rollup_row()
    call_command("rebuild_report_rollups", verbosity=0)
    assert kept == every_rollup_row()


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_the_first_two_encounters_at_a_site_saved_at_once_make_one_row_of_each_count(team_a, worker_a):
    """No row yet to add to: without the lock both transactions made one."""
    site = FieldSiteFactory(team=team_a)

    def save():
        encounter_create(actor=worker_a, team=team_a, site=site, occurred_at=MOMENT)

    errors = _concurrently(save, save)

    assert errors == []
    kept = every_rollup_row()
    call_command("rebuild_report_rollups", verbosity=0)
    assert kept == every_rollup_row()


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_one_persons_encounters_saved_at_once_at_two_sites_are_counted_once(team_a, worker_a):
    """Different slices, the same person's rollups: those are locked by person."""
    first_site, second_site = FieldSiteFactory(team=team_a), FieldSiteFactory(team=team_a)
    person = PersonFactory(team=team_a)

    def save(site):
        encounter_create(actor=worker_a, team=team_a, site=site, person=person, occurred_at=MOMENT)

    save(first_site)
    save(second_site)

    errors = _concurrently(lambda: save(first_site), lambda: save(second_site))

    assert errors == []
    kept = every_rollup_row()
    call_command("rebuild_report_rollups", verbosity=0)
    assert kept == every_rollup_row()


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_referrals_and_two_answers_given_at_once_are_counted_once(team_a, worker_a):
    site = FieldSiteFactory(team=team_a)
    person = PersonFactory(team=team_a)
    today = timezone.localdate()
    referral_create(actor=worker_a, team=team_a, service_kind=ServiceKind.HOUSING, person=person, referred_on=today)
    feedback_record(site=site, score=4, given_on=today)

    def refer():
        referral_create(actor=worker_a, team=team_a, service_kind=ServiceKind.HOUSING, person=person, referred_on=today)

    def answer():
        feedback_record(site=site, score=5, given_on=today)

    errors = _concurrently(refer, refer) + _concurrently(answer, answer)

    assert errors == []
    kept = every_rollup_row()
    call_command("rebuild_report_rollups", verbosity=0)
    assert kept == every_rollup_row()
