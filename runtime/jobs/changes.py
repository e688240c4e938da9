"""The change feed's writing side: every committed record change is one row of `banyan_changes`,
appended in the same transaction as the write (a rolled-back write leaves no event).

`append` writes a batch as one executemany. The records of one write that changed alike (a bulk
create or delete, or updates of the same fields) share a row, up to `PER_ROW` of them: the row's
`records` column lists them as `[[id, key], …]`. A bulk import of 100,000 companies is 200 rows,
not 100,000, and readers never see the difference — `read` hands out one `Change` per record, in
the order written, each with its row's `seq`. On PostgreSQL it first takes a transaction-scoped
advisory lock, held until commit, so that events get their `seq` in commit order: a reader that
sees event n has seen every committed event before it, and a cursor (`feed.py`) never skips one
that commits late. (SQLite writes one transaction at a time anyway.) Writers that also append to
the audit chain do so first (it locks its head row), so every writer takes the two locks in the
same order.

Where a change comes from besides its actor — a file import, a flow — is set around the write
with `with source("import"):` (a context variable, so it follows the call without a parameter
through every layer)."""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.jobs.tables import changes, db_now

OPS = ("create", "update", "delete")
_COLUMNS = ("entity", "record_id", "record_key", "op", "actor", "at", "fields", "deployment_version", "source",
            "records")
PER_ROW = 500               # records of one write at most in one row
_LOCK_KEY = 0x62616E79616E          # "banyan": the advisory lock that orders appends on PostgreSQL
_source: ContextVar[str | None] = ContextVar("banyan_change_source", default=None)


@dataclass(frozen=True, slots=True)
class Change:
    """One committed change of one record, as subscribers receive it."""
    seq: int
    entity: str
    record_id: int
    record_key: str | None
    op: str
    actor: str
    at: datetime
    fields: tuple[str, ...]                 # an update's changed fields; () for a create or delete (all)
    deployment_version: int | None
    source: str | None

    @classmethod
    def of(cls, row: Any) -> list[Change]:
        """The changes a row stands for (one, or each of its `records`)."""
        fields = tuple(json.loads(row.fields))
        if row.records is None:
            return [cls(row.seq, row.entity, row.record_id, row.record_key, row.op, row.actor, row.at, fields,
                        row.deployment_version, row.source)]
        return [cls(row.seq, row.entity, record_id, key, row.op, row.actor, row.at, fields, row.deployment_version,
                    row.source) for record_id, key in json.loads(row.records)]


@contextmanager
def source(name: str) -> Iterator[None]:
    """Mark every change appended inside the block as coming from `name` ("import", "flow:<id>")."""
    token = _source.set(name[:200])
    try:
        yield
    finally:
        _source.reset(token)


def current_source() -> str | None:
    return _source.get()


def append(conn: Connection, entity: str, op: str, rows: Iterable[tuple[int, Any, Sequence[str]]], *,
           actor: str, version: int | None) -> int:
    """Append one change per `(record id, record key or None, changed field names)`; returns how
    many. Call it inside the write's own transaction, after the write. A create or delete stores no
    field list (every field is new, or gone). Consecutive changes with the same field list share a
    row (see the module docstring)."""
    if op not in OPS:
        raise ValueError(f"a change is one of {', '.join(OPS)}, not {op!r}")
    names: dict[tuple, str] = {(): "[]"}
    whole = op != "update"
    runs: list[tuple[str, list[tuple[int, str | None]]]] = []      # (field list, its records), in order
    count = 0
    for record_id, key, fields in rows:
        fields = () if whole else tuple(fields)
        text = names.get(fields)
        if text is None:
            text = names[fields] = json.dumps(sorted(fields), ensure_ascii=False, separators=(",", ":"))
        if not runs or runs[-1][0] is not text or len(runs[-1][1]) >= PER_ROW:
            runs.append((text, []))
        runs[-1][1].append((record_id, None if key is None else str(key)[:200]))
        count += 1
    if runs:
        events = [(members[0][0], members[0][1], text,
                   None if len(members) == 1 else json.dumps(members, ensure_ascii=False, separators=(",", ":")))
                  for text, members in runs]
        _insert(conn, (entity, op, actor[:200], db_now(), version, _source.get()), events)
    return count


def _insert(conn: Connection, same: tuple, events: list[tuple[int, str | None, str, str | None]]) -> None:
    """INSERT the rows as one executemany; `same` is (entity, op, actor, at, version, source)."""
    dialect = conn.dialect
    if dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_KEY)))
    entity, op, actor, at, version, src = same
    statement = _positional(dialect)
    if statement is None:                       # e.g. psycopg: SQLAlchemy Core's executemany
        conn.execute(changes.insert(), [
            {"entity": entity, "record_id": i, "record_key": k, "op": op, "actor": actor, "at": at, "fields": f,
             "deployment_version": version, "source": src, "records": m} for i, k, f, m in events])
        return
    # qmark drivers (SQLite): one compiled statement, rows as tuples; only `at` is bound through
    # its type, and it is the same in every row
    sql, process = statement
    at = at if process is None else process(at)
    conn.exec_driver_sql(sql, [(entity, i, k, op, actor, at, f, version, src, m) for i, k, f, m in events])


_STATEMENTS: dict[tuple, Any] = {}


def _positional(dialect: Any) -> tuple[str, Any] | None:
    """(INSERT text with `?` in `_COLUMNS` order, `at`'s bind processor) for a qmark dialect, else None."""
    key = (type(dialect), dialect.paramstyle)
    if key not in _STATEMENTS:
        found = None
        if dialect.paramstyle == "qmark":
            compiled = changes.insert().compile(dialect=dialect, column_keys=list(_COLUMNS))
            if tuple(compiled.positiontup or ()) == _COLUMNS:
                found = (compiled.string, changes.c.at.type.dialect_impl(dialect).bind_processor(dialect))
        _STATEMENTS[key] = found
    return _STATEMENTS[key]


def read(conn: Connection, after: int, *, upto: int | None = None, entities: Iterable[str] | None = None,
         limit: int = 100) -> list[Change]:
    """The changes of the rows with `after < seq (<= upto)`, of `entities` (None: all), in order;
    `limit` counts rows (a row may stand for many changes: count their distinct `seq`)."""
    q = sa.select(changes).where(changes.c.seq > after)
    if upto is not None:
        q = q.where(changes.c.seq <= upto)
    if entities is not None:
        q = q.where(changes.c.entity.in_(sorted(set(entities))))
    return [c for r in conn.execute(q.order_by(changes.c.seq).limit(limit)) for c in Change.of(r)]


def last_seq(conn: Connection) -> int:
    """The newest event's seq (0 when there is none)."""
    return conn.execute(sa.select(sa.func.coalesce(sa.func.max(changes.c.seq), 0))).scalar_one()
