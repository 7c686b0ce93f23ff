"""Legacy statistics sheets: a team's counts per site and day, turned into records.

Before this service, teams kept a spreadsheet per site with one row per
outing: date, site, workers, people met, conversations and needs counted.
Each row becomes

- a done outing (date, site, start and end time or 10:00–12:00, participants
  by e-mail) whose tally of brief contacts is people met − conversations, and
- one anonymous `conversation` encounter per conversation counted, the needs
  dealt out over them: with `need_housing` 3, the first three encounters of
  the row have housing among their needs. Gender and age group are unknown.

so that the history shows in the dashboards with the same meaning as new
records. The columns are described in docs/import.md.

Importing is all or nothing, and repeatable: a row whose outing already
exists (same team, site, date and start time, notes marked "legacy import")
is skipped, and the generated encounters have deterministic client UUIDs, so
importing the same file twice creates nothing the second time.
"""

from __future__ import annotations

import datetime
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from encounters.models import Encounter
from encounters.services import RowErrors, encounters_create_bulk
from outreach.models import FieldSite, Outing, Team, User
from outreach.resources import Table, is_blank, parse_date, parse_integer, parse_time
from outreach.selectors import sites_visible_to, users_visible_to, writable_team_ids
from outreach.services import outing_create
from outreach.validators import DOMAIN_ZONE
from outreach.vocabulary import AgeGroup, ContactKind, Depth, Gender, Need, OutingStatus

# Marks the outings this importer made; the check for re-imports looks for it.
LEGACY_MARKER = "legacy import"
DEFAULT_START = datetime.time(10, 0)
DEFAULT_END = datetime.time(12, 0)
# Fixed namespace for the encounters' client UUIDs (uuid5 of team, site, date, start, index).
LEGACY_NAMESPACE = uuid.UUID("6f1d3c2e-8a4b-5e7f-9c0d-1b2a3c4d5e6f")

NEED_COLUMNS: dict[str, str] = {f"need_{code}": str(code) for code in Need.values}
COLUMNS = [
    "date",
    "site",
    "start_time",
    "end_time",
    "workers",
    "people_met",
    "conversations",
    *NEED_COLUMNS,
    "notes",
]
REQUIRED_COLUMNS = ("date", "site", "people_met", "conversations")
ROW = "row"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


@dataclass
class LegacyRow:
    line: int
    date: datetime.date
    site: FieldSite
    start_time: datetime.time
    end_time: datetime.time
    participants: list[User]
    worker_count: int | None
    people_met: int
    conversations: int
    needs: dict[str, int]
    notes: str

    @property
    def tallied_contacts(self) -> int:
        return self.people_met - self.conversations

    def needs_of(self, index: int) -> list[str]:
        """The needs of the row's `index`th encounter: each count goes to the first encounters."""
        return [code for code, count in self.needs.items() if count > index]

    def client_uuid(self, team: Team, index: int) -> uuid.UUID:
        name = f"{team.pk}/{self.site.pk}/{self.date.isoformat()}/{self.start_time.isoformat()}/{index}"
        return uuid.uuid5(LEGACY_NAMESPACE, name)

    def outing_notes(self) -> str:
        parts = [LEGACY_MARKER]
        if self.worker_count is not None:
            parts.append(_("workers: %(count)s") % {"count": self.worker_count})
        text = "; ".join(parts)
        return f"{text}\n{self.notes}" if self.notes.strip() else text


@dataclass
class LegacyResult:
    dry_run: bool
    created: list[LegacyRow] = field(default_factory=list)
    # (line, id of the outing that an earlier import made)
    skipped: list[tuple[int, int]] = field(default_factory=list)
    # (line, column, message)
    errors: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def outings(self) -> int:
        return len(self.created)

    @property
    def encounters(self) -> int:
        return sum(row.conversations for row in self.created)

    @property
    def tallied_contacts(self) -> int:
        return sum(row.tallied_contacts for row in self.created)

    @property
    def needs(self) -> dict[str, int]:
        return {code: sum(row.needs[code] for row in self.created) for code in NEED_COLUMNS.values()}


class LegacyImport:
    """One file for one team, imported by one user."""

    def __init__(self, *, actor: User, team: Team):
        self.actor = actor
        self.team = team
        self.result: LegacyResult | None = None
        self._sites_by_id: dict[int, FieldSite] = {}
        self._sites_by_name: dict[str, list[FieldSite]] = {}
        self._users_by_email: dict[str, User] = {}

    def run(self, table: Table, *, dry_run: bool = False) -> LegacyResult:
        self.result = LegacyResult(dry_run=dry_run)
        if not self._check_access() or not self._check_columns(table.dataset.headers or []):
            return self.result
        self._load_lookups()
        rows = self._parse(table)
        rows = self._leave_out_imported(rows)
        if self.result.errors:
            return self.result
        with transaction.atomic():
            self._write(rows)
            if dry_run or self.result.errors:
                # Nothing is kept: a dry run ran every service check, and a
                # service's refusal of one row undoes the others.
                transaction.set_rollback(True)
        if self.result.errors:
            self.result.created = []
        return self.result

    # Checks ------------------------------------------------------------

    @property
    def _result(self) -> LegacyResult:
        """The result of the run in progress; run() sets it before any check."""
        assert self.result is not None, "LegacyImport.run() sets the result first"
        return self.result

    def _error(self, line: int, column: str, message) -> None:
        self._result.errors.append((line, column, str(message)))

    def _check_access(self) -> bool:
        if self.actor.is_expert or self.team.pk not in writable_team_ids(self.actor):
            self._error(1, "team", _("You cannot record work for this team."))
            return False
        return True

    def _check_columns(self, headers: list[str]) -> bool:
        for name in headers:
            if name not in COLUMNS:
                self._error(
                    1, name, _("Unknown column; the columns are: %(columns)s.") % {"columns": ", ".join(COLUMNS)}
                )
        for name in REQUIRED_COLUMNS:
            if name not in headers:
                self._error(1, name, _("This column is missing."))
        return not self._result.errors

    def _load_lookups(self) -> None:
        for site in sites_visible_to(self.actor):
            self._sites_by_id[site.pk] = site
            self._sites_by_name.setdefault(site.name.strip(), []).append(site)

    def _site(self, value) -> FieldSite:
        text = str(value).strip()
        if isinstance(value, float) and value.is_integer():
            text = str(int(value))
        if text.isdigit() and int(text) in self._sites_by_id:
            return self._sites_by_id[int(text)]
        named = self._sites_by_name.get(text, [])
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            raise ValueError(_("Several sites are called “%(name)s”: give the site's id.") % {"name": text})
        raise ValueError(_("No site with the id or name “%(value)s”.") % {"value": text})

    def _workers(self, value) -> tuple[list[User], int | None]:
        """E-mail addresses joined with ";" (participants), or just how many workers went."""
        if is_blank(value):
            return [], None
        if isinstance(value, int | float) or str(value).strip().isdigit():
            return [], parse_integer(value)
        users = []
        for email in (part.strip().lower() for part in str(value).split(";")):
            if not email:
                continue
            if not _EMAIL.match(email):
                raise ValueError(_("Give the workers' e-mail addresses separated by “;”, or their number."))
            if email not in self._users_by_email:
                user = users_visible_to(self.actor).filter(email__iexact=email).first()
                if user is None:
                    raise ValueError(
                        _("No user with the e-mail address %(email)s that you can use.") % {"email": email}
                    )
                self._users_by_email[email] = user
            users.append(self._users_by_email[email])
        return list(dict.fromkeys(users)), None

    @staticmethod
    def _count(value) -> int:
        count = 0 if is_blank(value) else parse_integer(value)
        if count < 0:
            raise ValueError(_("Enter a count of zero or more."))
        return count

    def _parse(self, table: Table) -> list[LegacyRow]:
        rows = []
        first_line: dict[tuple, int] = {}
        for number, cells in enumerate(table.dataset.dict, start=1):
            line = table.line(number)
            errors_before = len(self._result.errors)
            values: dict[str, Any] = {}

            def cell(name, parse, cells=cells, line=line, values=values):
                try:
                    values[name] = parse(cells.get(name))
                except ValueError as error:
                    self._error(line, name, error)

            cell("date", lambda v: parse_date(v) if not is_blank(v) else _required())
            cell("site", lambda v: self._site(v) if not is_blank(v) else _required())
            cell("start_time", lambda v: None if is_blank(v) else parse_time(v))
            cell("end_time", lambda v: None if is_blank(v) else parse_time(v))
            cell("workers", self._workers)
            cell("people_met", self._count)
            cell("conversations", self._count)
            for name in NEED_COLUMNS:
                cell(name, self._count)
            notes = cells.get("notes")
            values["notes"] = "" if is_blank(notes) else str(notes)
            if len(self._result.errors) > errors_before:
                continue

            start, end = values["start_time"], values["end_time"]
            if start is None and end is None:
                start, end = DEFAULT_START, DEFAULT_END
            elif start is None or end is None:
                missing = "start_time" if start is None else "end_time"
                self._error(line, missing, _("Give both the start and the end time, or neither (10:00–12:00)."))
                continue
            if values["conversations"] > values["people_met"]:
                self._error(
                    line,
                    "conversations",
                    _("More conversations (%(conversations)s) than people met (%(people)s).")
                    % {"conversations": values["conversations"], "people": values["people_met"]},
                )
            for name in NEED_COLUMNS:
                if values[name] > values["conversations"]:
                    self._error(
                        line,
                        name,
                        _(
                            "%(count)s needs counted but %(conversations)s conversations: each need belongs to "
                            "a conversation."
                        )
                        % {"count": values[name], "conversations": values["conversations"]},
                    )
            key = (values["site"].pk, values["date"], start)
            if key in first_line:
                self._error(
                    line, ROW, _("Repeats line %(line)s (same site, date and start time).") % {"line": first_line[key]}
                )
            first_line.setdefault(key, line)
            if len(self._result.errors) > errors_before:
                continue
            workers, worker_count = values["workers"]
            rows.append(
                LegacyRow(
                    line=line,
                    date=values["date"],
                    site=values["site"],
                    start_time=start,
                    end_time=end,
                    participants=workers,
                    worker_count=worker_count,
                    people_met=values["people_met"],
                    conversations=values["conversations"],
                    needs={code: values[name] for name, code in NEED_COLUMNS.items()},
                    notes=values["notes"],
                )
            )
        return rows

    def _leave_out_imported(self, rows: list[LegacyRow]) -> list[LegacyRow]:
        """Rows an earlier import made are skipped; half-made ones are refused."""
        if not rows:
            return rows
        dates = {row.date for row in rows}
        earlier = {
            (outing.site_id, outing.date, outing.start_time): outing.pk
            for outing in Outing.objects.filter(team=self.team, date__in=dates, notes__contains=LEGACY_MARKER).only(
                "pk", "site_id", "date", "start_time"
            )
        }
        fresh = []
        for row in rows:
            outing_id = earlier.get((row.site.pk, row.date, row.start_time))
            if outing_id is not None:
                self._result.skipped.append((row.line, outing_id))
            else:
                fresh.append(row)
        uuids = {row.client_uuid(self.team, index): row for row in fresh for index in range(row.conversations)}
        taken: set[uuid.UUID | None] = set()
        keys = list(uuids)
        for start in range(0, len(keys), 900):
            taken |= set(
                Encounter.objects.filter(client_uuid__in=keys[start : start + 900]).values_list(
                    "client_uuid", flat=True
                )
            )
        for row in {
            uuids[client_uuid].line: uuids[client_uuid] for client_uuid in taken if client_uuid is not None
        }.values():
            self._error(
                row.line,
                ROW,
                _("Encounters of this row were imported before, but its outing is gone or changed; check the outing."),
            )
        return fresh

    # Writing -----------------------------------------------------------

    def _write(self, rows: list[LegacyRow]) -> None:
        # Outings through the service one by one; their encounters, often
        # thousands, through the bulk service at the end.
        encounters: list[dict] = []
        lines: list[int] = []
        for row in rows:
            try:
                with transaction.atomic():
                    for fields in self._write_row(row):
                        encounters.append(fields)
                        lines.append(row.line)
            except ValidationError as error:
                self._report(row.line, error)
            except PermissionDenied:
                self._error(row.line, "team", _("You cannot record work for this team."))
            else:
                self._result.created.append(row)
        if self._result.errors:
            return
        try:
            encounters_create_bulk(actor=self.actor, rows=encounters)
        except RowErrors as refused:
            for index, row_error in refused.errors.items():
                self._report(lines[index], row_error)

    def _report(self, line: int, error: ValidationError) -> None:
        messages = error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
        for name, texts in messages.items():
            column = ROW if name == NON_FIELD_ERRORS else name
            for text in texts:
                self._error(line, column, text)

    def _write_row(self, row: LegacyRow) -> list[dict]:
        """Write the row's outing; return its encounters for `encounters_create_bulk`."""
        outing = outing_create(
            actor=self.actor,
            team=self.team,
            site=row.site,
            date=row.date,
            start_time=row.start_time,
            end_time=row.end_time,
            status=OutingStatus.DONE,
            participants=row.participants,
            tallied_contacts=row.tallied_contacts,
            notes=row.outing_notes(),
        )
        occurred_at = datetime.datetime.combine(row.date, row.start_time, tzinfo=DOMAIN_ZONE)
        return [
            {
                "team": self.team,
                "site": row.site,
                "outing": outing,
                "occurred_at": occurred_at,
                "contact_kind": ContactKind.FIELD,
                "depth": Depth.CONVERSATION,
                "gender": Gender.UNKNOWN,
                "age_group": AgeGroup.UNKNOWN,
                "needs": row.needs_of(index),
                "workers": row.participants,
                "client_uuid": row.client_uuid(self.team, index),
            }
            for index in range(row.conversations)
        ]


def column_descriptions() -> dict[str, str]:
    """What each column holds, for the template's instruction sheet (docs/import.md says more)."""
    descriptions = {
        "date": _("Date of the outing, YYYY-MM-DD (or D.M.YYYY). Required."),
        "site": _("The site's id, or its name exactly as in the service. Required."),
        "start_time": _("Start time HH:MM. Leave both times empty for 10:00–12:00."),
        "end_time": _("End time HH:MM, after the start."),
        "workers": _(
            "E-mail addresses of the workers who went, separated by “;” (they become the outing's participants "
            "and count in outing hours), or just their number (kept in the notes)."
        ),
        "people_met": _("Everyone met, including those talked with. Empty = 0."),
        "conversations": _(
            "People whose situation was talked through; each becomes an anonymous encounter. "
            "The rest of people_met become the outing's tally of brief contacts."
        ),
        "notes": _("Free text, kept in the outing's notes."),
    }
    for name, code in NEED_COLUMNS.items():
        descriptions[name] = _("Conversations in which the need “%(need)s” came up (at most conversations).") % {
            "need": Need(code).label
        }
    return {name: str(descriptions[name]) for name in COLUMNS}


def write_template(path) -> None:
    """The template as CSV (header and examples) or XLSX (plus a sheet explaining the columns)."""
    from pathlib import Path

    import tablib

    from outreach.resources import write_table

    rows = template_rows()
    if Path(path).suffix.lower() == ".csv":
        write_table(tablib.Dataset(*rows[1:], headers=rows[0]), path)
        return
    import openpyxl
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "statistics"
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    # Dates and times as text, so that a spreadsheet keeps them as written.
    for column_cells in sheet.iter_cols(min_row=2):
        for cell in column_cells:
            cell.number_format = "@"
    instructions = workbook.create_sheet("columns")
    instructions.append(["column", "meaning"])
    for name, text in column_descriptions().items():
        instructions.append([name, text])
    instructions.column_dimensions["B"].width = 100
    workbook.save(path)


def _required():
    raise ValueError(_("This field is required."))


def template_rows() -> list[list[str]]:
    """The header and two example rows, as in docs/legacy-statistics-template.csv."""
    example = {
        "date": "2025-03-04",
        "site": "Leipäjono Kuopio",
        "start_time": "10:00",
        "end_time": "12:30",
        "workers": "maija.worker@example.org;pekka.worker@example.org",
        "people_met": "42",
        "conversations": "6",
        "need_mental_health": "2",
        "need_substance_use": "3",
        "need_housing": "1",
        "notes": "Kevään ensimmäinen kerta",
    }
    second = {
        "date": "2025-03-11",
        "site": "Leipäjono Kuopio",
        "workers": "2",
        "people_met": "35",
        "conversations": "4",
        "need_livelihood": "4",
    }
    rows = [COLUMNS]
    for values in (example, second):
        rows.append([values.get(name, "") for name in COLUMNS])
    return rows
