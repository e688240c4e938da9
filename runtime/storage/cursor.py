"""The one place Banyan reaches below `Connection.execute`: a compiled statement run straight on
the DBAPI cursor of the connection SQLAlchemy holds (so in its transaction), for the hot write
paths (flow commands, the audit chain) on SQLite and PostgreSQL.

SQLAlchemy's own per-call work (execution context, events, SQL logging, result set-up) is most of
what a small statement costs on SQLite, in-process, and about a sixth of a flow command's CPU on
PostgreSQL, where two processes on two cores are CPU-bound (benchmarks/flows.py). Skipping it is only right when nobody could
notice, so `quiet(conn)` asks whether anything listens to the events a driver-level statement
fires (the connection's and engine's before/after_cursor_execute, the dialect's handle_error and
do_execute…) and whether SQL is logged (`echo`, or the `sqlalchemy.engine` logger at INFO, as
SQLAlchemy decides when a connection opens). Otherwise callers use `exec_driver_sql`, which
fires those events and logs. Listeners for other events (a `begin` hook, pool events, and
before/after_execute, which `exec_driver_sql` does not fire either) change nothing here.

The answer is worked out once per `Connection` (a listener added while a connection is open is
seen from the next connection on) and kept in a weak mapping, so it goes with the connection.
The listener collections (`Connection.dispatch.<event>`, `Dialect.dispatch.<event>`) and
`Engine.logger` carry no underscore but are not in SQLAlchemy's documented API either: they
are read here and nowhere else, and tests/runtime/test_cursor_adapter.py fails loudly when an
upgrade changes what they say.
"""
from __future__ import annotations

import logging
import weakref
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

_STATEMENT_EVENTS = ("before_cursor_execute", "after_cursor_execute")
_DRIVER_EVENTS = ("handle_error", "do_execute", "do_execute_no_params", "do_executemany", "do_setinputsizes")
_QUIET: weakref.WeakKeyDictionary[Connection, bool] = weakref.WeakKeyDictionary()


def quiet(conn: Connection) -> bool:
    """True when SQLAlchemy would fire no event and write no log line for a statement on `conn`."""
    found = _QUIET.get(conn)
    if found is None:
        found = _QUIET[conn] = nobody_listens(conn)
    return found


def nobody_listens(conn: Connection) -> bool:
    """The uncached answer of `quiet`."""
    events, driver = conn.dispatch, conn.dialect.dispatch
    return not (any(getattr(events, name) for name in _STATEMENT_EVENTS)
                or any(getattr(driver, name) for name in _DRIVER_EVENTS)
                or conn.engine.logger.isEnabledFor(logging.INFO))


def run(conn: Connection, sql: str, args: Any, many: bool) -> Any:
    """Run `sql` on a DBAPI cursor of `conn` (in its transaction) and return the cursor. A driver
    error comes out as SQLAlchemy's exception class for it (`sqlalchemy.exc.IntegrityError` …),
    the driver's as its cause; a lost connection (the server restarted, the backend killed) is
    invalidated as `exec_driver_sql` would, so the pool never hands it out again. Only for
    connections that are `quiet`. Like `exec_driver_sql`, it begins the connection's transaction
    when none is open (the caller commits it)."""
    if not conn.in_transaction():
        conn.begin()
    dbapi = conn.dialect.loaded_dbapi
    cur = conn.connection.driver_connection.cursor()
    try:
        if many:
            cur.executemany(sql, args)
        else:
            cur.execute(sql, args)
    except dbapi.Error as exc:
        gone = bool(conn.dialect.is_disconnect(exc, conn.connection.dbapi_connection, cur))
        cur.close()
        error = sa.exc.DBAPIError.instance(sql, args, exc, dbapi.Error, dialect=conn.dialect, ismulti=many,
                                           connection_invalidated=gone)
        if gone:
            conn.invalidate(exc)
        raise error from exc
    return cur
