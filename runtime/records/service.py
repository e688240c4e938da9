"""The records service: create, read, update, delete, query and bulk-create records of any
deployed entity, validated by the compiled field rules, audited, one transaction each.

Records come out as dicts: `id`, `version`, `created_at`, `updated_at`, then the fields, a
reference given as the referenced record's key (its id when the entity has no key).
References go in the same way (a key, or an id).

Every method takes the asking person's `scope` (runtime/auth/scope.py; None for the operator
and the system): reads see only what it may read, writes are checked on the normalised values
after references are resolved, inside the write's transaction. `request_id` (an idempotency
key) is the actor's own: the same key and body again gives the first answer, the same key
with another body is a conflict, and another person's key is never seen.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from runtime.audit import log as audit
from runtime.auth.scope import Scope, placement_of
from runtime.auth.users import UserStore
from runtime.deploy.live import LiveFollower, LiveModel
from runtime.jobs.changes import append as append_changes
from runtime.records import personal as personal_data
from runtime.records.computed import prime_collections, propagate
from runtime.records.context import Loader, RecordContext, from_row
from runtime.records.errors import Forbidden, InvalidRecord, NotFound, ReadOnly, VersionConflict, invalid
from runtime.records.store import check_unique, ids_to_keys, insert_new, keys_to_ids, to_json
from runtime.records.validation import EntityRules, Problem
from runtime.records.writes import prepare_new, resolve_refs, scope_problems, unresolved, without_echoes
from runtime.storage import faults
from runtime.storage.db import WRITE_OPTION, write_retrying, writing
from runtime.storage.idempotency import fingerprint
from runtime.storage.tables import requests as t_requests

SYSTEM_FIELDS = ("id", "version", "created_at", "updated_at")


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


@dataclass
class Page:
    items: list[dict]
    total: int
    limit: int
    offset: int


class Records:
    def __init__(self, engine: Engine, live: LiveModel | None = None, *, batch_size: int = 1000):
        self.engine = engine
        self._follower = LiveFollower(engine, live)
        self.batch_size = batch_size
        self._rules: dict[tuple[str, str], EntityRules] = {}
        self._users: UserStore | None = None

    # -- the deployed model (runtime/deploy/live.py follows new deployments) ----------------------
    @property
    def live(self) -> LiveModel:
        return self._follower.live

    def refresh(self) -> LiveModel:
        """Follow a new deployment if there is one (cheap when nothing changed)."""
        return self._follower.refresh()

    def writable(self, entity: str) -> LiveModel:
        """The live model, when `entity`'s records may be changed; ReadOnly while it is unavailable."""
        why = self.live.read_only(entity)
        if why is not None:
            raise ReadOnly(f"{entity} records are read-only: the entity is unavailable ({why}); "
                           "fix its YAML and redeploy")
        return self.live

    def rules(self, entity: str) -> EntityRules:
        key = (self.live.hash, entity)
        found = self._rules.get(key)
        if found is None:
            found = self._rules[key] = EntityRules(self.live.entity(entity))
        return found

    # -- reading --------------------------------------------------------------------------------
    def get(self, entity: str, id_: int, *, scope: Scope | None = None) -> dict:
        """Record `id_` as `scope` may read it (personal fields masked unless it may see them; an
        unmasked view by a person is audited, runtime/records/personal.py)."""
        with self.engine.connect() as conn:
            found = self._get(conn, entity, id_, scope)
        self.audit_personal(entity, [found["id"]], scope)
        return found

    # -- personal data (runtime/records/personal.py) ---------------------------------------------
    def personal(self, entity: str) -> dict[str, str]:
        """{field: mask kind} of `entity`'s personal fields."""
        return personal_data.personal_fields(self.live.entity(entity))

    def users(self) -> UserStore:
        if self._users is None:
            self._users = UserStore(self.engine)
        return self._users

    def sees_personal(self, conn: Connection, scope: Scope | None, permission: str = personal_data.READ) -> bool:
        return personal_data.may(self.users(), conn, scope, permission)

    def masked_personal_fields(self, conn: Connection, entity: str, scope: Scope | None) -> set[str]:
        """The personal fields of `entity` that `scope` reads masked — which it may therefore not
        search or filter by either (a search by the whole value would tell it)."""
        kinds = self.personal(entity)
        return set(kinds) if kinds and not self.sees_personal(conn, scope) else set()

    def masked_personal(self, scope: Scope | None) -> dict[str, dict[str, str]]:
        """{entity: {field: mask kind}} of the personal fields `scope` reads masked (none when it
        may see personal data): what the audit log's readers see of the values it holds."""
        with self.engine.connect() as conn:
            if self.sees_personal(conn, scope):
                return {}
        return {name: kinds for name in self.live.bundle.entities if (kinds := self.personal(name))}

    def audit_personal(self, entity: str, ids: list[int], scope: Scope | None) -> None:
        """The audit entry of a person's unmasked read of `entity` records `ids` (none when masked,
        when the entity has no personal fields, or for the operator)."""
        if scope is None or not ids or not self.personal(entity):
            return
        with self.engine.connect() as conn:
            unmasked = self.sees_personal(conn, scope)
        if unmasked:
            personal_data.audit_read(self.engine, scope, entity, ids, self.live.version)

    def _get(self, conn: Connection, entity: str, id_: int, scope: Scope | None = None) -> dict:
        t = self.live.table(entity)
        row = conn.execute(sa.select(t).where(t.c.id == id_, *self.readable(entity, scope))).mappings().first()
        if row is None:
            raise NotFound(f"no {entity} record #{id_}")
        return self.output(conn, entity, [row], scope)[0]

    def readable(self, entity: str, scope: Scope | None, table: sa.Table | None = None, *,
                 write: bool = False) -> list:
        """WHERE conditions keeping `entity`'s records to those `scope` may read (runtime/auth);
        with `write`, to those placed inside it (which it may change, or start a flow about)."""
        placement = placement_of(self.live)
        return (placement.writable if write else placement.readable)(self.live, entity, scope, table)

    def _names_within(self, scope: Scope | None) -> Callable[[str], list] | None:
        """What limits references by display name to the records `scope` may read (None: all), so
        a name is unique, or unknown, within what the writer sees — a same-named record outside it
        neither makes the name ambiguous nor is found by it (runtime/records/writes.resolve_refs)."""
        if scope is None or scope.units is None:
            return None
        return lambda target: self.readable(target, scope)

    def keys_within(self, entity: str, scope: Scope | None, *, write: bool = False) -> frozenset | None:
        """The keys (ids for an entity without a key) of `entity`'s records that `scope` may read
        (with `write`: change); None when it may read them all."""
        placement = placement_of(self.live)
        conds = (placement.writable if write else placement.readable)(self.live, entity, scope)
        if scope is None or scope.units is None:
            return None
        t, key = self.live.table(entity), self.live.entity(entity).key
        with self.engine.connect() as conn:
            return frozenset(conn.execute(sa.select(t.c[key or "id"]).where(*conds)).scalars())

    def find(self, entity: str, key: Any, *, scope: Scope | None = None, write: bool = False) -> dict:
        """The record whose key is `key` (normalised first: a padded or numeric key is found);
        NotFound alike for a key that does not exist and one outside `scope` (with `write`: one
        not placed inside it, e.g. a group another branch leads)."""
        with self.engine.connect() as conn:
            key = self.normal_key(entity, key)
            ids = keys_to_ids(conn, self.live, entity, [key]) if key is not None else {}
            try:
                if key not in ids or (write and not placement_of(self.live).ids_within(
                        conn, self.live, entity, scope, [ids[key]], write=True)):
                    raise NotFound("")
                return self._get(conn, entity, ids[key], scope)
            except NotFound:            # unknown and out of scope answer alike (no id, no hint)
                raise NotFound(f"no {entity} record `{key}`") from None

    def normal_key(self, entity: str, key: Any) -> Any:
        """`key` as the entity's key field stores it (None when it cannot be one)."""
        name = self.live.entity(entity).key
        if name is None:
            if isinstance(key, bool):
                return None
            if isinstance(key, float) and key.is_integer():
                return int(key)
            if isinstance(key, str) and key.strip().isdigit():
                return int(key.strip())
            return key if isinstance(key, int) else None
        problems: list[Problem] = []
        got = self.rules(entity).convert({name: key}, problems)
        return None if problems else got.get(name)

    def query(self, entity: str, where: Mapping[str, Any] | None = None, *, order_by: str | None = None,
              limit: int = 100, offset: int = 0, scope: Scope | None = None) -> Page:
        t, rules = self.live.table(entity), self.rules(entity)
        problems: list[Problem] = []
        where = dict(where or {})
        raw_id = where.pop("id", None)
        values = rules.convert(where, problems)
        if problems:
            raise invalid(entity, problems)
        if raw_id is not None and not (str(raw_id).strip().isdigit() and 1 <= int(str(raw_id)) <= 2**63 - 1):
            raise InvalidRecord("`id` must be a record number", [Problem(("id",), "not a record number", "type")])
        with self.engine.connect() as conn:
            hidden = self.masked_personal_fields(conn, entity, scope) & set(values)
            if hidden:
                raise InvalidRecord("personal data is not a filter", [
                    Problem((n,), "personal data: not a filter", "personal") for n in sorted(hidden)])
            conds = [] if raw_id is None else [t.c.id == int(str(raw_id))]
            conds += self.readable(entity, scope)
            for name, v in values.items():
                if name in rules.refs and v is not None:
                    v = keys_to_ids(conn, self.live, rules.refs[name], [v]).get(v, -1)
                conds.append(t.c[name].is_(None) if v is None else t.c[name] == v)
            order = self._order(t, order_by, rules)
            total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*conds)).scalar()
            rows = conn.execute(sa.select(t).where(*conds).order_by(*order).limit(limit).offset(offset)).mappings().all()
            page = Page(self.output(conn, entity, rows, scope), total, limit, offset)
        self.audit_personal(entity, [i["id"] for i in page.items], scope)
        return page

    def _order(self, t: sa.Table, order_by: str | None, rules: EntityRules) -> list:
        if not order_by:
            return [t.c.id]
        name = order_by.lstrip("-")
        if name not in t.c:
            raise InvalidRecord(f"cannot order by `{name}`", [Problem(("order_by",), f"no field `{name}`", "unknown_field")])
        col = t.c[name]
        return [col.desc() if order_by.startswith("-") else col, t.c.id]

    def output(self, conn: Connection, entity: str, rows: Iterable[Mapping], scope: Scope | None = None,
               *, personal: str = personal_data.READ) -> list[dict]:
        """Rows as records; for a reader who may only read a record (not change it), its figures
        over all its members are blank (runtime/auth/scope.py); for a person without the
        permission `personal` (`personal.read`; `personal.export` for an export) the personal
        fields are masked (dsl/values/mask.py)."""
        live, rules = self.live, self.rules(entity)
        items = [{"id": r["id"], "version": r["version"], "created_at": _utc(r["created_at"]),
                  "updated_at": _utc(r["updated_at"]), **from_row(live, entity, r)} for r in rows]
        for field, target in rules.refs.items():
            ids = {i[field] for i in items if i[field] is not None}
            if ids:
                keys = ids_to_keys(conn, self.live, target, ids)
                for i in items:
                    if i[field] is not None:
                        i[field] = keys.get(i[field], i[field])
        hide = placement_of(self.live).of(entity).aggregates if scope is not None and scope.units is not None else ()
        if hide and items:
            mine = placement_of(self.live).ids_within(conn, self.live, entity, scope, [i["id"] for i in items],
                                                      write=True)
            for i in items:
                if i["id"] not in mine:
                    i.update(dict.fromkeys(hide))
        kinds = self.personal(entity)
        if kinds and items and not self.sees_personal(conn, scope, personal):
            personal_data.masked(items, kinds)
        return items

    # -- writing --------------------------------------------------------------------------------
    def _replay(self, conn: Connection, request_id: str | None, actor: str, command: str,
                body: Any = None) -> str | None:
        """The stored answer to `actor`'s request `request_id` (None if new). The key is the actor's
        own; reusing it for another request is a conflict that names only the caller's first use."""
        if request_id is None:
            return None
        row = conn.execute(sa.select(t_requests).where(t_requests.c.actor == actor,
                                                       t_requests.c.request_id == request_id)).first()
        if row is None:
            return None
        if row.command != command or row.fingerprint != fingerprint(body):
            raise VersionConflict(f"you already used request id `{request_id}` for another request "
                                  f"({row.command}); use a new id for a new request")
        return row.response

    def _remember(self, conn: Connection, request_id: str | None, actor: str, command: str, body: Any,
                  entity: str, response: str) -> None:
        if request_id is not None:
            conn.execute(t_requests.insert().values(
                actor=actor, request_id=request_id, entity=entity, command=command[:300],
                fingerprint=fingerprint(body), response=response, at=audit.utc_now()))

    def create(self, entity: str, values: Mapping[str, Any], *, actor: str, request_id: str | None = None,
               scope: Scope | None = None) -> dict:
        command = f"create {entity}"

        def work(conn: Connection) -> dict:
            done = self._replay(conn, request_id, actor, command, values)
            if done is not None:
                return self._get(conn, entity, int(done), scope)
            ids = self._create_many(conn, entity, [values], actor, first_row=None, scope=scope)
            self._remember(conn, request_id, actor, command, values, entity, str(ids[0]))
            return self._get(conn, entity, ids[0], scope)
        return write_retrying(self.engine, work)

    def problems(self, entity: str, values: Mapping[str, Any], *, actor: str, id_: int | None = None,
                 scope: Scope | None = None) -> list[Problem]:
        """Every problem creating (or, with `id_`, changing) a record with `values` would meet — the
        value model, the field rules, references, uniqueness, scope — and nothing written: the write
        runs in a transaction that is always rolled back. A page that found a problem of its own
        asks this too, so it lists at once what the API would."""
        with self.engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            tx = conn.begin()
            try:
                if id_ is None:
                    self._create_many(conn, entity, [values], actor, first_row=None, scope=scope)
                else:
                    self._update_many(conn, entity, [(id_, values, None)], actor, numbered=False, scope=scope)
            except InvalidRecord as exc:
                return list(exc.problems)
            finally:
                tx.rollback()
        return []

    def bulk_create(self, entity: str, rows: Iterable[Mapping[str, Any]], *, actor: str, first_row: int = 1,
                    on_progress: Callable[[int], None] | None = None, conn: Connection | None = None,
                    scope: Scope | None = None) -> int:
        """Create many records in one transaction: all of them, or (with every problem, per row) none.
        Pass `conn` (from `db.writing`) to make it part of a larger transaction."""
        if conn is not None:
            return len(self._create_many(conn, entity, rows, actor, first_row=first_row, on_progress=on_progress,
                                         scope=scope))
        def create(conn: Connection) -> int:
            created = self._create_many(conn, entity, rows, actor, first_row=first_row, on_progress=on_progress,
                                        scope=scope)
            faults.point("records.before_commit")
            return len(created)
        if not isinstance(rows, (list, tuple)):         # a stream (a file being read) is read once
            with writing(self.engine) as conn:
                return create(conn)
        return write_retrying(self.engine, create)

    def _create_many(self, conn: Connection, entity: str, rows: Iterable[Mapping[str, Any]], actor: str,
                     first_row: int | None, on_progress: Callable[[int], None] | None = None,
                     scope: Scope | None = None) -> list[int]:
        self.writable(entity)
        live, rules = self.live, self.rules(entity)
        loader = Loader(conn, live)
        pending: dict[Any, int] = {}
        outside = None
        if scope is not None and scope.units is not None:
            def outside(rows: list[tuple[int, dict]]) -> dict[int, tuple[str, str]]:
                return placement_of(live).outside(conn, live, entity, scope, rows)
        names_within = self._names_within(scope)
        problems: list[Problem] = []
        created: list[int] = []
        changes: list[tuple[None, dict]] = []
        batch: list[Mapping] = []
        seen = 0

        def flush() -> None:
            nonlocal seen
            ready, batch_problems = prepare_new(conn, loader, live, rules, entity, batch, pending, seen, outside,
                                                names_within)
            for pos, probs in sorted(batch_problems.items()):
                label = getattr(batch[pos - seen], "line", None) or pos + (first_row or 1)
                problems.extend(p.at(*((label,) if first_row is not None else ()))
                                for p in probs)
            seen += len(batch)
            if not problems:
                self._insert(conn, entity, ready, actor)
                created.extend(v["id"] for v in ready)
                changes.extend((None, v) for v in ready)
                faults.point("records.after_batch")
            batch.clear()
            if on_progress:
                on_progress(seen)

        for raw in rows:
            batch.append(raw)
            if len(batch) >= self.batch_size:
                flush()
        if batch or seen == 0:
            flush()
        if problems:
            raise invalid(entity, problems, rows=seen if first_row is not None else None)
        propagate(conn, loader, entity, changes, self.rules, actor)
        return created

    def iter_all(self, entity: str, chunk: int = 2000, *, scope: Scope | None = None) -> Iterable[dict]:
        """Every record of `entity` (that `scope` may read) in id order, read in chunks (for exports)."""
        t = self.live.table(entity)
        conds = self.readable(entity, scope)
        last = 0
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(sa.select(t).where(t.c.id > last, *conds).order_by(t.c.id).limit(chunk)
                                    ).mappings().all()
                items = self.output(conn, entity, rows, scope)
            yield from items
            if len(rows) < chunk:
                return
            last = rows[-1]["id"]

    def _insert(self, conn: Connection, entity: str, ready: list[dict], actor: str) -> None:
        if not ready:
            return
        now = audit.utc_now()
        # columns null in every row are left to the table's NULL default: binding thousands of
        # None values costs as much as the rest of the insert
        insert_new(conn, self.live.table(entity), ready, {"version": 1, "created_at": now, "updated_at": now})
        if len(ready) == 1:
            entries = [audit.AuditEntry(actor, "create", entity, ready[0]["id"], None, to_json(ready[0]))]
        else:   # a bulk batch is one entry holding every created record (with its id)
            entries = [audit.AuditEntry(actor, "create", entity, None, None, to_json(ready),
                                        tuple(r["id"] for r in ready))]
        audit.append(conn, entries,
                     self.live.version)
        key, fields = self.live.entity(entity).key, tuple(n for n in ready[0] if n != "id")
        append_changes(conn, entity, "create", [(v["id"], v.get(key) if key else None, fields) for v in ready],
                       actor=actor, version=self.live.version)

    def update(self, entity: str, id_: int, changes: Mapping[str, Any], *, actor: str,
               expected_version: int | None = None, request_id: str | None = None,
               conn: Connection | None = None, scope: Scope | None = None) -> dict:
        if conn is not None:
            return self._update(conn, entity, id_, changes, actor, expected_version, request_id, scope)
        return write_retrying(self.engine, lambda conn: self._update(conn, entity, id_, changes, actor,
                                                                     expected_version, request_id, scope))

    def _update(self, conn: Connection, entity: str, id_: int, changes: Mapping[str, Any], actor: str,
                expected_version: int | None, request_id: str | None, scope: Scope | None) -> dict:
        command = f"update {entity} #{id_}"
        if self._replay(conn, request_id, actor, command, changes) is None:
            self._update_many(conn, entity, [(id_, changes, expected_version)], actor, numbered=False, scope=scope)
            self._remember(conn, request_id, actor, command, changes, entity, str(id_))
        return self._get(conn, entity, id_, scope)

    def bulk_update(self, entity: str, items: Iterable[tuple[int, Mapping[str, Any]]], *, actor: str,
                    conn: Connection | None = None, scope: Scope | None = None, loader: Loader | None = None) -> int:
        """Change many records (id, changes) in one transaction: all of them or none. `loader`: one
        of `conn`'s that has read, today, what the records' computed fields and checks read (the
        tiering run's), so the write reads it again only where it has not."""
        batch = [(i, c, None) for i, c in items]
        if conn is not None:
            return self._update_many(conn, entity, batch, actor, numbered=True, scope=scope, loader=loader)
        return write_retrying(self.engine,
                              lambda conn: self._update_many(conn, entity, batch, actor, numbered=True, scope=scope))

    def can_change(self, entity: str, id_: int, scope: Scope | None) -> bool:
        """Whether `scope` may change or delete record `id_` (it is placed inside the scope)."""
        if scope is None or scope.units is None:
            return True
        with self.engine.connect() as conn:
            return bool(placement_of(self.live).ids_within(conn, self.live, entity, scope, [id_], write=True))

    def _may_change(self, conn: Connection, entity: str, ids: list[int], scope: Scope | None) -> None:
        """NotFound for a record `scope` may not read, Forbidden for one it may only read."""
        if scope is None or scope.units is None:
            return
        placement = placement_of(self.live)
        mine = placement.ids_within(conn, self.live, entity, scope, ids, write=True)
        if len(mine) == len(set(ids)):
            return
        others = sorted(set(ids) - mine)
        seen = placement.ids_within(conn, self.live, entity, scope, others)
        hidden = [i for i in others if i not in seen]
        if hidden:
            raise NotFound(f"no {entity} record #{hidden[0]}")
        raise Forbidden(f"{entity} #{others[0]} belongs to another branch: you may read it, not change it")

    def _update_many(self, conn: Connection, entity: str, items: list[tuple[int, Mapping, int | None]],
                     actor: str, numbered: bool, scope: Scope | None = None, loader: Loader | None = None) -> int:
        self.writable(entity)
        live, rules = self.live, self.rules(entity)
        t = live.table(entity)
        loader = Loader(conn, live) if loader is None else loader
        olds: dict[int, dict] = {}
        rows: list[tuple[int, dict]] = []
        problems: dict[int, list[Problem]] = {}
        given_by_pos: dict[int, dict] = {}
        found = self._locked_rows(conn, t, entity, [i for i, _, _ in items])
        self._may_change(conn, entity, list(found), scope)
        prime_collections(loader, live.entity(entity), rules, sorted(found))
        for pos, (id_, changes, expected) in enumerate(items):
            row = found[id_]
            if expected is not None and row["version"] != expected:
                raise VersionConflict(f"{entity} #{id_} is at version {row['version']}, not {expected}; "
                                      "someone else changed it — reload and retry")
            olds[pos] = {"id": id_, "version": row["version"], **from_row(live, entity, row)}
            changes, sent = without_echoes(rules, olds[pos], changes, problems.setdefault(pos, []))
            personal_data.drop_masked_echoes(self.personal(entity), olds[pos], changes)
            if expected is None and sent is not None and sent != row["version"]:
                raise VersionConflict(f"{entity} #{id_} is at version {row['version']}, not {sent}; "
                                      "someone else changed it — reload and retry")
            given_by_pos[pos] = given = rules.convert(changes, problems[pos])
            rows.append((pos, given))
        given_refs = {pos: {f: g[f] for f in rules.refs if g.get(f) is not None} for pos, g in rows}
        resolve_refs(conn, live, rules, entity, rows, {}, problems, self._names_within(scope))
        news: dict[int, dict] = {}
        for pos, given in rows:
            old, probs = olds[pos], problems[pos]
            bad = {p.path[0] for p in probs if p.path}
            new = news[pos] = {**old, **given}
            ctx = RecordContext(entity, new, loader, old["id"])
            rules.compute(new, ctx, probs)
            rules.check(new, ctx, probs, skip=bad | {p.path[0] for p in probs if p.path})
        if scope is not None and scope.units is not None:
            found_outside = placement_of(live).outside(conn, live, entity, scope, [
                (pos, news[pos]) for pos, _ in rows if not unresolved(problems.get(pos), rules)])
            for pos, problem in scope_problems(live, found_outside, given_refs).items():
                problems[pos].append(problem)
        changed_unique = [f for f in rules.unique if any(f in g for g in given_by_pos.values())]
        check_unique(conn, live, entity, changed_unique, [(pos, olds[pos]["id"], news[pos]) for pos, _ in rows],
                     problems)
        flat = [p.at(*((pos + 1,) if numbered else ()))
                for pos, probs in sorted(problems.items()) for p in probs]
        if flat:
            raise invalid(entity, flat, rows=len(items) if numbered else None)
        now, entries, changes_done, events = audit.utc_now(), [], [], []
        key = live.entity(entity).key
        for pos, _ in rows:
            old, new = olds[pos], news[pos]
            stored = {k: v for k, v in new.items() if k not in ("id", "version") and v != old.get(k)}
            if not stored:
                continue
            done = conn.execute(t.update().where(t.c.id == old["id"], t.c.version == old["version"])
                                .values(**stored, version=old["version"] + 1, updated_at=now))
            if done.rowcount != 1:
                raise VersionConflict(f"{entity} #{old['id']} was changed by someone else; reload and retry")
            new["version"] = old["version"] + 1
            entries.append(audit.AuditEntry(actor, "update", entity, old["id"], to_json(old), to_json(new)))
            changes_done.append((old, new))
            events.append((old["id"], new.get(key) if key else None, tuple(stored)))
        audit.append(conn, entries, live.version)
        append_changes(conn, entity, "update", events, actor=actor, version=live.version)
        propagate(conn, loader, entity, changes_done, self.rules, actor)
        return len(changes_done)

    def delete(self, entity: str, id_: int, *, actor: str, expected_version: int | None = None,
               request_id: str | None = None, scope: Scope | None = None) -> None:
        live = self.writable(entity)
        t = live.table(entity)
        command = f"delete {entity} #{id_}"
        write_retrying(self.engine, lambda conn: self._delete(conn, live, t, entity, id_, actor, expected_version,
                                                             request_id, command, scope))

    def _delete(self, conn: Connection, live: LiveModel, t: sa.Table, entity: str, id_: int, actor: str,
                expected_version: int | None, request_id: str | None, command: str, scope: Scope | None) -> None:
        if self._replay(conn, request_id, actor, command) is not None:
            return
        row = self._locked_row(conn, t, entity, id_, expected_version)
        self._may_change(conn, entity, [id_], scope)
        users = self._referrers(conn, entity, id_)
        if users:
            raise VersionConflict(f"{entity} #{id_} is still referenced by " + ", ".join(users))
        old = {"id": id_, **from_row(live, entity, row)}
        conn.execute(t.delete().where(t.c.id == id_))
        audit.append(conn, [audit.AuditEntry(actor, "delete", entity, id_, to_json(old), None)], live.version)
        key = live.entity(entity).key
        append_changes(conn, entity, "delete", [(id_, old.get(key) if key else None, [n for n in old if n != "id"])],
                       actor=actor, version=live.version)
        propagate(conn, Loader(conn, live), entity, [(old, None)], self.rules, actor)
        self._remember(conn, request_id, actor, command, None, entity, str(id_))

    def _locked_row(self, conn: Connection, t: sa.Table, entity: str, id_: int, expected: int | None):
        q = sa.select(t).where(t.c.id == id_)
        if conn.dialect.name == "postgresql":
            q = q.with_for_update()
        row = conn.execute(q).mappings().first()
        if row is None:
            raise NotFound(f"no {entity} record #{id_}")
        if expected is not None and row["version"] != expected:
            raise VersionConflict(f"{entity} #{id_} is at version {row['version']}, not {expected}; "
                                  "someone else changed it — reload and retry")
        return row

    def _locked_rows(self, conn: Connection, t: sa.Table, entity: str, ids: list[int]) -> dict[int, Mapping]:
        out: dict[int, Mapping] = {}
        for start in range(0, len(ids), 500):
            q = sa.select(t).where(t.c.id.in_(ids[start:start + 500]))
            if conn.dialect.name == "postgresql":
                q = q.with_for_update()
            out.update({r["id"]: r for r in conn.execute(q).mappings()})
        missing = [i for i in ids if i not in out]
        if missing:
            raise NotFound(f"no {entity} record #{missing[0]}" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
        return out

    def _referrers(self, conn: Connection, entity: str, id_: int) -> list[str]:
        out = []
        for name, spec in self.live.model.items():
            for col in spec.columns:
                if col.kind == "ref" and col.ref == entity:
                    t = self.live.tables[name]
                    n = conn.execute(sa.select(sa.func.count()).select_from(t).where(t.c[col.name] == id_)).scalar()
                    if n:
                        out.append(f"{n} {name}.{col.name}")
        return out

