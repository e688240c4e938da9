"""The tiering service: run the deployed Tierings over their subjects (engine/tiering decides;
this room reads the records, writes the tier to the subject's `assign_to` field through the
records service — audited, on the change feed — and keeps each subject's tier history).

Reads are set-based, as the alert service's: a batch of subjects in one query, each collection
the dimension scores read (and the collections of those, `flatten(members.loans)`) in one query
for the whole batch, the subjects' open alerts in one more.

A run writes only differences, so it is idempotent (a second run at the same data writes
nothing) and a run cut short is completed by running it again: each batch commits what it found.
`--at` tiers the data as it stood then (runtime/records/asof.py: records by their own dates, fields
changed in place put back from the audit log's images) and keeps that in the history;
the subject's field is written only when that moment is the subject's newest."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dsl.bank_time import bank_timezone
from dsl.diagnostics import did_you_mean
from dsl.errors import BanyanError
from engine.tiering import TierResult, tier_subject
from runtime.alerts.store import ALERT_ENTITY
from runtime.alerts.tables import OPEN, alerts
from runtime.jobs import changes as feed_changes
from runtime.jobs.changes import Change
from runtime.jobs.tables import db_time
from runtime.records.asof import AsOfLoader
from runtime.records.computed import dependents
from runtime.records.context import Loader, RecordContext, columns_named, expression_texts
from runtime.records.history import History
from runtime.records.service import Records
from runtime.records.store import keys_to_ids
from runtime.storage.db import writing
from runtime.storage.migrate import upgrade
from runtime.tiering.tables import tier_history

SUBSCRIBER = "tiering"
BATCH = 200
GRADES = {"red": 0, "orange": 1, "yellow": 2}
VERBS = {"create": "created", "update": "updated", "delete": "deleted"}


class TierError(BanyanError):
    """A refused tiering request (no tiering deployed, an unknown tiering or subject); its words
    are the catalogue's `tiering.<code>`."""
    code, status, namespace = "invalid", 422, "tiering"


@dataclass
class TierCounts:
    """What a run did: subjects tiered, by tier; tiers changed; history rows written; subjects
    the data could not tier (first 100, with why)."""
    subjects: int = 0
    changed: int = 0
    written: int = 0
    by_tier: Counter = field(default_factory=Counter)
    untiered: list[dict] = field(default_factory=list)

    def add(self, other: "TierCounts") -> None:
        self.subjects += other.subjects
        self.changed += other.changed
        self.written += other.written
        self.by_tier.update(other.by_tier)
        self.untiered += other.untiered[: max(0, 100 - len(self.untiered))]

    def to_dict(self) -> dict:
        return {"subjects": self.subjects, "changed": self.changed, "written": self.written,
                "by_tier": dict(sorted(self.by_tier.items())), "untiered": self.untiered}


def bank_day(at: datetime) -> date:
    """The day `at` falls on, on the bank's clock (an override's last day is such a day)."""
    return at.astimezone(bank_timezone()).date()


def details_of(result: TierResult) -> dict:
    """A result as the history keeps it (JSON-ready; numbers as exact text)."""
    def num(v: Decimal | None) -> str | None:
        return None if v is None else format(v.normalize(), "f")
    rule, cap = result.decisive_rule, result.decisive_cap
    return {"score": num(result.score), "dimensions": {d.name: num(d.value) for d in result.dimensions},
            "table_tier": result.table_tier, "rule": None if rule is None else rule.index,
            "cap": None if cap is None else cap.index, "alert_grade": result.alert_grade,
            "problem_rules": list(result.problem_rules),
            **({"override": True, "computed": result.computed} if result.override is not None else {})}


def tier_columns(live: Any, tiering: Any) -> dict[str, frozenset[str]]:
    """The columns of the subject's collections' records (by entity) a run reads: what the
    tiering's expressions name, and what writing the tier evaluates — the computed fields and
    checks of the subject's entity and of the entities whose computed fields read it, up the chain."""
    holders: list[Any] = [tiering]
    todo, seen = [tiering.subject], set()
    while todo:
        entity = todo.pop()
        if entity in seen or entity not in live.bundle.entities:
            continue
        seen.add(entity)
        holders.append(live.bundle.entities[entity])
        todo += [parent for parent, _collection, _via in dependents(live, entity)]
    return columns_named(live, tiering.subject, expression_texts(*holders))


def reads_of(tiering: Any) -> frozenset[tuple[str, ...]]:
    """The field paths of everything a tiering evaluates, root first (`("members", "loans")`):
    which collections to load for a batch."""
    exprs = [d.score for d in tiering.dimensions] + [r.when for r in tiering.rules] + [c.when for c in tiering.caps]
    paths = (p for e in exprs if e is not None for p in getattr(e, "paths", ()))
    return frozenset(p[1:] if p[:1] == ("subject",) else p for p in paths)   # `subject.x`: the subject's x


def prime(loader: Loader, entity: str, ids: list[int], paths: Iterable[tuple[str, ...]]) -> None:
    """Load for the whole batch every collection `paths` walk through (`members`, then the
    members' `loans`): one query per collection, none per subject. Only the collections read are
    loaded (`guarantees_given_amount` is a field, not the `guarantees_given` collection)."""
    if not ids:
        return
    collections = {c.name: c for c in loader.live.entity(entity).collections}
    further: dict[str, set[tuple[str, ...]]] = {}
    for path in paths:
        if path and path[0] in collections:
            further.setdefault(path[0], set()).add(path[1:])
    for name, rest in further.items():
        c = collections[name]
        loader.prime(c.entity, c.via, ids)
        children = [r["id"] for i in ids for r in loader.children(c.entity, c.via, i)]
        prime(loader, c.entity, children, [p for p in rest if p])


class TieringService:
    def __init__(self, engine: Engine, *, records: Records | None = None,
                 clock: Callable[[], datetime] | None = None):
        upgrade(engine)
        self.engine = engine
        self.records = records or Records(engine)
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    # -- the tierings ----------------------------------------------------------------------------
    def tierings(self, live: Any, names: Iterable[str] | None = None) -> list[Any]:
        """The deployed Tierings (those `names`; an unknown name is refused with the known ones)."""
        deployed = {n: d for (k, n), d in live.bundle.documents.items() if k == "Tiering"}
        if names is None:
            return [deployed[n] for n in sorted(deployed)]
        out = []
        for n in names:
            if n not in deployed:
                hint = did_you_mean(n, deployed) or f"deployed tierings: {', '.join(sorted(deployed)) or 'none'}"
                raise TierError(f"no tiering `{n}` is deployed ({hint})", code="unknown_tiering", status=404)
            out.append(deployed[n])
        return out

    def tiering(self, live: Any, name: str | None = None) -> Any:
        """The tiering `name`, or the only one deployed."""
        if name is not None:
            return self.tierings(live, [name])[0]
        found = self.tierings(live)
        if not found:
            raise TierError("no tiering is deployed", code="none_deployed", status=404)
        if len(found) > 1:
            raise TierError(f"several tierings are deployed ({', '.join(t.name for t in found)}): name one",
                            code="which_tiering")
        return found[0]

    # -- evaluation ------------------------------------------------------------------------------
    def loader(self, conn: Connection, live: Any, at: datetime, *, as_of: bool, tiering: Any = None) -> Loader:
        """A loader at `at`: today's data, or (`as_of`) the data as it stood then; today's, given
        the `tiering`, reads of the subjects' collections only what it and the write of a tier read
        (`tier_columns`)."""
        loader = AsOfLoader(conn, live, at, self.records.rules, history=History(live, since=at)) if as_of \
            else Loader(conn, live, None if tiering is None else tier_columns(live, tiering))
        loader.given("$now", at)
        return loader

    def results(self, conn: Connection, live: Any, tiering: Any, ids: list[int], at: datetime, *,
                as_of: bool = False, loader: Loader | None = None) -> dict[int, tuple[dict, TierResult]]:
        """{subject id: (its row, its result)} for the subjects of `ids` that exist (read through
        `loader` when given)."""
        loader = self.loader(conn, live, at, as_of=as_of) if loader is None else loader
        rows = loader.rows(tiering.subject, ids)
        prime(loader, tiering.subject, list(rows), reads_of(tiering))
        grades = alert_grades(conn, tiering.subject, list(rows), at if as_of else None)
        day = bank_day(at)
        out = {}
        for id_, row in rows.items():
            ctx = RecordContext(tiering.subject, row, loader, id_)
            out[id_] = (row, tier_subject(tiering, ctx, grades.get(id_), today=day))
        return out

    def evaluate(self, conn: Connection, live: Any, tiering: Any, ids: list[int], at: datetime,
                 actor: str = "system", *, as_of: bool = False) -> TierCounts:
        """Tier the subjects `ids` at `at` in `conn`'s transaction, writing what changed."""
        counts = TierCounts()
        if not ids:
            return counts
        # today's run reads, of the subjects' collections, only what the tiering and the write of
        # the tier read, and the write reads nothing again
        loader = self.loader(conn, live, at, as_of=as_of, tiering=None if as_of else tiering)
        found = self.results(conn, live, tiering, ids, at, as_of=as_of, loader=loader)
        latest = latest_rows(conn, tiering.name, tiering.subject, list(found))
        key = live.model[tiering.subject].key
        when, written_at = db_time(at), db_time(self.clock())
        history, updates = [], []
        for id_, (row, result) in found.items():
            counts.subjects += 1
            subject_key = str(row.get(key)) if key else str(id_)
            if result.tier is not None:
                counts.by_tier[result.tier] += 1
            elif len(counts.untiered) < 100:
                counts.untiered.append({"subject": subject_key, "problem": result.problem,
                                        "rules": [i + 1 for i in result.problem_rules],
                                        "dimensions": [d.name for d in result.dimensions if d.value is None]})
            details = details_of(result)
            reason = {"zh": result.reason.zh, "en": result.reason.en}
            last = latest.get(id_)
            same = last is not None and (last["tier"], last["problem"], json.loads(last["details"])) == (
                result.tier, result.problem, details)
            newest = last is None or last["at"] <= when
            if not same:
                previous = row.get(tiering.assign_to) if tiering.assign_to else (last or {}).get("tier")
                history.append({"tiering": tiering.name, "subject_entity": tiering.subject, "subject_id": id_,
                                "subject_key": subject_key, "at": when, "written_at": written_at,
                                "tier": result.tier, "previous": previous, "problem": result.problem,
                                "reason": json.dumps(reason, ensure_ascii=False),
                                "details": json.dumps(details, ensure_ascii=False),
                                "version": str(live.version), "actor": actor})
            if tiering.assign_to and result.tier is not None and newest and row.get(tiering.assign_to) != result.tier:
                updates.append((id_, {tiering.assign_to: result.tier}))
        if history:
            conn.execute(tier_history.insert(), history)
            counts.written += len(history)
        if updates:
            with feed_changes.source(f"tiering:{tiering.name}"):
                self.records.bulk_update(tiering.subject, updates, actor=f"tiering:{tiering.name}", conn=conn,
                                         loader=None if as_of else loader)
            counts.changed += len(updates)
        return counts

    def run(self, name: str | None = None, *, keys: Iterable[Any] | None = None, at: datetime | None = None,
            actor: str = "system", batch: int = BATCH, progress: Callable[[int], None] | None = None) -> TierCounts:
        """Tier every subject of the deployed tierings (or `name`'s; or only the subjects `keys`),
        `batch` subjects per transaction. `at`: a past moment, tiered on the data as it stood."""
        live = self.records.refresh()
        now = self.clock()
        as_of = at is not None and at < now
        at = at or now
        counts = TierCounts()
        for tiering in ([self.tiering(live, name)] if name else self.tierings(live)):
            ids = self.subject_ids(live, tiering, keys)
            for start in range(0, len(ids), batch):
                chunk = ids[start:start + batch]
                with writing(self.engine) as conn:
                    counts.add(self.evaluate(conn, live, tiering, chunk, at, actor, as_of=as_of))
                if progress is not None:
                    progress(len(chunk))
        return counts

    def subject_ids(self, live: Any, tiering: Any, keys: Iterable[Any] | None = None) -> list[int]:
        """The subjects' ids: all, or those `keys` (an unknown key is refused, naming it)."""
        t = live.table(tiering.subject)
        with self.engine.connect() as conn:
            if keys is None:
                return [r[0] for r in conn.execute(sa.select(t.c.id).order_by(t.c.id))]
            wanted = [str(k) for k in keys]
            found = keys_to_ids(conn, live, tiering.subject, wanted)
        missing = [k for k in wanted if k not in {str(x) for x in found}]
        if missing:
            raise TierError(f"no {tiering.subject} `{missing[0]}`", code="unknown_subject", status=404,
                            params={"key": missing[0]})
        return sorted(set(found.values()))

    def count(self, name: str | None = None, keys: Iterable[Any] | None = None) -> int:
        live = self.records.refresh()
        return sum(len(self.subject_ids(live, t, keys)) for t in ([self.tiering(live, name)] if name
                                                                  else self.tierings(live)))

    # -- the change feed -------------------------------------------------------------------------
    def on_changes(self, conn: Connection, batch: Sequence[Change]) -> TierCounts:
        """The feed handler: the subjects these changes reach by each tiering's `on:` list (the
        subject itself, or its parent through a collection), tiered in the feed's transaction.
        The tier a run writes is on the feed too, and heard as nothing new (a second evaluation
        finds the same answer and writes nothing)."""
        live = self.records.refresh()
        counts = TierCounts()
        at = self.clock()
        for tiering in self.tierings(live):
            hears = _hears(live, tiering)
            direct: set[int] = set()
            via: dict[tuple[str, str], set[int]] = {}
            for change in batch:
                if (change.source or "") == f"tiering:{tiering.name}":
                    continue
                for entity, verb, how, field_ in hears:
                    if entity != change.entity or verb not in ("changed", VERBS.get(change.op)):
                        continue
                    if how == "subject":
                        direct.add(change.record_id)
                    elif change.op != "delete" and field_:
                        via.setdefault((entity, field_), set()).add(change.record_id)
            if any(e.partition(".")[0] == "alert" for e in tiering.triggers):
                self._alert_subjects(conn, live, tiering, batch, direct, via)
            loader = Loader(conn, live)
            for (entity, field_), ids in via.items():
                direct |= {r.get(field_) for r in loader.rows(entity, sorted(ids)).values()
                           if r.get(field_) is not None}
            if direct:
                counts.add(self.evaluate(conn, live, tiering, sorted(direct), at))
        return counts

    @staticmethod
    def _alert_subjects(conn: Connection, live: Any, tiering: Any, batch: Sequence[Change], direct: set[int],
                        via: dict[tuple[str, str], set[int]]) -> None:
        """An alert opened, moved or ended (the feed's `alert` changes, keyed `entity/key`) on the
        subject itself, or on a record of one of its collections (a member: through `group`)."""
        wanted: dict[str, set[str]] = {}
        for change in batch:
            if change.entity == ALERT_ENTITY and change.record_key and "/" in change.record_key:
                entity, _, key = change.record_key.partition("/")
                wanted.setdefault(entity, set()).add(key)
        scope = live.bundle.entities.get(tiering.subject)
        links = {c.entity: c.via for c in getattr(scope, "collections", ())}
        for entity, keys in wanted.items():
            if entity != tiering.subject and entity not in links or entity not in live.model:
                continue
            ids = set(keys_to_ids(conn, live, entity, sorted(keys)).values())
            if entity == tiering.subject:
                direct |= ids
            else:
                via.setdefault((entity, links[entity]), set()).update(ids)

    # -- reading ---------------------------------------------------------------------------------
    def history(self, name: str | None, key: Any, limit: int = 50) -> tuple[Any, list[dict]]:
        """(the tiering, the subject's history rows, newest first)."""
        live = self.records.refresh()
        tiering = self.tiering(live, name)
        (id_,) = self.subject_ids(live, tiering, [key])
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(tier_history).where(
                tier_history.c.tiering == tiering.name, tier_history.c.subject_entity == tiering.subject,
                tier_history.c.subject_id == id_).order_by(tier_history.c.id.desc()).limit(limit)).mappings()
            return tiering, [dict(r, reason=json.loads(r["reason"]), details=json.loads(r["details"])) for r in rows]


def _hears(live: Any, tiering: Any) -> list[tuple[str, str, str, str | None]]:
    """(entity, verb, how, via) of each record event of the tiering's `on:` list."""
    out = []
    scope = live.bundle.entities.get(tiering.subject)
    for event in tiering.triggers:
        noun, _, verb = event.partition(".")
        if noun in ("subject", tiering.subject):
            out.append((tiering.subject, verb, "subject", None))
            continue
        for c in getattr(scope, "collections", ()):
            if c.name == noun:
                out.append((c.entity, verb, "collection", c.via))
    return out


def alert_grades(conn: Connection, entity: str, ids: list[int], at: datetime | None = None) -> dict[int, str]:
    """{subject id: the worst grade of its open alerts} (roll-ups included); at a past `at`, of
    the alerts open then."""
    out: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        q = sa.select(alerts.c.subject_id, alerts.c.grade).where(alerts.c.subject_entity == entity,
                                                                 alerts.c.subject_id.in_(chunk))
        if at is None:
            q = q.where(alerts.c.status == OPEN)
        else:
            when = db_time(at)
            q = q.where(alerts.c.opened_at <= when, sa.or_(alerts.c.closed_at.is_(None), alerts.c.closed_at > when))
        for subject_id, grade in conn.execute(q):
            if subject_id not in out or GRADES.get(grade, 3) < GRADES.get(out[subject_id], 3):
                out[subject_id] = grade
    return out


def latest_rows(conn: Connection, tiering: str, entity: str, ids: list[int]) -> dict[int, dict]:
    """{subject id: its newest history row} (in chunks; one query each)."""
    out: dict[int, dict] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        newest = (sa.select(sa.func.max(tier_history.c.id)).where(
            tier_history.c.tiering == tiering, tier_history.c.subject_entity == entity,
            tier_history.c.subject_id.in_(chunk)).group_by(tier_history.c.subject_id))
        for r in conn.execute(sa.select(tier_history).where(tier_history.c.id.in_(newest))).mappings():
            out[r["subject_id"]] = dict(r)
    return out
