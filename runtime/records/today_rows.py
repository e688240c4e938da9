"""Today's table rows, read once for every moment of a backtest (runtime/records/asof.py): the
moments differ only in what the as-of view makes of the same rows — which were there yet, which
changes to undo, which computed fields to work out again — so the tables are not read again for
each month-end. Rows come as `context.from_row` gives them, each with its `created_at`, by id or
by the value of a reference column (a collection's `via`), and are shared: the as-of view copies
a row before it changes it.

Up to `limit` rows are kept (a rule over two million transactions reads them again at each
moment rather than holding them all).
"""
from __future__ import annotations

from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.records.context import from_row

Pair = tuple[Any, dict]             # (created_at as stored, the row's values)
CHUNK = 500
LIMIT = 1_000_000


class TodayRows:
    def __init__(self, live: Any, limit: int = LIMIT):
        self.live, self.limit = live, limit
        self.held = 0
        self._by_id: dict[str, dict[int, Pair | None]] = {}
        self._by_ref: dict[tuple[str, str], dict[Any, list[Pair]]] = {}

    def _read(self, conn: Connection, entity: str, column: str, values: list) -> Iterable[Pair]:
        t = self.live.table(entity)
        for start in range(0, len(values), CHUNK):
            found = conn.execute(sa.select(t).where(t.c[column].in_(values[start:start + CHUNK])).order_by(t.c.id))
            for r in found.mappings():
                yield r["created_at"], {"id": r["id"], **from_row(self.live, entity, r)}

    def by_id(self, conn: Connection, entity: str, ids: list[int]) -> list[Pair]:
        """The rows of `ids` that exist today."""
        cache = self._by_id.setdefault(entity, {})
        todo = [i for i in ids if i not in cache]
        fresh: dict[int, Pair] = {pair[1]["id"]: pair for pair in self._read(conn, entity, "id", todo)}
        if todo and self.held + len(fresh) <= self.limit:
            self.held += len(fresh)
            for i in todo:
                cache[i] = fresh.get(i)
        return [pair for i in ids if (pair := cache.get(i) or fresh.get(i)) is not None]

    def by_ref(self, conn: Connection, entity: str, column: str, values: list) -> list[Pair]:
        """The rows whose `column` holds one of `values` today, by id."""
        cache = self._by_ref.setdefault((entity, column), {})
        values = list(dict.fromkeys(values))
        todo = [v for v in values if v not in cache]
        fresh: dict[Any, list[Pair]] = {}
        for pair in self._read(conn, entity, column, todo):
            fresh.setdefault(pair[1][column], []).append(pair)
        if todo and self.held + sum(map(len, fresh.values())) <= self.limit:
            self.held += sum(map(len, fresh.values()))
            for v in todo:
                cache[v] = fresh.get(v, [])
        out = [pair for v in values for pair in (cache[v] if v in cache else fresh.get(v, ()))]
        out.sort(key=lambda pair: pair[1]["id"])
        return out
