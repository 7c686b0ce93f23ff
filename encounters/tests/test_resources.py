"""The import-export resources as the admin uses them: row by row through the services."""

import datetime
import re
import uuid

import pytest
import tablib
from hypothesis import given
from hypothesis import strategies as st

from encounters.api import EncounterSerializer
from encounters.models import Encounter, Person
from encounters.resources import EncounterResource, PersonResource, ReferralResource
from encounters.services import BULK_CHECKED_CONSTRAINTS
from encounters.tests.factories import EncounterFactory, PersonFactory
from outreach.api import OutingSerializer, SiteSerializer
from outreach.models import AuditEntry
from outreach.resources import (
    OMIT,
    OutingResource,
    api_to_cell,
    cell_to_api,
    neutralise_formula,
    parse_date,
    strip_formula_guard,
)
from outreach.tests.factories import FieldSiteFactory, OutingFactory

HELSINKI = datetime.timezone(datetime.timedelta(hours=3))


def dataset(header, *rows):
    return tablib.Dataset(*[[str(cell) for cell in row] for row in rows], headers=header)


@pytest.fixture
def site(db):
    return FieldSiteFactory()


@pytest.fixture
def outing(team_a, site, worker_a):
    return OutingFactory(team=team_a, site=site, participants=[worker_a])


# Widgets -----------------------------------------------------------------


@given(st.text(alphabet=st.sampled_from("ab =+-@'\";,\t\r\n")) | st.text())
def test_formula_guard_round_trips_any_text(text):
    exported = neutralise_formula(text)
    assert exported[:1] not in ("=", "+", "-", "@", "\t", "\r")
    # After a delimiter or a line break (quotes and spaces between), no formula starts either.
    assert not re.search(r"[;,\t\r\n][\" ]*[=+\-@\r]", exported)
    assert strip_formula_guard(exported) == text


@pytest.mark.parametrize(
    ("text", "exported"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+358 40 123", "'+358 40 123"),
        ("-5 astetta", "'-5 astetta"),
        ("@kettu", "'@kettu"),
        ("'=x", "''=x"),
        ("'lainaus'", "'lainaus'"),
        ("tavallinen teksti", "tavallinen teksti"),
        ("", ""),
        ("Ohjattu;=2+3;-", "Ohjattu;'=2+3;'-"),
        ('a, "+1"', 'a, "\'+1"'),
        ("rivi\n@x", "rivi\n'@x"),
        ("10 - 12", "10 - 12"),
    ],
)
def test_formula_guard_examples(text, exported):
    assert neutralise_formula(text) == exported


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2026-05-12", datetime.date(2026, 5, 12)), ("12.5.2026", datetime.date(2026, 5, 12))],
)
def test_dates_iso_or_finnish(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["2026-13-01", "12/5/2026", "2026-02-30", "tomorrow", "2026-05-12T10:00"])
def test_bad_dates_are_refused(value):
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_date(value)


def api_field(serializer, name):
    return serializer().fields[name]


def test_cells_are_read_in_the_apis_notation():
    """What a spreadsheet hands over becomes what the API's JSON would hold; the serializer judges it."""
    start_time = api_field(OutingSerializer, "start_time")
    assert cell_to_api(start_time, "10.30", new=True) == "10:30:00"
    assert cell_to_api(start_time, datetime.time(9, 5), new=True) == "09:05:00"
    assert cell_to_api(start_time, "ten", new=True) == "ten"  # left for the serializer to refuse
    date = api_field(OutingSerializer, "date")
    assert cell_to_api(date, "12.5.2026", new=True) == "2026-05-12"
    assert cell_to_api(date, datetime.datetime(2026, 5, 12, 0, 0), new=True) == "2026-05-12"
    occurred_at = api_field(EncounterSerializer, "occurred_at")
    assert cell_to_api(occurred_at, datetime.datetime(2026, 7, 1, 10, 0), new=True) == "2026-07-01T10:00:00+03:00"
    assert cell_to_api(api_field(EncounterSerializer, "needs"), "Housing; substance_use;", new=True) == [
        "housing",
        "substance_use",
    ]
    assert cell_to_api(api_field(EncounterSerializer, "workers"), "3;4", new=True) == ["3", "4"]
    assert cell_to_api(api_field(EncounterSerializer, "site"), 12.0, new=True) == "12"
    assert cell_to_api(api_field(EncounterSerializer, "first_contact"), "Kyllä", new=True) is True
    assert cell_to_api(api_field(EncounterSerializer, "first_contact"), "nej", new=True) is False
    assert cell_to_api(api_field(SiteSerializer, "municipality"), 91.0, new=True) == "091"
    assert cell_to_api(api_field(SiteSerializer, "latitude"), "62,89", new=True) == "62.89"
    assert cell_to_api(api_field(EncounterSerializer, "notes"), "'=kaava", new=True) == "=kaava"


def test_blank_cells_leave_new_records_their_defaults_and_clear_existing_ones():
    end_time = api_field(OutingSerializer, "end_time")
    assert cell_to_api(end_time, "", new=True) is OMIT
    assert cell_to_api(end_time, "  ", new=False) is None
    assert cell_to_api(api_field(OutingSerializer, "status"), "", new=False) is OMIT  # not nullable: kept
    assert cell_to_api(api_field(OutingSerializer, "participants"), "", new=False) == []
    assert cell_to_api(api_field(OutingSerializer, "notes"), "", new=False) == ""


def test_cells_are_written_so_that_they_read_back():
    assert api_to_cell(api_field(OutingSerializer, "start_time"), datetime.time(9, 5)) == "09:05"
    assert api_to_cell(api_field(OutingSerializer, "end_time"), datetime.time(9, 5, 30)) == "09:05:30"
    moment = datetime.datetime(2026, 1, 15, 8, tzinfo=datetime.UTC)
    assert api_to_cell(api_field(EncounterSerializer, "occurred_at"), moment) == "2026-01-15T10:00:00+02:00"
    assert api_to_cell(api_field(EncounterSerializer, "first_contact"), False) == "false"
    assert api_to_cell(api_field(EncounterSerializer, "needs"), ["mental_health", "housing"]) == "mental_health;housing"
    assert api_to_cell(api_field(EncounterSerializer, "notes"), "=1+1") == "'=1+1"
    assert api_to_cell(api_field(EncounterSerializer, "duration_minutes"), None) == ""


# The admin's path: services row by row ------------------------------------


@pytest.mark.django_db
def test_rows_are_written_by_the_services_with_the_acting_user(worker_a, team_a, site, outing):
    data = dataset(
        ["team", "outing", "site", "occurred_at", "needs", "notes"],
        [team_a.pk, outing.pk, site.pk, "2026-05-12T10:30:00+03:00", "housing", "'=kaava"],
    )
    resource = EncounterResource()

    # The admin passes the user to import_data, not to the constructor.
    result = resource.import_data(data, dry_run=False, user=worker_a)

    assert not result.has_errors()
    assert not result.has_validation_errors()
    encounter = Encounter.objects.get()
    assert encounter.notes == "=kaava"
    assert encounter.created_by == worker_a
    assert result.rows[0].object_id == encounter.pk
    assert AuditEntry.objects.filter(
        action="create", model="encounters.encounter", object_id=str(encounter.pk), actor=worker_a
    ).exists()


@pytest.mark.django_db
def test_all_or_nothing_even_when_the_caller_asks_otherwise(worker_a, team_a, site, outing):
    data = dataset(
        ["team", "outing", "site", "occurred_at"],
        [team_a.pk, outing.pk, site.pk, "2026-05-12T10:30:00+03:00"],
        [team_a.pk, outing.pk, site.pk, "not a time"],
    )

    # The admin's confirm step passes neither of these.
    result = EncounterResource(user=worker_a).import_data(
        data, dry_run=False, use_transactions=False, rollback_on_validation_errors=False
    )

    assert [row.number for row in result.invalid_rows] == [2]
    assert "occurred_at" in result.invalid_rows[0].error_dict
    assert Encounter.objects.count() == 0
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_dry_run_preview_shows_a_diff_and_writes_nothing(worker_a, team_a, site, outing):
    data = dataset(
        ["id", "team", "site", "date", "start_time", "tallied_contacts"],
        [outing.pk, team_a.pk, site.pk, "2026-05-12", "10:00", 7],
    )

    result = OutingResource(user=worker_a).import_data(data, dry_run=True)

    assert result.totals["update"] == 1
    assert result.rows[0].diff is not None
    outing.refresh_from_db()
    assert outing.tallied_contacts == 0
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_unchanged_rows_are_skipped_without_audit(worker_a, team_a):
    person = PersonFactory(team=team_a, alias="Kettu", birth_year=1980, gender="male")
    data = dataset(["id", "alias", "birth_year", "gender", "team"], [person.pk, "Kettu", 1980, "male", team_a.pk])

    result = PersonResource(user=worker_a).import_data(data)

    assert result.totals["skip"] == 1
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_merged_person_is_neither_updated_nor_linked(worker_a, team_a, site):
    kept = PersonFactory(team=team_a)
    merged = PersonFactory(team=team_a, merged_into=kept)

    result = PersonResource(user=worker_a).import_data(dataset(["id", "alias"], [merged.pk, "Uusi"]))
    assert "id" in result.invalid_rows[0].error_dict

    data = dataset(["team", "site", "occurred_at", "person"], [team_a.pk, site.pk, "2026-05-12T10:00+03:00", merged.pk])
    result = EncounterResource(user=worker_a).import_data(data)
    # As in the API: a merged record is not one to link to.
    assert result.invalid_rows[0].error_dict == {"person": [f'Invalid pk "{merged.pk}" - object does not exist.']}
    assert Person.objects.filter(alias="Uusi").count() == 0


@pytest.mark.django_db
def test_client_uuid_rules(worker_a, team_a, team_b, site):
    foreign = EncounterFactory(team=team_b, site=site, client_uuid=uuid.uuid4())
    mine = EncounterFactory(team=team_a, site=site, client_uuid=uuid.uuid4(), notes="vanha", created_by=worker_a)
    repeated = uuid.uuid4()
    data = dataset(
        ["client_uuid", "team", "site", "occurred_at", "notes"],
        [foreign.client_uuid, team_a.pk, site.pk, "2026-05-12T10:00+03:00", ""],
        [mine.client_uuid, team_a.pk, site.pk, "2026-05-12T10:30+03:00", "uusi"],
        [repeated, team_a.pk, site.pk, "2026-05-12T10:00+03:00", ""],
        [repeated, team_a.pk, site.pk, "2026-05-12T10:00+03:00", ""],
    )

    result = EncounterResource(user=worker_a).import_data(data)

    errors = {row.number: row.error_dict for row in result.invalid_rows}
    # A UUID in use by a record the user cannot see: refused, nothing told.
    assert errors[1] == {"client_uuid": ["This client UUID is already used by another record."]}
    assert errors[4] == {"client_uuid": ["Repeats line 4."]}
    assert 2 not in errors  # the user's own record, found by its UUID: an update
    mine.refresh_from_db()
    assert mine.notes == "vanha"  # rolled back with the rest


@pytest.mark.django_db
def test_referral_links_through_the_selectors(worker_a, team_a, team_b, site):
    foreign_encounter = EncounterFactory(team=team_b, site=site)
    data = dataset(["service_kind", "encounter", "partner"], ["kela", foreign_encounter.pk, 999])

    result = ReferralResource(user=worker_a).import_data(data)

    assert result.invalid_rows[0].error_dict == {
        "encounter": [f'Invalid pk "{foreign_encounter.pk}" - object does not exist.'],
        "partner": ['Invalid pk "999" - object does not exist.'],
    }


@pytest.mark.django_db
def test_export_of_a_wider_queryset_is_narrowed_to_the_selector(worker_a, team_a, team_b, site):
    mine = EncounterFactory(team=team_a, site=site)
    EncounterFactory(team=team_b, site=site)

    data = EncounterResource(user=worker_a).export(queryset=Encounter.objects.all())

    assert [int(value) for value in data["id"]] == [mine.pk]


# The batched path --------------------------------------------------------


def test_batched_path_checks_every_constraint_of_the_model():
    """The batched path checks the constraints in Python: a new one must be added there."""
    assert {constraint.name for constraint in Encounter._meta.constraints} == BULK_CHECKED_CONSTRAINTS


@pytest.mark.django_db
def test_batched_and_service_paths_refuse_the_same_rows_for_the_same_reasons(worker_a, team_a, team_b, site, outing):
    other_site = FieldSiteFactory()
    other_team_person = PersonFactory(team=team_b)
    header = ["team", "outing", "site", "occurred_at", "person", "duration_minutes", "notes"]
    rows = [
        [team_a.pk, outing.pk, site.pk, "2026-05-12T10:00+03:00", "", 30, "hyvä"],
        [team_a.pk, outing.pk, other_site.pk, "2026-05-12T10:00+03:00", "", "", ""],
        [team_a.pk, "", site.pk, "2026-05-12T10:00+03:00", "", 24 * 60 + 1, ""],
        [team_b.pk, "", site.pk, "2026-05-12T10:00+03:00", "", "", ""],
        [team_a.pk, "", site.pk, "2026-05-12T10:00+03:00", other_team_person.pk, "", ""],
        [team_a.pk, "", site.pk, "2026-05-12T10:00+03:00", "", -5, ""],
        [team_a.pk, "", site.pk, "2026-05-12T10:00+03:00", "", "", "x" * 10],
    ]

    def errors(batched):
        result = EncounterResource(user=worker_a, batched=batched).import_data(dataset(header, *rows))
        return {row.number: row.error_dict for row in result.invalid_rows}

    service, batched = errors(False), errors(True)

    assert service == batched
    assert set(service) == {2, 3, 4, 5, 6}
    assert service[2] == {"site": ["The site differs from the outing's site."]}
    assert service[3] == {"duration_minutes": ["An encounter lasts at most 24 hours."]}
    assert list(service[6]) == ["duration_minutes"]
    assert Encounter.objects.count() == 0


@pytest.mark.django_db
def test_batched_path_writes_workers_occurred_on_and_audit(worker_a, expert_a, team_a, site, outing):
    outing.participants.add(expert_a)
    header = ["team", "outing", "site", "occurred_at", "needs", "actions"]
    data = dataset(
        header,
        [team_a.pk, outing.pk, site.pk, "2026-05-31T23:30:00+03:00", "housing;mental_health", "advice"],
        [team_a.pk, "", site.pk, "2026-05-31T20:30:00Z", "", ""],
    )

    result = EncounterResource(user=worker_a, batched=True).import_data(data)

    assert not result.has_errors()
    assert not result.has_validation_errors()
    first, second = Encounter.objects.order_by("pk")
    assert set(first.workers.all()) == {worker_a, expert_a}
    assert list(second.workers.all()) == [worker_a]
    assert (first.occurred_on, second.occurred_on) == (datetime.date(2026, 5, 31), datetime.date(2026, 5, 31))
    assert first.needs == ["mental_health", "housing"]
    assert first.actions == ["advice"]
    assert first.anonymous
    assert first.created_by == worker_a
    assert Encounter.objects.filter(needs__has="housing").count() == 1
    audited = AuditEntry.objects.filter(action="create", model="encounters.encounter", actor=worker_a)
    assert sorted(audited.values_list("object_id", flat=True)) == sorted([str(first.pk), str(second.pk)])
    assert [row.object_id for row in result.rows] == [first.pk, second.pk]


# The admin mixin ---------------------------------------------------------


def model_admin(model, resource):
    from django.contrib import admin

    from outreach.resources import RecordImportExportMixin

    class PermissiveAdmin(admin.ModelAdmin):
        # Stands in for the project's RoleAdmin, which decides by role.
        def has_add_permission(self, request):
            return True

        def has_change_permission(self, request, obj=None):
            return True

        def has_view_permission(self, request, obj=None):
            return True

    admin_class = type("BulkAdmin", (RecordImportExportMixin, PermissiveAdmin), {"resource_classes": [resource]})
    return admin_class(model, admin.AdminSite())


@pytest.mark.django_db
def test_only_coordinators_and_admins_get_import_and_export(rf, worker_a, expert_a, coordinator, admin_user, superuser):
    encounter_admin = model_admin(Encounter, EncounterResource)
    for user, allowed in (
        (worker_a, False),
        (expert_a, False),
        (coordinator, True),
        (admin_user, True),
        (superuser, True),
    ):
        request = rf.get("/")
        request.user = user
        assert encounter_admin.has_import_permission(request) is allowed
        assert encounter_admin.has_export_permission(request) is allowed


@pytest.mark.django_db
def test_admin_import_and_export_act_as_the_signed_in_user(rf, coordinator, team_a, team_b, team_other_area, site):
    from types import SimpleNamespace

    from import_export.formats.base_formats import CSV

    encounter_admin = model_admin(Encounter, EncounterResource)
    request = rf.post("/")
    request.user = coordinator
    data = dataset(
        ["team", "site", "occurred_at"],
        [team_a.pk, site.pk, "2026-05-12T10:00+03:00"],
        [team_other_area.pk, site.pk, "2026-05-12T10:00+03:00"],
    )
    form = SimpleNamespace(cleaned_data={"original_file_name": "encounters.csv"})

    result = encounter_admin.process_dataset(data, form, request)

    assert result.invalid_rows[0].error_dict == {
        "team": [f'Invalid pk "{team_other_area.pk}" - object does not exist.']
    }
    assert Encounter.objects.count() == 0

    EncounterFactory(team=team_a, site=site)
    EncounterFactory(team=team_other_area, site=site)
    exported = encounter_admin.get_export_data(CSV(), request, Encounter.objects.all(), encoding="utf-8")
    assert exported.decode().count("\n") == 2  # the header and the one encounter the coordinator sees
    entry = AuditEntry.objects.get(action="export")
    assert (entry.actor, entry.changes) == (coordinator, ["count=1"])


@pytest.mark.django_db
def test_batched_import_reports_bad_rows_of_every_batch_and_changes_nothing(
    monkeypatch, worker_a, team_a, site, outing
):
    from django.utils import translation

    from encounters.models import EncounterDayCount
    from outreach.models import OutingDayCount

    monkeypatch.setattr(EncounterResource._meta, "batch_size", 2)
    other_site = FieldSiteFactory()
    header = ["team", "outing", "site", "occurred_at", "needs", "duration_minutes"]
    rows = [
        [team_a.pk, outing.pk, site.pk, "2026-05-12T10:00+03:00", "housing", 30],
        [team_a.pk, "", site.pk, "2026-05-12T11:00+03:00", "", 24 * 60 + 1],  # refused by the service
        [team_a.pk, "", site.pk, "2026-05-12T12:00+03:00", "rent_arrears", ""],  # refused by the serializer
        [team_a.pk, outing.pk, site.pk, "2026-05-12T13:00+03:00", "", ""],
        [team_a.pk, outing.pk, other_site.pk, "2026-05-12T14:00+03:00", "", ""],  # in the last batch
    ]
    outing_rows = list(OutingDayCount.objects.values_list("day", "site_id", "outings_done", "encounters"))
    audited = AuditEntry.objects.count()

    with translation.override("fi"):
        result = EncounterResource(user=worker_a, batched=True).import_data(dataset(header, *rows))
        errors = {
            row.number: {name: [str(m) for m in messages] for name, messages in row.error_dict.items()}
            for row in result.invalid_rows
        }

    assert sorted(errors) == [2, 3, 5]
    assert errors[2] == {"duration_minutes": ["Kohtaaminen voi kestää enintään 24 tuntia."]}
    assert list(errors[3]) == ["needs"]
    assert errors[5] == {"site": ["Kohde on eri kuin jalkautumisen kohde."]}
    assert Encounter.objects.count() == 0
    assert AuditEntry.objects.count() == audited
    assert not EncounterDayCount.objects.exists()
    assert list(OutingDayCount.objects.values_list("day", "site_id", "outings_done", "encounters")) == outing_rows


@pytest.mark.django_db
def test_batched_import_makes_as_many_queries_for_more_rows_in_as_many_batches(
    monkeypatch, worker_a, team_a, site, outing
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    person = PersonFactory(team=team_a)
    header = ["team", "outing", "site", "occurred_at", "person", "client_uuid"]

    def queries_to_import(rows_per_batch):
        monkeypatch.setattr(EncounterResource._meta, "batch_size", rows_per_batch)
        rows = [
            [team_a.pk, outing.pk if n % 2 else "", site.pk, f"2026-05-12T1{n % 10}:00+03:00", person.pk, uuid.uuid4()]
            for n in range(3 * rows_per_batch)
        ]
        with CaptureQueriesContext(connection) as queries:
            result = EncounterResource(user=worker_a, batched=True).import_data(dataset(header, *rows))
        assert not result.has_errors()
        assert not result.has_validation_errors()
        return len(queries)

    few, many = queries_to_import(2), queries_to_import(8)

    assert few == many
    assert Encounter.objects.count() == 3 * 2 + 3 * 8
