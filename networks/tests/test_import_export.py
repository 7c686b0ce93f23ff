"""import_records / export_records for partners, partner services and contact persons.

The coordinator's spreadsheets, through the same machinery as every other
resource: all rows or none with `line N: column: message`, a re-import
changes nothing, an export imports back unchanged, formulas are guarded.
"""

import csv
import io

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from networks.models import ContactPerson, PartnerOrganisation, PartnerService
from outreach.models import AuditEntry
from outreach.vocabulary import ServiceKind

PARTNER_HEADER = ["name", "kind", "municipalities", "services", "phone", "website", "opening_hours"]


def write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as error:
        return False, out.getvalue(), err.getvalue() + str(error)
    return True, out.getvalue(), err.getvalue()


def snapshot():
    return (
        sorted(PartnerOrganisation.objects.values_list("pk", "name", "kind", "phone", "website", "opening_hours")),
        sorted(PartnerService.objects.values_list("pk", "partner", "name", "service_kind", "description", "active")),
        sorted(ContactPerson.objects.values_list("pk", "partner", "name", "role", "email", "phone")),
        sorted(PartnerService.municipalities.through.objects.values_list("partnerservice", "municipality")),
    )


@pytest.fixture
def sheet(tmp_path):
    return write_csv(
        tmp_path / "partners.csv",
        PARTNER_HEADER,
        [
            [
                "Tuusniemen asumispalvelut",
                "housing",
                "857",
                "housing",
                "017 123 456",
                "https://example.org",
                "ma–pe 9–15",
            ],
            ["Kuopion seurakunnat", "parish", "297;204", "third_sector;other", "", "", ""],
        ],
    )


def test_a_good_partner_file_imports_through_the_service(sheet, coordinator):
    ok, out, err = run("import_records", "partners", sheet, "--user", coordinator.email)

    assert ok, err
    assert "2 new" in out
    housing = PartnerOrganisation.objects.get(name="Tuusniemen asumispalvelut")
    assert (housing.kind, housing.services, housing.opening_hours) == ("housing", ["housing"], "ma–pe 9–15")
    assert sorted(
        PartnerOrganisation.objects.get(name="Kuopion seurakunnat").municipalities.values_list("code", flat=True)
    ) == ["204", "297"]
    assert AuditEntry.objects.filter(model="networks.partnerorganisation", action=AuditEntry.Action.CREATE).count() == 2


def test_reimporting_the_same_sheet_changes_nothing(sheet, coordinator):
    assert run("import_records", "partners", sheet, "--user", coordinator.email)[0]
    before, audits = snapshot(), AuditEntry.objects.count()

    ok, out, err = run("import_records", "partners", sheet, "--user", coordinator.email)

    assert ok, err
    assert "0 new, 0 changed, 2 unchanged" in out
    assert snapshot() == before
    assert AuditEntry.objects.count() == audits


def test_one_bad_row_imports_nothing_and_names_its_line(tmp_path, coordinator):
    path = write_csv(
        tmp_path / "partners.csv",
        PARTNER_HEADER,
        [
            ["Hyvä rivi", "ngo", "297", "housing", "", "", ""],
            ["Huono rivi", "ngo", "297", "spaceflight", "", "", ""],
            ["Toinen huono", "ngo", "999", "housing", "", "not a url", ""],
        ],
    )

    ok, _out, err = run("import_records", "partners", path, "--user", coordinator.email)

    assert not ok
    assert "line 3: services:" in err
    assert "line 4: municipalities:" in err
    assert "line 4: website:" in err
    assert "line 2" not in err
    assert not PartnerOrganisation.objects.exists()


def test_a_worker_may_not_import_partners(sheet, worker_a):
    ok, _out, err = run("import_records", "partners", sheet, "--user", worker_a.email)

    assert not ok
    assert "line 1: row: You may not import these records." in err
    assert not PartnerOrganisation.objects.exists()


def test_services_and_contacts_import_by_partner_and_name(tmp_path, coordinator):
    partner = PartnerOrganisation.objects.create(name="Tuusniemen asumispalvelut")
    services = write_csv(
        tmp_path / "services.csv",
        ["partner", "name", "service_kind", "description", "how_to_refer", "municipalities", "active"],
        [[partner.pk, "Asumisneuvonta", "housing", "Neuvontaa", "Soita", "857", "true"]],
    )
    contacts = write_csv(
        tmp_path / "contacts.csv",
        ["partner", "name", "role", "email", "phone"],
        [[partner.pk, "Liisa Lahti", "asumisohjaaja", "liisa@example.org", "040 123"]],
    )

    assert run("import_records", "partner_services", services, "--user", coordinator.email)[0]
    assert run("import_records", "contact_persons", contacts, "--user", coordinator.email)[0]
    ok, out, _err = run("import_records", "partner_services", services, "--user", coordinator.email)

    assert ok
    assert "1 unchanged" in out
    service = PartnerService.objects.get()
    assert (service.partner, service.service_kind, service.how_to_refer) == (partner, ServiceKind.HOUSING, "Soita")
    assert list(service.municipalities.values_list("code", flat=True)) == ["857"]
    assert ContactPerson.objects.get().role == "asumisohjaaja"


@pytest.fixture
def directory(db):
    from outreach.models import Municipality

    partner = PartnerOrganisation.objects.create(
        name='=HYPERLINK("http://evil")', kind="ngo", services=["housing"], phone="+358 40 1", opening_hours="9-15"
    )
    partner.municipalities.set(Municipality.objects.filter(code__in=["297", "857"]))
    service = PartnerService.objects.create(
        partner=partner, name="Asumisneuvonta", service_kind="housing", description="@SUM(1)", active=False
    )
    service.municipalities.set(Municipality.objects.filter(code="857"))
    ContactPerson.objects.create(partner=partner, name="Liisa Lahti", role="-ohjaaja", email="l@example.org")
    return partner


@pytest.mark.parametrize("resource", ["partners", "partner_services", "contact_persons"])
@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_an_export_imports_back_unchanged(tmp_path, coordinator, directory, resource, extension):
    path = str(tmp_path / f"{resource}.{extension}")
    assert run("export_records", resource, path, "--user", coordinator.email)[0]
    before = snapshot()

    ok, out, err = run("import_records", resource, path, "--user", coordinator.email)

    assert ok, err
    assert "0 new, 0 changed" in out
    assert snapshot() == before


def test_formulas_are_neutralised_on_export_and_restored_on_import(tmp_path, coordinator, directory):
    path = str(tmp_path / "partners.csv")
    assert run("export_records", "partners", path, "--user", coordinator.email)[0]
    with open(path, encoding="utf-8") as source:
        row = next(csv.DictReader(source))
    assert row["name"] == '\'=HYPERLINK("http://evil")'
    assert row["phone"] == "'+358 40 1"
    assert row["municipalities"] == "297;857"

    xlsx = str(tmp_path / "services.xlsx")
    assert run("export_records", "partner_services", xlsx, "--user", coordinator.email)[0]
    sheet = openpyxl.load_workbook(xlsx).active
    cells = [cell.value for cell in sheet[2]]
    assert "'@SUM(1)" in cells
    assert all(cell.data_type != "f" for cell in sheet[2])

    # A new database: the guarded cells import back to the text.
    PartnerOrganisation.objects.all().update(name="renamed")
    assert run("import_records", "partners", path, "--user", coordinator.email)[0]
    assert PartnerOrganisation.objects.get().name == '=HYPERLINK("http://evil")'


def test_contact_persons_are_not_exported_to_an_expert(tmp_path, expert_a, directory):
    path = str(tmp_path / "contacts.csv")
    ok, _out, _err = run("export_records", "contact_persons", path, "--user", expert_a.email)

    assert ok
    with open(path, encoding="utf-8") as source:
        assert list(csv.DictReader(source)) == []
