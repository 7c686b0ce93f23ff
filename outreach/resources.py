"""Bulk import and export of records as CSV or XLSX (django-import-export).

Columns are the API's field names (DESIGN.md, "External contracts"): ids for
links, vocabulary codes, lists joined with ";". A row is parsed and validated
by the API's serializer for the resource, exactly as the body of a POST (a
new record) or a PATCH (an existing one), and saved by the same service, with
the acting user: an import can do no more than the user could do through the
API, its messages are the API's, and the services write the audit entries.
What is left here is what a spreadsheet hands over differently from JSON
(`cell_to_api`), which record a row is, and the file itself.

An import is all or nothing, whoever calls it (the admin, a command): it runs
in one transaction that is rolled back when any row is bad, and every bad row
is reported with the column to correct.

The `id` column identifies a record to update. A row whose id is empty, or is
not the id of a record the user may change, creates a new record (with a new
id): a file exported from one database therefore imports into an empty one.

Formula guard: text that a spreadsheet would run as a formula gets a leading
apostrophe, which the importer removes again. Not only at the start of a
cell: a spreadsheet that splits cells on another delimiter than the file's
(Finnish Excel splits on ";", whatever the file uses) or on a line break
inside a quoted cell starts a new cell there, so a formula start after any
of those is guarded too. django-import-export's own
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT would turn every cell into text and
drop the `=`, which breaks exact round trips; only text columns are guarded
here, so negative coordinates stay numbers.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import datetime
import gc
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, ClassVar

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _
from import_export import resources, widgets
from import_export.admin import ImportExportMixin
from import_export.results import RowResult
from rest_framework import serializers

from . import permissions, services
from .api import OutingSerializer, SiteSerializer
from .drf import PK_FIELD, VisibleRelatedField
from .exceptions import Conflict
from .models import AuditEntry, Disclosure, FieldSite, Outing, User
from .selectors import outings_visible_to, sites_visible_to
from .validators import DOMAIN_ZONE
from .vocabulary import Role

# Key under which errors that belong to no single column are reported.
ROW = "row"

# Formula neutralisation --------------------------------------------------

# Where a spreadsheet may start a cell: the start of the text, and after a
# cell delimiter or a line break (quotes and spaces before the formula
# character do not stop Excel either).
_FORMULA = re.compile(r"(^|[;,\t\r\n])([\" ]*)('*)(?=[=+\-@\t\r])")
_GUARDED = re.compile(r"(^|[;,\t\r\n])([\" ]*)'('*)(?=[=+\-@\t\r])")

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def neutralise_formula(text: str) -> str:
    """Put an apostrophe before every formula start a spreadsheet could see.

    Apostrophes already there get one more, so that `strip_formula_guard`
    restores the text exactly.
    """
    return _FORMULA.sub(r"\1\2\3'", text)


def strip_formula_guard(text: str) -> str:
    return _GUARDED.sub(r"\1\2\3", text)


# Cells -------------------------------------------------------------------


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _as_text(value: Any) -> str:
    """A cell as text; spreadsheets hand whole numbers over as floats."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return force_str(value)


_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_FINNISH_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


def parse_date(value: Any) -> datetime.date:
    """A date as YYYY-MM-DD (or D.M.YYYY, as Finnish spreadsheets write it)."""
    message = _("Enter a date as YYYY-MM-DD.")
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _as_text(value).strip()
    if match := _ISO_DATE.match(text):
        year, month, dom = match.groups()
    elif match := _FINNISH_DATE.match(text):
        dom, month, year = match.groups()
    else:
        raise ValueError(message)
    try:
        return datetime.date(int(year), int(month), int(dom))
    except ValueError:
        raise ValueError(message) from None


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


def parse_integer(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = _as_text(value).strip()
    if not re.fullmatch(r"[+-]?\d{1,18}", text):
        raise ValueError(_("Enter a whole number."))
    return int(text)


def format_time(value: datetime.time) -> str:
    # HH:MM as the contract says; seconds only where a record has them, so
    # that an export imports back unchanged.
    return value.strftime("%H:%M:%S" if value.second or value.microsecond else "%H:%M")


# Spelled out in spreadsheets in the languages of the service.
_TRUE_WORDS = {"kyllä", "k", "ja"}
_FALSE_WORDS = {"ei", "e", "nej"}
# Returned by `cell_to_api` for a cell that leaves the field out.
OMIT = object()


def _text(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else _as_text(value)


def _guarded_text(value: Any) -> str:
    return strip_formula_guard(_text(value))


def _email(value: Any) -> str:
    return _text(value).strip()


def _stripped(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    return _as_text(value).strip() if isinstance(value, float) else value


def _id_list(value: Any) -> list[str]:
    return [part.strip() for part in _as_text(value).split(";") if part.strip()]


def _code_list(value: Any) -> list[str]:
    return [part.strip().lower() for part in _as_text(value).split(";") if part.strip()]


def _municipality_code(value: Any) -> str:
    code = _as_text(value).strip()
    # Spreadsheets drop the leading zeros of codes such as Helsinki's 091.
    return code.zfill(3) if code.isdigit() else code


def _code(value: Any) -> str:
    return _as_text(value).strip().lower()


def _boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    text = _as_text(value).strip().lower()
    return True if text in _TRUE_WORDS else False if text in _FALSE_WORDS else text


def _datetime(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return (value if timezone.is_aware(value) else value.replace(tzinfo=DOMAIN_ZONE)).isoformat()
    return _as_text(value).strip()


def _date(value: Any) -> str:
    try:
        return parse_date(value).isoformat()
    except ValueError:
        return _as_text(value).strip()


def _time(value: Any) -> str:
    try:
        return parse_time(value).isoformat()
    except ValueError:
        return _as_text(value).strip()


def _decimal(value: Any) -> str:
    return repr(value) if isinstance(value, float) else _as_text(value).strip().replace(",", ".")


# How a cell is read, by the kind of the serializer field; the first match
# counts (an EmailField is a CharField, a DateTimeField is not a DateField).
_READERS: list[tuple[type, Any]] = [
    (serializers.EmailField, _email),
    (serializers.CharField, _guarded_text),
    (serializers.ManyRelatedField, _id_list),
    (serializers.ListField, _code_list),
    (serializers.SlugRelatedField, _municipality_code),
    (serializers.ChoiceField, _code),
    (serializers.BooleanField, _boolean),
    (serializers.DateTimeField, _datetime),
    (serializers.DateField, _date),
    (serializers.TimeField, _time),
    (serializers.DecimalField, _decimal),
    (serializers.Field, _stripped),
]
_READER_OF: dict[type, Any] = {}


def cell_to_api(api_field: serializers.Field, value: Any, *, new: bool) -> Any:
    """A spreadsheet cell as the API's JSON would give the field.

    Only the notation differs (numbers as floats, dates as cells or D.M.YYYY,
    lists joined with ";", the formula guard); the serializer decides what is
    valid. A blank cell leaves the field out of a new record (its default);
    on an existing record it clears what can be cleared and keeps the rest.
    """
    kind = type(api_field)
    reader = _READER_OF.get(kind)
    if reader is None:
        reader = _READER_OF[kind] = next(read for base, read in _READERS if isinstance(api_field, base))
    if reader is not _guarded_text and reader is not _email and is_blank(value):
        if new:
            return OMIT
        if reader is _id_list or reader is _code_list:
            return []
        return None if api_field.allow_null else OMIT
    return reader(value)


def api_to_cell(api_field: serializers.Field, value: Any) -> str:
    """A field's stored value as a cell that `cell_to_api` reads back to the same value."""
    if value is None:
        return ""
    if isinstance(api_field, serializers.ManyRelatedField):
        records = value.all() if hasattr(value, "all") else value
        child = api_field.child_relation
        if isinstance(child, serializers.SlugRelatedField):
            # Municipalities by their codes, as the API writes them.
            return ";".join(sorted(str(getattr(record, child.slug_field)) for record in records))
        return ";".join(str(pk) for pk in sorted(record.pk for record in records))
    if isinstance(api_field, serializers.SlugRelatedField):
        return str(getattr(value, api_field.slug_field))
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(api_field, serializers.ListField):
        return ";".join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        local = timezone.localtime(value, DOMAIN_ZONE)
        return local.isoformat(timespec="microseconds" if local.microsecond else "seconds")
    if isinstance(value, datetime.time):
        return format_time(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str) and isinstance(api_field, serializers.CharField | serializers.ReadOnlyField):
        return neutralise_formula(value)
    return str(value)


def error_messages(detail: Any) -> list[str]:
    """A serializer's error detail for one field as flat messages (lists report by item)."""
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in error_messages(value)]
    if isinstance(detail, list | tuple):
        return [message for value in detail for message in error_messages(value)]
    return [str(detail)]


class ApiFieldWidget(widgets.Widget):
    """Writes a column as `api_to_cell` (exports and the admin's preview); rows are read by the serializer."""

    def __init__(self, api_field: serializers.Field):
        super().__init__(coerce_to_string=True)
        self.api_field = api_field

    def render(self, value, obj=None, **kwargs):
        return api_to_cell(self.api_field, value)


def chunked(items: list, size: int = 900) -> Iterable[list]:
    # SQLite limits the number of query parameters.
    for start in range(0, len(items), size):
        yield items[start : start + size]


@contextlib.contextmanager
def collector_paused():
    """Python's cycle collector off while a whole file is read or written.

    An import keeps every row's records and results alive until it ends, and
    each collection walks all of them again: a 100,000-row import spent a
    third of its time there. Reference counting still frees what is dropped;
    the cycles left are collected once at the end. The switch is the
    process's: the app server's workers are single-threaded (`sync`), and
    where a thread overlaps an import, it only runs without the collector
    for that while.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.collect()


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

    def __init__(self, errors: dict[str, list[StrOrPromise]]):
        self.errors = errors
        super().__init__("; ".join(f"{key}: {' '.join(map(str, messages))}" for key, messages in errors.items()))


def named_errors(error: ValidationError) -> ValidationError:
    """A service's errors keyed by column; those of no single field go under "row"."""
    if not hasattr(error, "error_dict"):
        return ValidationError({ROW: error.messages})
    messages = error.message_dict
    if NON_FIELD_ERRORS in messages:
        messages = dict(messages)
        messages.setdefault(ROW, []).extend(messages.pop(NON_FIELD_ERRORS))
    return ValidationError(messages)


class QuickRowResult(RowResult):
    """A row's result without the record's str(), which costs more than the rest of a bulk row.

    For imports without the admin's preview: they report the id, never the record's name.
    """

    def add_instance_info(self, instance):
        if instance is not None:
            self.object_id = instance.pk


class ServiceResource(resources.ModelResource):
    """A resource whose rows go through the API's serializer and the services.

    Subclasses name the API's `serializer_class`, `scope` (the selector),
    `create` and `update` (the services), and optionally `date_field` for
    exports by period. An instance serves one import or export: it caches
    the file's lookups. django-import-export's row workflow is kept; its
    hooks parse the row (`import_instance`), find the record
    (`get_instance`), leave unchanged rows alone (`skip_row`) and save
    through the service (`save_instance`, or `bulk_create` in bulk mode).
    """

    serializer_class: type[serializers.ModelSerializer]
    date_field: str | None = None
    # Columns that must not appear in a file, with the reason.
    forbidden_columns: ClassVar[dict[str, Any]] = {}
    # Columns whose blank cell keeps an existing record's value.
    keep_when_blank: frozenset[str] = frozenset()
    # Set by import-export's metaclass (untyped); declared so that __init__ may replace it.
    _meta: Any

    def __init__(self, user: User | None = None, **kwargs):
        super().__init__(**kwargs)
        self._meta = copy.copy(type(self)._meta)
        self.user = user
        self._lines: list[int] | None = None
        self._seen: dict[tuple[str, Any], int | None] = {}
        self._existing: dict[int, models.Model | None] = {}
        # Records of the file's links, shared by the serializers (see VisibleRelatedField).
        self._related: dict[Any, dict[int, Any]] = {}
        self._parsers: dict[bool, serializers.ModelSerializer] = {}
        self._values: dict[str, Any] = {}
        self._changes: dict[str, Any] = {}
        api_fields = self.serializer_class(context=self._context()).fields
        for name, resource_field in self.fields.items():
            resource_field.attribute = name
            resource_field.widget = ApiFieldWidget(api_fields[name])

    @property
    def compute_diff(self) -> bool:
        """The admin's preview shows a diff per row; commands switch it off (it costs a copy of each record)."""
        return not self._meta.skip_diff

    @compute_diff.setter
    def compute_diff(self, value: bool) -> None:
        self._meta.skip_diff = not value

    def get_row_result_class(self):
        return RowResult if self.compute_diff else QuickRowResult

    def _context(self) -> dict:
        # The serializers ask the request for its user, and nothing else.
        return {"request": SimpleNamespace(user=self.user), "related_cache": self._related}

    def parser(self, *, new: bool) -> serializers.ModelSerializer:
        """The API's serializer, one for new rows and one for updates, reused row after row
        (as DRF's ListSerializer reuses its child) so that its fields are built once."""
        if new not in self._parsers:
            self._parsers[new] = self.serializer_class(context=self._context(), partial=not new)
        return self._parsers[new]

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

    def existing_queryset(self) -> QuerySet:
        """Records that an `id` in the file may update."""
        return self.get_queryset()

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
            self._parsers.clear()
        with collector_paused():
            return super().import_data(
                dataset, dry_run=dry_run, raise_errors=raise_errors, use_transactions=True, **kwargs
            )

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
        errors: dict[str, list[StrOrPromise]] = {}
        if self.user is None or not self.user.is_authenticated or not self.can_import(self.user):
            errors[ROW] = [_("You may not import these records.")]
        else:
            known = {f.column_name for f in self.fields.values()}
            for name in dataset.headers or []:
                if name in self.forbidden_columns:
                    errors[name] = [self.forbidden_columns[name]]
                elif name not in known:
                    errors[name] = [
                        _("Unknown column; the columns are: %(columns)s.")
                        % {"columns": ", ".join(self.get_export_headers())}
                    ]
        if errors:
            # No row is read from a file that is refused as a whole.
            dataset.wipe()
            raise FileError(errors)
        self.preload(dataset)

    def preload(self, dataset) -> None:
        """Look up the file's links and existing records a chunk at a time, not per row."""
        headers = dataset.headers or []
        fields = self.parser(new=True).fields
        for name in headers:
            api_field = fields.get(name)
            if isinstance(api_field, serializers.ManyRelatedField):
                api_field = api_field.child_relation
            if not isinstance(api_field, VisibleRelatedField):
                continue
            ids: set[int] = set()
            for value in dataset[name]:
                for part in _as_text(value).split(";"):
                    if part.strip().isdigit() and len(part.strip()) <= 18:
                        ids.add(int(part))
            records = self._related.setdefault(api_field.scope, {})
            queryset = self.preload_queryset(api_field.get_queryset())
            for chunk in chunked(sorted(ids - set(records))):
                found = {obj.pk: obj for obj in queryset.filter(pk__in=chunk)}
                records.update({pk: found.get(pk) for pk in chunk})
        if "id" in headers:
            ids = set()
            for value in dataset["id"]:
                try:
                    ids.add(self.parse_id(value))
                except ValidationError:
                    continue
            for chunk in chunked(sorted(ids)):
                found = {obj.pk: obj for obj in self.existing_queryset().filter(pk__in=chunk)}
                self._existing.update({pk: found.get(pk) for pk in chunk})

    def preload_queryset(self, queryset: QuerySet) -> QuerySet:
        """A linked model's records as a row will use them (outings with their participants)."""
        if queryset.model is Outing:
            return queryset.prefetch_related("participants")
        return queryset

    @staticmethod
    def parse_id(value: Any) -> int:
        try:
            return PK_FIELD.to_internal_value(_as_text(value).strip())
        except serializers.ValidationError as error:
            raise ValidationError({"id": error_messages(error.detail)}) from None

    def get_instance(self, instance_loader, row):
        """The record the row updates, if any: by `id` (see the module's docstring)."""
        pk = None if is_blank(row.get("id")) else self.parse_id(row["id"])
        self.check_repeat("id", pk, row)
        return self.find_existing(pk)

    def check_repeat(self, key: str, value: Any, row) -> None:
        """A record may appear once in a file: a repeated id or UUID is an error."""
        if value is None:
            return
        number = self._row_number
        first = self._seen.setdefault((key, value), number)
        if first != number:
            raise ValidationError({key: [_("Repeats line %(line)s.") % {"line": self.line(first)}]})

    def find_existing(self, pk: int | None) -> models.Model | None:
        if pk is None:
            return None
        if pk not in self._existing:
            self._existing[pk] = self.existing_queryset().filter(pk=pk).first()
        return self._existing[pk]

    def before_import_row(self, row, **kwargs):
        self._row_number = kwargs.get("row_number")

    def import_instance(self, instance, row, **kwargs):
        """Parse the row with the API's serializer, as a POST (new) or PATCH (existing) body."""
        new = instance.pk is None
        if not new and self.as_exported(instance, row):
            self._values = {}  # the record as it is: nothing to parse, nothing to change
            return
        parser = self.parser(new=new)
        parser.instance = None if new else instance
        payload = {}
        for name, value in row.items():
            api_field = parser.fields.get(name)
            if name == "id" or api_field is None or api_field.read_only:
                continue
            if not new and name in self.keep_when_blank and is_blank(value):
                continue
            cell = cell_to_api(api_field, value, new=new)
            if cell is not OMIT:
                payload[name] = cell
        try:
            self._values = parser.run_validation(payload)
        except serializers.ValidationError as error:
            detail = error.detail if isinstance(error.detail, dict) else {ROW: error.detail}
            raise ValidationError(
                {ROW if name == "non_field_errors" else name: error_messages(value) for name, value in detail.items()}
            ) from None

    def as_exported(self, instance: models.Model, row) -> bool:
        """Whether every cell is what an export of the record writes (a file exported and imported back).

        Such a row reads back to the stored values (the export's promise), so
        it changes nothing; this spares a re-imported export the parsing.
        """
        for name, value in row.items():
            if name == "id" or (name in self.keep_when_blank and is_blank(value)):
                continue
            cell = "" if value is None else value if isinstance(value, str) else _as_text(value)
            if cell != self.fields[name].export(instance):
                return False
        return True

    def skip_row(self, instance, original, row, import_validation_errors=None):
        """An existing record that the row does not change is left alone (and not audited)."""
        if import_validation_errors or instance.pk is None:
            return False
        self._changes = self.changes(instance, self._values)
        return not self._changes

    def changes(self, instance: models.Model, values: dict[str, Any]) -> dict[str, Any]:
        changed = {}
        for name, value in values.items():
            model_field = instance._meta.get_field(name)
            current = getattr(instance, name)
            if model_field.many_to_many:
                if {obj.pk for obj in current.all()} != {obj.pk for obj in value}:
                    changed[name] = value
            elif isinstance(value, list) and hasattr(model_field, "to_python"):
                if current != model_field.to_python(value):
                    changed[name] = value
            elif current != value:
                changed[name] = value
        return changed

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        # The serializer has parsed the row; the service validates the record.
        if import_validation_errors:
            raise ValidationError(import_validation_errors)

    def save_instance(self, instance, is_create, row, **kwargs):
        try:
            saved = self.create(self._values) if is_create else self.update(instance, self._changes)
        except PermissionDenied as error:
            raise ValidationError({ROW: [str(error) or _("You may not change this record.")]}) from None
        except Conflict as conflict:
            raise conflict.as_validation_error() from None
        except ValidationError as error:
            raise named_errors(error) from None
        if saved is not instance:
            # import-export reports on the instance it made for the row.
            instance.__dict__.update(saved.__dict__)

    def save_m2m(self, instance, row, **kwargs):
        pass  # the services set the links

    def create(self, values: dict[str, Any]) -> models.Model:
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
        with collector_paused():
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


class SiteResource(ServiceResource):
    """Field sites. Sites are places, not people; coordinators and admins manage them."""

    serializer_class = SiteSerializer

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
        return permissions.can_manage_sites(user)

    def create(self, values):
        return services.site_create(actor=self.acting_user, **values)

    def update(self, instance, changes):
        return services.site_update(actor=self.acting_user, site=instance, **changes)


class OutingResource(ServiceResource):
    """Outings (jalkautumiset) of the teams the user sees."""

    serializer_class = OutingSerializer
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

    def create(self, values):
        return services.outing_create(actor=self.acting_user, **values)

    def update(self, instance, changes):
        return services.outing_update(actor=self.acting_user, outing=instance, **changes)


# Admin -------------------------------------------------------------------


def may_bulk_import_export(user: User) -> bool:
    """Bulk import and export in the admin: coordinators and admins (and superusers)."""
    return permissions.is_coordinator_or_admin(user)


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
