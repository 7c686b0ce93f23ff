"""Bulk import and export of records as CSV or XLSX (django-import-export).

Columns are the API's field names (DESIGN.md, "External contracts"): ids for
links, vocabulary codes, lists joined with ";". Every write goes through the
services with the acting user, and every link is resolved through the
selectors for that user, so an import can do no more than the user could do
by hand, and the services write the audit entries.

An import is all or nothing, whoever calls it (the admin, a command): it runs
in one transaction that is rolled back when any row is bad, and every bad row
is reported with the column to correct.

The `id` column identifies a record to update. A row whose id is empty, or is
not the id of a record the user may change, creates a new record (with a new
id): a file exported from one database therefore imports into an empty one.

Text cells that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab,
carriage return) are written with a leading apostrophe, which the importer
removes again. django-import-export's own IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT
would turn every cell into text and drop the `=`, which breaks exact round
trips; only text columns are guarded here, so negative coordinates stay numbers.
"""

from __future__ import annotations

import copy
import csv
import datetime
import io
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _
from import_export import resources, widgets
from import_export.admin import ImportExportMixin
from import_export.fields import Field
from import_export.results import RowResult

from . import services
from .models import AuditEntry, Disclosure, FieldSite, Municipality, Outing, Team, User
from .selectors import member_team_ids, outings_visible_to, sites_visible_to, teams_visible_to, users_visible_to
from .vocabulary import OutingStatus, Role, SiteType

HELSINKI = ZoneInfo("Europe/Helsinki")
# Dates outside this range are typing errors in these records.
YEAR_MIN, YEAR_MAX = 1900, 2100
# Key under which errors that belong to no single column are reported.
ROW = "row"

# Formula neutralisation --------------------------------------------------

_FORMULA = re.compile(r"^'*[=+\-@\t\r]")
_GUARDED = re.compile(r"^'+[=+\-@\t\r]")


def neutralise_formula(text: str) -> str:
    """Prefix an apostrophe to text a spreadsheet would evaluate.

    Text that already starts with apostrophes before a formula character gets
    one more, so that `strip_formula_guard` restores it exactly.
    """
    return "'" + text if _FORMULA.match(text) else text


def strip_formula_guard(text: str) -> str:
    return text[1:] if _GUARDED.match(text) else text


# Widgets -----------------------------------------------------------------


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _as_text(value: Any) -> str:
    """A cell as text; spreadsheets hand whole numbers over as floats."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return force_str(value)


class ImportWidget(widgets.Widget):
    """A column's conversion. `clean` raises ValueError with a translated message.

    `required`: a blank cell is an error. Otherwise a blank cell means
    `blank_value` (the model's default where it has one).
    """

    def __init__(self, *, required: bool = False, blank_value: Any = None):
        super().__init__(coerce_to_string=True)
        self.required = required
        self.blank_value = blank_value
        self.resource: ServiceResource | None = None

    def bind(self, resource: ServiceResource) -> None:
        self.resource = resource

    @property
    def acting_user(self) -> User:
        """The importing user, for widgets that look records up; import binds the widgets first."""
        assert self.resource is not None, "bind() the widget to its resource first"
        return self.resource.acting_user

    def clean(self, value, row=None, **kwargs):
        if is_blank(value):
            if self.required:
                raise ValueError(_("This field is required."))
            return self.blank_value() if callable(self.blank_value) else self.blank_value
        return self.parse(value)

    def parse(self, value: Any) -> Any:
        return value

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else self.format(value, **kwargs)

    def format(self, value: Any, **kwargs) -> Any:
        return force_str(value)


class TextWidget(ImportWidget):
    """Free text: kept as it is, apart from the formula guard."""

    def __init__(self, **kwargs):
        kwargs.setdefault("blank_value", "")
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        text = "" if value is None else value if isinstance(value, str) else _as_text(value)
        if not text.strip():
            if self.required:
                raise ValueError(_("This field is required."))
            return text
        return strip_formula_guard(text)

    def format(self, value, **kwargs):
        return neutralise_formula(force_str(value))


class CodeWidget(ImportWidget):
    """One code of a vocabulary (TextChoices)."""

    def __init__(self, choices: type[models.TextChoices], **kwargs):
        super().__init__(**kwargs)
        self.codes = [str(code) for code in choices.values]

    def parse(self, value):
        code = _as_text(value).strip().lower()
        if code not in self.codes:
            raise ValueError(
                _("“%(value)s” is not a valid code; use one of: %(codes)s.")
                % {"value": _as_text(value).strip(), "codes": ", ".join(self.codes)}
            )
        return code


class CodeListWidget(ImportWidget):
    """A set of codes joined with ";", e.g. `housing;substance_use` (a CodeSetField)."""

    def __init__(self, choices: type[models.TextChoices], **kwargs):
        kwargs.setdefault("blank_value", list)
        super().__init__(**kwargs)
        self.codes = [str(code) for code in choices.values]

    def parse(self, value):
        given = [part.strip().lower() for part in _as_text(value).split(";") if part.strip()]
        for code in given:
            if code not in self.codes:
                raise ValueError(
                    _("“%(value)s” is not a valid code; use codes from: %(codes)s, separated by “;”.")
                    % {"value": code, "codes": ", ".join(self.codes)}
                )
        # Vocabulary order, as the field stores it, so that equal sets compare equal.
        return [code for code in self.codes if code in given]

    def format(self, value, **kwargs):
        return ";".join(value)


_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_FINNISH_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


def parse_date(value: Any) -> datetime.date:
    """A date as YYYY-MM-DD (or D.M.YYYY, as Finnish spreadsheets write it)."""
    message = _("Enter a date as YYYY-MM-DD.")
    if isinstance(value, datetime.datetime):
        day = value.date()
    elif isinstance(value, datetime.date):
        day = value
    else:
        text = _as_text(value).strip()
        if match := _ISO_DATE.match(text):
            year, month, dom = match.groups()
        elif match := _FINNISH_DATE.match(text):
            dom, month, year = match.groups()
        else:
            raise ValueError(message)
        try:
            day = datetime.date(int(year), int(month), int(dom))
        except ValueError:
            raise ValueError(message) from None
    if not YEAR_MIN <= day.year <= YEAR_MAX:
        raise ValueError(_("Enter a date between the years %(min)s and %(max)s.") % {"min": YEAR_MIN, "max": YEAR_MAX})
    return day


_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})(?::(\d{2}))?$")


def parse_time(value: Any) -> datetime.time:
    """A time as HH:MM (HH.MM and HH:MM:SS are accepted too)."""
    if isinstance(value, datetime.datetime):
        return value.time()
    if isinstance(value, datetime.time):
        return value
    match = _TIME.match(_as_text(value).strip())
    try:
        if not match:
            raise ValueError
        hour, minute, second = (int(part or 0) for part in match.groups())
        return datetime.time(hour, minute, second)
    except ValueError:
        raise ValueError(_("Enter a time as HH:MM.")) from None


def format_time(value: datetime.time) -> str:
    # HH:MM as the contract says; seconds only where a record has them, so
    # that an export imports back unchanged.
    return value.strftime("%H:%M:%S" if value.second or value.microsecond else "%H:%M")


class DateWidget(ImportWidget):
    def parse(self, value):
        return parse_date(value)

    def format(self, value, **kwargs):
        return value.isoformat()


class TimeWidget(ImportWidget):
    def parse(self, value):
        return parse_time(value)

    def format(self, value, **kwargs):
        return format_time(value)


class DateTimeWidget(ImportWidget):
    """ISO 8601 with offset; a time without offset is Helsinki time."""

    _HAS_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}")

    def parse(self, value):
        message = _("Enter a date and time as YYYY-MM-DDTHH:MM:SS+03:00 (ISO 8601).")
        if isinstance(value, datetime.datetime):
            moment = value
        else:
            text = _as_text(value).strip()
            if not self._HAS_TIME.match(text):
                raise ValueError(message)
            if text.endswith(("Z", "z")):
                text = text[:-1] + "+00:00"
            try:
                moment = datetime.datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(message) from None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, HELSINKI)
        if not YEAR_MIN <= moment.year <= YEAR_MAX:
            raise ValueError(
                _("Enter a date between the years %(min)s and %(max)s.") % {"min": YEAR_MIN, "max": YEAR_MAX}
            )
        return moment

    def format(self, value, **kwargs):
        local = timezone.localtime(value, HELSINKI)
        return local.isoformat(timespec="microseconds" if local.microsecond else "seconds")


class BooleanWidget(ImportWidget):
    TRUE = {"true", "1", "yes", "y", "kyllä", "k", "ja"}
    FALSE = {"false", "0", "no", "n", "ei", "e", "nej"}

    def parse(self, value):
        if isinstance(value, bool):
            return value
        text = _as_text(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(_("Enter true or false."))

    def format(self, value, **kwargs):
        return "true" if value else "false"


class IntegerWidget(ImportWidget):
    _INT = re.compile(r"^[+-]?\d{1,18}$")

    def parse(self, value):
        if isinstance(value, bool):
            raise ValueError(_("Enter a whole number."))
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        text = _as_text(value).strip()
        if not self._INT.match(text):
            raise ValueError(_("Enter a whole number."))
        return int(text)

    def format(self, value, **kwargs):
        # XLSX gets a number, CSV its digits.
        return value if kwargs.get("force_native_type") else str(value)


class DecimalWidget(ImportWidget):
    _DECIMAL = re.compile(r"^[+-]?\d{1,12}([.,]\d{1,12})?$")

    def parse(self, value):
        text = _as_text(value).strip() if not isinstance(value, float) else repr(value)
        if not self._DECIMAL.match(text):
            raise ValueError(_("Enter a number, e.g. 62.89238."))
        try:
            return Decimal(text.replace(",", "."))
        except InvalidOperation:
            raise ValueError(_("Enter a number, e.g. 62.89238.")) from None

    def format(self, value, **kwargs):
        return str(value)


class UUIDWidget(ImportWidget):
    def parse(self, value):
        try:
            return uuid.UUID(_as_text(value).strip())
        except ValueError:
            raise ValueError(_("Enter a valid UUID.")) from None


class LinkWidget(ImportWidget):
    """A link by id, resolved through a selector for the acting user.

    An id that the user may not see is answered like one that exists nowhere:
    an import never confirms another team's records. Lookups are cached per
    import and can be preloaded for a whole column.
    """

    def __init__(self, model: type[models.Model], scope: Callable[[User], QuerySet], **kwargs):
        super().__init__(**kwargs)
        self.model = model
        self.scope = scope
        self.cache: dict[int, models.Model | None] = {}

    def queryset(self) -> QuerySet:
        return self.scope(self.acting_user)

    def preload(self, values: Iterable[Any]) -> None:
        ids = set()
        for value in values:
            try:
                ids.add(self.parse_id(value))
            except ValueError:
                continue
        ids -= set(self.cache)
        for chunk in chunked(sorted(ids)):
            found = {obj.pk: obj for obj in self.queryset().filter(pk__in=chunk)}
            for pk in chunk:
                self.cache[pk] = found.get(pk)

    @staticmethod
    def parse_id(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        text = _as_text(value).strip()
        if not re.fullmatch(r"\d{1,18}", text):
            raise ValueError
        return int(text)

    def parse(self, value):
        try:
            pk = self.parse_id(value)
        except ValueError:
            raise ValueError(_("Enter the id (a whole number).")) from None
        if pk not in self.cache:
            self.cache[pk] = self.queryset().filter(pk=pk).first()
        obj = self.cache[pk]
        if obj is None:
            raise ValueError(
                _("No %(model)s with id %(value)s that you can use.")
                % {"model": self.model._meta.verbose_name, "value": pk}
            )
        return obj

    def format(self, value, **kwargs):
        return value.pk if kwargs.get("force_native_type") else str(value.pk)


class MunicipalityWidget(ImportWidget):
    """A municipality by its Statistics Finland code, e.g. "297" (Kuopio)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._by_code: dict[str, Municipality] | None = None

    def parse(self, value):
        if self._by_code is None:
            self._by_code = {m.code: m for m in Municipality.objects.all()}
        code = _as_text(value).strip()
        # Spreadsheets drop the leading zeros of codes such as Helsinki's 091.
        if code.isdigit():
            code = code.zfill(3)
        if code not in self._by_code:
            raise ValueError(
                _("No municipality with the Statistics Finland code “%(value)s”.") % {"value": _as_text(value)}
            )
        return self._by_code[code]

    def format(self, value, **kwargs):
        return value.code


class UserListWidget(ImportWidget):
    """Users by id joined with ";": colleagues the acting user can see."""

    def __init__(self, **kwargs):
        kwargs.setdefault("blank_value", list)
        super().__init__(**kwargs)
        self.cache: dict[int, User | None] = {}

    def preload(self, values: Iterable[Any]) -> None:
        ids = set()
        for value in values:
            ids |= set(self._ids(value, strict=False))
        ids -= set(self.cache)
        for chunk in chunked(sorted(ids)):
            found = {user.pk: user for user in users_visible_to(self.acting_user).filter(pk__in=chunk)}
            for pk in chunk:
                self.cache[pk] = found.get(pk)

    @staticmethod
    def _ids(value: Any, *, strict: bool = True) -> list[int]:
        if is_blank(value):
            return []
        ids = []
        for part in _as_text(value).split(";"):
            part = part.strip()
            if not part:
                continue
            if not re.fullmatch(r"\d{1,18}", part):
                if strict:
                    raise ValueError(_("Enter user ids separated by “;”."))
                continue
            ids.append(int(part))
        return ids

    def parse(self, value):
        users = []
        for pk in dict.fromkeys(self._ids(value)):
            if pk not in self.cache:
                self.cache[pk] = users_visible_to(self.acting_user).filter(pk=pk).first()
            if self.cache[pk] is None:
                raise ValueError(_("No user with id %(value)s that you can use.") % {"value": pk})
            users.append(self.cache[pk])
        return users

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        users = value.all() if hasattr(value, "all") else value
        return ";".join(str(pk) for pk in sorted(user.pk for user in users))


def chunked(items: list, size: int = 900) -> Iterable[list]:
    # SQLite limits the number of query parameters.
    for start in range(0, len(items), size):
        yield items[start : start + size]


def column(name: str, widget: ImportWidget) -> Field:
    """A column named as the API field, read from and written to the same attribute."""
    return Field(attribute=name, column_name=name, widget=widget)


# Files -------------------------------------------------------------------


class TableError(ValueError):
    """A file that cannot be read as a table."""


@dataclass
class Table:
    """Rows read from a CSV or XLSX file, with the line each row came from.

    The header is line 1; for CSV a line is a line of the file (a quoted cell
    may span several), for XLSX the sheet's row number. Blank rows are left
    out but keep the numbering.
    """

    dataset: tablib.Dataset
    lines: list[int] = field(default_factory=list)

    def line(self, row_number: int) -> int:
        """The file line of the `row_number`th data row (1-based, as import-export counts)."""
        return self.lines[row_number - 1]


FORMATS = (".csv", ".xlsx")


def table_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise TableError(_("Use a .csv or .xlsx file."))
    return suffix


def read_table(path: str | Path) -> Table:
    suffix = table_format(path)
    data = Path(path).read_bytes()
    return read_xlsx(data) if suffix == ".xlsx" else read_csv(data)


def read_csv(data: bytes) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Older Excel versions save CSV in the Windows code page.
        text = data.decode("cp1252", errors="replace")
    first_line = text.split("\n", 1)[0]
    # Finnish Excel separates cells with ";"; headers contain none of these.
    delimiter = max((";", ",", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[Any]]] = []
    previous_end = 0
    try:
        for cells in reader:
            start, previous_end = previous_end + 1, reader.line_num
            rows.append((start, cells))
    except csv.Error as error:
        raise TableError(
            _("Line %(line)s cannot be read as CSV: %(error)s") % {"line": previous_end + 1, "error": error}
        ) from None
    return _table(rows)


def read_xlsx(data: bytes) -> Table:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds of errors on a bad file.
        raise TableError(_("The file is not a readable XLSX workbook.")) from None
    try:
        sheet = workbook.worksheets[0]
        rows = [(number, list(cells)) for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1)]
    finally:
        workbook.close()
    return _table(rows)


def _table(rows: list[tuple[int, list[Any]]]) -> Table:
    rows = [(line, cells) for line, cells in rows if not all(is_blank(cell) for cell in cells)]
    if not rows:
        raise TableError(_("The file is empty: the first line must name the columns."))
    header_line, header_cells = rows[0]
    while header_cells and is_blank(header_cells[-1]):
        header_cells = header_cells[:-1]
    headers = [_as_text(cell).strip().lower() if cell is not None else "" for cell in header_cells]
    if "" in headers:
        raise TableError(
            _("Line %(line)s: every column needs a name (column %(number)s has none).")
            % {"line": header_line, "number": headers.index("") + 1}
        )
    repeated = sorted({name for name in headers if headers.count(name) > 1})
    if repeated:
        raise TableError(_("Column “%(column)s” appears more than once.") % {"column": repeated[0]})
    dataset = tablib.Dataset(headers=headers)
    lines = []
    for line, cells in rows[1:]:
        extra = cells[len(headers) :]
        if any(not is_blank(cell) for cell in extra):
            raise TableError(_("Line %(line)s has more cells than there are columns.") % {"line": line})
        cells = list(cells[: len(headers)]) + [None] * (len(headers) - len(cells))
        dataset.append(["" if cell is None else cell for cell in cells])
        lines.append(line)
    return Table(dataset=dataset, lines=lines)


def write_table(dataset: tablib.Dataset, path: str | Path) -> None:
    suffix = table_format(path)
    if suffix == ".csv":
        with open(path, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(dataset.headers)
            writer.writerows(dataset)
        return
    import openpyxl
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(dataset.headers)
    for row in dataset:
        # XLSX cannot hold control characters; they are dropped.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", cell) if isinstance(cell, str) else cell for cell in row])
    workbook.save(path)


# Resources ---------------------------------------------------------------


class FileError(Exception):
    """Problems with the file as a whole (its columns, the acting user)."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{key}: {' '.join(map(str, messages))}" for key, messages in errors.items()))


class ServiceResource(resources.ModelResource):
    """A resource that reads through the selectors and writes through the services.

    Subclasses declare their columns, `scope` (the selector), `create` and
    `update` (the services), and optionally `date_field` for exports by period.
    An instance serves one import or export: it caches the file's lookups.
    """

    date_field: str | None = None
    # Columns that must not appear in a file, with the reason.
    forbidden_columns: dict[str, Any] = {}
    # The column whose blank cell on a new row means "the user's only team".
    default_team_field: str | None = "team"

    def __init__(self, user: User | None = None, **kwargs):
        super().__init__(**kwargs)
        self.user = user
        # The admin's preview shows a diff per row; commands switch it off.
        self.compute_diff = True
        self._file_errors = False
        self._lines: list[int] | None = None
        self._seen: dict[tuple[str, Any], int | None] = {}
        self._existing: dict[int, models.Model | None] = {}
        self._default_team: Team | None = None
        for resource_field in self.fields.values():
            if isinstance(resource_field.widget, ImportWidget):
                resource_field.widget.bind(self)

    # Scope -----------------------------------------------------------

    @property
    def acting_user(self) -> User:
        """The importing user; importing refuses to start without one."""
        assert self.user is not None, "the resource has no user"
        return self.user

    def scope(self, user: User) -> QuerySet:
        raise NotImplementedError

    def get_queryset(self):
        if self.user is None:
            raise PermissionDenied
        return self.scope(self.user).order_by("pk")

    def can_import(self, user: User) -> bool:
        """Experts by experience log their work by hand; they do not import."""
        return user.is_active and (user.is_superuser or user.role != Role.EXPERT)

    # Import ----------------------------------------------------------

    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None, **kwargs):
        # All or nothing whoever calls: the admin's confirm step would
        # otherwise keep the good rows of a file whose data changed since
        # its preview.
        kwargs["rollback_on_validation_errors"] = True
        if kwargs.get("user") is not None:
            self.user = kwargs["user"]
        return super().import_data(dataset, dry_run=dry_run, raise_errors=raise_errors, use_transactions=True, **kwargs)

    def line(self, row_number: int | None) -> int | str:
        """The file line of a data row: given by the reader, else the header is line 1."""
        if row_number is None:
            return "?"
        if self._lines:
            return self._lines[row_number - 1]
        return row_number + 1

    def before_import(self, dataset, **kwargs):
        # `lines`: where each data row is in the file (see `read_table`).
        self._lines = kwargs.get("lines")
        if self.user is None or not self.user.is_authenticated or not self.can_import(self.user):
            self._file_errors = True
            raise FileError({ROW: [_("You may not import these records.")]})
        known = {f.column_name for f in self.fields.values()}
        errors: dict[str, list[str]] = {}
        for name in dataset.headers or []:
            if name in self.forbidden_columns:
                errors[name] = [self.forbidden_columns[name]]
            elif name not in known:
                errors[name] = [
                    _("Unknown column; the columns are: %(columns)s.")
                    % {"columns": ", ".join(self.get_export_headers())}
                ]
        if errors:
            self._file_errors = True
            raise FileError(errors)
        self.preload(dataset)

    def preload(self, dataset) -> None:
        """Look up the file's links and existing records a chunk at a time, not per row."""
        headers = dataset.headers or []
        for resource_field in self.get_import_fields():
            name = resource_field.column_name
            if name in headers and hasattr(resource_field.widget, "preload"):
                resource_field.widget.preload(dataset[name])
        if "id" in headers:
            ids = set()
            for value in dataset["id"]:
                try:
                    ids.add(LinkWidget.parse_id(value))
                except ValueError:
                    continue
            for chunk in chunked(sorted(ids)):
                found = {obj.pk: obj for obj in self.existing_queryset().filter(pk__in=chunk)}
                self._existing.update({pk: found.get(pk) for pk in chunk})

    def existing_queryset(self) -> QuerySet:
        """Records that an `id` in the file may update."""
        return self.get_queryset()

    def import_row(self, row, instance_loader, **kwargs):
        """One row: clean every column, then create or update through the service.

        Replaces import-export's row workflow, which sets attributes on a
        model instance and saves it; here the services do the writing.
        """
        row_result = self.get_row_result_class()()
        if self._file_errors:
            row_result.import_type = RowResult.IMPORT_TYPE_SKIP
            return row_result
        number = kwargs.get("row_number")
        try:
            values = self.clean_row(row)
            self.check_repeats(values, number)
            instance = self.find_existing(values)
            values.pop("id", None)
            if instance is None:
                self.complete_new(values)
                row_result.import_type = RowResult.IMPORT_TYPE_NEW
                original = None
                obj = self.create(values, row_result=row_result)
            else:
                changes = self.changes(instance, values)
                original = instance
                if not changes:
                    row_result.import_type = RowResult.IMPORT_TYPE_SKIP
                    obj = instance
                else:
                    row_result.import_type = RowResult.IMPORT_TYPE_UPDATE
                    original = copy.copy(instance)
                    obj = self.update(instance, changes)
            if self.compute_diff:
                row_result.add_instance_info(obj)
            else:
                # str() of each record costs more than the rest of a batched row.
                row_result.object_id = obj.pk
            if self._meta.store_instance or kwargs.get("retain_instance_in_row_result"):
                row_result.instance = obj
            if self.compute_diff and not self._meta.skip_diff:
                diff = self.get_diff_class()(
                    self, original if original is not None else self._blank(), instance is None
                )
                diff.compare_with(self, obj)
                row_result.diff = diff.as_html()
        except ValidationError as error:
            row_result.import_type = RowResult.IMPORT_TYPE_INVALID
            row_result.validation_error = self._named(error)
        except PermissionDenied:
            row_result.import_type = RowResult.IMPORT_TYPE_INVALID
            row_result.validation_error = ValidationError({ROW: [_("You may not change this record.")]})
        except Exception as error:  # noqa: BLE001 - reported as a row error, like import-export does.
            row_result.import_type = RowResult.IMPORT_TYPE_ERROR
            row_result.errors.append(self.get_error_result_class()(error, row=row, number=number))
        return row_result

    def _blank(self):
        return self._meta.model()

    @staticmethod
    def _named(error: ValidationError) -> ValidationError:
        """Errors keyed by column; those of no single field go under "row"."""
        if not hasattr(error, "error_dict"):
            return ValidationError({ROW: error.messages})
        messages = error.message_dict
        if NON_FIELD_ERRORS in messages:
            messages = dict(messages)
            messages.setdefault(ROW, []).extend(messages.pop(NON_FIELD_ERRORS))
        return ValidationError(messages)

    def clean_row(self, row) -> dict[str, Any]:
        values: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        for resource_field in self.get_import_fields():
            name = resource_field.column_name
            if name not in row:
                continue
            try:
                values[resource_field.attribute] = resource_field.widget.clean(row[name])
            except ValueError as error:
                errors[name] = [str(error)]
        if errors:
            raise ValidationError(errors)
        return values

    def check_repeats(self, values: dict[str, Any], number: int | None) -> None:
        """A record may appear once in a file: a repeated id or UUID is an error."""
        for key in ("id", "client_uuid"):
            value = values.get(key)
            if value is None:
                continue
            first = self._seen.setdefault((key, value), number)
            if first != number:
                raise ValidationError({key: [_("Repeats line %(line)s.") % {"line": self.line(first)}]})

    def find_existing(self, values: dict[str, Any]) -> models.Model | None:
        pk = values.get("id")
        if pk is None:
            return None
        if pk not in self._existing:
            self._existing[pk] = self.existing_queryset().filter(pk=pk).first()
        return self._existing[pk]

    def complete_new(self, values: dict[str, Any]) -> None:
        """Fill in what a new record needs: defaults and the required columns."""
        if self.default_team_field and values.get(self.default_team_field) is None:
            values[self.default_team_field] = self.default_team()
        missing = [
            f.column_name
            for f in self.get_import_fields()
            if f.column_name != "id" and f.widget.required and f.attribute not in values
        ]
        if missing:
            raise ValidationError({name: [_("This field is required.")] for name in missing})

    def default_team(self) -> Team:
        """The acting user's only team, when a new record leaves `team` out."""
        if self._default_team is not None:
            return self._default_team
        team_ids = member_team_ids(self.acting_user)
        if len(team_ids) == 1:
            self._default_team = Team.objects.get(pk=next(iter(team_ids)))
            return self._default_team
        if not team_ids:
            message = _("You belong to no team: give the team.")
        else:
            message = _("You belong to several teams: give the team.")
        assert self.default_team_field is not None, "only resources with a team field default it"
        raise ValidationError({self.default_team_field: [message]})

    def changes(self, instance: models.Model, values: dict[str, Any]) -> dict[str, Any]:
        changed = {}
        for name, value in values.items():
            if self.default_team_field == name and value is None:
                continue  # a blank team on an existing record means "as it is"
            current = getattr(instance, name)
            if hasattr(current, "all"):  # many-to-many
                if {obj.pk for obj in current.all()} != {obj.pk for obj in value}:
                    changed[name] = value
            elif current != value:
                changed[name] = value
        return changed

    def create(self, values: dict[str, Any], *, row_result: RowResult | None = None) -> models.Model:
        raise NotImplementedError

    def update(self, instance: models.Model, changes: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def after_import(self, dataset, result, **kwargs):
        # Not ModelResource's: it resets the id sequences after inserts with
        # explicit ids, and the services never insert those.
        pass

    # Export ----------------------------------------------------------

    def export(self, queryset=None, **kwargs):
        """Export what the user sees; `start` and `end` (dates, inclusive) limit it by `date_field`.

        A queryset from the caller (the admin's filtered change list) narrows
        the export but never widens it past the selector.
        """
        if self.user is None:
            raise PermissionDenied
        scoped = self.get_queryset()
        if queryset is not None:
            pks = queryset.values("pk") if isinstance(queryset, QuerySet) else [obj.pk for obj in queryset]
            scoped = scoped.filter(pk__in=pks)
        start, end = kwargs.get("start"), kwargs.get("end")
        if (start or end) and not self.date_field:
            raise ValueError("This resource has no date to filter by.")
        if start:
            scoped = scoped.filter(**{f"{self.date_field}__gte": start})
        if end:
            scoped = scoped.filter(**{f"{self.date_field}__lte": end})
        return super().export(queryset=scoped, **kwargs)

    def iter_queryset(self, queryset):
        """By id, a chunk at a time: import-export pages with OFFSET when there
        are prefetches, which slows down with every page of a large export."""
        size = self.get_chunk_size()
        last = None
        while True:
            page = queryset.order_by("pk")
            if last is not None:
                page = page.filter(pk__gt=last)
            chunk = list(page[:size])
            yield from chunk
            if len(chunk) < size:
                return
            last = chunk[-1].pk

    def after_export(self, queryset, dataset, **kwargs):
        details = [f"count={dataset.height}"]
        for key in ("start", "end"):
            if kwargs.get(key):
                details.append(f"{key}={kwargs[key]}")
        services.audit_bulk(actor=self.user, action=AuditEntry.Action.EXPORT, model=self._meta.model, details=details)
        if self.disclosure_categories:
            person_ids = self.exported_person_ids(queryset)
            services.disclosure_record(
                actor=self.user,
                kind=Disclosure.Kind.EXPORT,
                recipient=kwargs.get("recipient") or str(_("Export file")),
                categories=self.disclosure_categories,
                legal_basis=kwargs.get("legal_basis") or Disclosure.LegalBasis.NOT_RECORDED,
                record_type=self._meta.model._meta.label_lower,
                record_count=dataset.height,
                person_ids=person_ids,
            )
            self.log_exported_persons(person_ids, door=kwargs.get("door") or "admin")

    # Client data in an export is a disclosure (outreach.models.Disclosure):
    # resources of client records name the data categories they carry, the
    # named persons concerned, and log their access (encounters.resources).
    disclosure_categories: tuple[str, ...] = ()

    def exported_person_ids(self, queryset) -> list[int]:
        return []

    def log_exported_persons(self, person_ids: list[int], door: str) -> None:
        pass


def id_column() -> Field:
    return column("id", IntegerWidget())


def team_column(required: bool = False) -> Field:
    return column("team", LinkWidget(Team, teams_visible_to, required=required))


class SiteResource(ServiceResource):
    """Field sites. Sites are places, not people; coordinators and admins manage them."""

    id = id_column()
    name = column("name", TextWidget(required=True))
    site_type = column("site_type", CodeWidget(SiteType, required=True))
    municipality = column("municipality", MunicipalityWidget(required=True))
    active = column("active", BooleanWidget(blank_value=True))
    address = column("address", TextWidget())
    latitude = column("latitude", DecimalWidget())
    longitude = column("longitude", DecimalWidget())
    season_start_month = column("season_start_month", IntegerWidget())
    season_end_month = column("season_end_month", IntegerWidget())
    schedule_weekday = column("schedule_weekday", IntegerWidget())
    schedule_start_time = column("schedule_start_time", TimeWidget())
    schedule_end_time = column("schedule_end_time", TimeWidget())
    schedule_every_weeks = column("schedule_every_weeks", IntegerWidget())
    team = team_column()

    # A site's team is optional (the responsible team), so a blank one stays blank.
    default_team_field = None

    class Meta:
        model = FieldSite
        name = "sites"
        fields = (
            "id",
            "name",
            "site_type",
            "municipality",
            "active",
            "address",
            "latitude",
            "longitude",
            "season_start_month",
            "season_end_month",
            "schedule_weekday",
            "schedule_start_time",
            "schedule_end_time",
            "schedule_every_weeks",
            "team",
        )
        chunk_size = 2000

    def scope(self, user):
        return sites_visible_to(user).select_related("municipality", "team")

    def can_import(self, user):
        return user.is_active and (user.is_superuser or user.role in (Role.COORDINATOR, Role.ADMIN))

    def create(self, values, *, row_result=None):
        return services.site_create(actor=self.user, **values)

    def update(self, instance, changes):
        return services.site_update(actor=self.user, site=instance, **changes)


class OutingResource(ServiceResource):
    """Outings (jalkautumiset) of the teams the user sees."""

    id = id_column()
    team = team_column()
    site = column("site", LinkWidget(FieldSite, sites_visible_to, required=True))
    date = column("date", DateWidget(required=True))
    start_time = column("start_time", TimeWidget(required=True))
    end_time = column("end_time", TimeWidget())
    status = column("status", CodeWidget(OutingStatus, blank_value=OutingStatus.PLANNED))
    participants = column("participants", UserListWidget())
    tallied_contacts = column("tallied_contacts", IntegerWidget(blank_value=0))
    observations = column("observations", TextWidget())
    notes = column("notes", TextWidget())

    date_field = "date"

    class Meta:
        model = Outing
        name = "outings"
        fields = (
            "id",
            "team",
            "site",
            "date",
            "start_time",
            "end_time",
            "status",
            "participants",
            "tallied_contacts",
            "observations",
            "notes",
        )
        chunk_size = 2000

    def scope(self, user):
        return outings_visible_to(user).select_related("site", "team").prefetch_related("participants")

    def create(self, values, *, row_result=None):
        return services.outing_create(actor=self.user, **values)

    def update(self, instance, changes):
        return services.outing_update(actor=self.user, outing=instance, **changes)


# Admin -------------------------------------------------------------------


def may_bulk_import_export(user: User) -> bool:
    """Bulk import and export in the admin: coordinators and admins (and superusers)."""
    return bool(
        user.is_authenticated and user.is_active and (user.is_superuser or user.role in (Role.COORDINATOR, Role.ADMIN))
    )


class RecordImportExportMixin(ImportExportMixin):
    """Import and export buttons for a ModelAdmin, with one of the resources above.

        class FieldSiteAdmin(RecordImportExportMixin, ServiceAdmin):
            resource_classes = [SiteResource]

    Only coordinators and admins get the buttons, and only where the admin
    lets them add and change (import) or view (export) the records. The
    resource acts as the signed-in user: it reads through the selectors,
    writes through the services and never exports more than the user sees,
    whatever the change list's queryset. Where the admin keeps client
    records out of Django's admin log (`admin_log = False`), so does the import.
    """

    def has_import_permission(self, request):
        return (
            may_bulk_import_export(request.user)
            and self.has_add_permission(request)
            and self.has_change_permission(request)
        )

    def has_export_permission(self, request):
        return may_bulk_import_export(request.user) and self.has_view_permission(request)

    def get_import_resource_kwargs(self, request, **kwargs):
        return {"user": request.user}

    def get_export_resource_kwargs(self, request, **kwargs):
        return {"user": request.user}

    def get_skip_admin_log(self):
        return super().get_skip_admin_log() or not getattr(self, "admin_log", True)
