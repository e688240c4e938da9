"""Prepared statements for hot write paths (flow commands, the audit chain).

A flow command runs about ten small statements; through `Connection.execute(core_statement)`
most of each one's cost is SQLAlchemy's per-call work (cache key, compiled-cache lookup,
parameter construction, execution context, result set-up), not the database's. A `Prepared`
statement is compiled once per dialect and run in the caller's connection and transaction:

- bind values go through the column types' bind processors, and a SELECT's values through their
  result processors, so what is written and read is what `conn.execute(statement)` gives
  (rows come back as named tuples: attribute access, like a Row);
- on SQLite (in-process, where that per-call work is most of a statement's cost) and PostgreSQL
  (where two processes on two cores are CPU-bound) the statement goes straight to the DBAPI
  cursor of the connection SQLAlchemy holds (`cursor.py`); a driver error is raised as
  SQLAlchemy's (`sqlalchemy.exc.IntegrityError` …) and a lost connection is invalidated — but
  only while nothing listens to SQLAlchemy's events and SQL logging is off; otherwise, and on
  any other database, through `exec_driver_sql`, which fires the events and logs;
- a list of rows is one `executemany`.
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from runtime.storage import cursor

DIRECT = ("sqlite", "postgresql")          # dialects whose statements may go straight to the driver


def _result_processor(type_: Any, dialect: Any) -> Any:
    """The column type's result processor. A type that asks which type the driver reported
    (PostgreSQL's NUMERIC under psycopg: it reports 1700 and gives a Decimal already) is
    taken as the driver gives it — a prepared statement knows no cursor before it runs."""
    try:
        return type_.dialect_impl(dialect).result_processor(dialect, None)
    except (TypeError, ValueError, LookupError, sa_exc.InvalidRequestError):
        return None


class _Compiled:
    __slots__ = ("sql", "positional", "names", "procs", "fixed", "row", "results", "direct")

    def __init__(self, stmt: Any, dialect: Any, keys: Sequence[str] | None):
        compiled = stmt.compile(dialect=dialect, column_keys=list(keys) if keys is not None else None)
        if getattr(compiled, "escaped_bind_names", None):
            raise ValueError(f"prepared statements need plain parameter names: {compiled.escaped_bind_names}")
        self.sql = compiled.string
        self.positional = compiled.positional
        self.names = tuple(compiled.positiontup) if compiled.positional else tuple(compiled.binds)
        self.procs: dict[str, Any] = {}
        self.fixed: dict[str, Any] = {}
        for name, bind in compiled.binds.items():
            proc = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if proc is not None:
                self.procs[name] = proc
            if not bind.required:
                self.fixed[name] = bind.effective_value
        self.row = self.results = None
        if stmt.is_select:
            cols = list(stmt.selected_columns)
            self.row = namedtuple("Row", [c.key for c in cols], rename=True)
            self.results = [_result_processor(c.type, dialect) for c in cols]
        self.direct = dialect.name in DIRECT

    def args(self, params: Mapping[str, Any]) -> Any:
        if self.fixed:
            params = {**self.fixed, **params}
        procs = self.procs
        values = (procs[n](params[n]) if n in procs else params[n] for n in self.names)
        return tuple(values) if self.positional else dict(zip(self.names, values))


class Prepared:
    """`stmt` compiled once per dialect. For an INSERT give `keys`, the columns every row
    supplies (no Python-side column defaults are applied: give every value)."""

    def __init__(self, stmt: Any, keys: Sequence[str] | None = None):
        self.stmt, self.keys = stmt, keys
        self._compiled: dict[tuple[type, str], _Compiled] = {}

    def _for(self, conn: Connection) -> _Compiled:
        dialect = conn.dialect
        key = (type(dialect), dialect.paramstyle)
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = _Compiled(self.stmt, dialect, self.keys)
        return found

    def run(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        """One execution; the result gives `rowcount`."""
        c = self._for(conn)
        args = c.args(params or {})
        if c.direct and cursor.quiet(conn):
            return cursor.run(conn, c.sql, args, many=False)
        return conn.exec_driver_sql(c.sql, args)

    def many(self, conn: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
        """One executemany over `rows` (nothing at all when there are none)."""
        c = self._for(conn)
        args = [c.args(r) for r in rows]
        if not args:
            return
        if c.direct and cursor.quiet(conn):
            cursor.run(conn, c.sql, args[0] if len(args) == 1 else args, many=len(args) > 1).close()
        else:
            conn.exec_driver_sql(c.sql, args[0] if len(args) == 1 else args)

    def first(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        """The first row (a named tuple, values through the columns' result processors) or None."""
        c = self._for(conn)
        args = c.args(params or {})
        if c.direct and cursor.quiet(conn):
            cur = cursor.run(conn, c.sql, args, many=False)
            raw = cur.fetchone()
            cur.close()
        else:
            raw = conn.exec_driver_sql(c.sql, args).first()
        if raw is None:
            return None
        return c.row._make(v if p is None else p(v) for p, v in zip(c.results, raw))

    def all(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Every row (named tuples, values through the columns' result processors)."""
        c = self._for(conn)
        args = c.args(params or {})
        if c.direct and cursor.quiet(conn):
            cur = cursor.run(conn, c.sql, args, many=False)
            raws = cur.fetchall()
            cur.close()
        else:
            raws = conn.exec_driver_sql(c.sql, args).all()
        make, results = c.row._make, c.results
        return [make(v if p is None else p(v) for p, v in zip(results, raw)) for raw in raws]

    def scalar(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        row = self.first(conn, params)
        return None if row is None else row[0]

