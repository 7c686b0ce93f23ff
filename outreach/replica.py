"""Report reads from a read replica, everything else from the primary.

When `DATABASE_REPLICA_URL` names a PostgreSQL streaming standby, the
settings add it as the `replica` database and install `ReplicaRouter`. The
router sends a read to the replica only inside `replica_reads()`: the report
pages, the report API and the report exports open it around their work
(`@reads_from_replica` on the view or the API handler), nothing else does. The choice is
explicit, never guessed from the model: a worker's own pages must show what
they just saved, and a standby may lag a moment behind.

Writes always go to the primary, inside `replica_reads()` too (a report
writes its audit entry there), and so do the reads of a transaction open on
the primary (a service checking what it is about to write). Without a replica configured everything reads
the primary, as before.
"""

import contextlib
import contextvars
import functools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper

REPLICA = "replica"
PRIMARY = "default"

_reading_reports: contextvars.ContextVar[bool] = contextvars.ContextVar("reading_reports", default=False)

_F = TypeVar("_F", bound=Callable[..., Any])


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextlib.contextmanager
def replica_reads() -> Iterator[None]:
    """Reads inside this block go to the replica when one is configured."""
    token = _reading_reports.set(True)
    try:
        yield
    finally:
        _reading_reports.reset(token)


def reads_from_replica(view: _F) -> _F:
    """A view (or an API view's handler) whose reads may come from the replica.

    Put it innermost, under `@login_required`: the session and the user are
    then read from the primary before the view's own reads begin.
    """

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with replica_reads():
            return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def read_connection(model: type[models.Model]) -> BaseDatabaseWrapper:
    """The connection a read of `model` goes to: raw SQL (a cursor) is not routed by itself."""
    return connections[router.db_for_read(model)]


class ReplicaRouter:
    """Reads inside `replica_reads()` to `replica`; every write, migration and other read to `default`."""

    def db_for_read(self, model: type[models.Model], **hints: Any) -> str:
        # A service's transaction reads what it writes: inside one, the primary.
        if _reading_reports.get() and replica_configured() and not connections[PRIMARY].in_atomic_block:
            return REPLICA
        return PRIMARY

    def db_for_write(self, model: type[models.Model], **hints: Any) -> str:
        return PRIMARY

    def allow_relation(self, obj1: models.Model, obj2: models.Model, **hints: Any) -> bool:
        # The replica holds the primary's rows: a record read from either may
        # point at one read from the other.
        return True

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        # A standby is read-only and receives the schema by replication.
        return db == PRIMARY
