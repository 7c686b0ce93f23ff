"""import_legacy_statistics: a team's old spreadsheet becomes outings, tallies and encounters."""

import csv
import datetime
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from encounters.models import Encounter
from outreach.models import AuditEntry, Outing
from outreach.tests.factories import FieldSiteFactory, UserFactory
from outreach.vocabulary import Role
from reports.legacy import COLUMNS, LEGACY_MARKER, NEED_COLUMNS, template_rows

HELSINKI = ZoneInfo("Europe/Helsinki")


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_legacy_statistics", *args, stdout=out, stderr=err)
    except CommandError as error:
        err.write(str(error))
        return False, out.getvalue(), err.getvalue()
    return True, out.getvalue(), err.getvalue()


def sheet(path, rows, header=None):
    header = header or sorted({name for row in rows for name in row}, key=COLUMNS.index)
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


@pytest.fixture
def food(db):
    return FieldSiteFactory(name="Leipäjono Kuopio")


@pytest.fixture
def street(db):
    return FieldSiteFactory(name="Tori", site_type="street")


@pytest.fixture
def legacy_file(tmp_path, food, street, worker_a, coordinator):
    return sheet(
        tmp_path / "tilastot.csv",
        [
            {
                "date": "2025-03-04",
                "site": "Leipäjono Kuopio",
                "start_time": "10:00",
                "end_time": "12:30",
                "workers": f"{worker_a.email};{coordinator.email.upper()}",
                "people_met": "42",
                "conversations": "3",
                "need_mental_health": "2",
                "need_substance_use": "3",
                "need_housing": "1",
                "notes": "Kevään ensimmäinen kerta",
            },
            {"date": "11.3.2025", "site": str(street.pk), "workers": "2", "people_met": "5", "conversations": "0"},
        ],
    )


@pytest.mark.django_db
def test_rows_become_done_outings_tallies_and_encounters(legacy_file, coordinator, worker_a, team_a, food, street):
    ok, out, err = run(legacy_file, "--team", str(team_a.pk), "--user", coordinator.email)

    assert ok, err
    assert "2 outings, 3 encounters, 44 brief contacts" in out
    first, second = Outing.objects.order_by("date")
    assert (first.team, first.site, first.date, first.status) == (team_a, food, datetime.date(2025, 3, 4), "done")
    assert (first.start_time, first.end_time) == (datetime.time(10), datetime.time(12, 30))
    assert set(first.participants.all()) == {worker_a, coordinator}
    assert first.tallied_contacts == 42 - 3
    assert first.notes == f"{LEGACY_MARKER}\nKevään ensimmäinen kerta"
    # No times given: the documented default 10:00–12:00; a number of workers is kept in the notes.
    assert (second.site, second.start_time, second.end_time) == (street, datetime.time(10), datetime.time(12))
    assert second.tallied_contacts == 5
    assert not second.participants.exists()
    assert second.notes == f"{LEGACY_MARKER}; workers: 2"

    encounters = list(Encounter.objects.filter(outing=first).order_by("client_uuid"))
    assert len(encounters) == 3
    assert not Encounter.objects.filter(outing=second).exists()
    for encounter in encounters:
        assert encounter.anonymous
        assert encounter.person is None
        assert (encounter.depth, encounter.gender, encounter.age_group) == ("conversation", "unknown", "unknown")
        assert encounter.site == food
        assert encounter.team == team_a
        assert encounter.occurred_at == datetime.datetime(2025, 3, 4, 10, 0, tzinfo=HELSINKI)
        assert encounter.occurred_on == datetime.date(2025, 3, 4)
        assert set(encounter.workers.all()) == {worker_a, coordinator}
    # Each counted need belongs to a distinct encounter of the row.
    assert sorted(sorted(encounter.needs) for encounter in encounters) == [
        ["housing", "mental_health", "substance_use"],
        ["mental_health", "substance_use"],
        ["substance_use"],
    ]
    assert Encounter.objects.filter(needs__has="substance_use").count() == 3
    assert Encounter.objects.filter(needs__has="mental_health").count() == 2
    assert Encounter.objects.filter(needs__has="housing").count() == 1
    # Written by the services: audited with the acting user.
    assert AuditEntry.objects.filter(action="create", model="outreach.outing", actor=coordinator).count() == 2
    assert AuditEntry.objects.filter(action="create", model="encounters.encounter", actor=coordinator).count() == 3


@pytest.mark.django_db
def test_importing_the_same_file_again_creates_nothing(legacy_file, coordinator, team_a):
    run(legacy_file, "--team", str(team_a.pk), "--user", coordinator.email)
    entries = AuditEntry.objects.count()

    ok, out, err = run(legacy_file, "--team", str(team_a.pk), "--user", coordinator.email)

    assert ok, err
    assert "line 2: imported before" in out
    assert "line 3: imported before" in out
    assert "0 outings, 0 encounters" in out
    assert Outing.objects.count() == 2
    assert Encounter.objects.count() == 3
    assert AuditEntry.objects.count() == entries


@pytest.mark.django_db
def test_dry_run_reports_and_writes_nothing(legacy_file, coordinator, team_a):
    ok, out, err = run(legacy_file, "--team", str(team_a.pk), "--dry-run", "--user", coordinator.email)

    assert ok, err
    assert "Dry run" in out
    assert "2 outings, 3 encounters, 44 brief contacts; needs: mental_health 2, substance_use 3, housing 1" in out
    assert not Outing.objects.exists()
    assert not Encounter.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_bad_rows_are_listed_and_nothing_is_imported(tmp_path, food, coordinator, team_a):
    path = sheet(
        tmp_path / "tilastot.csv",
        [
            {"date": "2025-03-04", "site": "Leipäjono Kuopio", "people_met": "10", "conversations": "2"},
            {
                "date": "2025-03-05",
                "site": "Leipäjono Kuopio",
                "people_met": "10",
                "conversations": "2",
                "need_housing": "3",
            },
            {"date": "2025-02-30", "site": "Leipäjono", "people_met": "x", "conversations": "2"},
            {
                "date": "2025-03-06",
                "site": "Leipäjono Kuopio",
                "people_met": "1",
                "conversations": "2",
                "start_time": "9:00",
            },
            {
                "date": "2025-03-04",
                "site": "Leipäjono Kuopio",
                "people_met": "3",
                "conversations": "0",
                "workers": "ei@example.org",
            },
            {"date": "2025-03-04", "site": str(food.pk), "people_met": "3", "conversations": "0"},
        ],
    )

    ok, _out, err = run(path, "--team", str(team_a.pk), "--user", coordinator.email)

    assert not ok
    lines = [line for line in err.splitlines() if line.startswith("line ")]
    assert lines == [
        "line 3: need_housing: 3 needs counted but 2 conversations: each need belongs to a conversation.",
        "line 4: date: Enter a date as YYYY-MM-DD.",
        "line 4: site: No site with the id or name “Leipäjono”.",
        "line 4: people_met: Enter a whole number.",
        "line 5: end_time: Give both the start and the end time, or neither (10:00–12:00).",
        "line 6: workers: No user with the e-mail address ei@example.org that you can use.",
        "line 7: row: Repeats line 2 (same site, date and start time).",
    ]
    assert "5 line(s) have problems; nothing was imported." in err
    assert not Outing.objects.exists()
    assert not Encounter.objects.exists()


@pytest.mark.django_db
def test_service_refusals_undo_the_whole_file(tmp_path, food, coordinator, team_a):
    """Rows that pass the sheet's checks but not a service's leave nothing behind either."""
    path = sheet(
        tmp_path / "tilastot.csv",
        [
            {"date": "2025-03-04", "site": "Leipäjono Kuopio", "people_met": "4", "conversations": "2"},
            {
                "date": "2025-03-05",
                "site": "Leipäjono Kuopio",
                "start_time": "12:00",
                "end_time": "11:00",
                "people_met": "4",
                "conversations": "2",
            },
        ],
    )

    ok, _out, err = run(path, "--team", str(team_a.pk), "--user", coordinator.email)

    assert not ok
    assert "line 3: end_time: An outing must end after it starts." in err
    assert not Outing.objects.exists()
    assert not Encounter.objects.exists()


@pytest.mark.django_db
def test_team_and_columns_are_checked(tmp_path, food, worker_a, team_b, team_a):
    path = sheet(
        tmp_path / "tilastot.csv",
        [{"date": "2025-03-04", "site": "Leipäjono Kuopio", "people_met": "4", "conversations": "2"}],
    )
    ok, _out, err = run(path, "--team", str(team_b.pk), "--user", worker_a.email)
    assert not ok
    assert f"--team: no team with id {team_b.pk} that you can use." in err

    path = sheet(
        tmp_path / "typo.csv",
        [{"date": "2025-03-04", "site": "x", "people_met": "4", "need_housng": "1"}],
        header=["date", "site", "people_met", "need_housng"],
    )
    ok, _out, err = run(path, "--team", str(team_a.pk), "--user", worker_a.email)
    assert not ok
    assert "line 1: need_housng: Unknown column" in err
    assert "line 1: conversations: This column is missing." in err
    assert not Outing.objects.exists()


@pytest.mark.django_db
def test_an_expert_cannot_import(tmp_path, food, expert_a, team_a):
    path = sheet(
        tmp_path / "tilastot.csv",
        [{"date": "2025-03-04", "site": "Leipäjono Kuopio", "people_met": "4", "conversations": "2"}],
    )
    ok, _out, err = run(path, "--team", str(team_a.pk), "--user", expert_a.email)
    assert not ok
    assert "line 1: team: You cannot record work for this team." in err
    assert not Outing.objects.exists()


@pytest.mark.django_db
def test_the_xlsx_template_imports_once_its_examples_name_real_sites_and_users(tmp_path, food, coordinator, team_a):
    UserFactory(email="maija.worker@example.org", role=Role.WORKER, teams=[team_a])
    UserFactory(email="pekka.worker@example.org", role=Role.WORKER, teams=[team_a])
    path = tmp_path / "template.xlsx"
    call_command("legacy_statistics_template", str(path), stdout=io.StringIO())
    workbook = openpyxl.load_workbook(path)
    assert [cell.value for cell in workbook["statistics"][1]] == COLUMNS
    assert {row[0].value for row in workbook["columns"].iter_rows(min_row=2)} == set(COLUMNS)

    ok, out, err = run(str(path), "--team", str(team_a.pk), "--user", coordinator.email)

    assert ok, err
    assert "2 outings, 10 encounters, 67 brief contacts" in out
    assert Encounter.objects.filter(needs__has="livelihood").count() == 4


def test_the_committed_csv_template_is_the_generated_one():
    template = Path(__file__).resolve().parents[2] / "docs" / "legacy-statistics-template.csv"
    with open(template, encoding="utf-8", newline="") as source:
        assert list(csv.reader(source)) == template_rows()
    assert set(NEED_COLUMNS.values()) == {name.removeprefix("need_") for name in COLUMNS if name.startswith("need_")}


@pytest.mark.django_db
def test_the_history_shows_in_the_summary_report(legacy_file, coordinator, team_a):
    from reports.selectors import summary_report

    run(legacy_file, "--team", str(team_a.pk), "--user", coordinator.email)

    summary = summary_report(
        user=coordinator, start=datetime.date(2025, 3, 1), end=datetime.date(2025, 3, 31), team=team_a
    )

    assert summary["outings_done"] == 2
    assert summary["tallied_contacts"] == 39 + 5
    assert summary["encounters_total"] == summary["encounters_conversation"] == summary["encounters_anonymous"] == 3
    # 10:00–12:30 with two participants; the second outing has no known participants.
    assert summary["outing_hours"] == 5
    assert summary["by_need"]["substance_use"] == 3
    assert summary["by_need"]["mental_health"] == 2
    assert summary["by_need"]["housing"] == 1
    assert summary["by_gender"]["unknown"] == 3
    assert summary["by_month"] == {"2025-03": 3}
