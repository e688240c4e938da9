"""Storage chores the records service shares: ids, reference keys, uniqueness, JSON forms."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import repeat
from operator import is_not, itemgetter
from typing import Any, Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

try:                                    # optional: the same JSON text, several times faster
    import orjson
except ImportError:                     # pragma: no cover - depends on the environment
    orjson = None

from runtime.deploy.live import LiveModel
from runtime.records.validation import Problem


def allocate_ids(conn: Connection, live: LiveModel, entity: str, n: int) -> list[int]:
    """`n` fresh ids for `entity` (the caller's write transaction holds them)."""
    if n == 0:
        return []
    if conn.dialect.name == "postgresql":
        rows = conn.exec_driver_sql(f"SELECT nextval('\"e_{entity}_id_seq\"') FROM generate_series(1, {int(n)})")
        return [r[0] for r in rows]
    t = live.table(entity)
    top = conn.execute(sa.select(sa.func.coalesce(sa.func.max(t.c.id), 0))).scalar()
    return list(range(top + 1, top + n + 1))


def keys_to_ids(conn: Connection, live: LiveModel, entity: str, keys: Iterable[Any]) -> dict[Any, int]:
    """{key or id as given: id} for the records of `entity` that exist."""
    keys = set(keys)
    t = live.table(entity)
    key = live.entity(entity).key
    out: dict[Any, int] = {}
    as_ids = {k for k in keys if isinstance(k, int)}
    as_keys = keys - as_ids
    if key is None:
        as_ids |= {int(k) for k in as_keys if isinstance(k, str) and k.isdigit()}
        as_keys = set()
    for chunk in _chunks(sorted(as_ids)):
        out.update({i: i for (i,) in conn.execute(sa.select(t.c.id).where(t.c.id.in_(chunk)))})
    for chunk in _chunks(sorted(as_keys, key=str)):
        out.update({k: i for k, i in conn.execute(sa.select(t.c[key], t.c.id).where(t.c[key].in_(chunk)))})
    if key is None:
        out.update({k: int(k) for k in keys if isinstance(k, str) and k.isdigit() and int(k) in out})
    return out


def ids_to_keys(conn: Connection, live: LiveModel, entity: str, ids: Iterable[int]) -> dict[int, Any]:
    if entity not in live.model:
        live.entity(entity)             # UnknownEntity, with a hint
    key = live.model[entity].key        # the stored table model: keys show even while the entity is unavailable
    ids = set(ids)
    if key is None:
        return {i: i for i in ids}
    t = live.tables[entity]
    out: dict[int, Any] = {}
    for chunk in _chunks(sorted(ids)):
        out.update(dict(conn.execute(sa.select(t.c.id, t.c[key]).where(t.c.id.in_(chunk))).all()))
    return out


def existing_values(conn: Connection, live: LiveModel, entity: str, field: str, values: Iterable[Any]) -> dict[Any, int]:
    """{value: id} of rows already holding one of `values` in a unique field."""
    t = live.table(entity)
    out: dict[Any, int] = {}
    for chunk in _chunks(sorted(set(values), key=str)):
        out.update(dict(conn.execute(sa.select(t.c[field], t.c.id).where(t.c[field].in_(chunk))).all()))
    return out


def check_unique(conn: Connection, live: LiveModel, entity: str, fields: list[str],
                 rows: list[tuple[int, int | None, dict]], problems: dict[int, list[Problem]]) -> None:
    """Problems for unique fields whose value is taken (in the table or earlier in `rows`).
    `rows` is (position, own id or None, values)."""
    for field in fields:
        wanted = {vals[field] for _, _, vals in rows if vals.get(field) is not None}
        taken = existing_values(conn, live, entity, field, wanted) if wanted else {}
        seen: dict[Any, int] = {}
        for pos, own, vals in rows:
            v = vals.get(field)
            if v is None:
                continue
            holder = taken.get(v)
            if holder is not None and holder != own:
                problems.setdefault(pos, []).append(Problem((field,), f"`{v}` is already used by {entity} #{holder}",
                                                            "unique"))
            elif v in seen:
                problems.setdefault(pos, []).append(Problem((field,), f"`{v}` appears twice (also row {seen[v] + 1})",
                                                            "unique"))
            else:
                seen[v] = pos


def _chunks(items: list, size: int = 2000):      # an IN list per query (SQLite allows 32,766 parameters)
    for i in range(0, len(items), size):
        yield items[i:i + size]


def json_value(v: Any) -> Any:
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, timedelta):
        return v.total_seconds()
    raise TypeError(f"cannot encode {type(v).__name__}")


def to_json(data: Any) -> str:
    """Compact JSON with sorted keys, non-ASCII kept (the audit log's before/after text)."""
    if orjson is not None:
        try:    # orjson writes dates and times as isoformat does; Decimal goes through json_value
            return orjson.dumps(data, default=json_value, option=orjson.OPT_SORT_KEYS).decode()
        except TypeError:               # e.g. an integer beyond 64 bits: the standard encoder takes it
            pass
    return json.dumps(data, default=json_value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def insert_new(conn: Connection, t: sa.Table, ready: list[dict], extra: dict[str, Any]) -> None:
    """INSERT `ready` (dicts with the same keys) plus the `extra` columns, equal in every row,
    as one executemany. A column null in every row is left to the table's NULL default.

    SQLite: values are bound column by column with the columns' own SQLAlchemy bind processors
    and handed to the driver as tuples (what SQLAlchemy does for each row and each value,
    without the per-row bookkeeping around it). Other databases: SQLAlchemy Core."""
    if not ready:
        return
    names = list(ready[0])
    n = len(ready)
    if conn.dialect.name != "sqlite":
        used = [c for c in names if any(v[c] is not None for v in ready)]
        conn.execute(t.insert(), [{**{c: v[c] for c in used}, **extra} for v in ready])
        return
    dialect = conn.dialect
    processors = bind_processors(t, dialect)
    columns = list(zip(*map(itemgetter(*names), ready))) if len(names) > 1 else [[v[names[0]] for v in ready]]
    keys, values = [], []
    for name, column in zip(names, columns):
        if not any(map(is_not, column, repeat(None))):      # (`count(None)` would call __eq__)
            continue
        process = processors[name]
        keys.append(name)
        values.append(column if process is None else list(map(process, column)))
    for name, value in extra.items():
        process = processors[name]
        keys.append(name)
        values.append([value if process is None else process(value)] * n)
    compiled = t.insert().compile(dialect=dialect, column_keys=keys)
    order = [keys.index(k) for k in compiled.positiontup or ()]
    params = list(zip(*(values[i] for i in order)))
    conn.exec_driver_sql(compiled.string, params)


def bind_processors(t: sa.Table, dialect: Dialect) -> dict[str, Callable[[Any], Any] | None]:
    """{column name: its type's bind processor for `dialect`, or None}, worked out once per table
    and dialect class and kept in the table's `info` (so it lives and goes with the live bundle
    that owns the table)."""
    cache = t.info.setdefault("banyan.bind_processors", {})
    key = (type(dialect), dialect.paramstyle)
    found = cache.get(key)
    if found is None:
        found = cache[key] = {c.key: c.type.dialect_impl(dialect).bind_processor(dialect) for c in t.columns}
    return found
