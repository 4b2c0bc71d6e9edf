"""Reads from the PostgreSQL read replica, only where a page asks for it.

Settings install ReplicaRouter and a `replica` alias when DATABASE_REPLICA_URL is set. A replica lags its primary
by up to a few seconds, so reading from it everywhere would show a clerk a form without the change they just saved.
Only the heavy read-only pages opt in, by wrapping their reads in `use_replica()`: the dashboard (every figure of the
city) and the exports for the provincial system. Everything else, and every write anywhere, uses `default`.

    @use_replica()
    def dashboard(request): ...

    with use_replica():
        handle = write_export(user, dataset)

Never wrap code that writes and then reads what it wrote: the read would go to the replica and may not see it.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

DEFAULT = "default"
REPLICA = "replica"

_reading_from_replica: ContextVar[bool] = ContextVar("reading_from_replica", default=False)


@contextmanager
def use_replica():
    """Inside this block (or decorated function) reads go to the replica when one is configured.

    A generator-based context manager, so `@use_replica()` on a view gets a fresh one for every call (thread-safe).
    """
    token = _reading_from_replica.set(True)
    try:
        yield
    finally:
        _reading_from_replica.reset(token)


class ReplicaRouter:
    """Reads inside `use_replica()` go to the replica; all other reads and every write go to default.

    Returning DEFAULT (not None) outside the block matters: for a related object Django would otherwise follow the
    database its parent instance was read from, so an instance read from the replica would keep reading there.
    """

    def db_for_read(self, model, **hints):
        return REPLICA if _reading_from_replica.get() else DEFAULT

    def db_for_write(self, model, **hints):
        return DEFAULT

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases are the same database (the replica follows the primary), so any two rows may be related.
        return {obj1._state.db, obj2._state.db} <= {DEFAULT, REPLICA}

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica receives the schema by replication; `migrate --database replica` must not try.
        return db != REPLICA
