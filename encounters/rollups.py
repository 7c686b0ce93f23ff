"""Keeping the report rollups exact (see the rollup models in `encounters.models`).

Every rollup row is derived from Encounter alone, so maintenance is one
rule: whenever encounters change, recompute from the encounters table every
rollup row that the change can touch, in the same transaction. A change
touches the (day, site) slices of the encounter before and after it and the
person(s) it was linked to before and after. The services call
`encounters_changed` (or `persons_changed` for a merge) with one line; bulk
writes pass all their encounters at once and the slices are recomputed set
by set. `rebuild` recomputes everything (`manage.py rebuild_report_rollups`).

The recomputation is INSERT … SELECT … GROUP BY in SQL that SQLite and
PostgreSQL both run, so a slice costs two statements per table whatever its
size.

The encounters that belong to each outing are counted in outreach's
OutingEncounterCount, and the outing rollups are told which outings changed.

A file import writes its encounters in batches of a couple of thousand, and
the batches of a year's file touch nearly every day: recomputing after each
batch would recompute the whole year again and again (the cost growing with
the square of the file). The import runs its batches inside `deferred()`,
which recomputes what all of them touched once, at the end of the block and
in the same transaction.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Field, Model
from django.db.models.functions import Coalesce

from outreach import rollup_locks
from outreach import rollups as outing_rollups
from outreach.models import Outing, OutingEncounterCount
from outreach.vocabulary import AgeGroup, ContactKind, Depth, Gender, Need, OutingStatus

from .models import Encounter, EncounterDayCount, EncounterMixCount, Person, PersonDayCount, PersonFirstEncounter

# A condition is SQL with the placeholders {day}, {site}, {person} and {outing}, which
# name the rollup's columns on one side and the encounter's on the other,
# and its parameters.
Condition = tuple[str, list]

# The vocabulary columns of EncounterDayCount. Each counts the encounters with
# one code in one field: {column: (field, code)}; the needs, a bit mask, by
# bit: {column: bit}.
CODE_FIELDS: dict[str, tuple[str, str]] = {
    **{f"gender_{code}": ("gender", code) for code in Gender.values},
    **{f"age_{code}": ("age_group", code) for code in AgeGroup.values},
    **{f"kind_{code}": ("contact_kind", code) for code in ContactKind.values},
}
NEED_COLUMNS: dict[str, int] = {f"need_{code}": 1 << index for index, code in enumerate(Need.values)}
# The same columns as SQL conditions on the encounter row `e`: {column: condition}.
CODE_COLUMNS: dict[str, str] = {
    **{column: f"e.{field} = '{code}'" for column, (field, code) in CODE_FIELDS.items()},
    **{column: f"(e.needs & {bit}) <> 0" for column, bit in NEED_COLUMNS.items()},
}

# Above this many (day, site) slices a refresh recomputes whole days: one
# simple condition instead of a long OR.
_MAX_SLICES = 50
# Ids per IN (…) list, under SQLite's limit on query parameters.
_CHUNK = 500


@dataclass
class Touched:
    """What a change of encounters can touch: (day, site id) slices and person ids."""

    slices: set[tuple] = field(default_factory=set)
    persons: set[int] = field(default_factory=set)
    outings: set[int] = field(default_factory=set)

    def __or__(self, other: "Touched") -> "Touched":
        return Touched(self.slices | other.slices, self.persons | other.persons, self.outings | other.outings)


def touched_by(encounters: Iterable[Encounter]) -> Touched:
    """The slices and persons of these encounters as they are now (call before and after a change)."""
    touched = Touched()
    for encounter in encounters:
        touched.slices.add((encounter.occurred_on, encounter.site_id))
        if encounter.person_id is not None:
            touched.persons.add(encounter.person_id)
        if encounter.outing_id is not None:
            touched.outings.add(encounter.outing_id)
    return touched


def encounters_changed(*encounters: Encounter, before: Touched | None = None) -> None:
    """Recompute the rollups that these encounters (as they are now, and `before` a change) touch."""
    refresh(touched_by(encounters) | (before or Touched()))


def encounter_added(encounter: Encounter) -> None:
    """One encounter was created: add it to its slice's and its outing's counts in place.

    A recompute reads every encounter of the day at that site (at a busy
    site, hundreds) and of the outing; adding one to the counts it changes
    costs the same however many there are. Its person's rollups are
    recomputed (their first encounter may move); inside `deferred()` the whole
    refresh waits for the end of the block as any other.
    """
    if _pending.get() is not None:
        refresh(touched_by([encounter]))
        return
    _add_now(encounter)


@transaction.atomic(savepoint=False)
def _add_now(encounter: Encounter) -> None:
    persons = sorted(_with_roots({encounter.person_id} if encounter.person_id is not None else set()))
    outings = [encounter.outing_id] if encounter.outing_id is not None else []
    rollup_locks.lock(sites=[encounter.site_id], persons=persons, outings=outings)
    day = {"day": encounter.occurred_on, "team_id": encounter.team_id, "site_id": encounter.site_id}
    conversation = int(encounter.depth == Depth.CONVERSATION)
    codes = {column: int(getattr(encounter, name) == code) for column, (name, code) in CODE_FIELDS.items()}
    needs = set(encounter.needs or ())
    codes.update({column: int(column.removeprefix("need_") in needs) for column in NEED_COLUMNS})
    mix = {"gender": encounter.gender, "age_group": encounter.age_group, "depth": encounter.depth}
    additions = [
        (
            EncounterDayCount,
            day,
            {"total": 1, "anonymous": int(encounter.person_id is None), "conversation": conversation, **codes},
        ),
        (EncounterMixCount, {**day, **mix}, {"encounters": 1}),
    ]
    if outings:
        additions.append(
            (OutingEncounterCount, {"outing_id": encounter.outing_id}, {"encounters": 1, "conversations": conversation})
        )
    done = _add(additions, done_outing=encounter.outing_id)
    _recompute_persons(persons)
    if outings and done is not False:
        outing_rollups.outing_ids_changed(outings)


def _recompute_persons(persons: list[int]) -> None:
    """Their first encounters, then their person-day rows (which carry the first encounter)."""
    for start in range(0, len(persons), _CHUNK):
        chunk = persons[start : start + _CHUNK]
        condition, narrow = _in("{person}", chunk), _persons_rooted_in(chunk)
        _recompute(PersonFirstEncounter, _FIRST_SQL, condition, narrow=narrow)
        _recompute(PersonDayCount, _PERSON_DAY_SQL, condition, narrow=narrow)


def _persons_rooted_in(roots: list[int]) -> Condition:
    """The encounters of the persons whose root may be among `roots`: the roots themselves, the records
    merged into them and those merged into these (PERSON_ROOT goes two levels deep). An encounter's root
    is computed (a COALESCE over two joins), which no index answers; its person is indexed, so this
    narrows the recompute of a person's rows from every encounter to theirs (on a million encounters,
    about 140 ms of a save linked to a person to a fraction of a millisecond)."""
    person = _quote(Person._meta.db_table)
    values = ", ".join(["%s"] * len(roots))
    sql = (
        f"e.person_id IN (SELECT p0.id FROM {person} p0 WHERE p0.id IN ({values})"
        f" UNION ALL SELECT p1.id FROM {person} p1 WHERE p1.merged_into_id IN ({values})"
        f" UNION ALL SELECT p1.id FROM {person} p1 JOIN {person} p2 ON p2.id = p1.merged_into_id"
        f" WHERE p2.merged_into_id IN ({values}))"
    )
    return sql, [*roots, *roots, *roots]


# A rollup row to add to: its model, its key (the columns that pick the row) and the counts to add.
Addition = tuple[type[Model], dict, dict[str, int]]


def _add(additions: list[Addition], *, done_outing: int | None = None) -> bool | None:
    """Add each addition's counts to its rollup row, or make the row (the caller holds the rows' locks).

    UPDATEs written here rather than built by the ORM: on the save of every
    encounter, building F() updates cost more than running them. On
    PostgreSQL they go in one statement (data-modifying WITH queries, each
    counting the rows it updated): a round trip per save instead of three.
    That statement also tells whether `done_outing` is done, which a new
    encounter's outing needs (`outing_ids_changed`, whose look-up it saves):
    it follows the rollup locks as that look-up does. None when not asked or
    not read here (SQLite).
    """
    updates = [_increment(model, key, counts) for model, key, counts in additions]
    done: bool | None = None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            queries = ", ".join(f"u{index} AS ({sql} RETURNING 1)" for index, (sql, _params) in enumerate(updates))
            selected = [f"(SELECT COUNT(*) FROM u{index})" for index in range(len(updates))]
            params = [value for _sql, update_params in updates for value in update_params]
            if done_outing is not None:
                outing = Outing._meta
                quote = connection.ops.quote_name
                selected.append(
                    f"EXISTS (SELECT 1 FROM {quote(outing.db_table)} WHERE {quote(outing.pk.column)} = %s"
                    f" AND {quote(outing.get_field('status').column)} = %s)"
                )
                params += [done_outing, OutingStatus.DONE.value]
            cursor.execute(f"WITH {queries} SELECT {', '.join(selected)}", params)
            row = list(cursor.fetchone())
            updated = row[: len(updates)]
            if done_outing is not None:
                done = bool(row[-1])
        else:
            updated = []
            for sql, params in updates:
                cursor.execute(sql, params)
                updated.append(cursor.rowcount)
    for (model, key, counts), rows in zip(additions, updated, strict=True):
        if not rows:
            model._default_manager.create(**key, **counts)
    return done


def _increment(model: type[Model], key: dict, counts: dict[str, int]) -> tuple[str, list]:
    """The UPDATE that adds `counts` to the row of `key`, and its parameters."""
    added = {column: count for column, count in counts.items() if count}
    quote = connection.ops.quote_name
    fields: dict[str, Field] = {}
    for name in (*added, *key):
        found = model._meta.get_field(name)
        assert isinstance(found, Field)  # a column of the rollup, never a relation's other end
        fields[name] = found
    assignments = ", ".join(f"{quote(fields[name].column)} = {quote(fields[name].column)} + %s" for name in added)
    conditions = " AND ".join(f"{quote(fields[name].column)} = %s" for name in key)
    values = [fields[name].get_db_prep_value(value, connection) for name, value in key.items()]
    return f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {conditions}", [*added.values(), *values]


def persons_changed(*person_ids: int) -> None:
    """Recompute the person rollups of these persons (a merge or unmerge moved encounters between them)."""
    refresh(Touched(persons=set(person_ids)))


# What the refreshes inside `deferred()` have touched so far; None outside it.
_pending: ContextVar[Touched | None] = ContextVar("pending_rollup_refresh", default=None)


@contextmanager
def deferred() -> Iterator[None]:
    """Refresh once, at the end of the block, what every refresh inside it touched.

    Use it inside the transaction of the writes (the rollups are exact again
    when the block ends); when the block raises, nothing is refreshed and the
    transaction is expected to roll back. Nested blocks refresh at the end of
    the outermost.
    """
    if _pending.get() is not None:
        yield
        return
    token = _pending.set(Touched())
    try:
        yield
        touched = _pending.get()
    finally:
        _pending.reset(token)
    assert touched is not None
    _refresh_now(touched)


def refresh(touched: Touched) -> None:
    pending = _pending.get()
    if pending is None:
        _refresh_now(touched)
    else:
        pending.slices |= touched.slices
        pending.persons |= touched.persons
        pending.outings |= touched.outings


@transaction.atomic(savepoint=False)
def _refresh_now(touched: Touched) -> None:
    # Each recompute waits for a concurrent one of the same rows to commit (`outreach.rollup_locks`).
    whole_days = len(touched.slices) > _MAX_SLICES
    if whole_days:
        days = sorted({day for day, _site in touched.slices})
        conditions = [_in("{day}", days[start : start + _CHUNK]) for start in range(0, len(days), _CHUNK)]
    else:
        conditions = [_slices(sorted(touched.slices))] if touched.slices else []
    # The person rollups change only for the persons of the changed encounters (before and after the
    # change, with the records they were merged into), so they are recomputed by person alone: by
    # slice too, two recomputes of one person's rows under different locks would race.
    persons = sorted(_with_roots(touched.persons))
    rollup_locks.lock(
        sites=(site for _day, site in touched.slices), every_site=whole_days, persons=persons, outings=touched.outings
    )
    for condition in conditions:
        _recompute(EncounterDayCount, _DAY_COUNT_SQL, condition)
        _recompute(EncounterMixCount, _MIX_COUNT_SQL, condition)
    _recompute_persons(persons)
    outings = sorted(touched.outings)
    for start in range(0, len(outings), _CHUNK):
        _recompute(OutingEncounterCount, _OUTING_SQL, _in("{outing}", outings[start : start + _CHUNK]))
    if outings:
        outing_rollups.outing_ids_changed(outings)


@transaction.atomic
def rebuild() -> None:
    """Recompute every rollup from the encounters table."""
    # Without merged records (a fresh demo load) every root is the encounter's own person.
    merges = Person.objects.filter(merged_into__isnull=False).exists()
    for model, sql in (
        (EncounterDayCount, _DAY_COUNT_SQL),
        (EncounterMixCount, _MIX_COUNT_SQL),
        (PersonFirstEncounter, _FIRST_SQL),
        (PersonDayCount, _PERSON_DAY_SQL),
        (OutingEncounterCount, _OUTING_SQL),
    ):
        _recompute(model, sql, ("1 = 1", []), roots=merges)
    outing_rollups.rebuild()


def _slices(slices: list[tuple]) -> Condition:
    sql = " OR ".join(["({day} = %s AND {site} = %s)"] * len(slices))
    return f"({sql})", [value for day, site in slices for value in (day, site)]


def _in(column: str, values: list) -> Condition:
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def _recompute(
    model: type[Model], select_sql: str, condition: Condition, *, roots: bool = True, narrow: Condition | None = None
) -> None:
    """Delete the rollup rows that match the condition and insert them again from the encounters;
    `narrow`: a condition on the encounters (`e`) that holds for every one the condition matches and
    that an index answers."""
    sql, params = condition
    table = connection.ops.quote_name(model._meta.db_table)
    rollup = sql.format(day="day", site="site_id", person="person_id", outing="outing_id")
    source = sql.format(day="e.occurred_on", site="e.site_id", person="e.root", outing="e.outing_id")
    source_params = list(params)
    if narrow is not None:
        source = f"({source}) AND ({narrow[0]})"
        source_params += narrow[1]
    # Only the person rollups need each encounter's root person (a join);
    # the others read the encounters table alone.
    encounters = _ENCOUNTERS_WITH_ROOT if roots and model in _PERSON_ROLLUPS else _ENCOUNTERS
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {rollup}", params)
        cursor.execute(select_sql.format(table=table, encounters=encounters, where=source), source_params)


def _with_roots(person_ids: set[int]) -> set[int]:
    """These persons and the records they were merged into: the person rollups are keyed by the latter."""
    if not person_ids:
        return set()
    roots = Person.objects.filter(pk__in=person_ids).annotate(root=PERSON_ROOT).values_list("root", flat=True)
    return set(person_ids) | set(roots)


# Person rollups count a merged record as the record it was merged into (two
# levels deep, as the raw reports do). A merge moves the encounters too, so
# normally the root is the encounter's own person.
PERSON_ROOT = Coalesce("merged_into__merged_into_id", "merged_into_id", "id")

_PERSON_ROLLUPS = (PersonDayCount, PersonFirstEncounter)
_quote = connection.ops.quote_name
_ENCOUNTERS = f"(SELECT x.*, x.person_id AS root FROM {_quote(Encounter._meta.db_table)} x)"
_ENCOUNTERS_WITH_ROOT = f"""(
    SELECT x.*, COALESCE(pm.merged_into_id, p.merged_into_id, x.person_id) AS root
    FROM {_quote(Encounter._meta.db_table)} x
    LEFT JOIN {_quote(Person._meta.db_table)} p ON p.id = x.person_id
    LEFT JOIN {_quote(Person._meta.db_table)} pm ON pm.id = p.merged_into_id
)"""

_CODE_SUMS = ", ".join(f"SUM(CASE WHEN {sql} THEN 1 ELSE 0 END)" for sql in CODE_COLUMNS.values())
_DAY_COUNT_SQL = f"""
    INSERT INTO {{table}} (day, team_id, site_id, total, anonymous, conversation, {", ".join(CODE_COLUMNS)})
    SELECT e.occurred_on, e.team_id, e.site_id, COUNT(*),
           SUM(CASE WHEN e.person_id IS NULL THEN 1 ELSE 0 END),
           SUM(CASE WHEN e.depth = '{Depth.CONVERSATION.value}' THEN 1 ELSE 0 END),
           {_CODE_SUMS}
    FROM {{encounters}} e WHERE {{where}}
    GROUP BY e.occurred_on, e.team_id, e.site_id
"""
_MIX_COUNT_SQL = """
    INSERT INTO {table} (day, team_id, site_id, gender, age_group, depth, encounters)
    SELECT e.occurred_on, e.team_id, e.site_id, e.gender, e.age_group, e.depth, COUNT(*)
    FROM {encounters} e WHERE {where}
    GROUP BY e.occurred_on, e.team_id, e.site_id, e.gender, e.age_group, e.depth
"""
# Each row carries its person's first encounter ever: PersonFirstEncounter is
# recomputed before the person-day rows that read it.
_PERSON_DAY_SQL = f"""
    INSERT INTO {{table}} (person_id, day, team_id, site_id, encounters, first_on)
    SELECT e.root, e.occurred_on, e.team_id, e.site_id, COUNT(*), MIN(f.first_on)
    FROM {{encounters}} e
    LEFT JOIN {_quote(PersonFirstEncounter._meta.db_table)} f ON f.person_id = e.root
    WHERE e.person_id IS NOT NULL AND ({{where}})
    GROUP BY e.root, e.occurred_on, e.team_id, e.site_id
"""
_OUTING_SQL = f"""
    INSERT INTO {{table}} (outing_id, encounters, conversations)
    SELECT e.outing_id, COUNT(*), SUM(CASE WHEN e.depth = '{Depth.CONVERSATION.value}' THEN 1 ELSE 0 END)
    FROM {{encounters}} e WHERE e.outing_id IS NOT NULL AND ({{where}})
    GROUP BY e.outing_id
"""
_FIRST_SQL = """
    INSERT INTO {table} (person_id, first_on)
    SELECT e.root, MIN(e.occurred_on)
    FROM {encounters} e WHERE e.person_id IS NOT NULL AND ({where})
    GROUP BY e.root
"""
