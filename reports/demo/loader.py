"""A realistic, reproducible demo data set (`manage.py seed_demo`).

One county's outreach work over a year and a bit, ending today: two teams in
Pohjois-Savo, their field sites, outings, encounters, persons met more than
once, referrals and follow-ups, partners and networks, communication,
structural observations and client feedback, plus demo users.

The proportions follow the pilot's experience: food distributions and the
day centre are the busiest places (many brief contacts counted on a tally,
fewer individual records), the street is sparse and worked only in spring
and summer, most encounters are anonymous and referrals end in every way a
referral can end.

Reproducible: every random choice comes from one `random.Random(seed)`, drawn
in a fixed order, and nothing depends on database ids, so the same seed on
the same day gives the same content. The period ends on `today` (a
parameter), so that the demo looks current.

Fast: reference data (users, teams, sites, partners, networks) is a few
dozen rows written through the ORM. The volume tables (outings and their
participants, persons, consents, encounters and their workers, referrals,
follow-ups, feedback) are generated as plain tuples, a chunk at a time, and
written by a `BulkWriter`: COPY on PostgreSQL, `bulk_create` elsewhere (see
benchmarks/README.md for the rates). Ids are handed out in Python so that
link rows need no reads; foreign keys are checked at commit (Django's are
deferred), so persons are written after the encounters that introduced them,
with what those taught us (first met, engaged on). The report rollups are
counted while the rows are made and loaded with them (`rollups`).

Audit: seeding is an import. Users are created through `user_create` (an
account's creation is worth its own audit entry, and the service marks the
e-mail address verified as MFA needs); everything else is summarised by one
`AuditEntry` (action import, model "demo"), because an entry per generated
row would double the volume of a million-row load and tell nobody anything.
For the same reason the rest does not go through the services one row at a
time; reports/tests/test_seed_demo.py checks instead that the rows satisfy
the models' validation and the links the services would check.
"""

from __future__ import annotations

import datetime
import heapq
import itertools
import random
import time
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import islice

from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone

from encounters import referral_rollups
from encounters.models import Consent, Encounter, FollowUp, Person, Referral
from networks.models import (
    CommunicationActivity,
    ContactPerson,
    Network,
    NetworkMeeting,
    NetworkMembership,
    PartnerOrganisation,
)
from outreach.models import Area, AuditEntry, FieldSite, Municipality, Outing, Team, User
from outreach.services import user_create
from outreach.validators import DOMAIN_ZONE
from outreach.vocabulary import (
    Action,
    ContactKind,
    Depth,
    Gender,
    OutingStatus,
    Role,
    ServiceKind,
    SiteType,
)
from reports import rollups
from reports.models import ClientFeedback, StructuralObservation

from .distributions import (
    ACTION_BIT,
    AGE_GROUPS,
    BRIEF_ACTIONS,
    FEEDBACK_LANGUAGES,
    FEEDBACK_SCORES,
    FIRST_CONTACT,
    FOLLOW_UP_KINDS,
    FOLLOW_UP_SHARE,
    GENDERS,
    NEED_COUNT,
    NEEDS_BY_SITE_TYPE,
    PERSON_AGES,
    PERSON_GENDERS,
    REFERRAL_SHARE,
    REFERRAL_STATUS_BY_AGE,
    SERVICES_FOR_NEED,
    SITE_TYPE_PROFILE,
    S,
    age_group_for,
    fictional_identity_code,
)
from .network_work import seed_network_work
from .reference import (
    ALL_MUNICIPALITIES,
    AREA_NAME,
    CANCEL_NOTES,
    COMMUNICATION,
    ENCOUNTER_NOTES,
    FEEDBACK_COMMENTS,
    FIRST_NAMES,
    LAST_NAMES,
    MEETING_DECISIONS,
    MEETING_TOPICS,
    NETWORKS,
    NICKNAMES,
    OBSERVATIONS,
    OFFICE_FOR_TEAM,
    OUTCOME_NOTES,
    OUTING_OBSERVATIONS,
    PARTNERS,
    REPORTED_TO,
    SITES,
    TEAMS,
    USERS,
    CommKind,
    SiteSpec,
)
from .rollups import ROLLUP_MODELS, RollupCounts

DEFAULT_SEED = 2026
DEFAULT_ENCOUNTERS = 3000
# Passes the password validators (12+ characters, not common, not numeric).
DEMO_PASSWORD = "demo-outreach-2026"
# Encounters generated and written per round: bounds memory for millions.
CHUNK_SIZE = 50_000

# The demo logins printed by the command, in this order.
DEMO_LOGIN_EMAILS = ("worker@example.org", "expert@example.org", "coordinator@example.org", "admin@example.org")


# Plain strings for the hot loop.
FIELD, PHONE, MEETING = ContactKind.FIELD.value, ContactKind.PHONE.value, ContactKind.MEETING.value
BRIEF, CONVERSATION = Depth.BRIEF.value, Depth.CONVERSATION.value
DONE, PLANNED, CANCELLED = OutingStatus.DONE.value, OutingStatus.PLANNED.value, OutingStatus.CANCELLED.value

ADULT_SOCIAL_WORK = ServiceKind.ADULT_SOCIAL_WORK.value

OUTING_COLUMNS = (
    "id", "team_id", "site_id", "date", "start_time", "end_time", "status", "tallied_contacts", "observations",
    "notes", "created_by_id", "created_at", "updated_at",
)  # fmt: skip
FEEDBACK_COLUMNS = (
    "site_id", "outing_id", "given_on", "score", "got_help", "talk_again", "language", "comment",
    "comment_flagged", "comment_hidden",
)  # fmt: skip
# The two questions follow the score (no extra random draws: the rest of the data set stays as it was).
GOT_HELP_BY_SCORE = {1: "no", 2: "no", 3: "partly", 4: "yes", 5: "yes"}
TALK_AGAIN_BY_SCORE = {1: "no", 2: "dont_know", 3: "yes", 4: "yes", 5: "yes"}
ENCOUNTER_COLUMNS = (
    "id", "team_id", "outing_id", "site_id", "occurred_at", "occurred_on", "contact_kind", "depth", "anonymous",
    "person_id", "gender", "age_group", "first_contact", "needs", "actions", "duration_minutes", "notes",
    "created_by_id", "created_at", "updated_at",
)  # fmt: skip
REFERRAL_COLUMNS = (
    "id", "team_id", "person_id", "encounter_id", "service_kind", "partner_id", "status", "referred_on",
    "status_changed_on", "made_on", "connected_on", "closed_on", "follow_up_due", "outcome_notes", "created_by_id",
    "created_at", "updated_at",
)  # fmt: skip
PERSON_COLUMNS = (
    "id", "team_id", "kind", "alias", "birth_year", "gender", "first_name", "last_name", "identity_code", "phone",
    "email", "engaged_on", "merged_into_id", "notes", "created_by_id", "created_at", "updated_at",
)  # fmt: skip
FOLLOW_UP_COLUMNS = (
    "team_id", "referral_id", "person_id", "assigned_to_id", "due_on", "done_on", "contact_kind", "notes",
    "created_by_id", "created_at",
)  # fmt: skip

# An outing planned in memory: (date, start minute, site index, status, length in minutes).
OutingPlan = tuple[datetime.date, int, int, str, int]

# Action bits of a conversation, looked up once.
ADVICE_BIT, GUIDANCE_BIT = ACTION_BIT[Action.ADVICE], ACTION_BIT[Action.SERVICE_GUIDANCE]
MATERIAL_BIT, ACCOMPANIMENT_BIT = ACTION_BIT[Action.MATERIAL_AID], ACTION_BIT[Action.ACCOMPANIMENT]
CRISIS_BIT, REFERRAL_BIT = ACTION_BIT[Action.CRISIS_HELP], ACTION_BIT[Action.REFERRAL]

# Minutes as timedeltas, so the hot loop adds instead of constructing.
MINUTES = [datetime.timedelta(minutes=m) for m in range(24 * 60)]


# Writing ---------------------------------------------------------------------


class BulkWriter:
    """Writes rows of plain tuples. Subclasses: COPY on PostgreSQL, bulk_create elsewhere.

    Ids are handed out in Python, so that link rows can name their targets
    without reading anything back and without a query in the middle of a
    COPY, and so that PostgreSQL draws no sequence value per row. `reserve`
    takes the next free id of each table first; on PostgreSQL it also locks
    the table against other writers (readers go on) until the transaction
    ends, so nobody else draws from the sequence meanwhile, and `finish`
    moves the sequence past the ids used. Rows that others point at get
    their ids from `allocate_ids` or `next_id`; rows written without an id
    (link rows, rollups) are numbered by `write`.
    """

    name = ""

    def __init__(self):
        self.rows: dict[str, int] = {}
        self.derived_rows: dict[str, int] = {}
        self._next_id: dict[type[models.Model], int] = {}
        self._first_id: dict[type[models.Model], int] = {}

    def reserve(self, *model_classes: type[models.Model]) -> None:
        """Take the ids from here on of these tables (those whose primary key is a serial `id`)."""
        for model in model_classes:
            if not isinstance(model._meta.pk, models.AutoField):
                continue  # keyed by what it counts (a rollup per person or outing)
            table = connection.ops.quote_name(model._meta.db_table)
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
                    cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [table])
                    first = cursor.fetchone()[0]
                else:
                    cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
                    first = cursor.fetchone()[0] + 1
                    if connection.vendor == "sqlite":
                        # AUTOINCREMENT never reuses an id, even one of a deleted row.
                        cursor.execute(
                            "SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = %s", [model._meta.db_table]
                        )
                        first = max(first, cursor.fetchone()[0] + 1)
            self._first_id[model] = self._next_id[model] = first

    def allocate_ids(self, model: type[models.Model], count: int) -> range:
        start = self._next_id[model]
        self._next_id[model] = start + count
        return range(start, start + count)

    def next_id(self, model: type[models.Model]) -> int:
        value = self._next_id[model]
        self._next_id[model] = value + 1
        return value

    def write(
        self, model: type[models.Model], attnames: Sequence[str], rows: Iterable[tuple], *, derived: bool = False
    ) -> int:
        """Write the rows; `derived` ones (the report rollups) are not demo data and not counted in `rows`.

        Rows without an `id` of a reserved table are numbered on from its next free id.
        """
        numbered = "id" not in attnames and model in self._next_id
        if numbered:
            first = self._next_id[model]
            # (id,) + row for each row, without a Python-level step per row.
            rows = map(tuple.__add__, zip(itertools.count(first)), rows)
            attnames = ("id", *attnames)
        written = self._write(model, attnames, rows)
        if numbered:
            self._next_id[model] = first + written
        label = model._meta.label_lower
        tally = self.derived_rows if derived else self.rows
        tally[label] = tally.get(label, 0) + written
        return written

    def _write(self, model, attnames, rows) -> int:
        raise NotImplementedError

    def prepare(self, *model_classes: type[models.Model]) -> None:
        """Get the tables ready for a load (see CopyWriter)."""

    def finish(self) -> None:
        if connection.vendor != "postgresql":
            return  # SQLite's AUTOINCREMENT follows the largest id inserted
        with connection.cursor() as cursor:
            for model, next_id in self._next_id.items():
                if next_id > self._first_id[model]:
                    cursor.execute(
                        "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                        [connection.ops.quote_name(model._meta.db_table), next_id - 1],
                    )


# Indexes of the encounter tables that a big load keeps: their entries arrive
# in key order (dates, ids that grow with them) or under a few keys (teams,
# sites, workers), so PostgreSQL appends them, on its own core, while Python
# makes the next rows; built afterwards, they waited for the load to end
# (a million encounters: 19.7 -> 18.3 s). Indexes on persons, in random order,
# are still built after the load: kept, they slowed the load more than they saved.
APPENDED_INDEX_TABLES = ("encounters_encounter", "encounters_encounter_workers")
APPENDED_INDEX_KEYS = ("occurred_on", "occurred_at", "team_id", "site_id", "outing_id", "created_by_id", "user_id")


class CopyWriter(BulkWriter):
    """COPY … FROM STDIN in the binary format through psycopg 3: an order of magnitude faster than INSERT.

    `rows` may be a generator: PostgreSQL stores rows while Python makes the
    next ones. It must not query the database (the connection is busy with
    the COPY until it ends).
    """

    name = "copy"

    def __init__(self, *, suspend_constraints: bool = False):
        super().__init__()
        self.suspend_constraints = suspend_constraints
        self._suspended: list[tuple[str, str]] = []
        self._types: dict[str, dict[str, int]] = {}

    def prepare(self, *model_classes: type[models.Model]) -> None:
        """For a big load: drop the tables' foreign keys and plain indexes (but those of
        `APPENDED_INDEX_KEYS`); `finish` re-creates them.

        The report rollups' tables too: their secondary indexes cost as much per row as the big tables'.

        PostgreSQL's own advice for populating a database: maintaining a dozen
        indexes row by row, and checking each row's foreign keys with a
        trigger (queued until commit, as Django's constraints are deferred),
        costs several times more than building the indexes once and checking
        every row with one join when the constraint is added back. It all
        happens in the load's transaction: if anything fails, nothing was
        ever dropped. The tables stay locked until the load commits. Primary
        keys and unique constraints stay. Only the tables' owner may do this;
        for anyone else the rows are checked and indexed one by one as usual.
        """
        if not self.suspend_constraints:
            return
        tables = [model._meta.db_table for model in model_classes]
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY 1, 2",
                    [tables],
                )
                foreign_keys = cursor.fetchall()
                cursor.execute(
                    "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
                    "WHERE indrelid = ANY(%s::regclass[]) "
                    "AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = indexrelid) "
                    "AND (indrelid <> ALL(%s::regclass[]) OR NOT EXISTS (SELECT 1 FROM pg_attribute "
                    "WHERE attrelid = indrelid AND attnum = indkey[0] AND attname = ANY(%s))) ORDER BY 1",
                    [tables, list(APPENDED_INDEX_TABLES), list(APPENDED_INDEX_KEYS)],
                )
                indexes = cursor.fetchall()
                suspended = []
                for table, name, definition in foreign_keys:
                    constraint = connection.ops.quote_name(name)
                    cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}")
                    suspended.append((f"ALTER TABLE {table} ADD CONSTRAINT {constraint} {definition}", "constraint"))
                for name, definition in indexes:
                    cursor.execute(f"DROP INDEX {name}")
                    suspended.append((definition, "index"))
        except DatabaseError:
            return
        # Indexes first: then adding the constraints checks indexed tables.
        self._suspended = sorted(suspended, key=lambda item: item[1] != "index")

    def _write(self, model, attnames, rows):
        fields = {f.attname: f for f in model._meta.concrete_fields}
        names = [fields[name].column for name in attnames]
        columns = ", ".join(connection.ops.quote_name(name) for name in names)
        table = connection.ops.quote_name(model._meta.db_table)
        count = 0
        with connection.cursor() as cursor:
            # The binary format spares PostgreSQL parsing text (and psycopg writing it), but it
            # casts nothing: each value must be sent as its column's exact type.
            types = self._column_types(cursor, table, names)
            copy_sql = f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)"
            with cursor.cursor.copy(copy_sql) as copy:
                copy.set_types(types)
                write_row = copy.write_row
                for row in rows:
                    write_row(row)
                    count += 1
        return count

    def _column_types(self, cursor, table: str, columns: list[str]) -> list[int]:
        """The type oids of these columns, read from the catalogue once per table (before its COPY starts)."""
        if table not in self._types:
            cursor.execute(
                "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0", [table]
            )
            self._types[table] = dict(cursor.fetchall())
        return [self._types[table][column] for column in columns]

    def finish(self):
        super().finish()
        with connection.cursor() as cursor:
            if self._suspended:
                # Room to sort in memory while building the indexes (this transaction only).
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for statement, _kind in self._suspended:
                cursor.execute(statement)
            self._suspended = []
            # Let the query planner see the new volumes at once.
            for label in [*self.rows, *self.derived_rows]:
                table = connection.ops.quote_name(_model_for_label(label)._meta.db_table)
                cursor.execute(f"ANALYZE {table}")


class BulkCreateWriter(BulkWriter):
    """`bulk_create` in batches: portable (SQLite), slower than COPY."""

    name = "bulk_create"
    batch_size = 2000

    def _write(self, model, attnames, rows):
        # Model instances a batch at a time: a chunk of them would hold far more memory than the tuples.
        count = 0
        rows = iter(rows)
        while batch := list(islice(rows, self.batch_size)):
            objects = [model(**dict(zip(attnames, row, strict=True))) for row in batch]
            model._base_manager.bulk_create(objects, batch_size=self.batch_size)
            count += len(objects)
        return count


def _model_for_label(label: str) -> type[models.Model]:
    from django.apps import apps

    return apps.get_model(label)


# From this many encounters on, a PostgreSQL load drops and re-creates the
# indexes and foreign keys of the tables it fills (see CopyWriter.prepare):
# below it, rebuilding the indexes of existing rows would cost more than it saves.
SUSPEND_CONSTRAINTS_FROM = 50_000


def writer_for_connection(encounters: int = 0) -> BulkWriter:
    """COPY on PostgreSQL, bulk_create elsewhere."""
    if connection.vendor == "postgresql":
        return CopyWriter(suspend_constraints=encounters >= SUSPEND_CONSTRAINTS_FROM)
    return BulkCreateWriter()


# Result ----------------------------------------------------------------------


@dataclass
class DemoLogin:
    email: str
    full_name: str
    role: str
    superuser: bool
    # None when the user existed before (with --force) and was left alone.
    password: str | None


@dataclass
class SeedResult:
    counts: dict[str, int] = field(default_factory=dict)  # model label -> rows created
    logins: list[DemoLogin] = field(default_factory=list)
    loader: str = ""
    bulk_rows: int = 0
    seconds: float = 0.0
    period: tuple[datetime.date, datetime.date] | None = None

    @property
    def rows_per_second(self) -> float:
        return self.bulk_rows / self.seconds if self.seconds else 0.0


# Entry points ------------------------------------------------------------------

# Tables that make a database "not empty" for the demo: any user or any of
# the records the demo would create. Municipalities come from a migration
# and do not count.
DATA_MODELS = (User, Team, FieldSite, Outing, Encounter, Person, PartnerOrganisation, Network)


# The tables the BulkWriter loads.
BULK_MODELS = (
    Outing,
    Outing.participants.through,
    ClientFeedback,
    Encounter,
    Encounter.workers.through,
    Referral,
    FollowUp,
    Person,
    Consent,
)


# The tables the report rollups count.
ROLLUP_SOURCES = (Outing, Encounter, ClientFeedback)


def database_has_data() -> bool:
    return any(model._base_manager.exists() for model in DATA_MODELS)


def validate_demo_password(password: str) -> None:
    """Run the password validators against each demo user (raises ValidationError)."""
    for email, full_name, *_rest in USERS:
        password_validation.validate_password(password, User(email=email, full_name=full_name))


def seed_demo(
    *,
    seed: int = DEFAULT_SEED,
    encounters: int = DEFAULT_ENCOUNTERS,
    password: str = DEMO_PASSWORD,
    today: datetime.date | None = None,
    writer: BulkWriter | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SeedResult:
    """Fill the database with demo data; all or nothing, in one transaction.

    The caller decides whether the database may already hold data (see
    `database_has_data`); on a non-empty database existing demo users,
    teams, sites, partners and networks are reused and the rest is added.
    """
    if encounters < 0:
        raise ValueError("encounters must be zero or more")
    validate_demo_password(password)
    started = time.perf_counter()
    writer = writer or writer_for_connection(encounters)
    with transaction.atomic():
        # The rollups counted while generating are the whole rollups only if nothing was there to count before.
        count_rollups = not any(model._base_manager.exists() for model in ROLLUP_SOURCES)
        writer.reserve(*BULK_MODELS, *ROLLUP_MODELS)
        # The rollups are filled in bulk too, counted or rebuilt.
        writer.prepare(*BULK_MODELS, *ROLLUP_MODELS)
        seeder = _Seeder(
            rng=random.Random(seed),
            encounters=encounters,
            password=password,
            today=today or timezone.localdate(),
            writer=writer,
            progress=progress,
            count_rollups=count_rollups,
        )
        result = seeder.run()
        writer.finish()
        AuditEntry.objects.create(
            actor=None,
            action=AuditEntry.Action.IMPORT,
            model="demo",
            object_id=f"seed {seed}",
            changes=sorted(label for label, count in result.counts.items() if count),
        )
    result.loader = writer.name
    result.bulk_rows = sum(writer.rows.values())
    result.seconds = time.perf_counter() - started
    return result


# The generator ------------------------------------------------------------------


class _Person:
    __slots__ = (
        "alias", "birth_year", "count", "created_by", "engaged_on", "first_at", "first_on", "gender", "id", "team",
    )  # fmt: skip

    def __init__(self, id_, team, gender, birth_year, alias):
        self.id, self.team, self.gender, self.birth_year, self.alias = id_, team, gender, birth_year, alias
        self.first_at = None  # the first encounter's time and (local) day
        self.first_on = None
        self.count = 0
        self.engaged_on = None
        self.created_by = None


class _Seeder:
    def __init__(self, *, rng, encounters, password, today, writer, progress, count_rollups):
        self.rng = rng
        self.n_encounters = encounters
        self.password = password
        self.today = today
        self.writer = writer
        self.progress = progress
        self.count_rollups = count_rollups
        self.rollups = RollupCounts()
        self.result = SeedResult()
        self.counts: dict[str, int] = {}
        # The period: from the first day of the month thirteen months ago to today.
        months = today.year * 12 + today.month - 1 - 13
        self.start = datetime.date(months // 12, months % 12 + 1, 1)
        self.result.period = (self.start, today)
        self.days = [self.start + datetime.timedelta(days=d) for d in range((today - self.start).days)]

    def count(self, model: type[models.Model], n: int = 1) -> None:
        label = model._meta.label_lower
        self.counts[label] = self.counts.get(label, 0) + n

    def run(self) -> SeedResult:
        self._reference_data()
        self._partners_and_networks()
        self._communication_and_observations()
        seed_network_work(
            rng=self.rng,
            today=self.today,
            start=self.start,
            coordinator=self.coordinator,
            worker=self.users["worker@example.org"],
            team=self.teams["kuopio"],
            municipalities=self.municipalities,
            count=self.count,
        )
        self._outings()
        self._encounters()
        self._persons()
        if self.count_rollups:
            first_on = {person.id: person.first_on for person in self.persons if person.first_on}
            self.rollups.write(self.writer, first_on)
            # Referrals are few (one in fifteen encounters): their rollup is read from the loaded rows.
            referral_rollups.rebuild()
        else:
            # Added to rows that were there before: the report rollups from all the rows, in the load's transaction.
            rollups.rebuild_all()
        for label, n in self.writer.rows.items():
            self.counts[label] = self.counts.get(label, 0) + n
        self.result.counts = dict(sorted(self.counts.items()))
        return self.result

    # Reference data ------------------------------------------------------

    def _reference_data(self) -> None:
        Municipality.objects.filter(code__in=ALL_MUNICIPALITIES).update(outreach_active=True)
        self.municipalities = {m.code: m for m in Municipality.objects.filter(code__in=ALL_MUNICIPALITIES)}
        area, created = Area.objects.get_or_create(name=AREA_NAME)
        self.count(Area, created)
        self.teams: dict[str, Team] = {}
        for key, (name, codes) in TEAMS.items():
            team, created = Team.objects.get_or_create(name=name, defaults={"area": area})
            if created:
                team.municipalities.set([self.municipalities[c] for c in codes])
            self.count(Team, created)
            self.teams[key] = team

        self.users: dict[str, User] = {}
        # The demo's users share one password: hashed once (Argon2 takes a tenth of a second a time).
        password_hash = make_password(self.password)
        for email, full_name, role, team_keys, superuser in USERS:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = user_create(
                    actor=None,
                    email=email,
                    full_name=full_name,
                    role=role,
                    teams=[self.teams[k] for k in team_keys],
                    password_hash=password_hash,
                    is_superuser=superuser,
                )
                self.count(User)
                password = self.password
            else:
                password = None
            self.users[email] = user
            if email in DEMO_LOGIN_EMAILS:
                self.result.logins.append(DemoLogin(email, user.full_name, user.role, user.is_superuser, password))
        self.result.logins.sort(key=lambda login: DEMO_LOGIN_EMAILS.index(login.email))
        self.expert = self.users["expert@example.org"]
        # Who goes out, per team: workers (not the coordinator or admin).
        self.team_workers = {
            key: [self.users[email] for email, _n, role, teams, _s in USERS if role == Role.WORKER and key in teams]
            for key in TEAMS
        }
        self.coordinator = self.users["coordinator@example.org"]

        self.sites: dict[str, FieldSite] = {}
        for spec in SITES:
            site = FieldSite.objects.filter(name=spec.name, municipality=self.municipalities[spec.municipality]).first()
            if site is None:
                weekday, start, end, every = spec.schedule or (None, None, None, None)
                latitude, longitude = spec.coordinates or (None, None)
                site = FieldSite.objects.create(
                    name=spec.name,
                    site_type=spec.site_type,
                    municipality=self.municipalities[spec.municipality],
                    team=self.teams[spec.team],
                    address=spec.address,
                    latitude=latitude,
                    longitude=longitude,
                    season_start_month=spec.season[0] if spec.season else None,
                    season_end_month=spec.season[1] if spec.season else None,
                    schedule_weekday=weekday,
                    schedule_start_time=start,
                    schedule_end_time=end,
                    schedule_every_weeks=every,
                )
                self.count(FieldSite)
            self.sites[spec.key] = site

    def _partners_and_networks(self) -> None:
        rng = self.rng
        self.partners: dict[str, PartnerOrganisation] = {}
        contacts: dict[str, list[ContactPerson]] = {}
        for spec in PARTNERS:
            partner = PartnerOrganisation.objects.filter(name=spec.name).first()
            if partner is None:
                partner = PartnerOrganisation.objects.create(
                    name=spec.name,
                    kind=spec.kind,
                    services=list(spec.services),
                    description=spec.description,
                    address=self.municipalities[spec.municipalities[0]].name_fi,
                )
                partner.municipalities.set([self.municipalities[c] for c in spec.municipalities])
                self.count(PartnerOrganisation)
                for name, title in spec.contacts:
                    email = _ascii(name).lower().replace(" ", ".") + "@example.org"
                    ContactPerson.objects.create(partner=partner, name=name, role=title, email=email)
                    self.count(ContactPerson)
            self.partners[spec.key] = partner
            contacts[spec.key] = list(partner.contacts.order_by("name"))
        # Referral targets: partners offering a service in a municipality, in spec order.
        self.partners_for: dict[tuple[str, str], list[int]] = {}
        for spec in PARTNERS:
            for service in spec.services:
                for code in spec.municipalities:
                    self.partners_for.setdefault((service, code), []).append(self.partners[spec.key].pk)

        staff = [self.coordinator, *self.team_workers["kuopio"][:2]]
        for name, kind, purpose, ways, member_keys, interval in NETWORKS:
            network = Network.objects.filter(name=name).first()
            if network is None:
                network = Network.objects.create(
                    name=name,
                    kind=kind,
                    purpose=purpose,
                    ways_of_cooperation=ways,
                    coordinating_team=self.teams["kuopio"],
                )
                NetworkMembership.objects.bulk_create(
                    NetworkMembership(
                        network=network,
                        organisation=self.partners[k],
                        joined_on=self.start - datetime.timedelta(days=rng.randint(30, 400)),
                    )
                    for k in member_keys
                )
                self.count(NetworkMembership, len(member_keys))
                network.member_contacts.set([c for k in member_keys for c in contacts[k]])
                self.count(Network)
            day = self.start + datetime.timedelta(days=rng.randint(5, 20))
            # Meetings through the period and the next one already agreed.
            while day <= self.today + datetime.timedelta(days=interval):
                meeting_day = _next_weekday(day, 1)
                keys = rng.sample(member_keys, rng.randint(3, len(member_keys)))
                keys.sort(key=member_keys.index)
                past = meeting_day < self.today
                meeting = NetworkMeeting.objects.create(
                    network=network,
                    date=meeting_day,
                    participant_count=len(keys) + 2 + rng.randint(0, 4) if past else None,
                    topics="\n".join(rng.sample(MEETING_TOPICS, 2)),
                    decisions=rng.choice(MEETING_DECISIONS) if past else "",
                )
                meeting.organisations.set([self.partners[k] for k in keys])
                meeting.contacts.set([contacts[k][0] for k in keys])
                meeting.staff.set(staff[: rng.randint(1, 3)])
                self.count(NetworkMeeting)
                day += datetime.timedelta(days=interval + rng.randint(-7, 7))

    def _communication_and_observations(self) -> None:
        rng = self.rng
        span = len(self.days)
        presenter, writer = self.coordinator, self.users["worker@example.org"]
        activities = []
        for index, (team_key, kind, title, audience, size) in enumerate(COMMUNICATION):
            day = self.days[min(span - 1, (index * span) // len(COMMUNICATION) + rng.randint(0, 20))]
            activities.append(
                CommunicationActivity(
                    team=self.teams[team_key],
                    kind=kind,
                    title=title,
                    date=day,
                    audience=audience,
                    audience_size=size,
                    created_by=presenter if kind == CommKind.PRESENTATION else writer,
                )
            )
        CommunicationActivity.objects.bulk_create(activities)
        self.count(CommunicationActivity, len(activities))

        observations = []
        for index, (theme, site_key, description) in enumerate(OBSERVATIONS):
            site = self.sites[site_key]
            spec = _site_spec(site_key)
            observed = self.days[min(span - 1, (index * span) // len(OBSERVATIONS) + rng.randint(0, 25))]
            if not site.in_season(observed):  # street work happens in season only
                observed = rng.choice([d for d in self.days if site.in_season(d)])
            reported = observed + datetime.timedelta(days=rng.randint(7, 60)) if rng.random() < 0.7 else None
            if reported is not None and reported > self.today:
                reported = None
            observations.append(
                StructuralObservation(
                    team=self.teams[spec.team],
                    theme=theme,
                    municipality=site.municipality,
                    site=site,
                    observed_on=observed,
                    description=description,
                    reported_to=rng.choice(REPORTED_TO) if reported else "",
                    reported_on=reported,
                    created_by=self.coordinator if reported else self.team_workers[spec.team][0],
                )
            )
        StructuralObservation.objects.bulk_create(observations)
        self.count(StructuralObservation, len(observations))

    # Outings -----------------------------------------------------------------

    def _site_outing_plans(self, index: int, spec: SiteSpec, count: int) -> list[OutingPlan]:
        """`count` done (a few cancelled) outings at one site in the past, on its schedule where it has one,
        and its scheduled outings of the next two weeks, planned."""
        rng = self.rng
        random_ = rng.random
        site = self.sites[spec.key]
        plans: list[OutingPlan] = []
        in_season = [d for d in self.days if site.in_season(d)]
        scheduled = [d for d in in_season if _on_schedule(spec, d)] if spec.schedule else []
        scheduled_set = set(scheduled)
        others = [d for d in in_season if d not in scheduled_set and (spec.weekends or d.weekday() < 5)]
        chosen = rng.sample(scheduled, min(count, len(scheduled)))
        # Extra visits off the schedule; with more outings than days, several a day.
        extra = others or scheduled
        while len(chosen) < count and extra:
            chosen.extend(rng.sample(extra, min(count - len(chosen), len(extra))))
        chosen.sort()
        for day in chosen:
            start, length = self._outing_time(spec, day in scheduled_set)
            status = CANCELLED if random_() < 0.04 else DONE
            plans.append((day, start, index, status, length))
        # Planned: the site's scheduled dates in the next two weeks.
        if spec.schedule:
            for offset in range(14):
                day = self.today + datetime.timedelta(days=offset)
                if site.in_season(day) and _on_schedule(spec, day):
                    start, length = self._outing_time(spec, True)
                    plans.append((day, start, index, PLANNED, length))
        return plans

    def _outings(self) -> None:
        """Plan the outings in memory (compact tuples) and write them with participants and feedback.

        Done outings: about one per eight encounters, shared between sites by
        `outing_share`, on the site's schedule where it has one (extra visits
        on other weekdays), only in season. A few are cancelled; the
        scheduled ones of the next two weeks are planned.
        """
        rng = self.rng
        random_ = rng.random
        target = max(30, round(self.n_encounters / 8))
        shares = sum(spec.outing_share for spec in SITES)
        plans: list[OutingPlan] = []
        for index, spec in enumerate(SITES):
            if spec.outing_share:
                plans.extend(self._site_outing_plans(index, spec, max(1, round(target * spec.outing_share / shares))))
        # A couple of unscheduled visits planned as well.
        for key in ("kuo_event", "kuo_library"):
            index = next(i for i, s in enumerate(SITES) if s.key == key)
            day = self.today + datetime.timedelta(days=rng.randint(1, 13))
            start, length = self._outing_time(SITES[index], False)
            plans.append((day, start, index, PLANNED, length))
        plans.sort()

        ids = self.writer.allocate_ids(Outing, len(plans))
        site_ids = [self.sites[spec.key].pk for spec in SITES]
        team_ids = [self.teams[spec.team].pk for spec in SITES]
        workers = {key: [u.pk for u in users] for key, users in self.team_workers.items()}
        expert_id = self.expert.pk
        crews: dict[tuple[int, ...], tuple[int, ...]] = {}
        # What the encounter generator needs: (outing id, site index, start datetime, minutes, staff, all).
        self.done_outings: list[tuple[int, int, datetime.datetime, int, tuple[int, ...], tuple[int, ...]]] = []
        outing_rows: list[tuple] = []
        participant_rows: list[tuple[int, int]] = []
        feedback_rows: list[tuple] = []

        def flush():
            self.writer.write(Outing, OUTING_COLUMNS, outing_rows)
            self.writer.write(Outing.participants.through, ("outing_id", "user_id"), participant_rows)
            self.writer.write(ClientFeedback, FEEDBACK_COLUMNS, feedback_rows)
            outing_rows.clear()
            participant_rows.clear()
            feedback_rows.clear()

        for outing_id, (day, start, index, status, length) in zip(ids, plans, strict=True):
            spec = SITES[index]
            profile = SITE_TYPE_PROFILE[spec.site_type]
            staff = tuple(rng.sample(workers[spec.team], min(len(workers[spec.team]), rng.choice((2, 2, 3)))))
            everyone = (*staff, expert_id) if spec.team == "kuopio" and random_() < 0.25 else staff
            # One tuple per combination of people, not per outing: there may be hundreds of thousands.
            staff, everyone = crews.setdefault(staff, staff), crews.setdefault(everyone, everyone)
            begins = datetime.datetime.combine(day, datetime.time(start // 60, start % 60), tzinfo=DOMAIN_ZONE)
            ends = (start + length) // 60, (start + length) % 60
            tally = rng.randint(*profile["tally"]) if status == DONE else 0
            observations = ""
            notes = ""
            if status == DONE and random_() < 0.25:
                observations = rng.choice(OUTING_OBSERVATIONS)
            elif status == CANCELLED:
                notes = rng.choice(CANCEL_NOTES)
            created_at = begins - datetime.timedelta(days=rng.randint(1, 14))
            updated_at = begins + MINUTES[length + 30] if status == DONE else created_at
            outing_rows.append(
                (
                    outing_id,
                    team_ids[index],
                    site_ids[index],
                    day,
                    begins.time(),
                    datetime.time(*ends),
                    status,
                    tally,
                    observations,
                    notes,
                    staff[0],
                    created_at,
                    updated_at,
                )
            )
            participant_rows.extend((outing_id, user_id) for user_id in everyone)
            if status == DONE:
                self.done_outings.append((outing_id, index, begins, length, staff, everyone))
                self.rollups.done_outing(
                    (day, team_ids[index], site_ids[index]), seconds=length * 60, participants=everyone, tallied=tally
                )
                if random_() < profile["fb"]:
                    for _i in range(rng.randint(1, 5)):
                        comment = rng.choice(FEEDBACK_COMMENTS) if random_() < 0.2 else ""
                        score = FEEDBACK_SCORES.pick(random_)
                        self.rollups.feedback(
                            day, site_ids[index], team_ids[index], score, GOT_HELP_BY_SCORE[score],
                            TALK_AGAIN_BY_SCORE[score],
                        )  # fmt: skip
                        feedback_rows.append(
                            (
                                site_ids[index],
                                outing_id,
                                day,
                                score,
                                GOT_HELP_BY_SCORE[score],
                                TALK_AGAIN_BY_SCORE[score],
                                FEEDBACK_LANGUAGES.pick(random_),
                                comment,
                                False,
                                False,
                            )
                        )
            if len(outing_rows) >= CHUNK_SIZE:
                flush()
        flush()

    def _outing_time(self, spec: SiteSpec, on_schedule: bool) -> tuple[int, int]:
        """Start (minutes after midnight) and length (minutes) of an outing."""
        if on_schedule and spec.schedule:
            _weekday, start, end, _every = spec.schedule
            return start.hour * 60 + start.minute, (end.hour - start.hour) * 60 + end.minute - start.minute
        start, hours = self.rng.choice(spec.slots)
        return start.hour * 60 + start.minute, hours * 60

    # Encounters ------------------------------------------------------------------

    def _encounters(self) -> None:
        """Generate the encounters in date order, in chunks, with their workers, referrals and follow-ups.

        Most belong to done outings (shared by the site type's weight, times
        a jitter); the rest are phone calls and meetings at the team's office
        without an outing. Date order lets a person's first encounter be the
        first contact and their later ones returning visits.

        Rows are generated while the writer consumes them: with COPY,
        PostgreSQL stores one row while Python makes the next (two cores).
        """
        total = self.n_encounters
        follow_ups = round(total * FOLLOW_UP_SHARE) if self.done_outings else total
        per_outing = self._encounters_per_outing(total - follow_ups)
        follow_up_days = self._follow_up_days(follow_ups)

        site_ids = {spec.key: self.sites[spec.key].pk for spec in SITES}
        team_ids = {key: team.pk for key, team in self.teams.items()}
        office_workers = {key: tuple(u.pk for u in users) for key, users in self.team_workers.items()}

        def at_outings():
            for i, (outing_id, site_index, begins, length, staff, everyone) in enumerate(self.done_outings):
                if per_outing[i]:
                    spec = SITES[site_index]
                    arguments = (per_outing[i], spec.team, team_ids[spec.team], spec.municipality, spec.site_type,
                                 site_ids[spec.key], outing_id, begins, length, staff, everyone, None)  # fmt: skip
                    yield begins.date(), begins.hour * 60 + begins.minute, i, arguments

        def at_offices():
            for i, ((day, team), count) in enumerate(follow_up_days):
                office = _site_spec(OFFICE_FOR_TEAM[team])
                begins = datetime.datetime.combine(day, datetime.time(9), tzinfo=DOMAIN_ZONE)
                staff = office_workers[team]
                arguments = (count, team, team_ids[team], office.municipality, office.site_type, site_ids[office.key],
                             None, begins, 6 * 60, staff, staff, FOLLOW_UP_KINDS)  # fmt: skip
                yield day, 9 * 60, len(self.done_outings) + i, arguments

        # Both are in date order already: merging them keeps memory flat.
        pending = heapq.merge(at_outings(), at_offices(), key=lambda slot: slot[:3])
        self.persons: list[_Person] = []
        self.seen: dict[str, list[_Person]] = {key: [] for key in TEAMS}
        written = 0
        while True:
            self.worker_rows: list[tuple[int, int]] = []
            self.referral_rows: list[tuple] = []
            self.follow_up_rows: list[tuple] = []
            count = self.writer.write(Encounter, ENCOUNTER_COLUMNS, self._chunk(pending))
            if not count:
                break
            self.writer.write(Encounter.workers.through, ("encounter_id", "user_id"), self.worker_rows)
            self.writer.write(Referral, REFERRAL_COLUMNS, self.referral_rows)
            self.writer.write(FollowUp, FOLLOW_UP_COLUMNS, self.follow_up_rows)
            written += count
            if self.progress:
                self.progress(written, total)

    def _encounters_per_outing(self, total: int) -> array:
        """Share `total` between the done outings by site type weight times a jitter.

        Each gets the floor of its share; the remainder goes to the largest fractions.
        """
        random_ = self.rng.random
        weights = [
            SITE_TYPE_PROFILE[SITES[index].site_type]["weight"] * (0.6 + 0.8 * random_())
            for _id, index, *_rest in self.done_outings
        ]
        scale = total / (sum(weights) or 1.0)
        per_outing = array("l", (int(w * scale) for w in weights))
        short = total - sum(per_outing)
        by_fraction = sorted(range(len(weights)), key=lambda i: (per_outing[i] - weights[i] * scale, i))
        for i in by_fraction[:short]:
            per_outing[i] += 1
        return per_outing

    def _follow_up_days(self, total: int) -> list[tuple[tuple[datetime.date, str], int]]:
        """Phone calls and meetings on weekdays of the period, by team (Kuopio makes more): ((day, team), count)."""
        random_ = self.rng.random
        weekdays = [d for d in self.days if d.weekday() < 5]
        days: dict[tuple[datetime.date, str], int] = {}
        for _i in range(total):
            key = (weekdays[int(random_() * len(weekdays))], "kuopio" if random_() < 0.75 else "tuka")
            days[key] = days.get(key, 0) + 1
        return sorted(days.items())

    def _chunk(self, pending):
        """Rows of the next slots until a chunk is full (a slot is never split)."""
        produced = 0
        for _day, _start, _order, arguments in pending:
            yield from self._emit(*arguments)
            produced += arguments[0]
            if produced >= CHUNK_SIZE:
                return

    def _emit(
        self,
        count,
        team,
        team_id,
        municipality,
        site_type,
        site_id,
        outing_id,
        begins,
        length,
        staff,
        everyone,
        contact_kind,
    ):
        """Yield `count` encounter rows of one outing (or of one day's calls at the office).

        The hot loop of a million-row load: locals, precomputed tables, bit
        masks instead of lists of codes, `random()` instead of `randint()`.
        Link rows (workers, referrals, follow-ups) go to lists written after
        the chunk.
        """
        rng = self.rng
        random_ = rng.random
        worker_rows = self.worker_rows
        profile = SITE_TYPE_PROFILE[site_type]
        p_conversation = 0.9 if contact_kind else profile["conversation"]
        p_linked = 0.6 if contact_kind else profile["linked"]
        p_material = 0.25 if site_type == SiteType.FOOD_DISTRIBUTION else 0.08
        needs_pick = NEEDS_BY_SITE_TYPE[site_type].pick
        brief_actions_pick = (BRIEF_ACTIONS.get(site_type) or BRIEF_ACTIONS[None]).pick
        gender_pick, age_pick, first_pick = GENDERS.pick, AGE_GROUPS.pick, FIRST_CONTACT.pick
        seen = self.seen[team]
        year = begins.year
        # Times in UTC: the same instants as local time, but writing a local time costs a time zone
        # lookup per value (three per row). The same offset at the start and the latest time of a
        # row (created a few hours after the outing's end) means no change of clocks in between, so
        # adding minutes in UTC gives what adding them to the local time would.
        day = begins.date()
        assert begins.utcoffset() == (begins + MINUTES[length + 185]).utcoffset(), "no change of clocks in an outing"
        begins = begins.astimezone(datetime.UTC)
        conversation_content = partial(self._conversation_content, needs_pick, p_material)
        with_expert = len(everyone) > len(staff)
        kind_code = FIELD
        # What the report rollups count, by MixKey, needs and person (RollupCounts.encounters).
        mix: dict[tuple, int] = {}
        need_masks: dict[int, int] = {}
        persons: dict[int, int] = {}
        for encounter_id in self.writer.allocate_ids(Encounter, count):
            occurred = begins + MINUTES[int(random_() * length)]
            if contact_kind is not None:
                kind_code = contact_kind.pick(random_)
            conversation = random_() < p_conversation
            person = None
            if random_() < p_linked:
                person = self._pick_person(team, seen, new_allowed=contact_kind is None)
            if person is not None:
                gender = person.gender
                age_group = age_group_for(person.birth_year, year)
                first = person.count == 0
                if first:
                    person.first_at, person.first_on = occurred, day
                person.count += 1
                if person.count == 3 and random_() < 0.45:
                    person.engaged_on = day
                persons[person.id] = persons.get(person.id, 0) + 1
            else:
                gender = gender_pick(random_)
                age_group = age_pick(random_)
                first = first_pick(random_)
            if conversation:
                needs, actions, refer, duration, notes = conversation_content(kind_code, person is not None)
            else:
                refer, notes = False, ""
                needs = needs_pick(random_) if random_() < 0.5 else 0
                actions = brief_actions_pick(random_)
                duration = 1 + int(random_() * 5)
            # Who logged it: one of the workers present, or the expert by
            # experience (anonymous encounters only); sometimes with a colleague.
            logger = staff[int(random_() * len(staff))]
            if person is None and with_expert and random_() < 0.15:
                logger = everyone[-1]
            worker_rows.append((encounter_id, logger))
            if random_() < 0.3:
                present = staff if person is not None else everyone
                second = present[int(random_() * len(present))]
                if second != logger:
                    worker_rows.append((encounter_id, second))
            created_at = occurred + MINUTES[5 + int(random_() * 180)]
            if person is not None and person.created_by is None:
                person.created_by = logger
            if refer:
                self._referral(encounter_id, team, team_id, municipality, person, day, occurred, needs, logger)
            depth = CONVERSATION if conversation else BRIEF
            key = (gender, age_group, depth, kind_code, person is None)
            mix[key] = mix.get(key, 0) + 1
            need_masks[needs] = need_masks.get(needs, 0) + 1
            yield (
                encounter_id, team_id, outing_id, site_id, occurred, day, kind_code, depth, person is None,
                person.id if person is not None else None, gender, age_group, first, needs, actions, duration, notes,
                logger, created_at, created_at,
            )  # fmt: skip
        # An outing, or a day's calls at the office, ends on the day it began.
        self.rollups.encounters((begins.date(), team_id, site_id), outing_id, mix, need_masks, persons)

    def _conversation_content(
        self, needs_pick: Callable, p_material: float, kind_code: str, with_person: bool
    ) -> tuple[int, int, bool, int, str]:
        """What a conversation in `_emit` was about: (needs, actions, referred, duration, notes)."""
        random_ = self.rng.random
        refer = False
        notes = ""
        needs = 0
        for _n in range(NEED_COUNT.pick(random_)):
            needs |= needs_pick(random_)
        actions = ADVICE_BIT if random_() < 0.7 else 0
        if random_() < 0.45:
            actions |= GUIDANCE_BIT
        if random_() < p_material:
            actions |= MATERIAL_BIT
        if random_() < 0.04:
            actions |= ACCOMPANIMENT_BIT
        if random_() < 0.02:
            actions |= CRISIS_BIT
        if random_() < REFERRAL_SHARE:
            refer = True
            actions |= REFERRAL_BIT
        if not actions:
            actions = ADVICE_BIT
        if kind_code == MEETING:
            duration = 30 + int(random_() * 61)
        elif kind_code == PHONE:
            duration = 5 + int(random_() * 26)
        else:
            duration = 10 + int(random_() * 36)
        if with_person and random_() < 0.3:
            notes = ENCOUNTER_NOTES[int(random_() * len(ENCOUNTER_NOTES))]
        return needs, actions, refer, duration, notes

    def _pick_person(self, team, seen, new_allowed) -> _Person | None:
        """Someone met before (those met lately more likely) or, now and then, someone new."""
        rng = self.rng
        if not new_allowed and len(seen) < 3:
            return None  # a call to one of very few known persons would make them everyone's regular
        # Someone new now and then; more often while the team knows few people.
        if seen and (not new_allowed or rng.random() >= max(0.3, 1 / (1 + len(seen)))):
            if rng.random() < 0.5:
                return seen[int(len(seen) * rng.random())]
            return seen[-1 - int(len(seen) * rng.random() ** 1.5)]
        if not new_allowed:
            return None
        gender = PERSON_GENDERS.pick(rng.random)
        low, high = PERSON_AGES.pick(rng.random)
        birth_year = self.today.year - rng.randint(low, high)
        if rng.random() < 0.6 and gender in FIRST_NAMES:
            alias = f"{rng.choice(FIRST_NAMES[gender])} {rng.choice(LAST_NAMES)[0]}."
        else:
            alias = rng.choice(NICKNAMES)
        person = _Person(self.writer.next_id(Person), team, gender, birth_year, alias)
        self.persons.append(person)
        seen.append(person)
        return person

    def _referral(self, encounter_id, team, team_id, municipality, person, day, occurred, needs, created_by) -> None:
        """A referral from a conversation, with a status story that fits its age, and its follow-ups."""
        rng = self.rng
        today = self.today
        referred_on = day
        need_bits = [bit for bit in SERVICES_FOR_NEED if needs & bit]
        service = SERVICES_FOR_NEED[rng.choice(need_bits)].pick(rng.random) if need_bits else ADULT_SOCIAL_WORK
        candidates = self.partners_for.get((service, municipality), [])
        partner = rng.choice(candidates) if candidates and rng.random() < 0.75 else None
        age = (today - referred_on).days
        status = next(table for limit, table in REFERRAL_STATUS_BY_AGE if limit is None or age < limit).pick(rng.random)

        def later(day, low, high):
            return min(today, day + datetime.timedelta(days=rng.randint(low, high)))

        made_on = connected_on = closed_on = None
        if status in (S.MADE, S.CONNECTED, S.NOT_REACHED) or (status in (S.DECLINED, S.ENDED) and rng.random() < 0.6):
            made_on = later(referred_on, 0, 3)
        if status == S.CONNECTED or (status == S.ENDED and made_on and rng.random() < 0.6):
            connected_on = later(made_on or referred_on, 2, 30)
        if status in (S.DECLINED, S.NOT_REACHED, S.ENDED):
            # Ended after a while in the service, or declined / not reached soon after.
            closed_on = later(connected_on, 5, 90) if connected_on else later(made_on or referred_on, 0, 30)
        changed_on = closed_on or connected_on or made_on or referred_on
        outcome = rng.choice(OUTCOME_NOTES[status]) if status in OUTCOME_NOTES and rng.random() < 0.5 else ""

        referral_id = self.writer.next_id(Referral)
        person_id = person.id if person is not None else None
        follow_up_due = None
        still_open = status in (S.SUGGESTED, S.MADE) or (status == S.CONNECTED and (today - changed_on).days < 45)
        if still_open:
            follow_up_due = changed_on + datetime.timedelta(days=rng.choice((7, 14, 21)))
            if follow_up_due < today - datetime.timedelta(days=3):
                # That one was done; the next is due this week or next.
                self.follow_up_rows.append(
                    (team_id, referral_id, person_id, created_by, follow_up_due, follow_up_due, PHONE, "",
                     created_by, _aware(follow_up_due))
                )  # fmt: skip
                follow_up_due = today + datetime.timedelta(days=rng.randint(-2, 13))
            self.follow_up_rows.append(
                (team_id, referral_id, person_id, created_by, follow_up_due, None,
                 PHONE if rng.random() < 0.7 else MEETING, "", created_by, _aware(min(today, changed_on)))
            )  # fmt: skip
        self.referral_rows.append(
            (referral_id, team_id, person_id, encounter_id, service, partner, status, referred_on, changed_on, made_on,
             connected_on, closed_on, follow_up_due, outcome, created_by, occurred + MINUTES[10],
             occurred + MINUTES[10])
        )  # fmt: skip

    # Persons -------------------------------------------------------------------

    def _persons(self) -> None:
        """Write the persons the encounters met, and name a few of them (with consent).

        Written after their encounters: foreign keys are checked when the
        transaction commits, and only now do we know when each was first met.
        """
        rng = self.rng
        today = self.today
        person_rows = []
        consent_rows = []
        team_ids = {key: team.pk for key, team in self.teams.items()}
        # A few of those met several times agreed to be named: one in ten, at least three.
        regulars = [index for index, person in enumerate(self.persons) if person.count >= 3]
        named_ones = set(rng.sample(regulars, min(len(regulars), max(3, len(regulars) // 10))))
        for index, person in enumerate(self.persons):
            named = index in named_ones
            first_name = last_name = identity_code = ""
            kind = Person.Kind.PSEUDONYMOUS.value
            if named:
                kind = Person.Kind.NAMED.value
                names = FIRST_NAMES.get(person.gender) or FIRST_NAMES[Gender.MALE]
                first_name, last_name = rng.choice(names), rng.choice(LAST_NAMES)
                if rng.random() < 0.5:
                    born = datetime.date(person.birth_year, rng.randint(1, 12), rng.randint(1, 28))
                    identity_code = fictional_identity_code(rng, born)
                assert person.first_on is not None, "a regular was met"
                given_on = min(today, person.first_on + datetime.timedelta(days=rng.randint(0, 60)))
                scopes = [Consent.Scope.PERSONAL_DATA.value]
                if rng.random() < 0.7:
                    scopes.append(Consent.Scope.CONTACT.value)
                if rng.random() < 0.5:
                    scopes.append(Consent.Scope.INFORMATION_SHARING.value)
                for scope in scopes:
                    withdrawn = None
                    if scope == Consent.Scope.INFORMATION_SHARING and rng.random() < 0.15:
                        withdrawn = min(today, given_on + datetime.timedelta(days=rng.randint(10, 120)))
                    consent_rows.append((person.id, scope, given_on, person.created_by, withdrawn, ""))
            person_rows.append(
                (
                    person.id,
                    team_ids[person.team],
                    kind,
                    person.alias,
                    person.birth_year,
                    person.gender,
                    first_name,
                    last_name,
                    identity_code,
                    "",
                    "",
                    person.engaged_on,
                    None,
                    "",
                    person.created_by,
                    person.first_at,
                    person.first_at,
                )
            )
        for chunk in _chunks(person_rows, CHUNK_SIZE):
            self.writer.write(Person, PERSON_COLUMNS, chunk)
        self.writer.write(
            Consent, ("person_id", "scope", "given_on", "recorded_by_id", "withdrawn_on", "notes"), consent_rows
        )


# Helpers ----------------------------------------------------------------------------


def _chunks(rows: list, size: int):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _site_spec(key: str) -> SiteSpec:
    return next(spec for spec in SITES if spec.key == key)


def _on_schedule(spec: SiteSpec, day: datetime.date) -> bool:
    assert spec.schedule is not None, "only called for sites with a schedule"
    weekday, _start, _end, every = spec.schedule
    # Every N weeks counted from a fixed Monday, so the rhythm does not shift with the period.
    return day.weekday() == weekday and ((day - datetime.date(2024, 1, 1)).days // 7) % every == 0


def _next_weekday(day: datetime.date, weekday: int) -> datetime.date:
    return day + datetime.timedelta(days=(weekday - day.weekday()) % 7)


def _aware(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(10), tzinfo=DOMAIN_ZONE)


def _ascii(text: str) -> str:
    return text.translate(str.maketrans("äöåÄÖÅ", "aoaAOA"))
