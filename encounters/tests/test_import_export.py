"""import_records / export_records: the bulk contract of DESIGN.md, from the outside.

Files in, files out, through the commands: all rows or none, every bad row
named by its line and column, dry runs that write nothing, exports that
import back unchanged.
"""

import csv
import datetime
import gc
import io
import re
import uuid
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from encounters.models import Encounter, Person, Referral
from encounters.tests.factories import EncounterFactory, PersonFactory, ReferralFactory
from networks.models import PartnerOrganisation
from outreach.models import AuditEntry, FieldSite, Outing
from outreach.resources import collector_paused
from outreach.tests.factories import FieldSiteFactory, OutingFactory, UserFactory
from outreach.validators import plausible_last_day
from outreach.vocabulary import Role

HELSINKI = datetime.timezone(datetime.timedelta(hours=3))

# A planned outing is dated ahead (or at most two weeks back).
NEXT_WEEK = (timezone.localdate() + datetime.timedelta(days=7)).isoformat()


def write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as source:
        return list(csv.DictReader(source))


def run(command, *args):
    """Run a command; return (ok, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(command, *args, stdout=out, stderr=err)
    except CommandError as error:
        err.write(str(error))
        return False, out.getvalue(), err.getvalue()
    return True, out.getvalue(), err.getvalue()


def audit_count():
    return AuditEntry.objects.count()


@pytest.fixture
def site(db):
    return FieldSiteFactory(name="Leipäjono Kuopio")


@pytest.fixture
def outing(team_a, site, worker_a):
    return OutingFactory(team=team_a, site=site, participants=[worker_a])


ENCOUNTER_HEADER = ["team", "outing", "site", "occurred_at", "contact_kind", "depth", "gender", "age_group", "needs"]


def encounter_row(team, outing, site, /, **overrides):
    row = {
        "team": str(team.pk),
        "outing": str(outing.pk),
        "site": str(site.pk),
        "occurred_at": "2026-05-12T10:30:00+03:00",
        "contact_kind": "field",
        "depth": "conversation",
        "gender": "female",
        "age_group": "30_39",
        "needs": "housing;substance_use",
    }
    row.update(overrides)
    return [row[name] for name in ENCOUNTER_HEADER]


# Good files --------------------------------------------------------------


@pytest.mark.django_db
def test_sites_csv_imports_through_the_service(tmp_path, coordinator, team_a):
    path = write_csv(
        tmp_path / "sites.csv",
        ["name", "site_type", "municipality", "active", "latitude", "longitude", "team"],
        [
            ["Päiväkeskus Kaavi", "day_centre", "204", "true", "62.97500", "28.48300", str(team_a.pk)],
            ["Tori", "street", "297", "false", "", "", ""],
        ],
    )

    ok, out, err = run("import_records", "sites", path, "--user", coordinator.email)

    assert ok, err
    assert "2 new" in out
    day_centre = FieldSite.objects.get(name="Päiväkeskus Kaavi")
    assert day_centre.site_type == "day_centre"
    assert day_centre.municipality.code == "204"
    assert day_centre.latitude == Decimal("62.975")
    assert day_centre.team == team_a
    assert FieldSite.objects.get(name="Tori").active is False
    created = AuditEntry.objects.filter(action="create", model="outreach.fieldsite", actor=coordinator)
    assert created.count() == 2


@pytest.mark.django_db
def test_encounters_xlsx_imports(tmp_path, worker_a, team_a, site, outing):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([*ENCOUNTER_HEADER, "duration_minutes"])
    # What a spreadsheet hands over: numbers as numbers, a date cell.
    sheet.append([team_a.pk, outing.pk, site.pk, "2026-05-12T10:30:00+03:00", "field", "brief", "male", "18_29", "", 5])
    sheet.append([team_a.pk, "", site.pk, datetime.datetime(2026, 5, 12, 11, 0), "phone", "", "", "", "housing", ""])
    path = tmp_path / "encounters.xlsx"
    workbook.save(path)

    ok, out, err = run("import_records", "encounters", str(path), "--user", worker_a.email)

    assert ok, err
    assert "2 new" in out
    first, second = Encounter.objects.order_by("occurred_at")
    assert (first.outing, first.depth, first.duration_minutes, first.needs) == (outing, "brief", 5, [])
    assert set(first.workers.all()) == {worker_a}  # the outing's participants
    assert second.outing is None
    assert second.depth == "conversation"
    assert second.gender == "unknown"
    # A time without an offset is Helsinki time.
    assert second.occurred_at == datetime.datetime(2026, 5, 12, 11, 0, tzinfo=HELSINKI)
    assert second.occurred_on == datetime.date(2026, 5, 12)
    assert second.needs == ["housing"]
    assert AuditEntry.objects.filter(action="create", model="encounters.encounter").count() == 2


@pytest.mark.django_db
def test_semicolon_separated_csv_from_finnish_excel(tmp_path, worker_a, team_a, site):
    path = tmp_path / "outings.csv"
    path.write_text(
        "\ufeffteam;site;date;start_time;end_time;status;tallied_contacts\n"
        f"{team_a.pk};{site.pk};12.5.2026;10.00;12.00;done;14\n",
        encoding="utf-8",
    )

    ok, _out, err = run("import_records", "outings", str(path), "--user", worker_a.email)

    assert ok, err
    outing = Outing.objects.get()
    assert (outing.date, outing.start_time, outing.end_time) == (
        datetime.date(2026, 5, 12),
        datetime.time(10),
        datetime.time(12),
    )
    assert outing.tallied_contacts == 14


# Bad files ---------------------------------------------------------------


@pytest.mark.django_db
def test_one_bad_row_imports_nothing_and_names_line_and_field(tmp_path, worker_a, team_a, site, outing):
    path = write_csv(
        tmp_path / "encounters.csv",
        ENCOUNTER_HEADER,
        [
            encounter_row(team_a, outing, site),
            encounter_row(team_a, outing, site),
            encounter_row(team_a, outing, site, needs="housing;rent_arrears"),
            encounter_row(team_a, outing, site),
        ],
    )
    before = audit_count()

    ok, _out, err = run("import_records", "encounters", path, "--user", worker_a.email)

    assert not ok
    assert 'line 4: needs: "rent_arrears" is not a valid choice.' in err
    assert "line 2" not in err
    assert "line 3:" not in err
    assert "nothing was imported" in err
    assert Encounter.objects.count() == 0
    assert audit_count() == before


@pytest.mark.django_db
def test_every_bad_row_and_field_is_listed(tmp_path, worker_a, team_a, site):
    path = write_csv(
        tmp_path / "outings.csv",
        ["team", "site", "date", "start_time", "end_time", "status", "tallied_contacts"],
        [
            [team_a.pk, site.pk, "2026-02-30", "10:00", "12:00", "done", "3"],
            [team_a.pk, site.pk, "2026-05-12", "25:00", "12:00", "finished", "3"],
            [team_a.pk, site.pk, "2026-05-12", "10:00", "12:00", "done", "many"],
            [team_a.pk, site.pk, "2026-05-12", "12:00", "10:00", "done", "3"],
            [team_a.pk, site.pk, "2026-05-12", "10:00", "12:00", "done", "3"],
        ],
    )

    ok, _out, err = run("import_records", "outings", path, "--user", worker_a.email)

    assert not ok
    lines = [line for line in err.splitlines() if line.startswith("line ")]
    assert lines == [
        "line 2: date: Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
        "line 3: start_time: Time has wrong format. Use one of these formats instead: hh:mm, hh:mm:ss.",
        'line 3: status: "finished" is not a valid choice.',
        "line 4: tallied_contacts: A valid integer is required.",
        "line 5: end_time: An outing must end after it starts.",
    ]
    assert "4 line(s) have problems" in err
    assert Outing.objects.count() == 0


@pytest.mark.django_db
def test_bad_boolean_and_unknown_municipality(tmp_path, coordinator):
    path = write_csv(
        tmp_path / "sites.csv",
        ["name", "site_type", "municipality", "active"],
        [["Tori", "street", "297", "maybe"], ["Asema", "street", "999", "true"]],
    )

    ok, _out, err = run("import_records", "sites", path, "--user", coordinator.email)

    assert not ok
    assert "line 2: active: Must be a valid boolean." in err
    assert "line 3: municipality: No municipality has the code “999”." in err
    assert not FieldSite.objects.filter(name__in=["Tori", "Asema"]).exists()


@pytest.mark.django_db
def test_line_numbers_count_multiline_cells(tmp_path, worker_a, team_a, site, outing):
    """A quoted cell may span lines; errors name the line where the row starts."""
    rows = [[*encounter_row(team_a, outing, site), "first\nsecond\nthird"], encounter_row(team_a, outing, site)]
    rows[1][ENCOUNTER_HEADER.index("depth")] = "deep"
    path = write_csv(tmp_path / "encounters.csv", [*ENCOUNTER_HEADER, "notes"], rows)

    ok, _out, err = run("import_records", "encounters", path, "--user", worker_a.email)

    assert not ok
    assert "line 5: depth:" in err


@pytest.mark.django_db
def test_unknown_column_is_refused(tmp_path, worker_a, team_a, site, outing):
    header = [*ENCOUNTER_HEADER, "needz"]
    path = write_csv(tmp_path / "encounters.csv", header, [[*encounter_row(team_a, outing, site), "housing"]])

    ok, _out, err = run("import_records", "encounters", path, "--user", worker_a.email)

    assert not ok
    assert "line 1: needz: Unknown column" in err
    assert Encounter.objects.count() == 0


@pytest.mark.django_db
def test_dry_run_checks_everything_and_writes_nothing(tmp_path, worker_a, team_a, site, outing):
    path = write_csv(
        tmp_path / "encounters.csv",
        ENCOUNTER_HEADER,
        [encounter_row(team_a, outing, site), encounter_row(team_a, outing, site, depth="brief")],
    )
    before = audit_count()

    ok, out, err = run("import_records", "encounters", path, "--dry-run", "--user", worker_a.email)

    assert ok, err
    assert "Dry run" in out
    assert "2 new" in out
    assert Encounter.objects.count() == 0
    assert audit_count() == before

    # A dry run finds what a real run would refuse, service checks included.
    other_site = FieldSiteFactory()
    path = write_csv(tmp_path / "bad.csv", ENCOUNTER_HEADER, [encounter_row(team_a, outing, other_site)])
    ok, out, err = run("import_records", "encounters", path, "--dry-run", "--user", worker_a.email)
    assert not ok
    assert "line 2: site: The site differs from the outing's site." in err


# Access ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_foreign_teams_ids_are_row_errors(tmp_path, worker_a, team_a, team_b, site):
    foreign_outing = OutingFactory(team=team_b, site=site)
    foreign_person = PersonFactory(team=team_b)
    path = write_csv(
        tmp_path / "encounters.csv",
        [*ENCOUNTER_HEADER, "person"],
        [
            [*encounter_row(team_b, foreign_outing, site), ""],
            [*encounter_row(team_a, foreign_outing, site), ""],
            [*encounter_row(team_a, foreign_outing, site, outing=""), str(foreign_person.pk)],
        ],
    )

    ok, _out, err = run("import_records", "encounters", path, "--user", worker_a.email)

    assert not ok
    # Another team's ids are answered like ids that exist nowhere.
    assert f'line 2: team: Invalid pk "{team_b.pk}" - object does not exist.' in err
    assert f'line 2: outing: Invalid pk "{foreign_outing.pk}" - object does not exist.' in err
    assert f'line 3: outing: Invalid pk "{foreign_outing.pk}" - object does not exist.' in err
    assert f'line 4: person: Invalid pk "{foreign_person.pk}" - object does not exist.' in err
    assert Encounter.objects.count() == 0


@pytest.mark.django_db
def test_a_worker_cannot_update_another_teams_record_by_its_id(tmp_path, worker_a, team_a, team_b, site):
    """An id the user cannot see is not theirs to update: the row makes a new record."""
    foreign = OutingFactory(team=team_b, site=site, tallied_contacts=3)
    path = write_csv(
        tmp_path / "outings.csv",
        ["id", "team", "site", "date", "start_time", "tallied_contacts"],
        [[foreign.pk, team_a.pk, site.pk, NEXT_WEEK, "10:00", "99"]],
    )

    ok, _out, err = run("import_records", "outings", path, "--user", worker_a.email)

    assert ok, err
    foreign.refresh_from_db()
    assert foreign.tallied_contacts == 3
    assert Outing.objects.get(team=team_a).tallied_contacts == 99


@pytest.mark.django_db
def test_experts_and_workers_may_not_import_sites(tmp_path, worker_a, expert_a, team_a, site, outing):
    path = write_csv(tmp_path / "sites.csv", ["name", "site_type", "municipality"], [["Tori", "street", "297"]])
    ok, _out, err = run("import_records", "sites", path, "--user", worker_a.email)
    assert not ok
    assert "line 1: row: You may not import these records." in err

    path = write_csv(tmp_path / "encounters.csv", ENCOUNTER_HEADER, [encounter_row(team_a, outing, site)])
    ok, _out, err = run("import_records", "encounters", path, "--user", expert_a.email)
    assert not ok
    assert "You may not import these records." in err
    assert not FieldSite.objects.filter(name="Tori").exists()
    assert Encounter.objects.count() == 0


@pytest.mark.django_db
def test_team_may_be_left_out_by_a_member_of_one_team(tmp_path, worker_a, team_a, team_b, site):
    header = ["site", "date", "start_time"]
    path = write_csv(tmp_path / "outings.csv", header, [[site.pk, NEXT_WEEK, "10:00"]])
    ok, _out, err = run("import_records", "outings", path, "--user", worker_a.email)
    assert ok, err
    assert Outing.objects.get().team == team_a

    two_teams = UserFactory(role=Role.WORKER, teams=[team_a, team_b])
    ok, _out, err = run("import_records", "outings", path, "--user", two_teams.email)
    assert not ok
    assert "line 2: team: You belong to several teams: give the team." in err
    assert Outing.objects.count() == 1


@pytest.mark.django_db
def test_missing_user_is_an_error(tmp_path, site):
    path = write_csv(tmp_path / "sites.csv", ["name", "site_type", "municipality"], [["Tori", "street", "297"]])
    ok, _out, err = run("import_records", "sites", path)
    assert not ok
    assert "superuser" in err
    ok, _out, err = run("import_records", "sites", path, "--user", "nobody@example.org")
    assert not ok
    assert "nobody@example.org" in err


# Persons -----------------------------------------------------------------


@pytest.mark.django_db
def test_named_person_columns_are_refused(tmp_path, worker_a, team_a):
    path = write_csv(
        tmp_path / "persons.csv",
        ["alias", "birth_year", "gender", "team", "first_name", "kind"],
        [["Kettu", "1980", "male", team_a.pk, "Matti", "named"]],
    )

    ok, _out, err = run("import_records", "persons", path, "--user", worker_a.email)

    assert not ok
    assert "line 1: first_name: Named persons are never bulk-imported: remove this column." in err
    assert "line 1: kind: Named persons are never bulk-imported" in err
    assert Person.objects.count() == 0


@pytest.mark.django_db
def test_a_named_persons_record_is_not_updated_by_import(tmp_path, worker_a, team_a):
    named = PersonFactory(team=team_a, kind="named", alias="", first_name="Matti", last_name="Meikäläinen")
    path = write_csv(tmp_path / "persons.csv", ["id", "alias", "team"], [[named.pk, "Kettu", team_a.pk]])

    ok, _out, err = run("import_records", "persons", path, "--user", worker_a.email)

    assert not ok
    assert "line 2: id: This is a named person's record; named persons are never bulk-imported." in err
    named.refresh_from_db()
    assert named.alias == ""
    assert named.kind == "named"


@pytest.mark.django_db
def test_persons_export_holds_pseudonymous_persons_only(tmp_path, worker_a, team_a):
    PersonFactory(team=team_a, alias="Kettu", birth_year=1980, gender="male")
    PersonFactory(team=team_a, kind="named", alias="", first_name="Matti", last_name="Meikäläinen")
    path = tmp_path / "persons.csv"

    ok, _out, err = run("export_records", "persons", str(path), "--user", worker_a.email)

    assert ok, err
    rows = read_csv(path)
    assert [row["alias"] for row in rows] == ["Kettu"]
    assert list(rows[0]) == ["id", "alias", "birth_year", "gender", "team", "engaged_on", "notes"]
    assert "Matti" not in path.read_text(encoding="utf-8")


# Round trips -------------------------------------------------------------


@pytest.fixture
def records(team_a, worker_a, site):
    """Some of everything, with the values that are easy to get wrong."""
    site.latitude, site.longitude, site.team = Decimal("-12.50000"), Decimal("27.67800"), team_a
    site.season_start_month, site.season_end_month = 4, 9
    site.save()
    outing = OutingFactory(
        team=team_a,
        site=site,
        participants=[worker_a],
        tallied_contacts=12,
        start_time=datetime.time(9, 30),
        end_time=datetime.time(11, 45, 30),
        notes="+358 40 tarjosi kahvia",
    )
    person = PersonFactory(team=team_a, alias="=Kettu", birth_year=1979, gender="male")
    encounter = EncounterFactory(
        team=team_a,
        site=site,
        outing=outing,
        person=person,
        anonymous=False,
        client_uuid=uuid.uuid4(),
        occurred_at=datetime.datetime(2026, 5, 12, 21, 15, 7, tzinfo=datetime.UTC),
        needs=["mental_health", "housing"],
        actions=["advice", "referral"],
        duration_minutes=25,
        first_contact=True,
        notes='-- puhui asunnosta\n@toinen rivi; ja pilkku, "lainaus"',
    )
    encounter.workers.set([worker_a])
    anonymous = EncounterFactory(team=team_a, site=site, depth="brief")
    anonymous.workers.set([worker_a])
    partner = PartnerOrganisation.objects.create(name="Sininauha")
    referral = ReferralFactory(
        team=team_a, person=person, encounter=encounter, partner=partner, status="made", outcome_notes="'=älä laske"
    )
    return {"site": site, "outing": outing, "person": person, "encounter": encounter, "referral": referral}


RESOURCES = ["sites", "outings", "persons", "encounters", "referrals"]


@pytest.mark.django_db
@pytest.mark.parametrize("extension", ["csv", "xlsx"])
@pytest.mark.parametrize("resource", RESOURCES)
def test_an_export_imports_back_unchanged(tmp_path, coordinator, records, resource, extension):
    path = tmp_path / f"{resource}.{extension}"
    ok, out, err = run("export_records", resource, str(path), "--user", coordinator.email)
    assert ok, err
    counts = {model: model.objects.count() for model in (FieldSite, Outing, Person, Encounter, Referral)}
    entries = audit_count()

    ok, out, err = run("import_records", resource, str(path), "--user", coordinator.email)

    assert ok, err
    assert "0 new, 0 changed" in out
    assert {model: model.objects.count() for model in counts} == counts
    assert audit_count() == entries

    again = tmp_path / f"again.{extension}"
    run("export_records", resource, str(again), "--user", coordinator.email)
    assert table(again) == table(path)


def table(path):
    if str(path).endswith(".csv"):
        with open(path, encoding="utf-8", newline="") as source:
            return list(csv.reader(source))
    sheet = openpyxl.load_workbook(path).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def without_ids(rows, *columns):
    header = rows[0]
    drop = {header.index(name) for name in ("id", *columns)}
    return [[cell for index, cell in enumerate(row) if index not in drop] for row in rows]


@pytest.mark.django_db
def test_encounters_and_referrals_import_into_an_empty_table_with_identical_values(tmp_path, coordinator, records):
    encounters, referrals = tmp_path / "encounters.csv", tmp_path / "referrals.csv"
    run("export_records", "encounters", str(encounters), "--user", coordinator.email)
    run("export_records", "referrals", str(referrals), "--user", coordinator.email)
    Referral.objects.all().delete()
    Encounter.objects.all().delete()

    ok, out, err = run("import_records", "encounters", str(encounters), "--user", coordinator.email)
    assert ok, err
    assert "2 new" in out
    # The referral's encounter has a new id now; the client UUID finds it.
    new_encounter = Encounter.objects.get(client_uuid=records["encounter"].client_uuid)
    rows = read_csv(referrals)
    rows[0]["encounter"] = str(new_encounter.pk)
    write_csv(referrals, list(rows[0]), [list(row.values()) for row in rows])
    ok, out, err = run("import_records", "referrals", str(referrals), "--user", coordinator.email)
    assert ok, err

    encounters_again, referrals_again = tmp_path / "encounters2.csv", tmp_path / "referrals2.csv"
    run("export_records", "encounters", str(encounters_again), "--user", coordinator.email)
    run("export_records", "referrals", str(referrals_again), "--user", coordinator.email)
    assert without_ids(table(encounters_again)) == without_ids(table(encounters))
    assert without_ids(table(referrals_again), "encounter") == without_ids(table(referrals), "encounter")


@pytest.mark.django_db
def test_sites_outings_and_persons_import_into_an_empty_database(tmp_path, coordinator, records):
    files = {}
    for resource in ("sites", "persons"):
        files[resource] = tmp_path / f"{resource}.xlsx"
        run("export_records", resource, str(files[resource]), "--user", coordinator.email)
    Referral.objects.all().delete()
    Encounter.objects.all().delete()
    Outing.objects.all().delete()
    Person.objects.all().delete()
    FieldSite.objects.all().delete()

    for resource in ("sites", "persons"):
        ok, _out, err = run("import_records", resource, str(files[resource]), "--user", coordinator.email)
        assert ok, err
        again = tmp_path / f"{resource}-again.xlsx"
        run("export_records", resource, str(again), "--user", coordinator.email)
        assert without_ids(table(again)) == without_ids(table(files[resource]))


@pytest.mark.django_db
def test_changed_rows_update_through_the_service(tmp_path, coordinator, records):
    path = tmp_path / "outings.csv"
    run("export_records", "outings", str(path), "--user", coordinator.email)
    rows = read_csv(path)
    rows[0]["tallied_contacts"] = "20"
    rows[0]["status"] = "cancelled"
    write_csv(path, list(rows[0]), [list(row.values()) for row in rows])

    ok, out, err = run("import_records", "outings", str(path), "--user", coordinator.email)

    assert ok, err
    assert "0 new, 1 changed" in out
    outing = records["outing"]
    outing.refresh_from_db()
    assert (outing.tallied_contacts, outing.status) == (20, "cancelled")
    entry = AuditEntry.objects.get(action="update", model="outreach.outing", object_id=str(outing.pk))
    assert entry.actor == coordinator
    assert entry.changes == ["status", "tallied_contacts"]


@pytest.mark.django_db
def test_referral_status_moves_only_forward_on_import(tmp_path, coordinator, records):
    path = tmp_path / "referrals.csv"
    run("export_records", "referrals", str(path), "--user", coordinator.email)
    rows = read_csv(path)
    rows[0]["status"] = "suggested"
    write_csv(path, list(rows[0]), [list(row.values()) for row in rows])

    ok, _out, err = run("import_records", "referrals", str(path), "--user", coordinator.email)

    assert not ok
    assert "line 2: status: A referral cannot move from “Made” to “Suggested”." in err
    records["referral"].refresh_from_db()
    assert records["referral"].status == "made"


# Formulas ----------------------------------------------------------------


@pytest.mark.django_db
def test_formulas_are_neutralised_on_export_and_restored_on_import(tmp_path, coordinator, records):
    path = tmp_path / "encounters.csv"
    run("export_records", "encounters", str(path), "--user", coordinator.email)
    rows = {row["client_uuid"]: row for row in read_csv(path)}
    exported = rows[str(records["encounter"].client_uuid)]
    # A formula start after a line break is guarded too: a spreadsheet may start a cell there.
    assert exported["notes"] == "'-- puhui asunnosta\n'@toinen rivi; ja pilkku, \"lainaus\""

    persons, sites, referrals = tmp_path / "persons.csv", tmp_path / "sites.csv", tmp_path / "referrals.csv"
    run("export_records", "persons", str(persons), "--user", coordinator.email)
    run("export_records", "sites", str(sites), "--user", coordinator.email)
    run("export_records", "referrals", str(referrals), "--user", coordinator.email)
    assert read_csv(persons)[0]["alias"] == "'=Kettu"
    # An apostrophe already in front of a formula gets one more, so it survives.
    assert read_csv(referrals)[0]["outcome_notes"] == "''=älä laske"
    # Numbers and dates are not formulas: a negative latitude stays a number.
    site_row = next(row for row in read_csv(sites) if row["name"] == "Leipäjono Kuopio")
    assert site_row["latitude"] == "-12.50000"
    assert exported["occurred_at"] == "2026-05-13T00:15:07+03:00"

    # Imported back into an empty table, the text is what it was.
    Referral.objects.all().delete()
    Encounter.objects.all().delete()
    ok, _out, err = run("import_records", "encounters", str(path), "--user", coordinator.email)
    assert ok, err
    assert Encounter.objects.get(client_uuid=records["encounter"].client_uuid).notes == records["encounter"].notes


FORMULA_START = ("=", "+", "-", "@")


def cells_a_spreadsheet_could_see(text):
    """Every cell a spreadsheet could make of a CSV file: split on any delimiter and line break, quotes ignored."""
    for piece in re.split(r"[;,\t\r\n]", text):
        yield piece.strip('" ')


@pytest.mark.django_db
def test_a_formula_after_a_delimiter_is_guarded_too(tmp_path, coordinator, team_a, site):
    """Finnish Excel splits a comma-separated file on ";": `Ohjattu;=2+3;-` must not become a formula cell."""
    texts = ["Ohjattu;=2+3;-", "a,+1", "x\t@y", 'Ohjattu;"=2+3"', "rivi\n-1", "jo suojattu;'=1"]
    for text in texts:
        EncounterFactory(team=team_a, site=site, notes=text, client_uuid=uuid.uuid4())
    path = tmp_path / "encounters.csv"

    ok, _out, err = run("export_records", "encounters", str(path), "--user", coordinator.email)

    assert ok, err
    raw = path.read_text(encoding="utf-8")
    assert [cell for cell in cells_a_spreadsheet_could_see(raw) if cell.startswith(FORMULA_START)] == []
    # And the text is exactly what it was after a round trip.
    Encounter.objects.all().delete()
    ok, _out, err = run("import_records", "encounters", str(path), "--user", coordinator.email)
    assert ok, err
    assert sorted(Encounter.objects.values_list("notes", flat=True)) == sorted(texts)


@pytest.mark.django_db
def test_xlsx_export_writes_no_formula_cells(tmp_path, coordinator, records):
    path = tmp_path / "persons.xlsx"
    run("export_records", "persons", str(path), "--user", coordinator.email)
    sheet = openpyxl.load_workbook(path).worksheets[0]
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    assert "'=Kettu" in [cell.value for cell in cells]


# Exports -----------------------------------------------------------------


@pytest.mark.django_db
def test_export_selects_by_helsinki_date(tmp_path, worker_a, team_a, site):
    # 21:30 UTC on 31 May is already 1 June in Helsinki.
    late = EncounterFactory(
        team=team_a, site=site, occurred_at=datetime.datetime(2026, 5, 31, 21, 30, tzinfo=datetime.UTC)
    )
    may = EncounterFactory(
        team=team_a, site=site, occurred_at=datetime.datetime(2026, 5, 31, 20, 30, tzinfo=datetime.UTC)
    )
    EncounterFactory(team=team_a, site=site, occurred_at=datetime.datetime(2026, 4, 30, 12, 0, tzinfo=HELSINKI))
    path = tmp_path / "encounters.csv"

    ok, _out, err = run(
        "export_records",
        "encounters",
        str(path),
        "--start",
        "2026-05-01",
        "--end",
        "2026-05-31",
        "--user",
        worker_a.email,
    )

    assert ok, err
    assert [int(row["id"]) for row in read_csv(path)] == [may.pk]
    ok, _out, err = run("export_records", "encounters", str(path), "--start", "2026-06-01", "--user", worker_a.email)
    assert [int(row["id"]) for row in read_csv(path)] == [late.pk]


@pytest.mark.django_db
def test_outings_and_referrals_export_by_their_dates(tmp_path, worker_a, team_a, site):
    OutingFactory(team=team_a, site=site, date=datetime.date(2026, 5, 12))
    june = OutingFactory(team=team_a, site=site, date=datetime.date(2026, 6, 2))
    ReferralFactory(team=team_a, referred_on=datetime.date(2026, 5, 12))
    june_referral = ReferralFactory(team=team_a, referred_on=datetime.date(2026, 6, 2))
    outings, referrals = tmp_path / "outings.csv", tmp_path / "referrals.csv"

    run("export_records", "outings", str(outings), "--start", "2026-06-01", "--user", worker_a.email)
    run("export_records", "referrals", str(referrals), "--start", "2026-06-01", "--user", worker_a.email)

    assert [int(row["id"]) for row in read_csv(outings)] == [june.pk]
    assert [int(row["id"]) for row in read_csv(referrals)] == [june_referral.pk]


@pytest.mark.django_db
def test_export_options_are_checked(tmp_path, worker_a):
    path = str(tmp_path / "encounters.csv")
    ok, _out, err = run("export_records", "encounters", path, "--start", "1.5.2026", "--user", worker_a.email)
    assert not ok
    assert "--start: enter a date as YYYY-MM-DD." in err
    ok, _out, err = run(
        "export_records", "encounters", path, "--start", "2026-05-02", "--end", "2026-05-01", "--user", worker_a.email
    )
    assert not ok
    assert "--end" in err
    ok, _out, err = run("export_records", "sites", path, "--start", "2026-05-02", "--user", worker_a.email)
    assert not ok
    assert "no date" in err
    ok, _out, err = run("export_records", "sites", str(tmp_path / "sites.ods"), "--user", worker_a.email)
    assert not ok
    assert ".csv or .xlsx" in err


@pytest.mark.django_db
def test_export_shows_only_what_the_user_sees_and_audits_the_count(tmp_path, worker_a, team_a, team_b, site):
    mine = EncounterFactory(team=team_a, site=site)
    EncounterFactory(team=team_b, site=site)
    path = tmp_path / "encounters.csv"

    ok, _out, err = run("export_records", "encounters", str(path), "--user", worker_a.email)

    assert ok, err
    assert [int(row["id"]) for row in read_csv(path)] == [mine.pk]
    entry = AuditEntry.objects.get(action="export")
    assert (entry.actor, entry.model, entry.changes) == (worker_a, "encounters.encounter", ["count=1"])


@pytest.mark.django_db
def test_export_defaults_to_the_first_superuser(tmp_path, superuser, worker_b, team_a, site):
    EncounterFactory(team=team_a, site=site)
    path = tmp_path / "encounters.csv"
    ok, _out, err = run("export_records", "encounters", str(path))
    assert ok, err
    assert len(read_csv(path)) == 1
    assert AuditEntry.objects.get(action="export").actor == superuser


# Every door obeys the services' rules -------------------------------------
#
# The same rules refuse the same changes in the pages, the API and the admin;
# these prove the import refuses them too, naming line and column, and
# writes nothing.


@pytest.mark.django_db
def test_a_coordinator_may_not_rename_a_site_of_another_area(tmp_path, coordinator, team_other_area):
    elsewhere = FieldSiteFactory(name="Kauppatori", team=team_other_area)
    path = write_csv(tmp_path / "sites.csv", ["id", "name"], [[elsewhere.pk, "Uusi nimi"]])
    entries = audit_count()

    ok, _out, err = run("import_records", "sites", path, "--user", coordinator.email)

    assert not ok
    assert err.splitlines()[0] == "line 2: row: You may not change this record."
    elsewhere.refresh_from_db()
    assert (elsewhere.name, elsewhere.team) == ("Kauppatori", team_other_area)
    assert audit_count() == entries


@pytest.mark.django_db
def test_an_encounter_dated_out_of_range_is_refused(tmp_path, worker_a, team_a, site, outing):
    path = write_csv(
        tmp_path / "encounters.csv",
        ENCOUNTER_HEADER,
        [
            encounter_row(team_a, outing, site),
            encounter_row(team_a, outing, site, occurred_at="1995-05-12T10:00:00+03:00"),
        ],
    )

    ok, _out, err = run("import_records", "encounters", path, "--user", worker_a.email)

    assert not ok
    last = plausible_last_day().isoformat()
    assert err.splitlines()[0] == f"line 3: occurred_at: Enter a date between 2000-01-01 and {last}."
    assert Encounter.objects.count() == 0


@pytest.mark.django_db
def test_another_teams_person_is_not_linked_to_an_encounter(tmp_path, coordinator, team_a, team_b, site):
    """The coordinator sees both teams' persons; the service still keeps each team's records apart."""
    theirs = PersonFactory(team=team_b)
    path = write_csv(
        tmp_path / "encounters.csv",
        ["team", "site", "occurred_at", "person"],
        [[team_a.pk, site.pk, "2026-05-12T10:30:00+03:00", theirs.pk]],
    )
    entries = audit_count()

    ok, _out, err = run("import_records", "encounters", path, "--user", coordinator.email)

    assert not ok
    assert err.splitlines()[0] == "line 2: person: The person belongs to another team."
    assert Encounter.objects.count() == 0
    assert audit_count() == entries


@pytest.mark.django_db
def test_an_expert_by_experience_may_not_import_persons(tmp_path, expert_a, team_a):
    path = write_csv(tmp_path / "persons.csv", ["alias", "team"], [["Kettu", team_a.pk]])

    ok, _out, err = run("import_records", "persons", path, "--user", expert_a.email)

    assert not ok
    assert err.splitlines()[0] == "line 1: row: You may not import these records."
    assert Person.objects.count() == 0


# The import's memory bookkeeping -------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("good", [True, False])
def test_the_cycle_collector_is_back_on_after_an_import_that_worked_or_failed(
    tmp_path, worker_a, team_a, site, outing, good
):
    rows = [encounter_row(team_a, outing, site)]
    if not good:
        rows.append(encounter_row(team_a, outing, site, needs="rent_arrears"))
    path = write_csv(tmp_path / "encounters.csv", ENCOUNTER_HEADER, rows)
    assert gc.isenabled()

    ok, _out, _err = run("import_records", "encounters", path, "--user", worker_a.email)

    assert ok is good
    assert Encounter.objects.count() == (1 if good else 0)
    assert gc.isenabled()


def test_the_collector_stays_off_when_a_caller_had_turned_it_off():
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
