"""What would partitioning the encounter table by year gain and cost? (docs/SCALING.md §6)

Seeds a PostgreSQL database with `seed_demo --encounters N` (or reuses it when
it already holds at least N encounters), then builds, in the same database, a
partitioned copy of the encounter table and times, side by side:

- the copy itself (INSERT … SELECT into the partitioned table, then its
  indexes), next to the same copy into a plain table;
- a year's and a quarter's report aggregate over the raw table (encounters by
  site and month: the query the daily rollups spare the reports);
- one encounter by id alone (every partition's index is probed) and by id and
  date; an outing's encounters by outing; the newest-first page of 100 for one
  team (the API's list order);
- retention, removing the oldest year: DELETE on a throwaway copy of the plain
  table against DETACH PARTITION + DROP TABLE, each in a transaction that is
  rolled back, and once committed with the VACUUM that the DELETE leaves;
- the table and index sizes of both.

The partitioned copy: `PARTITION BY RANGE (occurred_on)`, one partition per
year in the data plus a default partition, primary key `(id, occurred_on)`,
the plain table's secondary indexes (read from `pg_indexes`), and
`client_uuid` unique within each partition only. It has no foreign keys, and
nothing points at it.

Each figure is the median (and the fastest) of --repeat runs after one warm-up
run (3 runs for the retention), with the top of the plan and the partitions
that `EXPLAIN (ANALYZE)` read. Measurements only: nothing here is asserted by
the test suite. The partitioned table and the plain copy are dropped at the
end (--keep keeps the partitioned table, to explain queries by hand); the
database is kept.

    .venv/bin/python benchmarks/partition_bench.py                          # 3,000,000 encounters
    .venv/bin/python benchmarks/partition_bench.py --reseed                 # drop, create and seed again
    .venv/bin/python benchmarks/partition_bench.py --encounters 300000 --database-url postgres://…/bench_small
"""

import argparse
import datetime
import functools
import io
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_partition"

PLAIN = "encounters_encounter"
PARTITIONED = "bench_encounter_by_year"
PLAIN_COPY = "bench_encounter_plain_copy"
RETENTION_REPEAT = 3


def ensure_database(url: str, *, encounters: int, reseed: bool) -> bool:
    """Create the database unless it holds at least `encounters` already; True when it was (re)created."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    if exists and not reseed:
        with psycopg.connect(url) as connection:
            held = 0
            if connection.execute("SELECT to_regclass(%s) IS NOT NULL", [PLAIN]).fetchone() == (True,):
                held = connection.execute(f"SELECT count(*) FROM {PLAIN}").fetchone()[0]  # type: ignore[index]
        if held >= encounters:
            return False
        print(f"{name} holds {held:,} encounters, fewer than {encounters:,}: seeding it again")
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return True


def timed(function: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(median ms, fastest ms) of `repeat` runs after one warm-up run."""
    function()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), min(times)


def execute(sql: str, params: dict[str, Any] | None = None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def stopwatch(sql: str) -> float:
    began = time.perf_counter()
    execute(sql)
    return time.perf_counter() - began


def secondary_indexes() -> list[tuple[str, str]]:
    """(name, definition) of the plain table's indexes other than the primary key and client_uuid's."""
    rows = execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = %(table)s "
        "ORDER BY indexname",
        {"table": PLAIN},
    )
    return [
        (name, definition) for name, definition in rows if name != f"{PLAIN}_pkey" and "(client_uuid)" not in definition
    ]


def create_indexes(table: str, indexes: list[tuple[str, str]], *, suffix: str) -> None:
    """The plain table's indexes on `table`; index names are unique in the schema, so the copy's get a suffix."""
    on = f" ON public.{PLAIN} USING "
    for name, definition in indexes:
        assert on in definition, definition
        execute(definition.replace(f"INDEX {name} ", f"INDEX {name}_{suffix} ").replace(on, f" ON {table} USING "))


def build_partitioned(years: list[int], indexes: list[tuple[str, str]]) -> dict[str, float]:
    """Create the partitioned copy and fill it; the seconds of each step."""
    execute(f"DROP TABLE IF EXISTS {PARTITIONED}")
    # LIKE copies the columns, NOT NULLs, defaults and CHECK constraints; not the identity, the
    # indexes or the foreign keys.
    execute(
        f"CREATE TABLE {PARTITIONED} (LIKE {PLAIN} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
        "PARTITION BY RANGE (occurred_on)"
    )
    for year in years:
        execute(
            f"CREATE TABLE {partition_name(year)} PARTITION OF {PARTITIONED} "
            f"FOR VALUES FROM ('{year}-01-01') TO ('{year + 1}-01-01')"
        )
    execute(f"CREATE TABLE {partition_name(None)} PARTITION OF {PARTITIONED} DEFAULT")
    seconds = {"copy": stopwatch(f"INSERT INTO {PARTITIONED} SELECT * FROM {PLAIN}")}
    began = time.perf_counter()
    execute(f"ALTER TABLE {PARTITIONED} ADD PRIMARY KEY (id, occurred_on)")
    create_indexes(PARTITIONED, indexes, suffix="by_year")
    # A unique index on a partitioned table must contain the partition key, and
    # (client_uuid, occurred_on) would only be unique per day: one index per partition instead.
    for leaf in [partition_name(year) for year in years] + [partition_name(None)]:
        execute(f"CREATE UNIQUE INDEX {leaf}_client_uuid ON {leaf} (client_uuid)")
    seconds["indexes"] = time.perf_counter() - began
    return seconds


def build_plain_copy(indexes: list[tuple[str, str]]) -> dict[str, float]:
    """The throwaway plain copy that the retention DELETE runs on, built the same way."""
    execute(f"DROP TABLE IF EXISTS {PLAIN_COPY}")
    execute(f"CREATE TABLE {PLAIN_COPY} (LIKE {PLAIN} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    seconds = {"copy": stopwatch(f"INSERT INTO {PLAIN_COPY} SELECT * FROM {PLAIN}")}
    began = time.perf_counter()
    execute(f"ALTER TABLE {PLAIN_COPY} ADD PRIMARY KEY (id)")
    create_indexes(PLAIN_COPY, indexes, suffix="copy")
    execute(f"CREATE UNIQUE INDEX {PLAIN_COPY}_client_uuid ON {PLAIN_COPY} (client_uuid)")
    seconds["indexes"] = time.perf_counter() - began
    return seconds


def partition_name(year: int | None) -> str:
    return f"bench_encounter_y{year}" if year is not None else "bench_encounter_default"


def partitions(table: str) -> list[str]:
    """The leaf partitions of a partitioned table; none for a plain one."""
    rows = execute(
        "SELECT relid::regclass::text FROM pg_partition_tree(%(table)s::regclass) "
        "WHERE isleaf AND relid <> %(table)s::regclass",
        {"table": table},
    )
    return [name for (name,) in rows]


def sizes(table: str) -> tuple[int, int]:
    """(heap and TOAST bytes, index bytes) of a table, summed over its partitions when it has them."""
    total = [0, 0]
    for leaf in partitions(table) or [table]:
        ((heap, index),) = execute(
            "SELECT pg_table_size(%(leaf)s::regclass), pg_indexes_size(%(leaf)s::regclass)", {"leaf": leaf}
        )
        total[0] += heap
        total[1] += index
    return total[0], total[1]


def explain(sql: str, params: dict[str, Any], leaves: list[str]) -> str:
    """The plan's top node and what it scanned, from one EXPLAIN (ANALYZE)."""
    (document,) = execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)[0]
    if isinstance(document, str):
        document = json.loads(document)
    root = document[0]["Plan"]
    scans: set[str] = set()
    touched: set[str] = set()
    removed = 0

    def walk(node: dict[str, Any]) -> None:
        nonlocal removed
        removed += node.get("Subplans Removed", 0)
        relation = node.get("Relation Name")
        if relation:
            touched.add(relation)
            index = node.get("Index Name", "").removeprefix(relation + "_").removeprefix(f"{PLAIN}_")
            scans.add(f"{node['Node Type']} {index}".strip())
        for child in node.get("Plans", []):
            walk(child)

    walk(root)
    described = ", ".join(sorted(scans))
    if "Relation Name" not in root:
        described = f"{_node_label(root)} <- {described}"
    if leaves:
        described += f"; {len(touched & set(leaves))} of {len(leaves)} partitions read"
        if removed:
            described += f" ({removed} pruned at run time)"
    return described


def _node_label(node: dict[str, Any]) -> str:
    strategy = {"Hashed": "HashAggregate", "Sorted": "GroupAggregate", "Mixed": "MixedAggregate"}
    if node["Node Type"] == "Aggregate":
        return strategy.get(node.get("Strategy", ""), "Aggregate")
    return node["Node Type"]


def _year_and_quarter(first: datetime.date, last: datetime.date) -> tuple[tuple, tuple]:
    """The latest full calendar year and quarter in the data, as (label, start, end exclusive)."""
    year = next(
        (
            y
            for y in range(last.year, first.year - 1, -1)
            if first <= datetime.date(y, 1, 1) and datetime.date(y, 12, 31) <= last
        ),
        None,
    )
    if year is None:
        # A demo data set spans thirteen months: then the latest (partial) year stands in.
        year_period = (
            f"{last.year} to {last.day} {last:%b}",
            datetime.date(last.year, 1, 1),
            datetime.date(last.year + 1, 1, 1),
        )
    else:
        year_period = (f"{year}", datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1))
    month = (last.month - 1) // 3 * 3 + 1
    start = datetime.date(last.year, month, 1)
    if last < _add_months(start, 3) - datetime.timedelta(days=1):
        start = _add_months(start, -3)
    quarter = f"Q{(start.month - 1) // 3 + 1} {start.year}"
    return year_period, (quarter, start, _add_months(start, 3))


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def _mb(size: int) -> str:
    return f"{size / 2**20:,.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encounters", type=int, default=3_000_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--reseed", action="store_true", help="drop the database and seed it again")
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--keep", action="store_true", help="keep the partitioned table afterwards")
    args = parser.parse_args()

    created = ensure_database(args.database_url, encounters=args.encounters, reseed=args.reseed)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    print(f"machine:    {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"database:   {execute('SELECT version()')[0][0].split(' on ')[0]}")
    print("load:       {:.2f} {:.2f} {:.2f} (1, 5, 15 min) at the start".format(*os.getloadavg()))
    call_command("migrate", verbosity=0)
    if created:
        began = time.perf_counter()
        call_command("seed_demo", encounters=args.encounters, stdout=io.StringIO(), verbosity=0)
        print(f"seed_demo --encounters {args.encounters}: {time.perf_counter() - began:.1f} s")
    else:
        print("reusing the seeded database")
    first, last, total = execute(f"SELECT min(occurred_on), max(occurred_on), count(*) FROM {PLAIN}")[0]
    years = list(range(first.year, last.year + 1))
    by_year = dict(execute(f"SELECT extract(year FROM occurred_on)::int, count(*) FROM {PLAIN} GROUP BY 1"))
    print(f"encounters: {total:,} from {first} to {last}; " + ", ".join(f"{y}: {by_year.get(y, 0):,}" for y in years))

    indexes = secondary_indexes()
    print(f"\nsecondary indexes copied: {', '.join(name for name, _ in indexes)}")
    built = build_partitioned(years, indexes)
    copied = build_plain_copy(indexes)
    print(
        f"copy of {total:,} rows, INSERT … SELECT: into the partitioned table {built['copy']:.1f} s "
        f"(then its indexes {built['indexes']:.1f} s); into a plain table {copied['copy']:.1f} s "
        f"(indexes {copied['indexes']:.1f} s)"
    )
    began = time.perf_counter()
    for table in (PLAIN, PARTITIONED, PLAIN_COPY):
        execute(f"VACUUM ANALYZE {table}")
    print(f"VACUUM ANALYZE of the three tables: {time.perf_counter() - began:.1f} s")
    leaves = partitions(PARTITIONED)
    copy_size = sizes(PLAIN_COPY)

    (year_label, year_start, year_end), (quarter_label, quarter_start, quarter_end) = _year_and_quarter(first, last)
    one_id, one_on = execute(f"SELECT id, occurred_on FROM {PLAIN} ORDER BY id DESC LIMIT 1 OFFSET 1000")[0]
    (outing_id,) = execute(
        f"SELECT outing_id FROM {PLAIN} WHERE outing_id IS NOT NULL ORDER BY occurred_at DESC, id DESC LIMIT 1"
    )[0]
    (team_id,) = execute(f"SELECT team_id FROM {PLAIN} GROUP BY team_id ORDER BY count(*) DESC LIMIT 1")[0]
    outing_rows = execute(f"SELECT count(*) FROM {PLAIN} WHERE outing_id = %(id)s", {"id": outing_id})[0][0]
    by_site_and_month = (
        "SELECT site_id, date_trunc('month', occurred_on)::date AS month, count(*) FROM {table} "
        "WHERE occurred_on >= %(start)s AND occurred_on < %(end)s GROUP BY 1, 2 ORDER BY 1, 2"
    )
    queries = [
        (f"{year_label}, by site and month", by_site_and_month, {"start": year_start, "end": year_end}),
        (f"{quarter_label}, by site and month", by_site_and_month, {"start": quarter_start, "end": quarter_end}),
        ("one encounter by id", "SELECT * FROM {table} WHERE id = %(id)s", {"id": one_id}),
        (
            "one encounter by id and date",
            "SELECT * FROM {table} WHERE id = %(id)s AND occurred_on = %(on)s",
            {"id": one_id, "on": one_on},
        ),
        (
            f"an outing's encounters ({outing_rows})",
            "SELECT * FROM {table} WHERE outing_id = %(id)s ORDER BY occurred_at",
            {"id": outing_id},
        ),
        (
            "a team's newest 100",
            "SELECT * FROM {table} WHERE team_id = %(id)s ORDER BY occurred_at DESC, id DESC LIMIT 100",
            {"id": team_id},
        ),
    ]

    results: list[tuple[str, tuple[float, float], tuple[float, float]]] = []
    plans = []
    for label, sql, params in queries:
        plain, partitioned = sql.format(table=PLAIN), sql.format(table=PARTITIONED)
        results.append(
            (
                label,
                timed(functools.partial(execute, plain, params), args.repeat),
                timed(functools.partial(execute, partitioned, params), args.repeat),
            )
        )
        plans.append((label, "plain", explain(plain, params, [])))
        plans.append((label, "partitioned", explain(partitioned, params, leaves)))

    # Retention: the oldest year goes. Rolled back, so that every run (and the next one) finds it there.
    oldest = years[0]

    def delete_year() -> None:
        with transaction.atomic():
            execute(
                f"DELETE FROM {PLAIN_COPY} WHERE occurred_on >= %(start)s AND occurred_on < %(end)s",
                {"start": datetime.date(oldest, 1, 1), "end": datetime.date(oldest + 1, 1, 1)},
            )
            transaction.set_rollback(True)

    def drop_partition() -> None:
        with transaction.atomic():
            execute(f"ALTER TABLE {PARTITIONED} DETACH PARTITION {partition_name(oldest)}")
            execute(f"DROP TABLE {partition_name(oldest)}")
            transaction.set_rollback(True)

    results.append(
        (
            f"remove {oldest} ({by_year.get(oldest, 0):,} rows), rolled back",
            timed(delete_year, RETENTION_REPEAT),
            timed(drop_partition, RETENTION_REPEAT),
        )
    )
    # Once for real on the throwaway copy: the DELETE leaves its dead rows for VACUUM.
    deleted = stopwatch(
        f"DELETE FROM {PLAIN_COPY} WHERE occurred_on >= '{oldest}-01-01' AND occurred_on < '{oldest + 1}-01-01'"
    )
    vacuumed = stopwatch(f"VACUUM {PLAIN_COPY}")
    committed = f"committed on the plain copy: DELETE {deleted * 1000:,.0f} ms + VACUUM {vacuumed * 1000:,.0f} ms"

    plain_size, partitioned_size = sizes(PLAIN), sizes(PARTITIONED)
    print("load:       {:.2f} {:.2f} {:.2f} (1, 5, 15 min) after the timings".format(*os.getloadavg()))

    print(f"\n{'what':<44} {'plain ms':>19} {'partitioned ms':>19}")
    print(f"{'':<44} {'median':>9} {'fastest':>9} {'median':>9} {'fastest':>9}")
    for label, (plain_median, plain_fastest), (part_median, part_fastest) in results:
        print(f"{label:<44} {plain_median:>9.1f} {plain_fastest:>9.1f} {part_median:>9.1f} {part_fastest:>9.1f}")
    print(f"{'':<44} {committed}")
    for what, plain_bytes, partitioned_bytes in (
        ("table (heap and TOAST)", plain_size[0], partitioned_size[0]),
        ("indexes", plain_size[1], partitioned_size[1]),
        ("total", sum(plain_size), sum(partitioned_size)),
    ):
        print(f"{'size, ' + what:<44} {_mb(plain_bytes):>19} {_mb(partitioned_bytes):>19}")
    # The seed keeps the unique client_uuid index through the load (it drops plain indexes only), and
    # inserts deduplicate its NULL keys (the demo sets no client_uuid): 18 MB at 3M rows. A unique index
    # built by one sort, as the copies' are, keeps one entry per row: 64 MB.
    print(
        f"{'':<44} the plain copy, indexes built the same way: table {_mb(copy_size[0])}, "
        f"indexes {_mb(copy_size[1])}, total {_mb(sum(copy_size))}"
    )

    print("\nplans (EXPLAIN ANALYZE, one run each):")
    for label, table, described in plans:
        print(f"  {label:<44} {table:<12} {described}")
    print(
        f"\nnotes: the partitioned table's partitions: {', '.join(leaves)}.\n"
        "  client_uuid is unique within each partition only (a unique index on a partitioned table must hold\n"
        "  the partition key): global uniqueness needs the year in the idempotency look-up or a separate\n"
        "  encounter_uuid(client_uuid primary key, encounter_id) table (docs/SCALING.md §6). Neither copy\n"
        "  has foreign keys, and nothing points at them: on the real table the workers, referrals and history\n"
        "  rows of the year would have to go first, as they would for DETACH + DROP."
    )

    execute(f"DROP TABLE IF EXISTS {PLAIN_COPY}")
    if not args.keep:
        execute(f"DROP TABLE IF EXISTS {PARTITIONED}")


if __name__ == "__main__":
    main()
