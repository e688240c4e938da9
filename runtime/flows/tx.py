"""One flow transaction: load, apply, write state (only over the version read), tasks, timers,
events, outbox and audit — and the follow-ups on other instances (a subflow to start or cancel,
a parent to tell that its subflow ended) in the same transaction, so the whole chain lands or
none of it does."""
from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, Callable

from sqlalchemy.engine import Connection

from engine.flow import (
    Cancel,
    CancelSubflow,
    CommandRejected,
    Finished,
    FlowContext,
    Start,
    StartFlow,
    StartSubflow,
    SubflowEnded,
    apply,
)
from engine.tiering.sla import service_deadlines
from runtime.audit import log as audit
from runtime.deploy.live import LiveModel
from runtime.flows.effects import write_effects
from runtime.flows.queries import child_of, task_row
from runtime.flows.store import (
    FlowError,
    Stored,
    append_events,
    bundle_at,
    current_version,
    db_time,
    dumps,
    insert,
    load,
    plain,
    record_key,
    runnable_flow,
    save,
)
from runtime.records.context import Loader, RecordContext
from runtime.storage import faults

MAX_CHAIN = 50          # follow-ups per transaction: a subflow chain deeper than this is refused


class FlowTx:
    """The work of one transaction. `directory(conn, bundle)` gives the people; `live()` the
    current table model (to read subject records); `calendar` the business days."""

    def __init__(self, conn: Connection, directory: Callable, live: Callable[[], LiveModel], calendar: Any,
                 now: datetime):
        self.conn, self.directory_for, self.live, self.calendar, self.now = conn, directory, live, calendar, now
        self.latest: dict[str, tuple[Any, Any]] = {}     # instance → (its row's fixed columns, state now)
        self._pending: list[tuple[str, Any]] = []

    # -- context ---------------------------------------------------------------------------------
    def context(self, bundle: Any, flow: Any, subject_key: Any, initiator: str, strict: bool) -> FlowContext:
        directory = self.directory_for(self.conn, bundle)
        subject = self.subject(flow.subject, subject_key, strict) if flow.subject else {}
        # the response time the client's tier promises, where a tiering names this flow's step
        asking = [d for (kind, _), d in bundle.documents.items()
                  if kind == "Tiering" and getattr(d.service_requests, "flow", None) == flow.name]
        deadlines = service_deadlines(asking, flow.name, subject) if asking else {}
        return FlowContext(directory, self.calendar, subject, directory.user_record(initiator), deadlines)

    def subject(self, entity: str, key: Any, strict: bool) -> Any:
        if key is None:
            if strict:
                raise FlowError("invalid", f"this flow is about a {entity} record: give its key as the subject")
            return {}
        loader = Loader(self.conn, self.live())
        row = loader.by_key(entity, key)
        if row is None:
            if strict:
                raise FlowError("unknown_subject", f"no {entity} record `{key}`")
            return {}
        return RecordContext(entity, row, loader, row["id"])

    # -- start and apply -------------------------------------------------------------------------
    def start(self, name: str, actor: str, subject: Any, form: dict | Callable[[Any], dict], version: int | None = None,
              parent: tuple[str | None, str | None] = (None, None), *, on_behalf: bool = False) -> str:
        """Start flow `name`. `form` may be a callable giving the checked form (the service's
        form check) from the deployment's bundle: it is called once the actor is known to be
        allowed to start the flow, so a person who may not start it learns that, not what their
        form lacks. `on_behalf`: a deployed rule starts it (an alert's disposal), and that rule,
        verified at deploy, is the permission, not the flow's `start.who`."""
        version = current_version(self.conn) if version is None else version
        bundle = bundle_at(self.conn, version)
        flow = runnable_flow(bundle, name)
        key = record_key(subject)
        ctx = self.context(bundle, flow, key, actor, strict=parent[0] is None)
        run_flow = flow if parent[0] is None and not on_behalf else _without_start_check(self.live(), bundle, flow)
        instance_id = uuid.uuid4().hex[:12]
        if callable(form):
            if run_flow.start_who is not None:
                try:
                    self._engine(run_flow, None, Start(actor=actor, now=self.now, instance=instance_id, form={}),
                                 ctx)         # pure: only its refusal is kept
                except FlowError as exc:
                    if exc.code == "not_allowed":
                        raise
            form = form(bundle)
        cmd = Start(actor=actor, now=self.now, instance=instance_id, form=dict(form))
        result = self._engine(run_flow, None, cmd, ctx)
        insert(self.conn, result.state, version, (flow.subject, key), self.now, parent)
        self.latest[instance_id] = (SimpleNamespace(
            id=instance_id, flow=flow.name, deployment_version=version, subject_entity=flow.subject,
            subject_key=None if key is None else str(key), initiator=actor, started_at=db_time(self.now),
            parent_id=parent[0], parent_call=parent[1]), None)
        self._record(instance_id, flow, version, result, actor, "start", ctx)
        return instance_id

    def apply(self, instance_id: str, cmd: Any, action: str, stored: Stored | None = None) -> Any:
        stored = stored or load(self.conn, instance_id, lock=True)    # held to the commit (store.load)
        version = stored.row.deployment_version
        bundle = bundle_at(self.conn, version)
        flow = runnable_flow(bundle, stored.row.flow, running=True)
        ctx = self.context(bundle, flow, stored.row.subject_key, stored.row.initiator, strict=False)
        result = self._engine(flow, stored.state, cmd, ctx)
        save(self.conn, stored, result.state, self.now)
        self.latest[instance_id] = (stored.row, None)
        self._record(instance_id, flow, version, result, cmd.actor, action, ctx)
        return result

    def _engine(self, flow: Any, state: Any, cmd: Any, ctx: FlowContext) -> Any:
        try:
            return apply(flow, state, cmd, ctx)
        except CommandRejected as exc:
            task = getattr(cmd, "task", None)
            row = task_row(self.conn, task) if task and exc.code in ("unknown_task", "not_running") else None
            if row is not None and (exc.code == "unknown_task" or row.status == "done"):
                # the task was there and is done (the other of two people completing it won — on
                # the last step, finishing the instance): a conflict with what this person saw, not
                # a task that never was
                raise FlowError("task_closed", f"task `{task}` has already been dealt with") from None
            raise FlowError.of(exc) from None

    def _record(self, instance_id: str, flow: Any, version: int, result: Any, actor: str, action: str,
                ctx: FlowContext) -> None:
        state = result.state
        faults.point("flow.after_state")            # the instance's row is written (start: insert, apply: save)
        append_events(self.conn, instance_id, state.version, result.events)
        follow = write_effects(self.conn, instance_id, flow.name, result.effects, actor, self.now, ctx.directory,
                               compiled=flow, state=state, subject=ctx.subject)
        faults.point("flow.after_effects")
        summary = {"instance": instance_id, "flow": flow.name, "command": action, "version": state.version,
                   "status": state.status, "events": [e.kind for e in result.events]}
        audit.append(self.conn, [audit.AuditEntry(actor, "flow", "flow_instance", None, None, dumps(summary))],
                     version)
        self.latest[instance_id] = (self.latest[instance_id][0], state)
        self._pending += [(instance_id, f) for f in follow]

    # -- follow-ups ------------------------------------------------------------------------------
    def settle(self) -> None:
        """Run the follow-ups until there are none (subflows started, parents told)."""
        steps = 0
        while self._pending:
            steps += 1
            if steps > MAX_CHAIN:
                raise FlowError("runaway_loop", f"more than {MAX_CHAIN} linked flow steps in one command")
            instance_id, effect = self._pending.pop(0)
            self._follow(instance_id, effect)

    def _follow(self, instance_id: str, effect: Any) -> None:
        row = self.latest[instance_id][0]        # its fixed columns, as this transaction wrote or read them
        if isinstance(effect, StartSubflow):
            self.start(effect.flow, row.initiator, effect.subject if effect.subject is not None else row.subject_key,
                       form_input(effect.input), row.deployment_version, (instance_id, effect.call))
        elif isinstance(effect, StartFlow):
            self.start(effect.flow, row.initiator, effect.subject if effect.subject is not None else row.subject_key,
                       form_input(effect.input), row.deployment_version, (instance_id, None))
        elif isinstance(effect, CancelSubflow):
            child = child_of(self.conn, instance_id, effect.call)
            if child is not None and child.status == "running":
                self.apply(child.id, Cancel(actor=child.initiator, now=self.now, reason="the calling step ended"),
                           "cancel")
        elif isinstance(effect, Finished) and row.parent_id and row.parent_call:
            parent = load(self.conn, row.parent_id)
            if parent.state.running and row.parent_call in parent.state.tokens:
                stored = load(self.conn, instance_id)
                cmd = SubflowEnded(actor="system", now=self.now, call=row.parent_call, outcome=effect.outcome,
                                   result=dict(stored.state.form))
                self.apply(row.parent_id, cmd, "subflow_ended", parent)


def _without_start_check(live: LiveModel, bundle: Any, flow: Any) -> Any:
    """A subflow is started by its parent on the initiator's behalf: the parent's step, verified
    at deploy, is the permission, not the child's `start.who`. The copy is made once per live
    bundle (the engine keeps a flow's plan by identity) and goes with it."""
    kept, copy = live.cache(("flow without start check", bundle.hash, flow.name), _copy_without_start_check, flow)
    return copy if kept is flow else _copy_without_start_check(flow)[1]


def _copy_without_start_check(flow: Any) -> tuple[Any, Any]:
    return flow, dataclasses.replace(flow, start_who=None)


def form_input(value: Any) -> Any:
    """A subflow's input as its form holds it: records become their key, numbers, money and dates
    stay the typed values they are (JSON text would not compare with `5亿`)."""
    if isinstance(value, (Decimal, date)) or value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Mapping) and not hasattr(value, "loader"):
        return {str(k): form_input(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [form_input(v) for v in value]
    return plain(value)
