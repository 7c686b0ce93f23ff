"""Connection options the settings add to each configured database."""

from __future__ import annotations

from dj_database_url import DBConfig

# SQLite's own page cache is 2 MB: past a few tens of thousands of encounters
# every insert read index pages back from the file (a 100,000-row import spent
# 9 of its 54 s there). 64 MB of cache, the write-ahead log (readers do not
# wait for the writer), and temporary tables in memory.
SQLITE_INIT = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"

POSTGRESQL_OPTIONS = "-c jit=off -c random_page_cost=1.1"


def tuned(database: DBConfig) -> DBConfig:
    """The database's settings with the engine's tuning added (what the settings give is kept)."""
    options = database.setdefault("OPTIONS", {})
    if database["ENGINE"] == "django.db.backends.postgresql":
        # Report queries over a million encounters spent about half their time
        # in JIT compilation; plain execution is faster at this size.
        # random_page_cost 1.1 (the default 4 is for spinning disks): on SSDs, or
        # with the working set in memory, an index read in order is nearly as
        # cheap as a scan. It lets the planner read the person rollup's covering
        # index in person order and aggregate as it goes (the year summary's
        # persons figures, 80 -> 35 ms at a million encounters) instead of
        # hashing every row.
        options.setdefault("options", POSTGRESQL_OPTIONS)
        # QuerySet.iterator() reads through a named cursor, on PostgreSQL a
        # DECLARE … WITH HOLD, FETCHes and a CLOSE outside a transaction: a
        # form's choice list (ModelChoiceField iterates so) cost three round
        # trips instead of one. Nothing here streams a large result through
        # iterator() (the reports and extracts read aggregated rows).
        database["DISABLE_SERVER_SIDE_CURSORS"] = True  # dj-database-url always gives False
    elif database["ENGINE"] == "django.db.backends.sqlite3":
        options.setdefault("init_command", SQLITE_INIT)
    return database
