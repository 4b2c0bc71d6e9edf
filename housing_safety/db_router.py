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

A replica that cannot be reached when a block starts is not used by that block: its reads go to the primary (and
`replica_unavailable()` says so, for the dashboard's note), so a stopped replica costs speed, not the page.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DatabaseError, connections

DEFAULT = "default"
REPLICA = "replica"

logger = logging.getLogger(__name__)

# Inside use_replica(): REPLICA, or DEFAULT when the replica could not be reached; outside: None.
_reading_from: ContextVar[str | None] = ContextVar("reading_from", default=None)


@contextmanager
def use_replica():
    """Inside this block (or decorated function) reads go to the replica when one is configured and reachable.

    A generator-based context manager, so `@use_replica()` on a view gets a fresh one for every call (thread-safe).
    """
    token = _reading_from.set(REPLICA if _replica_reachable() else DEFAULT)
    try:
        yield
    finally:
        _reading_from.reset(token)


def replica_unavailable() -> bool:
    """True inside a use_replica() block whose reads go to the primary because the replica could not be reached."""
    return _reading_from.get() == DEFAULT


def _replica_reachable() -> bool:
    """Connect to the replica now (once per request: a persistent connection is checked as the primary's is, by
    CONN_HEALTH_CHECKS), so that a replica that is down sends this block to the primary instead of failing it.
    Without a replica there is nothing to check (and no router)."""
    if REPLICA not in connections.settings:
        return True
    connection = connections[REPLICA]
    try:
        connection.close_if_health_check_failed()
        connection.ensure_connection()
    except DatabaseError as error:
        logger.warning("read replica unreachable, reading from the primary: %s", error)
        connection.close()
        return False
    return True


class ReplicaRouter:
    """Reads inside `use_replica()` go to the replica; all other reads and every write go to default.

    Returning DEFAULT (not None) outside the block matters: for a related object Django would otherwise follow the
    database its parent instance was read from, so an instance read from the replica would keep reading there.
    """

    def db_for_read(self, model, **hints):
        return _reading_from.get() or DEFAULT

    def db_for_write(self, model, **hints):
        return DEFAULT

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases are the same database (the replica follows the primary), so any two rows may be related.
        return {obj1._state.db, obj2._state.db} <= {DEFAULT, REPLICA}

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica receives the schema by replication; `migrate --database replica` must not try.
        return db != REPLICA
