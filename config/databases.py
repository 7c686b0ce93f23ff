"""Connection options the settings add to each configured database."""

from __future__ import annotations

from dj_database_url import DBConfig

# SQLite's own page cache is 2 MB: past a few tens of thousands of encounters
# every insert read index pages back from the file (a 100,000-row import spent
# 9 of its 54 s there). 64 MB of cache, the write-ahead log (readers do not
# wait for the writer), and temporary tables in memory.
SQLITE_INIT = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"


def tuned(database: DBConfig) -> DBConfig:
    """The database's settings with the engine's tuning added (what the settings give is kept)."""
    options = database.setdefault("OPTIONS", {})
    if database["ENGINE"] == "django.db.backends.postgresql":
        # Report queries over a million encounters spent about half their time
        # in JIT compilation; plain execution is faster at this size.
        options.setdefault("options", "-c jit=off")
    elif database["ENGINE"] == "django.db.backends.sqlite3":
        options.setdefault("init_command", SQLITE_INIT)
    return database
