"""Every write path keeps the report rollups exact: bulk import, legacy sheets, seed_demo, the rebuild command.

Each test writes through one path and then compares the reports read from
the rollups with the raw computation, for the whole data set.
"""

import csv
import datetime
import io

import pytest
from django.core.management import call_command

from encounters.models import EncounterDayCount, PersonDayCount
from encounters.tests.test_import_export import ENCOUNTER_HEADER, outing, run, site  # noqa: F401  (fixtures)
from outreach.models import OutingDayCount, User
from outreach.services import outing_update
from outreach.tests.factories import OutingFactory, UserFactory
from outreach.vocabulary import Role
from reports.dashboard import work_by_worker, work_by_worker_raw
from reports.models import FeedbackDayCount
from reports.selectors import (
    REACH_GROUPS,
    extract_rows,
    extract_rows_raw,
    reach_report,
    reach_report_raw,
    summary_report,
    summary_report_raw,
)
from reports.services import feedback_delete, feedback_record


def assert_rollups_exact(user, start, end):
    arguments = {"user": user, "start": start, "end": end}
    assert summary_report(**arguments) == summary_report_raw(**arguments)
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
def test_seed_demo_builds_the_rollups():
    call_command("seed_demo", encounters=400, today=datetime.date(2026, 11, 20), stdout=io.StringIO())
    assert EncounterDayCount.objects.exists()
    assert PersonDayCount.objects.exists()
    assert OutingDayCount.objects.exists()
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
    emptied = summary_report(user=coordinator, start=start, end=end)
    assert (emptied["encounters_total"], emptied["feedback_count"]) == (0, 0)

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
