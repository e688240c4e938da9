"""Records as the expression language sees them: a Mapping of field values, where a reference
is another record (loaded when an expression reads it) and a collection is the list of
records pointing here (loaded in bulk when primed, else on first read).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import datetime, timezone
from importlib.metadata import entry_points
from typing import Any, Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.deploy.live import LiveModel
from runtime.storage.prepared import Prepared

# Context entries expressions may read besides fields ("$graph" for the graph functions):
# name → provider(loader, name), asked once per operation, only when an expression reads it.
# Other rooms declare theirs under the `banyan.context` entry point (the graph room's `$graph`),
# so the records room never imports them by name; tests may add their own.
CONTEXT_GROUP = "banyan.context"
CONTEXT_PROVIDERS: dict[str, Any] = {}
_declared: dict[str, Any] | None = None


def _provider(name: str) -> Any:
    global _declared
    found = CONTEXT_PROVIDERS.get(name)
    if found is None:
        if _declared is None:
            _declared = {"$" + ep.name: ep for ep in entry_points(group=CONTEXT_GROUP)}
        ep = _declared.get(name)
        if ep is not None:
            found = CONTEXT_PROVIDERS[name] = ep.load()
    return found


def from_row(live: LiveModel, entity: str, row: Mapping) -> dict[str, Any]:
    """Field values of a table row of `entity`, as runtime values (datetimes in UTC)."""
    names, datetimes = live.cache(("record columns", entity), _column_names, live.model[entity].columns)
    out = {n: row[n] for n in names}
    _in_utc([out], datetimes)
    return out


def _in_utc(rows: list[dict], datetimes: tuple[str, ...]) -> None:
    """The stored datetimes of `rows` (naive: stored as UTC) marked UTC, in place."""
    for n in datetimes:
        for row in rows:
            v = row[n]
            if isinstance(v, datetime) and v.tzinfo is None:
                row[n] = v.replace(tzinfo=timezone.utc)


def _column_names(columns: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return tuple(c.name for c in columns), tuple(c.name for c in columns if c.kind == "datetime")


def _by_column(live: LiveModel, entity: str, column: str) -> tuple[Prepared, tuple[str, ...], tuple[str, ...]]:
    """`Loader.by_key`'s statement for `entity` by `column`, with the names of what it selects."""
    t = live.table(entity)
    names, datetimes = _column_names(live.model[entity].columns)
    names = ("id", *(n for n in names if n != "id"))
    return Prepared(sa.select(*(t.c[n] for n in names)).where(t.c[column] == sa.bindparam("k_value"))), names, datetimes


class Loader:
    """Reads records for expressions within one operation, with caches.

    Records are read as plain tuples and shaped as `from_row` does ({"id", field: value},
    datetimes in UTC). `columns` ({entity: names}, `columns_named`) narrows what a collection's
    records hold to the fields the operation's expressions can read (with the record's id and its
    link to the parent); an entity not named there is read whole."""

    chunk = 500                      # ids or parents per statement

    def __init__(self, conn: Connection, live: LiveModel, columns: Mapping[str, frozenset[str]] | None = None):
        self.conn, self.live = conn, live
        self.columns: Mapping[str, frozenset[str]] = columns or {}
        self._rows: dict[tuple[str, int], dict | None] = {}
        self._children: dict[tuple[str, str], dict[int, list[dict]]] = {}
        self._meta: dict[str, tuple[dict, dict, dict]] = {}
        self._context: dict[str, Any] = {}
        self._bank_wide: dict[str, list] = {}

    def given(self, name: str, value: Any) -> None:
        """Give the context entry `name` (`$now`: the time an evaluation runs at) for this operation."""
        self._context[name] = value

    def fetch(self, entity: str, where: Any = None, *, via: str | None = None) -> list[dict]:
        """The records of `entity` that `where` selects, shaped as expressions read them; a
        collection's (`via`: its link to the parent, in id order) hold only `columns[entity]`
        when named, and meet `conditions(entity)` too."""
        t = self.live.table(entity)
        names, datetimes = self.live.cache(("record columns", entity), _column_names, self.live.model[entity].columns)
        wanted = self.columns.get(entity) if via is not None else None
        if wanted is not None:
            names = tuple(n for n in names if n in wanted or n == via)
            datetimes = tuple(n for n in datetimes if n in names)
        names = ("id", *(n for n in names if n != "id"))
        q = sa.select(*(t.c[n] for n in names))
        if where is not None:
            q = q.where(where)
        if via is not None:
            q = q.where(*self.conditions(entity)).order_by(t.c.id)
        rows = [dict(zip(names, r)) for r in self.conn.execute(q).fetchall()]
        _in_utc(rows, datetimes)
        return rows

    def conditions(self, entity: str) -> list:
        """What a collection's records must meet besides their link (a reader's scope: runtime/views)."""
        return []

    def kept(self, entity: str, rows: list[dict]) -> list[dict]:
        """Of the records read by id (`rows`), those the operation may see (all, here)."""
        return rows

    def rows(self, entity: str, ids: list[int]) -> dict[int, dict]:
        """Many records at once (`id IN ids`, in chunks); {id: values} for those that exist, kept
        for `row`."""
        todo = [i for i in ids if (entity, i) not in self._rows]
        t = self.live.table(entity)
        for start in range(0, len(todo), self.chunk):
            chunk = todo[start:start + self.chunk]
            for i in chunk:
                self._rows[(entity, i)] = None
            for row in self.kept(entity, self.fetch(entity, t.c.id.in_(chunk))):
                self._rows[(entity, row["id"])] = row
        return {i: row for i in ids if (row := self._rows.get((entity, i))) is not None}

    def context_value(self, name: str) -> Any:
        if name not in self._context:
            provider = _provider(name)
            if provider is None:
                raise KeyError(name)
            self._context[name] = provider(self, name)
        return self._context[name]

    def meta(self, entity: str) -> tuple[dict, dict, dict, frozenset]:
        """(reference fields → target entity, collections by name, each collection → empty, every
        field and collection name) of an entity."""
        found = self._meta.get(entity)
        if found is None:
            ent = self.live.entity(entity)
            refs = {f.name: f.ref for f in ent.fields if f.type_name == "ref" and f.ref not in ("org_unit", "user")}
            collections = {c.name: c for c in ent.collections}
            names = frozenset([f.name for f in ent.fields] + list(collections))
            found = self._meta[entity] = (refs, collections, dict.fromkeys(collections, ()), names)
        return found

    def bank_wide(self, entity: str) -> list | None:
        """The records of a `bank_wide` entity (the bank's capital) in effect at the operation's
        `$now` (time field on or before it; all of them without a time field), read once per
        operation; None when `entity` is not bank-wide."""
        if entity in self._bank_wide:
            return self._bank_wide[entity]
        ent = self.live.bundle.entities.get(entity)
        if ent is None or not getattr(ent, "bank_wide", False):
            return None
        rows = self.fetch(entity)
        if ent.time_field:
            now = self._context.get("$now") or datetime.now(timezone.utc)
            rows = [r for r in rows if r.get(ent.time_field) is not None and _on_or_before(r[ent.time_field], now)]
        out = self._bank_wide[entity] = [RecordContext(entity, r, self, r["id"]) for r in rows]
        return out

    def by_key(self, entity: str, key: Any) -> dict | None:
        """The record of `entity` whose key is `key` (its id when `key` is a number, or a string of
        digits for an entity without a key, as `keys_to_ids` reads keys), shaped as `fetch` shapes
        records and kept for `row`; None when there is none (or `kept` keeps it not). One prepared
        statement per entity and column: a flow command reads its subject so, every time."""
        column = self.live.entity(entity).key
        if isinstance(key, int) or column is None:
            if not isinstance(key, int):
                if not (isinstance(key, str) and key.isdigit()):
                    return None
                key = int(key)
            column = "id"
        statement, names, datetimes = self.live.cache(("record by", entity, column), _by_column, self.live, entity,
                                                      column)
        found = statement.first(self.conn, {"k_value": key})
        if found is None:
            return None
        rows = [dict(zip(names, found))]
        _in_utc(rows, datetimes)
        kept = self.kept(entity, rows)
        if not kept:
            return None
        row = self._rows[(entity, kept[0]["id"])] = kept[0]
        return row

    def row(self, entity: str, id_: int) -> dict | None:
        key = (entity, id_)
        if key not in self._rows:
            found = self.fetch(entity, self.live.table(entity).c.id == id_)
            self._rows[key] = found[0] if found else None
        return self._rows[key]

    def prime(self, entity: str, via: str, parent_ids: list[int]) -> None:
        """Load the children of many parents at once (`entity.via IN parent_ids`)."""
        cache = self._children.setdefault((entity, via), {})
        todo = [i for i in parent_ids if i not in cache]
        t = self.live.table(entity)
        for start in range(0, len(todo), self.chunk):
            chunk = todo[start:start + self.chunk]
            for i in chunk:
                cache[i] = []
            for row in self.fetch(entity, t.c[via].in_(chunk), via=via):
                cache[row[via]].append(row)

    def children(self, entity: str, via: str, parent_id: int | None) -> list[dict]:
        if parent_id is None:
            return []
        cache = self._children.get((entity, via))
        if cache is None or parent_id not in cache:
            self.prime(entity, via, [parent_id])
            cache = self._children[(entity, via)]
        return cache[parent_id]

    def forget_children(self, entity: str) -> None:
        for key in [k for k in self._children if k[0] == entity]:
            del self._children[key]


def _on_or_before(t: Any, now: datetime) -> bool:
    if isinstance(t, datetime):
        return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)) <= now
    return bool(t <= now.date())


class RecordRef(Mapping):
    """A referenced record: equal to another reference to the same row, or to its key or id."""

    __slots__ = ("entity", "id", "loader", "_ctx")

    def __init__(self, entity: str, id_: int, loader: Loader | None):
        self.entity, self.id, self.loader, self._ctx = entity, id_, loader, None

    def _record(self) -> "RecordContext":
        if self._ctx is None:
            row = self.loader.row(self.entity, self.id) if self.loader else None
            self._ctx = RecordContext(self.entity, row or {}, self.loader, row["id"] if row else None)
        return self._ctx

    def __getitem__(self, name: str) -> Any:
        if name == "alerts" and self._ctx is None and self.loader is not None and \
                "alerts" not in self.loader.meta(self.entity)[3]:
            return self.loader.context_value("$alerts").of(self.entity, self.id)     # no need to read the row
        return self._record()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._record())

    def __len__(self) -> int:
        return len(self._record())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RecordRef):
            return (self.entity, self.id) == (other.entity, other.id)
        if isinstance(other, int) and not isinstance(other, bool):
            return other == self.id
        if isinstance(other, str) and self.loader is not None:
            key = self.loader.live.entity(self.entity).key
            return key is not None and self._record().get(key) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.entity, self.id))


_MISSING = object()


class RecordContext(Mapping):
    """One record's fields (and collections) for a compiled expression."""

    __slots__ = ("entity", "values", "loader", "id", "_refs", "_collections", "_cache")

    def __init__(self, entity: str, values: Mapping, loader: Loader | None, id_: int | None,
                 new: bool = False):
        self.entity, self.values, self.loader, self.id = entity, values, loader, id_
        if loader is None:
            self._refs, self._collections, self._cache = {}, {}, {}
            return
        self._refs, self._collections, empty, _names = loader.meta(entity)
        # nothing can point at a record that is being created: its collections are empty
        self._cache: dict[str, Any] = empty.copy() if new else {}

    def __getitem__(self, name: str) -> Any:
        if name in self._cache:
            return self._cache[name]
        if name in self._refs:
            v = self.values.get(name)
            out = None if v is None else RecordRef(self._refs[name], v, self.loader)
        elif name in self._collections:
            c = self._collections[name]
            rows = self.loader.children(c.entity, c.via, self.id) if self.loader else []
            out = [RecordContext(c.entity, r, self.loader, r["id"]) for r in rows]
        elif name in self.values:
            return self.values[name]
        elif name == "subject":             # a rule's scope names the record itself `subject` (dsl subject_scope)
            return self
        elif name == "alerts" and self.loader is not None:          # its open alerts (runtime/alerts/facts.py)
            return self.loader.context_value("$alerts").of(self.entity, self.id)
        elif name[:1] == "$" and self.loader is not None:
            return self.loader.context_value(name)
        elif self.loader is not None and (figures := self.loader.bank_wide(name)) is not None:
            return figures
        else:
            raise KeyError(name)
        self._cache[name] = out
        return out

    def get(self, name: str, default: Any = None) -> Any:
        """As Mapping.get, without its exception for a stored field (the expressions' null-safe
        reads call it for every field of every record)."""
        if name in self._cache:
            return self._cache[name]
        if name not in self._refs and name not in self._collections:
            value = self.values.get(name, _MISSING)
            if value is not _MISSING:
                return value
        try:
            return self[name]
        except KeyError:
            return default

    def __iter__(self) -> Iterator[str]:
        yield from self.values
        yield from (c for c in self._collections if c not in self.values)

    def __len__(self) -> int:
        return len(self.values) + len([c for c in self._collections if c not in self.values])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (RecordContext, RecordRef)) and self.id is not None:
            return (self.entity, self.id) == (other.entity, other.id)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.entity, self.id))


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def expression_texts(*holders: Any) -> list[str]:
    """The text of every compiled expression `holders` hold (conditions, scores, evidence, an
    action's `when` …), found by walking them: dataclasses, mappings, lists."""
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

    for holder in holders:
        walk(holder, 0)
    return out


def columns_named(live: LiveModel, entity: str, texts: Iterable[str]) -> dict[str, frozenset[str]]:
    """For each entity reachable from `entity` through collections: the columns of its records
    that expressions of `texts` can read — every field whose name is a word of one of them (a
    superset of what they read), its id, the link to its parent, its key, display name and time
    field (windows and `latest` read it). A `Loader`'s `columns`."""
    words: set[str] = set()
    for text in texts:
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
