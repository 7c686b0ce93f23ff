"""Every write path keeps the report rollups exact: bulk import, legacy sheets, seed_demo, the rebuild command.

Each test writes through one path and then compares the reports read from
the rollups with the raw computation, for the whole data set.
"""

import csv
import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from encounters import rollups as encounter_rollups
from encounters.models import (
    EncounterDayCount,
    EncounterMixCount,
    PersonDayCount,
    PersonFirstEncounter,
    ReferralConfirmation,
    ReferralDayCount,
)
from encounters.resources import EncounterResource
from encounters.services import (
    encounter_create,
    encounter_delete,
    encounter_update,
    referral_confirm_by_partner,
    referral_confirmation_create,
    referral_create,
)
from encounters.tests.factories import PersonFactory
from encounters.tests.test_import_export import ENCOUNTER_HEADER, outing, run, site  # noqa: F401  (fixtures)
from outreach import rollups as outing_rollups
from outreach.models import OutingDayCount, OutingEncounterCount, OutingWorkerDayCount, User
from outreach.services import outing_finish, outing_start_planned, outing_tally_add, outing_update
from outreach.tests.factories import FieldSiteFactory, OutingFactory, UserFactory, municipality
from outreach.vocabulary import OutingStatus, ReferralStatus, Role, ServiceKind, SiteType
from reports import rollups as report_rollups
from reports.dashboard import work_by_worker, work_by_worker_raw
from reports.models import FeedbackDayCount
from reports.selectors import (
    REACH_GROUPS,
    extract_rows,
    extract_rows_raw,
    period_referrals,
    reach_report,
    reach_report_raw,
    referral_counts,
    referral_funnel_of,
    summary_report,
    summary_report_raw,
    summary_with_funnel,
)
from reports.services import feedback_delete, feedback_record


def assert_rollups_exact(user, start, end, **filters):
    arguments = {"user": user, "start": start, "end": end, **filters}
    assert summary_report(**arguments) == summary_report_raw(**arguments)
    assert summary_with_funnel(**arguments)[1] == referral_funnel_of(referral_counts(period_referrals(**arguments)))
    assert work_by_worker(**arguments) == work_by_worker_raw(**arguments)
    assert extract_rows(**arguments) == extract_rows_raw(**arguments)
    for group in REACH_GROUPS:
        assert reach_report(group=group, **arguments) == reach_report_raw(group=group, **arguments)


@pytest.mark.django_db
def test_bulk_import_of_encounters_keeps_the_rollups(tmp_path, worker_a, team_a, site, outing):  # noqa: F811
    path = tmp_path / "encounters.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ENCOUNTER_HEADER)
        writer.writerow([team_a.pk, outing.pk, site.pk, "2026-05-12T10:30:00+03:00", "field", "brief", "", "", ""])
        writer.writerow([team_a.pk, "", site.pk, "2026-05-12T23:30:00+03:00", "phone", "", "male", "", "housing"])
        writer.writerow([team_a.pk, "", site.pk, "2026-05-13T00:30:00+03:00", "field", "", "", "", ""])

    ok, _out, err = run("import_records", "encounters", str(path), "--user", worker_a.email)

    assert ok, err
    data = summary_report(user=worker_a, start=datetime.date(2026, 5, 12), end=datetime.date(2026, 5, 12))
    assert data["encounters_total"] == 2
    assert data["by_need"]["housing"] == 1
    assert_rollups_exact(worker_a, datetime.date(2026, 5, 1), datetime.date(2026, 5, 31))


@pytest.mark.django_db
def test_an_import_of_many_batches_recomputes_the_rollups_once(
    tmp_path,
    monkeypatch,
    worker_a,
    team_a,
    site,  # noqa: F811
    outing,  # noqa: F811
):
    other_outing = OutingFactory(team=team_a, site=site, date=datetime.date(2026, 5, 13), participants=[worker_a])
    person = PersonFactory(team=team_a)
    earlier = encounter_create(
        actor=worker_a, team=team_a, site=site, occurred_at=datetime.datetime(2026, 5, 12, 9, tzinfo=datetime.UTC)
    )
    header = ["id", *ENCOUNTER_HEADER, "person"]
    path = tmp_path / "encounters.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        # An existing encounter changed (row by row) among new ones written in batches of two.
        writer.writerow([earlier.pk, team_a.pk, "", site.pk, "2026-05-13T09:00:00+03:00", "field", "", "", "", "", ""])
        writer.writerow(["", team_a.pk, outing.pk, site.pk, "2026-05-12T10:30:00+03:00", "field", "", "", "", "", ""])
        writer.writerow(
            ["", team_a.pk, "", site.pk, "2026-05-12T23:30:00+03:00", "phone", "", "male", "", "", person.pk]
        )
        writer.writerow(
            [
                "",
                team_a.pk,
                other_outing.pk,
                site.pk,
                "2026-05-13T11:00:00+03:00",
                "field",
                "",
                "",
                "",
                "housing",
                person.pk,
            ]
        )
        writer.writerow(["", team_a.pk, "", site.pk, "2026-05-14T08:00:00+03:00", "phone", "", "", "", "", ""])
    monkeypatch.setattr(EncounterResource._meta, "batch_size", 2)
    refreshes: list[None] = []
    refresh_now = encounter_rollups._refresh_now
    monkeypatch.setattr(encounter_rollups, "_refresh_now", lambda touched: refreshes.append(refresh_now(touched)))

    ok, _out, err = run("import_records", "encounters", str(path), "--user", worker_a.email)

    assert ok, err
    assert len(refreshes) == 1
    data = summary_report(user=worker_a, start=datetime.date(2026, 5, 12), end=datetime.date(2026, 5, 14))
    assert data["encounters_total"] == 5
    assert_rollups_exact(worker_a, datetime.date(2026, 5, 1), datetime.date(2026, 5, 31))


@pytest.mark.django_db
def test_deferred_refreshes_at_the_end_of_its_block_and_not_when_it_raises(worker_a, team_a, site):  # noqa: F811
    def log(day):
        return encounter_create(
            actor=worker_a, team=team_a, site=site, occurred_at=datetime.datetime(2026, 5, day, 9, tzinfo=datetime.UTC)
        )

    with encounter_rollups.deferred():
        log(12)
        with encounter_rollups.deferred():
            log(13)
        assert not EncounterDayCount.objects.exists()
    assert sorted(EncounterDayCount.objects.values_list("day", "total")) == [
        (datetime.date(2026, 5, 12), 1),
        (datetime.date(2026, 5, 13), 1),
    ]

    def fail_after_logging():
        with encounter_rollups.deferred():
            log(14)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail_after_logging()
    assert not EncounterDayCount.objects.filter(day=datetime.date(2026, 5, 14)).exists()
    # Outside a block, a write refreshes at once again.
    log(15)
    assert EncounterDayCount.objects.filter(day=datetime.date(2026, 5, 15)).exists()


@pytest.mark.django_db
def test_seed_demo_builds_the_rollups():
    call_command("seed_demo", encounters=400, today=datetime.date(2026, 11, 20), stdout=io.StringIO())
    assert EncounterDayCount.objects.exists()
    assert PersonDayCount.objects.exists()
    assert OutingDayCount.objects.exists()
    for email in ("coordinator@example.org", "worker@example.org"):
        assert_rollups_exact(User.objects.get(email=email), datetime.date(2025, 11, 1), datetime.date(2026, 11, 30))


ROLLUP_MODELS = (
    EncounterDayCount,
    EncounterMixCount,
    PersonFirstEncounter,
    PersonDayCount,
    OutingEncounterCount,
    OutingDayCount,
    OutingWorkerDayCount,
    FeedbackDayCount,
    ReferralDayCount,
)


def every_rollup_row() -> dict[str, list[tuple]]:
    """Every column of every rollup row but its own id."""
    return {
        model._meta.label: sorted(
            model.objects.values_list(*(f.attname for f in model._meta.concrete_fields if f.attname != "id")),
            key=repr,  # FeedbackDayCount.outing_team_id and ReferralDayCount.site_id may be None
        )
        for model in ROLLUP_MODELS
    }


@pytest.mark.django_db
def test_seed_demo_counts_the_rollups_that_a_rebuild_gives():
    """An empty database: the generator counts the rollups as it goes and loads them with the rows."""
    call_command("seed_demo", encounters=2000, today=datetime.date(2026, 11, 20), stdout=io.StringIO())
    counted = every_rollup_row()
    assert all(counted.values()), "the demo fills every rollup"

    report_rollups.rebuild_all()

    assert every_rollup_row() == counted


@pytest.mark.django_db
def test_seed_demo_into_a_database_with_data_rebuilds_the_rollups():
    """With --force the new encounters land on days and sites that already have some: counts would not add up."""
    call_command("seed_demo", encounters=300, today=datetime.date(2026, 11, 20), stdout=io.StringIO())
    call_command(
        "seed_demo", encounters=300, seed=7, force=True, today=datetime.date(2026, 11, 20), stdout=io.StringIO()
    )
    loaded = every_rollup_row()

    report_rollups.rebuild_all()

    assert every_rollup_row() == loaded
    for email in ("coordinator@example.org", "worker@example.org"):
        assert_rollups_exact(User.objects.get(email=email), datetime.date(2025, 11, 1), datetime.date(2026, 11, 30))


@pytest.mark.django_db
def test_rebuild_command_restores_the_rollups():
    call_command("seed_demo", encounters=300, today=datetime.date(2026, 11, 20), stdout=io.StringIO())
    coordinator = User.objects.get(email="coordinator@example.org")
    start, end = datetime.date(2026, 1, 1), datetime.date(2026, 11, 30)
    before = summary_report(user=coordinator, start=start, end=end)
    EncounterDayCount.objects.all().delete()
    PersonDayCount.objects.all().delete()
    OutingDayCount.objects.all().delete()
    FeedbackDayCount.objects.all().delete()
    ReferralDayCount.objects.all().delete()
    emptied = summary_report(user=coordinator, start=start, end=end)
    assert (emptied["encounters_total"], emptied["feedback_count"], emptied["referrals_total"]) == (0, 0, 0)
    assert before["referrals_total"] > 0

    out = io.StringIO()
    call_command("rebuild_report_rollups", stdout=out)

    assert "rebuilt" in out.getvalue()
    assert summary_report(user=coordinator, start=start, end=end) == before
    assert_rollups_exact(coordinator, start, end)


@pytest.mark.django_db
def test_feedback_follows_its_outing_to_another_team(team_a, team_b, worker_a, worker_b):
    day = datetime.date(2026, 5, 12)
    given_at = OutingFactory(team=team_a, date=day, participants=[worker_a])
    feedback_record(site=given_at.site, outing=given_at, score=5, given_on=day)
    feedback_record(site=given_at.site, outing=given_at, score=2, given_on=day)

    def answers(user):
        return summary_report(user=user, start=day, end=day)["feedback_count"]

    assert (answers(worker_a), answers(worker_b)) == (2, 0)
    outing_update(
        actor=UserFactory(role=Role.ADMIN, is_superuser=True), outing=given_at, team=team_b, participants=[worker_b]
    )
    assert (answers(worker_a), answers(worker_b)) == (0, 2)
    for user in (worker_a, worker_b):
        assert_rollups_exact(user, day, day)


@pytest.mark.django_db
def test_deleting_feedback_keeps_the_rollup(team_a, worker_a, coordinator, settings):
    settings.REPORTS_FEEDBACK_MIN_ANSWERS = 1  # a mean of one answer, to see which answer is left
    day = datetime.date(2026, 5, 12)
    given_at = OutingFactory(team=team_a, date=day, participants=[worker_a])
    kept = feedback_record(site=given_at.site, outing=given_at, score=5, given_on=day)
    spam = feedback_record(site=given_at.site, outing=given_at, score=1, given_on=day)

    feedback_delete(actor=coordinator, feedback=spam)

    figures = summary_report(user=worker_a, start=day, end=day)
    assert (figures["feedback_count"], figures["feedback_mean_score"]) == (1, float(kept.score))
    assert_rollups_exact(worker_a, day, day)


@pytest.mark.django_db
def test_referrals_follow_their_encounter_to_another_site(team_a, worker_a):
    day = datetime.date(2026, 5, 12)
    street = FieldSiteFactory(team=team_a, site_type=SiteType.STREET, municipality=municipality("297"))
    food = FieldSiteFactory(team=team_a, site_type=SiteType.FOOD_DISTRIBUTION, municipality=municipality("204"))
    encounter = encounter_create(
        actor=worker_a, team=team_a, site=street, occurred_at=datetime.datetime(2026, 5, 12, 10, tzinfo=datetime.UTC)
    )
    referral_create(actor=worker_a, team=team_a, encounter=encounter, service_kind=ServiceKind.HOUSING, referred_on=day)

    def referrals(**filters):
        return summary_report(user=worker_a, start=day, end=day, **filters)["referrals_total"]

    assert (referrals(site_type=SiteType.STREET), referrals(municipality=municipality("204"))) == (1, 0)
    encounter_update(actor=worker_a, encounter=encounter, site=food)
    assert (referrals(site_type=SiteType.STREET), referrals(municipality=municipality("204"))) == (0, 1)
    for filters in ({}, {"site_type": SiteType.FOOD_DISTRIBUTION}, {"municipality": municipality("297")}):
        assert_rollups_exact(worker_a, day, day, **filters)

    encounter_delete(actor=worker_a, encounter=encounter, with_referrals=True)
    assert referrals() == 0
    assert not ReferralDayCount.objects.exists()


@pytest.mark.django_db
def test_the_partners_confirmation_keeps_the_referral_rollup(team_a, worker_a):
    day = datetime.date(2026, 5, 12)
    referral = referral_create(
        actor=worker_a, team=team_a, service_kind=ServiceKind.HOUSING, status=ReferralStatus.MADE, referred_on=day
    )
    _confirmation, token = referral_confirmation_create(actor=worker_a, referral=referral)

    referral_confirm_by_partner(token=token, outcome=ReferralConfirmation.Outcome.ARRIVED)

    figures, funnel = summary_with_funnel(user=worker_a, start=day, end=day)
    assert figures["referrals_by_status"][ReferralStatus.CONNECTED] == 1
    assert funnel[ServiceKind.HOUSING] == {"suggested": 1, "made": 1, "connected": 1}
    assert_rollups_exact(worker_a, day, day)


@pytest.mark.django_db
@pytest.mark.parametrize("max_slices", [1, 1000], ids=["whole days", "slice by slice"])
def test_rollups_after_an_import_equal_a_rebuild(
    tmp_path,
    monkeypatch,
    max_slices,
    worker_a,
    team_a,
    team_b,
    site,  # noqa: F811
):
    """However the outing rollups are recomputed (by slice, or by whole days for many slices)."""
    monkeypatch.setattr(outing_rollups, "_MAX_SLICES", max_slices)
    other_site = FieldSiteFactory()
    may_12, may_13 = datetime.date(2026, 5, 12), datetime.date(2026, 5, 13)
    outings = [
        OutingFactory(team=team_a, site=site, date=may_12, participants=[worker_a]),
        OutingFactory(team=team_a, site=other_site, date=may_12, participants=[worker_a]),
        OutingFactory(team=team_a, site=site, date=may_13, participants=[worker_a]),
    ]
    # Rows the import does not touch: another team's outing on the same day, and a day of its own.
    OutingFactory(team=team_b, site=site, date=may_12)
    OutingFactory(team=team_a, site=site, date=datetime.date(2026, 5, 20), participants=[worker_a])
    encounter_create(
        actor=worker_a, team=team_a, site=site, occurred_at=datetime.datetime(2026, 5, 12, 7, tzinfo=datetime.UTC)
    )
    person = PersonFactory(team=team_a)
    path = tmp_path / "encounters.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*ENCOUNTER_HEADER, "person"])
        for number, outing in enumerate(outings):
            moment = f"{outing.date.isoformat()}T1{number}:00:00+03:00"
            writer.writerow([team_a.pk, outing.pk, outing.site_id, moment, "field", "", "", "", "housing", person.pk])
        writer.writerow([team_a.pk, "", other_site.pk, "2026-05-13T23:30:00+03:00", "phone", "", "", "", "", ""])
    before_import = every_rollup_row()

    ok, _out, err = run("import_records", "encounters", str(path), "--user", worker_a.email)

    assert ok, err
    imported = every_rollup_row()
    assert imported != before_import
    assert sum(outings_done for _day, _team, _site, outings_done, *_rest in imported["outreach.OutingDayCount"]) == 5
    call_command("rebuild_report_rollups", stdout=io.StringIO())
    assert every_rollup_row() == imported
    assert_rollups_exact(worker_a, datetime.date(2026, 5, 1), datetime.date(2026, 5, 31))


@pytest.mark.django_db
def test_an_outing_refresh_of_no_slices_reads_and_writes_nothing(worker_a, team_a, site):  # noqa: F811
    # (An empty condition would match, and recompute, every row.)
    OutingFactory(team=team_a, site=site, participants=[worker_a])
    before = every_rollup_row()
    assert before["outreach.OutingDayCount"]

    with CaptureQueriesContext(connection) as queries:
        outing_rollups.refresh(set())

    assert [query["sql"] for query in queries if not query["sql"].startswith(("SAVEPOINT", "RELEASE"))] == []
    assert every_rollup_row() == before


def test_an_outing_counts_its_encounters_and_taps_in_its_slice_from_when_it_is_done(worker_a, team_a, site):  # noqa: F811
    # While it goes on, a save or a tap recomputes no slice (an outing not done is in none); when it is
    # done, what it had is counted, and what comes after is added.
    day = datetime.date(2026, 5, 12)
    going_on = OutingFactory(
        team=team_a, site=site, date=day, status=OutingStatus.PLANNED, tallied_contacts=0, participants=[worker_a]
    )
    at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10, 30)))

    def log(depth):
        encounter_create(
            actor=worker_a,
            team=team_a,
            site=site,
            outing=going_on,
            occurred_at=at,
            depth=depth,
            contact_kind="field",
            gender="female",
            age_group="30_39",
            needs=[],
        )

    log("conversation")
    outing_tally_add(actor=worker_a, outing=going_on, delta=2)
    assert not OutingDayCount.objects.filter(day=day, site=site).exists()

    outing_finish(actor=worker_a, outing=going_on, end_time=datetime.time(12))
    row = OutingDayCount.objects.get(day=day, site=site)
    assert (row.outings_done, row.encounters, row.conversations, row.tallied_contacts) == (1, 1, 1, 2)

    log("brief")
    outing_tally_add(actor=worker_a, outing=going_on, delta=1)
    row = OutingDayCount.objects.get(day=day, site=site)
    assert (row.outings_done, row.encounters, row.conversations, row.tallied_contacts) == (1, 2, 1, 3)


def outing_rollup_statements(queries) -> list[str]:
    return [
        query["sql"] for query in queries if "outingdaycount" in query["sql"] or "outingworkerdaycount" in query["sql"]
    ]


@pytest.mark.django_db
def test_changing_an_outing_not_done_before_or_after_recomputes_no_slice(worker_a, coordinator, team_a, site):  # noqa: F811
    # Starting a planned outing in the field, moving a plan to another day or site: it is in no slice.
    day = timezone.localdate()
    planned = OutingFactory(team=team_a, site=site, date=day, status=OutingStatus.PLANNED, participants=[worker_a])
    other = FieldSiteFactory(team=team_a)

    with CaptureQueriesContext(connection) as started:
        outing_start_planned(actor=worker_a, outing=planned)
    with CaptureQueriesContext(connection) as moved:
        outing_update(actor=coordinator, outing=planned, site=other, notes="Moved to the day centre.")

    assert outing_rollup_statements(started) == []
    assert outing_rollup_statements(moved) == []
    assert not OutingDayCount.objects.exists()
    counted = every_rollup_row()
    report_rollups.rebuild_all()
    assert every_rollup_row() == counted


@pytest.mark.django_db
def test_an_outing_done_meanwhile_is_recomputed_though_the_caller_read_it_before(worker_a, team_a, site):  # noqa: F811
    """The status and slice that decide the recompute are read from the locked row, not from the caller's
    copy: an outing finished since it was read, then moved, leaves its old slice and counts in its new."""
    day = datetime.date(2026, 5, 12)
    finished = OutingFactory(team=team_a, site=site, date=day, status=OutingStatus.PLANNED, participants=[worker_a])
    stale = type(finished).objects.get(pk=finished.pk)
    outing_finish(actor=worker_a, outing=finished, end_time=datetime.time(23))
    assert OutingDayCount.objects.get(day=day, site=site).outings_done == 1
    elsewhere = FieldSiteFactory(team=team_a)

    outing_update(actor=worker_a, outing=stale, site=elsewhere)

    assert not OutingDayCount.objects.filter(site=site).exists()
    assert OutingDayCount.objects.get(day=day, site=elsewhere).outings_done == 1
    counted = every_rollup_row()
    report_rollups.rebuild_all()
    assert every_rollup_row() == counted


@pytest.mark.django_db
def test_a_persons_rows_count_the_encounters_of_the_records_merged_into_them_two_levels_deep(team_a, worker_a):
    """A save linked to a person recomputes that person's rows from their encounters only (found by the
    indexed person, not by the computed root): the encounters of a record merged into them, and of one
    merged into that, are still counted as theirs."""
    place = FieldSiteFactory(team=team_a)
    kept, middle, oldest = (PersonFactory(team=team_a) for _ in range(3))
    at = datetime.datetime(2026, 5, 12, 10, tzinfo=datetime.UTC)
    for person, day in ((middle, 10), (oldest, 11)):
        encounter_create(actor=worker_a, team=team_a, site=place, person=person, occurred_at=at.replace(day=day))
    # Merged after their encounters were logged, the records keep them (as an import of old rows can leave them).
    type(kept).objects.filter(pk=middle.pk).update(merged_into=kept)
    type(kept).objects.filter(pk=oldest.pk).update(merged_into=middle)
    report_rollups.rebuild_all()

    encounter_create(actor=worker_a, team=team_a, site=place, person=kept, occurred_at=at)
    counted = every_rollup_row()
    report_rollups.rebuild_all()

    assert every_rollup_row() == counted
    rows = PersonDayCount.objects.filter(person_id=kept.pk).order_by("day")
    first = datetime.date(2026, 5, 10)
    assert [(row.day.day, row.encounters, row.first_on) for row in rows] == [
        (10, 1, first),
        (11, 1, first),
        (12, 1, first),
    ]
    assert PersonFirstEncounter.objects.get(person_id=kept.pk).first_on == first
