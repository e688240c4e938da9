"""A scan: the deployed AlertRules over every subject of their scope (`banyan alerts scan`, a
rule's `schedule:`), a batch of subjects per transaction, through the service's `evaluate`.

Order: each scope's subjects in batches (guarantee circles last: they read their members'
alerts); then, once, the rules that read alerts (`cascade`) on the subjects whose alert moved in
those batches — rules of a scope still to be scanned are left to that scan; then the roll-ups
on the records the subjects point to, once every member is current.

Idempotent: a second scan at the same time writes nothing. Resumable: each batch commits what it
found, and a scan cut short is completed by running it again (a batch run again finds the
alerts the first run wrote, and reads them as facts)."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dsl.link import CIRCLE
from runtime.alerts import circles
from runtime.alerts.counts import Counts
from runtime.alerts.tables import OPEN, alerts
from runtime.deploy.live import one_look
from runtime.records.context import Loader
from runtime.storage.db import writing


def by_scope(rules: Iterable[Any]) -> dict[str, list[Any]]:
    """Rules by what they watch; guarantee circles last, as they read their members' alerts."""
    out: dict[str, list[Any]] = defaultdict(list)
    for r in rules:
        out[r.scope].append(r)
    return dict(sorted(out.items(), key=lambda kv: kv[0] == CIRCLE))


def scan(service: Any, rule_names: Iterable[str] | None, *, at: datetime | None, batch: int,
         progress: Callable[[int], None] | None = None) -> Counts:
    """`service` (an AlertService): evaluate its rules (all, or those named) over every subject
    of their scope, `batch` subjects per transaction."""
    live = service.records.refresh()
    at = at or service.clock()
    counts = Counts()
    scopes = list(by_scope(service.rules(live, rule_names)).items())
    for n, (entity, rules) in enumerate(scopes):
        with service.engine.connect() as conn:
            ids = subject_ids(conn, live, entity)
            have = set(ids)
            ids += [i for i in open_subjects(conn, [r.name for r in rules], entity) if i not in have]
        moved: set[int] = set()
        for start in range(0, len(ids), batch):
            chunk = ids[start:start + batch]
            done = in_transaction(service.engine, lambda conn, rs=rules, ids_=chunk: service.evaluate(
                conn, live, rs, ids_, at, roll_ups=False, cascades=False))
            moved |= done.moved.pop(entity, set())
            counts.add(done)
            if progress is not None:
                progress(len(chunk))
        later = frozenset(r.name for _, rs in scopes[n + 1:] for r in rs)
        ordered = sorted(moved)
        for start in range(0, len(ordered), batch):         # the rules that read the alerts that moved
            part = set(ordered[start:start + batch])
            counts.add(in_transaction(service.engine, lambda conn, e=entity, ids_=part, skip=later: service.cascade(
                conn, live, e, ids_, at, "system", 0, skip=skip)))
        for rule in rules:                 # the groups once every member is current
            if rule.roll_up is None or not rule.roll_up.entity:
                continue
            with service.engine.connect() as conn:
                parents = counts.parents.get(rule.name, set()) | set(
                    open_subjects(conn, [rule.name], rule.roll_up.entity))
            up = sorted(parents)
            for start in range(0, len(up), batch):
                part_ = up[start:start + batch]
                counts.add(in_transaction(service.engine, lambda conn, r=rule, ids_=part_: service.roll_up(
                    conn, live, r, ids_, at)))
    return counts


def in_transaction(engine: Any, work: Callable[[Connection], Counts]) -> Counts:
    """One batch in its own write transaction. On PostgreSQL a worker may open an alert on the
    same subject meanwhile (the partial unique index refuses the second): the batch is run
    again, and reads that alert."""
    for attempt in range(3):
        try:
            with one_look(), writing(engine) as conn:
                return work(conn)
        except sa.exc.IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")    # pragma: no cover


def subjects_to_scan(service: Any, rule_names: Iterable[str] | None = None) -> int:
    """How many subjects a scan of these rules evaluates."""
    live = service.records.refresh()
    total = 0
    with service.engine.connect() as conn:
        for entity in by_scope(service.rules(live, rule_names)):
            if entity == CIRCLE:
                total += len(subject_ids(conn, live, entity))
                continue
            t = live.table(entity)
            total += conn.execute(sa.select(sa.func.count()).select_from(t)).scalar() or 0
    return total


def subject_ids(conn: Connection, live: Any, entity: str) -> list[int]:
    """Every subject of a rule watching `entity`: its records, or today's guarantee circles."""
    if entity == CIRCLE:
        return sorted(circles.all_circles(conn, live, Loader(conn, live)))
    t = live.table(entity)
    return [r[0] for r in conn.execute(sa.select(t.c.id).order_by(t.c.id))]


def open_subjects(conn: Connection, rules: list[str], entity: str) -> list[int]:
    """Subjects with an open alert (a deleted one among them is closed by the scan)."""
    q = sa.select(alerts.c.subject_id).distinct().where(alerts.c.status == OPEN, alerts.c.rule.in_(rules),
                                                        alerts.c.subject_entity == entity)
    return [r[0] for r in conn.execute(q)]
