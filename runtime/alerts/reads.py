"""What a batch of alert rules reads, loaded for all its subjects at once: every collection and
reference the rules' expressions reach (`CompiledExpr.paths`: `collaterals.valuations.value`,
`transactions.counterparty_company.group`), one query per (entity, link) and level for the whole
batch, so no expression reads a record on its own during the evaluation.

`ColumnLoader` reads of a collection's records only the columns the rules can name (`columns_read`:
every field of the entity named anywhere in the rules' expressions, with its id, link, key, display
name and time field), as plain tuples: a scan reads the columns its rules reference, not the rows'
every column."""
from __future__ import annotations

import re
from dataclasses import fields, is_dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.records.context import Loader

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
CHUNK = 500


def read_paths(rules: Iterable[Any]) -> frozenset[tuple[str, ...]]:
    """The field paths the rules' conditions and evidence read, root name first."""
    out: set[tuple[str, ...]] = set()
    for rule in rules:
        for g in rule.grades:
            out |= set(getattr(g.when, "paths", ()))
        for e in rule.evidence:
            out |= set(getattr(e.value, "paths", ()))
    return frozenset(out)


def _heads(paths: Iterable[tuple[str, ...]]) -> dict[str, set[tuple[str, ...]]]:
    """Paths by their first name: {name: the rest of each path (empty tuples left out)}."""
    out: dict[str, set[tuple[str, ...]]] = {}
    for p in paths:
        if p:
            rest = out.setdefault(p[0], set())
            if len(p) > 1:
                rest.add(p[1:])
    return out


def prime(loader: Loader, entity: str, rows: Iterable[dict], paths: Iterable[tuple[str, ...]]) -> None:
    """Load into `loader` what `paths` reach from the records `rows` of `entity`: a collection's
    records for all of them in one query, a reference's records in one, and so on down the path.
    Fields, `alerts` and context entries (`$graph`) are left to their own loaders."""
    rows = [r for r in rows if r is not None]
    if not rows:
        return
    refs, collections, _empty, _names = loader.meta(entity)
    for name, rest in sorted(_heads(paths).items()):
        if name in collections:
            c = collections[name]
            ids = [r["id"] for r in rows]
            loader.prime(c.entity, c.via, ids)
            if rest:
                prime(loader, c.entity, [child for i in ids for child in loader.children(c.entity, c.via, i)], rest)
        elif name in refs and rest and any(p[0] != "alerts" for p in rest):
            targets = sorted({r[name] for r in rows if r.get(name) is not None})
            found = loader.rows(refs[name], targets)
            prime(loader, refs[name], list(found.values()), rest)


def expression_texts(rule: Any) -> list[str]:
    """The text of every expression a rule holds (conditions, evidence, its actions' `when`,
    `input`, `match` …), found by walking the compiled rule."""
    out: list[str] = []
    seen: set[int] = set()

    def walk(v: Any, depth: int) -> None:
        if depth > 8 or id(v) in seen or v is None or isinstance(v, (str, int, float, bool)):
            return
        seen.add(id(v))
        if hasattr(v, "paths") and isinstance(getattr(v, "text", None), str):
            out.append(v.text)
        elif is_dataclass(v):
            for f in fields(v):
                walk(getattr(v, f.name), depth + 1)
        elif isinstance(v, Mapping):
            for x in v.values():
                walk(x, depth + 1)
        elif isinstance(v, (tuple, list)):
            for x in v:
                walk(x, depth + 1)

    for name in ("grades", "evidence", "actions"):
        walk(getattr(rule, name, ()), 0)
    return out


def columns_read(live: Any, entity: str, rules: Iterable[Any]) -> dict[str, frozenset[str]]:
    """For each entity reachable from `entity` through collections: the columns a scan of `rules`
    reads of its records — every field whose name is a word of one of the rules' expressions (a
    superset of what they read), its id, the link to its parent, its key, display name and time
    field (windows and `latest` read it)."""
    words: set[str] = set()
    for rule in rules:
        for text in expression_texts(rule):
            words |= set(_WORD.findall(text))
    out: dict[str, frozenset[str]] = {}
    todo = [entity]
    while todo:
        ent = live.entity(todo.pop())
        for c in ent.collections:
            if c.entity not in live.model:
                continue
            child = live.entity(c.entity)
            names = {col.name for col in live.model[c.entity].columns}
            keep = {n for n in names if n in words} | {"id", c.via}
            keep |= {n for n in (child.key, child.display, child.time_field) if n}
            if c.entity not in out:
                todo.append(c.entity)
            out[c.entity] = out.get(c.entity, frozenset()) | {n for n in keep if n in names or n == "id"}
    return out


class ColumnLoader(Loader):
    """A Loader whose collections read only `columns[entity]` of their records (`columns_read`);
    an entity not named there is read whole."""

    def __init__(self, conn: Connection, live: Any, columns: Mapping[str, frozenset[str]]):
        super().__init__(conn, live)
        self.columns = columns

    def prime(self, entity: str, via: str, parent_ids: list[int]) -> None:
        wanted = self.columns.get(entity)
        if wanted is None:
            super().prime(entity, via, parent_ids)
            return
        cache = self._children.setdefault((entity, via), {})
        todo = [i for i in parent_ids if i not in cache]
        if not todo:
            return
        t = self.live.table(entity)
        names = ["id", *sorted((wanted | {via}) - {"id"})]
        moments = {c.name for c in self.live.model[entity].columns if c.kind == "datetime"} & set(names)
        q = sa.select(*(t.c[n] for n in names))
        for start in range(0, len(todo), CHUNK):
            chunk = todo[start:start + CHUNK]
            for i in chunk:
                cache[i] = []
            for r in self.conn.execute(q.where(t.c[via].in_(chunk)).order_by(t.c.id)).fetchall():
                row = dict(zip(names, r))
                for n in moments:
                    v = row[n]
                    if isinstance(v, datetime) and v.tzinfo is None:
                        row[n] = v.replace(tzinfo=timezone.utc)
                cache[row[via]].append(row)
