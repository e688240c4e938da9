"""Record events for waiting flows: the change feed's subscriber `flows` (runtime/jobs/feed.py).

A wait step may wait for `RECORD.VERB` (dsl/kinds/events.py): RECORD is `subject`, a collection of
the subject (`financials`) or an entity (`external_event`); VERB created, updated, deleted or
changed (any of them). For each batch of committed changes, `on_changes` finds the running
instances resting on such a step and applies `EventOccurred(event, record)` to each, in the
feed's transaction — the subscriber's cursor and the instances move together, exactly once.

Finding them stays cheap: the flows some running instance runs (one indexed DISTINCT) give, from
their pinned bundles, the wait steps by the entity they hear (kept per bundle); then only
  - `subject.VERB`: running instances of those flows whose subject is the changed record;
  - a collection `financials.VERB`: those whose subject is the record the changed one points at
    through the collection's `via` field;
  - an entity `X.VERB`: every running instance of those flows (its `where` picks)
are loaded. A change committed before the instance began waiting at the step (its `waiting`
event) does not wake it: a wait hears of the changes that come after it began.

`event` in the step's `where` is the changed record as the records runtime reads it for
expressions (its fields, references and collections), as it is when the feed hands the change on.
A delete (or a record deleted since) leaves only `id` and the key: the feed carries no values. So
a collection's `deleted` cannot be traced to its subject and wakes nobody; use `subject.deleted`,
`X.deleted`, or a rollup of the subject (`subject.updated`). A `where` that fails (`not_waiting`)
leaves the instance waiting; another refusal (a flow made unavailable by a redeploy, a `where`
that cannot be evaluated) is logged and the instance left as it was.

Who may post an event by hand (runtime/flows/senders.py, asked by FlowService.act at every door): the system
and the holders of the roles the flow names (`spec.roles`: the people who see every instance,
its supervisors). Anybody else is refused: a person who may not see the instance (or an actor
nobody knows) with the very 404 an unknown instance gets, a person who may see it with a 403
that says who may."""
from __future__ import annotations

import logging
import weakref
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Engine

from engine.flow import EventOccurred
from engine.flow.commands import SYSTEM
from runtime.flows.queries import running_flows, running_of, waiting_since
from runtime.flows.service import FlowService
from runtime.flows.store import FlowError, Stored, bundle_at, load
from runtime.flows.tx import FlowTx
from runtime.jobs.changes import Change
from runtime.records.context import Loader, RecordContext
from runtime.records.store import ids_to_keys

log = logging.getLogger("banyan.flows.events")
SUBSCRIBER = "flows"
VERB = {"create": "created", "update": "updated", "delete": "deleted"}
RETRIES = 3             # an instance another transaction changed meanwhile is read again


@dataclass(frozen=True)
class Wait:
    """A wait step's event in a flow: the entity whose changes it hears, and how a change finds
    the instance (`subject`, `collection` through the `via` field, or any instance: `entity`)."""
    flow: str
    node: str
    event: str
    verb: str
    entity: str
    how: str
    via: str | None
    subject: str | None

    def hears(self, op: str) -> bool:
        return self.verb in ("changed", VERB.get(op))


def waits_of(bundle: Any, flow: Any) -> tuple[Wait, ...]:
    """The wait steps of `flow` that wait for a record event, resolved in its own bundle."""
    key = (bundle.hash, flow.name)
    found = _WAITS.get(key)
    if found is None:
        if len(_WAITS) > 4096:
            _WAITS.clear()
        found = _WAITS[key] = tuple(w for n in flow.nodes if getattr(n, "type", None) == "wait"
                                    and getattr(n, "event", None) for w in _wait(bundle, flow, n))
    return found


_WAITS: dict[tuple[str, str], tuple[Wait, ...]] = {}


def _wait(bundle: Any, flow: Any, node: Any) -> list[Wait]:
    noun, _, verb = node.event.partition(".")
    subject = flow.subject
    if noun == "subject" and subject:
        return [Wait(flow.name, node.id, node.event, verb, subject, "subject", None, subject)]
    owner = bundle.entities.get(subject) if subject else None
    for c in getattr(owner, "collections", ()):
        if c.name == noun:
            return [Wait(flow.name, node.id, node.event, verb, c.entity, "collection", c.via, subject)]
    if noun in bundle.entities:
        return [Wait(flow.name, node.id, node.event, verb, noun, "entity", None, subject)]
    return []                           # alert events and the like: not record changes


# -- who may post an event by hand -------------------------------------------------------------
# -- the subscriber ----------------------------------------------------------------------------
_SERVICES: "weakref.WeakKeyDictionary[Engine, FlowService]" = weakref.WeakKeyDictionary()


def use(service: FlowService) -> None:
    """Deliver record events for `service.engine` through `service` (its people, calendar and
    clock); by default a `FlowService(engine)` is made on first use."""
    _SERVICES[service.engine] = service


def on_changes(conn: Connection, changes: Sequence[Change]) -> int:
    """The feed handler: wake the instances waiting on these changes; returns how many events
    were applied."""
    service = _SERVICES.get(conn.engine)
    if service is None:
        service = _SERVICES[conn.engine] = FlowService(conn.engine)
    return RecordEvents(service, conn).handle(changes)


class RecordEvents:
    """One batch of changes, in the feed's transaction `conn`."""

    def __init__(self, service: FlowService, conn: Connection):
        self.service, self.conn = service, conn
        self.live: Any = None
        self.loader: Loader | None = None

    def handle(self, changes: Sequence[Change]) -> int:
        by_entity: dict[str, list[tuple[int, Wait]]] = defaultdict(list)
        for flow_name, version in running_flows(self.conn):
            bundle = bundle_at(self.conn, version)
            flow = bundle.documents.get(("Flow", flow_name))
            for wait in (waits_of(bundle, flow) if flow is not None else ()):
                by_entity[wait.entity].append((version, wait))
        applied = 0
        for change in changes:
            waits = [(v, w) for v, w in by_entity.get(change.entity, ()) if w.hears(change.op)]
            if waits:
                if self.loader is None:
                    self.live = self.service.records.refresh()
                    self.loader = Loader(self.conn, self.live)
                applied += self._change(change, waits)
        return applied

    def _change(self, change: Change, waits: list[tuple[int, Wait]]) -> int:
        row = self._row(change)
        record: Any = {"id": change.record_id, **self._key(change)}
        if row is not None:
            record = RecordContext(change.entity, row, self.loader, change.record_id)
        targets: dict[tuple[str, str] | None, list[tuple[int, Wait]]] = defaultdict(list)
        for version, wait in waits:
            subject = self._subject(change, wait, row)
            if subject is not False:
                targets[subject].append((version, wait))
        applied, seen = 0, set()
        for subject, found in targets.items():
            flows = sorted({(w.flow, v) for v, w in found})
            for instance_id in running_of(self.conn, flows, subject):
                if instance_id not in seen:
                    seen.add(instance_id)
                    applied += self._instance(instance_id, change, found, record)
        return applied

    def _row(self, change: Change) -> dict | None:
        if change.op == "delete" or change.entity not in self.live.model:
            return None
        return self.loader.row(change.entity, change.record_id)          # None: deleted since

    def _key(self, change: Change) -> dict:
        spec = self.live.model.get(change.entity)
        key = spec.key if spec is not None else None
        return {key: change.record_key} if key and change.record_key is not None else {}

    def _subject(self, change: Change, wait: Wait, row: dict | None) -> tuple[str, str] | None | bool:
        """(subject entity, key) the instances must be about; None: any instance; False: none."""
        if wait.how == "entity":
            return None
        if wait.how == "subject":
            key = change.record_key if change.record_key is not None else change.record_id
            return wait.entity, str(key)
        parent = None if row is None else row.get(wait.via)
        if parent is None or wait.subject not in self.live.model:
            return False                # a deleted record's parent is unknown: see the docstring
        key = ids_to_keys(self.conn, self.live, wait.subject, [parent]).get(parent)
        return False if key is None else (wait.subject, str(key))

    def _instance(self, instance_id: str, change: Change, waits: list[tuple[int, Wait]], record: Any) -> int:
        stored = load(self.conn, instance_id)
        if not stored.state.running:
            return 0
        mine = {(w.node, w.event) for v, w in waits
                if (w.flow, v) == (stored.row.flow, stored.row.deployment_version)}
        resting = {t.node for t in stored.state.tokens.values()}
        events = sorted({event for node, event in mine if node in resting
                         and not _before(change, waiting_since(self.conn, instance_id, node))})
        return sum(self._deliver(instance_id, event, record, stored if i == 0 else None, change)
                   for i, event in enumerate(events))

    def _deliver(self, instance_id: str, event: str, record: Any, stored: Stored | None, change: Change) -> int:
        service = self.service
        for attempt in range(RETRIES):
            try:
                with self.conn.begin_nested():
                    tx = FlowTx(self.conn, service.directory, service.records.refresh, service.calendar,
                                service.clock())
                    tx.apply(instance_id, EventOccurred(actor=SYSTEM, now=tx.now, event=event, record=record),
                             "event", stored)
                    tx.settle()
                return 1
            except FlowError as exc:
                stored = None
                if exc.code == "not_waiting":           # its `where` does not hold for this record
                    return 0
                if exc.code == "conflict" and attempt < RETRIES - 1:
                    continue
                if exc.code == "conflict":
                    raise
                log.warning("%s of change %s (%s #%s) not applied to flow instance %s: %s", event, change.seq,
                            change.entity, change.record_id, instance_id, exc.message)
                return 0
        return 0


def _before(change: Change, since: Any) -> bool:
    """Whether the change was made before the step began waiting (unknown: it was not)."""
    return since is not None and change.at < since
