"""The flow service: what the API, the CLI, the worker and the web pages call.

Every command is one transaction (`runtime.storage.db.writing`): load, apply the pure engine, write the
state over the version read (optimistic concurrency), tasks, timers, events, outbox, audit.
A refused command raises `FlowError` (code, message, HTTP status) and changes nothing. A client
`request_id` makes a command safe to retry: the same id again gives the first answer and does
nothing twice (the id is stored in the same transaction as the change). Instances run on the
deployment version they started on. Results are JSON-ready dicts."""
from __future__ import annotations

import dataclasses
import json
import random
import time
from datetime import datetime
from typing import Any, Callable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dsl.bank_time import bank_timezone
from dsl.kinds.flow.ir import INITIATOR
from engine.flow import TimerFired
from engine.flow.opinions import opinions
from engine.flow.plan import plan_for
from runtime.auth.org import OrgTree
from runtime.auth.scope import scope_for
from runtime.auth.tables import people
from runtime.auth.users import UserStore
from runtime.deploy.live import one_look
from runtime.flows import form_check
from runtime.flows.calendar import LiveCalendar
from runtime.flows.commands import build
from runtime.flows.directory import DirectoryFactory, table_directory
from runtime.flows.migration import migrate
from runtime.flows.preview import preview
from runtime.flows.queries import (
    BOXES,
    INBOX_SORTS,
    inbox,
    inbox_page,
    instance_view,
    iso,
    last_return,
    open_steps,
    running_about,
    started_by,
    step_rules,
    task_row,
    timeline,
)
from runtime.flows.senders import check_sender
from runtime.flows.store import FlowError, Stored, bundle_at, current_version, db_time, flow_in, load, only_votes_since
from runtime.flows.tables import requests, timers
from runtime.flows.tx import FlowTx
from runtime.jobs import notifications
from runtime.records.errors import NotFound
from runtime.records.service import Records
from runtime.storage import faults
from runtime.storage.db import hold_name, lost_a_race, writing
from runtime.storage.idempotency import fingerprint
from runtime.storage.migrate import upgrade
from runtime.storage.prepared import Prepared

# A command is re-run when the database could not take it as it was (a write conflict on a
# command without an expected version, PostgreSQL's deadlock or serialization failure): up to
# RETRIES times, after a jittered wait growing from BACKOFF to BACKOFF_MAX seconds. Commands on
# one instance queue on its row (store.load's lock), so this is for the rare cross-instance case
# (a subflow telling its parent while someone acts on the parent).
RETRIES = 8
BACKOFF, BACKOFF_MAX = 0.005, 0.25
DECISIONS = ("approve", "reject", "complete")


class FlowService:
    def __init__(self, engine: Engine, *, directory: DirectoryFactory = table_directory, calendar: Any = None,
                 clock: Callable[[], datetime] | None = None):
        upgrade(engine)
        self.engine, self.directory = engine, directory
        tz = bank_timezone()
        self.clock = clock or (lambda: datetime.now(tz))
        self.records = Records(engine)
        # the bank's business days: China's public holidays and 调休 plus the deployed Calendar
        # documents (runtime/flows/calendar.py); a test may hand in another calendar
        self.calendar = calendar if calendar is not None else LiveCalendar(self.records.refresh)
        self._tree: tuple[str, OrgTree] | None = None

    # -- commands --------------------------------------------------------------------------------
    def start(self, flow: str, *, actor: str, subject: Any = None, form: Mapping[str, Any] | None = None,
              request_id: str | None = None) -> dict:
        """Start `flow` about the subject record with key `subject`; returns the instance view."""
        if form is not None and not isinstance(form, Mapping):
            raise FlowError("invalid", "the form must be an object of field values")
        self._check_subject(flow, actor, subject)
        return self._run(request_id, actor, f"start {flow} {subject}", None,
                         lambda tx: tx.start(flow, actor, subject,
                                          lambda bundle: self._start_form(tx, flow, form or {}, bundle)),
                         body=dict(form or {}))

    def start_within(self, conn: Any, flow: str, *, actor: str, subject: Any, form: Mapping[str, Any],
                     now: datetime, join_running: bool = False) -> tuple[str, bool]:
        """Start `flow` inside the caller's transaction on behalf of a deployed rule (an alert's
        `start_flow`: the rule, verified at deploy, is the permission); the form passes the same
        check as every door's. With `join_running`, an instance of `flow` already running about
        the same subject is taken instead of a second one. Returns (instance id, joined); a
        FlowError leaves the caller to roll back its savepoint."""
        if join_running and subject is not None:
            hold_name(conn, "flow-start", flow, str(subject))   # another start about it: committed and seen, or waits for ours
            running = running_about(conn, flow, subject)
            if running is not None:
                return running, True
        tx = FlowTx(conn, self.directory, self.records.refresh, self.calendar, now)
        instance_id = tx.start(flow, actor, subject, lambda bundle: self._start_form(tx, flow, dict(form), bundle),
                               on_behalf=True)
        tx.settle()
        return instance_id, False

    # -- every door's form check (runtime/flows/form_check.py) ------------------------------------
    def _start_form(self, tx: FlowTx, flow: str, form: Mapping[str, Any], bundle: Any = None) -> dict:
        """The start's form read and checked against the flow's Form (InvalidForm, 422, with every
        problem) before anything is stored; a flow without a Form takes it as given. `bundle`: the
        deployment the start runs on (default: the current one)."""
        if bundle is None:
            bundle = bundle_at(tx.conn, current_version(tx.conn))
        compiled = flow_in(bundle, flow)
        spec = form_check.form_spec(bundle, compiled)
        if spec is None:
            return dict(form)
        return form_check.check_start(spec, compiled, form, lambda names: known_people(tx.conn, names),
                                      {"$now": tx.now})

    def check_start(self, flow: str, *, form: Mapping[str, Any] | None = None) -> dict:
        """The start's form read and checked as `start` would (InvalidForm with every problem);
        the typed values it would store. Nothing is written."""
        if form is not None and not isinstance(form, Mapping):
            raise FlowError("invalid", "the form must be an object of field values")
        with self.engine.connect() as conn:
            tx = FlowTx(conn, self.directory, self.records.refresh, self.calendar, self.clock())
            return self._start_form(tx, flow, form or {})

    def _step_fields(self, tx: FlowTx, stored: Stored, cmd: Any, action: str) -> Any:
        """An approve/reject/complete's fields checked against the step's permissions and the Form."""
        task = stored.state.tasks.get(cmd.task) if stored.state is not None else None
        if task is None or cmd.actor not in (task.assignee, *task.candidates):
            return cmd, stored                 # the engine says why (unknown task, not theirs …)
        bundle = bundle_at(tx.conn, stored.row.deployment_version)
        compiled = flow_in(bundle, stored.row.flow)
        spec = form_check.form_spec(bundle, compiled)
        node = compiled.by_id.get(task.node)
        if spec is None or node is None or action not in getattr(node, "actions", ()):
            return cmd, stored                 # the engine refuses the action itself
        edits = form_check.check_step(spec, node, stored.state.form, cmd.fields, action in ("approve", "complete"),
                                      lambda names: known_people(tx.conn, names), {"$now": tx.now})
        return dataclasses.replace(cmd, fields=edits or {}), stored

    def _resubmit_form(self, tx: FlowTx, stored: Stored, cmd: Any) -> tuple[Any, Any]:
        """A resubmission's form checked as a start's is (form_check.check_resubmit), over the
        instance's values; left to the engine when the task is not the actor's edit task."""
        task = stored.state.tasks.get(cmd.task) if stored.state is not None else None
        if task is None or task.node != INITIATOR or task.assignee != cmd.actor:
            return cmd, stored                 # the engine says why (unknown task, not theirs …)
        bundle = bundle_at(tx.conn, stored.row.deployment_version)
        compiled = flow_in(bundle, stored.row.flow)
        spec = form_check.form_spec(bundle, compiled)
        if spec is None:
            return cmd, stored
        form = form_check.check_resubmit(spec, compiled, stored.state.form, cmd.form,
                                         lambda names: known_people(tx.conn, names), {"$now": tx.now})
        return dataclasses.replace(cmd, form=form), stored

    def _check_subject(self, flow: str, actor: str, subject: Any) -> None:
        """A person who signs in starts (or previews) a flow only about a record placed in their org
        scope (runtime/auth/scope.py: a group their branch leads, not one it only co-serves);
        anything else reads as an unknown record."""
        if subject is None or not isinstance(actor, str):
            return
        user = UserStore(self.engine).get(actor)
        if user is None:
            return                      # not a signed-in person (the system, a test directory)
        live = self.records.refresh()
        if self._tree is None or self._tree[0] != live.hash:
            self._tree = (live.hash, OrgTree(live.bundle))
        scope = scope_for(self._tree[1], user)
        if scope.bank_wide:
            return
        entity = self.flow(flow).subject
        if entity:
            try:
                self.records.find(entity, subject, scope=scope, write=True)
            except NotFound:
                raise FlowError("not_found", f"no {entity} `{subject}`") from None

    def act(self, instance_id: str, action: str, *, actor: str, request_id: str | None = None,
            expected_version: int | None = None, **params: Any) -> dict:
        """Run `action` (approve, reject, complete, claim, return, resubmit, transfer, delegate,
        add_signer, remove_signer, withdraw, urge, cc, comment, cancel, event) with its parameters
        (task, comment, fields, form, to, users, position, user, node, message, text, reason, event,
        record). `return` with `to: initiator` sends the application back to the initiator's edit
        form; `resubmit` (the initiator, on that task) sends it again with `form`'s edits."""
        # the shape is checked before anything is read; the command gets the transaction's time
        checked = build(action, params, actor=actor, now=None, expected_version=expected_version)
        if action == "event":               # the system and the flow's roles only (senders.py)
            check_sender(self, instance_id, actor)

        def run(tx: FlowTx) -> str:
            cmd = dataclasses.replace(checked, now=tx.now)
            # the instance's row is held from here to the commit (PostgreSQL): the commands on one
            # instance queue, each reading what the one before it wrote
            stored = load(tx.conn, instance_id, lock=True)
            if action in DECISIONS:
                cmd, stored = self._step_fields(tx, stored, cmd, action)
                cmd = _vote_commutes(tx, stored, cmd)
            elif action == "resubmit":
                cmd, stored = self._resubmit_form(tx, stored, cmd)
            tx.apply(instance_id, cmd, action, stored)
            return instance_id
        return self._run(request_id, actor, f"{action} {instance_id} {params.get('task') or ''}".strip(),
                         expected_version, run, body=params)

    def _run(self, request_id: str | None, actor: str, what: str, expected: int | None,
             work: Callable[[FlowTx], str], *, body: Any = None) -> dict:
        if not isinstance(actor, str) or not actor.strip():
            raise FlowError("invalid", "who acts must be named (actor)")
        if request_id is not None and (not isinstance(request_id, str) or not 0 < len(request_id) <= 200):
            raise FlowError("invalid", "a request id is 1–200 characters")
        for attempt in range(RETRIES):
            if attempt:
                time.sleep(random.uniform(0, min(BACKOFF_MAX, BACKOFF * 2 ** attempt)))
            try:
                # a command looks once at which deployment is live (its subject, its calendar)
                with one_look(), writing(self.engine) as conn:
                    if request_id is not None:
                        seen = _replay(conn, request_id, actor, what, body)
                        if seen is not None:
                            return seen
                    tx = FlowTx(conn, self.directory, self.records.refresh, self.calendar, self.clock())
                    instance_id = work(tx)
                    tx.settle()
                    row, state = tx.latest[instance_id]
                    view = instance_view(row, state)
                    if request_id is not None:
                        _REQUEST.run(conn, {
                            "request_id": request_id, "actor": actor, "command": what[:300],
                            "fingerprint": fingerprint(body),
                            "instance_id": instance_id, "response": json.dumps(view, ensure_ascii=False),
                            "at": db_time(tx.now)})
                    faults.point("flow.before_commit")
                    return view
            except FlowError as exc:
                if request_id is not None:
                    # the same request, sent twice at once, waited on the instance behind its twin and
                    # found the task done: the twin's answer is this one's
                    with self.engine.connect() as conn:
                        seen = _replay(conn, request_id, actor, what, body)
                    if seen is not None:
                        return seen
                if exc.code != "conflict" or expected is not None:
                    raise
            except sa.exc.OperationalError as exc:
                if not lost_a_race(exc):
                    raise
            except sa.exc.IntegrityError:
                if request_id is None:
                    raise
                with self.engine.connect() as conn:      # the same request id landed first elsewhere
                    seen = _replay(conn, request_id, actor, what, body)
                if seen is None:
                    raise
                return seen
        raise FlowError("conflict", f"`{what}` could not be written: the instance kept changing under "
                                    f"{RETRIES} attempts; nothing was changed, try again")

    def fire_timer(self, instance_id: str, timer: str, *, claimed_by: str | None = None) -> dict | None:
        """TimerFired for one due timer (the worker's call). Its row is deleted in the same
        transaction, only while `claimed_by` still holds it; None if it no longer does."""
        class Gone(Exception):
            pass

        def run(tx: FlowTx) -> str:
            stored = load(tx.conn, instance_id, lock=True)    # the instance first, as every command
            gone = tx.conn.execute(timers.delete().where(
                timers.c.instance_id == instance_id, timers.c.timer == timer,
                *([timers.c.claimed_by == claimed_by] if claimed_by else [])))
            if gone.rowcount != 1:
                raise Gone()
            tx.apply(instance_id, TimerFired(actor="system", now=tx.now, timer=timer), "timer", stored)
            return instance_id
        try:
            return self._run(None, "system", "timer", None, run)
        except Gone:
            return None

    def migrate(self, flow: str, to_version: int, mapping: Mapping[str, str] | None = None, *, actor: str,
                dry_run: bool = True, only: list[str] | None = None) -> dict:
        """Move running instances of `flow` to deployment `to_version` by a node mapping (see
        runtime.flows.migration); a dry run (the default) only checks and reports."""
        return migrate(self.engine, flow, to_version, mapping or {}, actor=actor, now=self.clock(), dry_run=dry_run,
                       only=only)

    # -- reading ---------------------------------------------------------------------------------
    def _view(self, conn: Any, instance_id: str) -> dict:
        stored = load(conn, instance_id)
        view = instance_view(stored.row, stored.state)
        why = bundle_at(conn, stored.row.deployment_version).unavailable.get(f"Flow/{stored.row.flow}")
        if why is not None and stored.state.running:
            view["paused"] = why            # its flow cannot run in this Banyan (runtime/deploy/live.py)
        return view

    def instance(self, instance_id: str, *, with_timeline: bool = True) -> dict:
        """The instance view, with its timeline and `opinions`: the approval form's 审批意见 block
        (step, person, decision, opinion, time, in order; engine/flow/opinions.py). Without the
        timeline, the state alone (what a guard or a version check needs)."""
        with self.engine.connect() as conn:
            view = self._view(conn, instance_id)
            if with_timeline:
                view["timeline"] = timeline(conn, instance_id)
                view["opinions"] = opinions(view["timeline"], self._compiled(conn, view))
            return view

    def opinions(self, instance_id: str) -> list[dict]:
        """The 审批意见 block of an instance, for a printable sheet."""
        with self.engine.connect() as conn:
            stored = load(conn, instance_id)
            flow = flow_in(bundle_at(conn, stored.row.deployment_version), stored.row.flow)
            return opinions(timeline(conn, instance_id), flow)

    @staticmethod
    def _compiled(conn: Any, view: Mapping[str, Any]) -> Any:
        try:
            return flow_in(bundle_at(conn, view["deployment_version"]), view["flow"])
        except FlowError:
            return None                    # its flow gone from the bundle: the steps show their ids

    def timeline(self, instance_id: str) -> list[dict]:
        with self.engine.connect() as conn:
            load(conn, instance_id)
            return timeline(conn, instance_id)

    def inbox(self, user: str, box: str = "mine", *, limit: int = 50, offset: int = 0) -> dict:
        if box not in BOXES:
            raise FlowError("invalid", f"no inbox `{box}`; use one of: {', '.join(BOXES)}")
        if not 1 <= limit <= 500 or offset < 0:
            raise FlowError("invalid", "limit must be 1–500 and offset ≥ 0")
        with self.engine.connect() as conn:
            return inbox(conn, user, box, self.clock(), limit, offset)

    def inbox_page(self, user: str, box: str = "mine", *, limit: int = 20, offset: int = 0,
                   match: Mapping[str, Any] | None = None, sort: str = "due",
                   amount_fields: Mapping[str, str] | None = None) -> dict:
        """One page of a box or of `started`, narrowed by `match` and sorted by `sort`
        (queries.inbox_page); each item with its form's `amount` ({flow: money field})."""
        if box not in (*BOXES, "started"):
            raise FlowError("invalid", f"no inbox `{box}`; use one of: {', '.join(BOXES)}, started")
        if sort not in INBOX_SORTS:
            raise FlowError("invalid", f"sort by one of: {', '.join(INBOX_SORTS)}")
        if not 1 <= limit <= 500 or offset < 0:
            raise FlowError("invalid", "limit must be 1–500 and offset ≥ 0")
        with self.engine.connect() as conn:
            return inbox_page(conn, user, box, self.clock(), limit, offset, match=match, sort=sort,
                              amount_fields=amount_fields)

    def urgeable(self, actor: str, instance_ids: list[str]) -> set[str]:
        """Which of the instances `actor` started have an open task the engine would let them urge
        (engine/flow/people.py `urge`: the initiator, an unheld task at a step offering `urge`)."""
        with self.engine.connect() as conn:
            found = open_steps(conn, instance_ids)
            out = set()
            for instance_id, steps in found.items():
                for s in steps:
                    if s["initiator"] != actor or s["held"]:
                        continue
                    node = flow_in(bundle_at(conn, s["deployment_version"]), s["flow"]).by_id.get(s["node"])
                    if node is not None and "urge" in getattr(node, "actions", ()):
                        out.add(instance_id)
                        break
            return out

    def started(self, user: str, *, limit: int = 50, offset: int = 0) -> dict:
        """The requests `user` started, newest first: {"total", "items"} (limit 0: the count only)."""
        if not 0 <= limit <= 500 or offset < 0:
            raise FlowError("invalid", "limit must be 0–500 and offset ≥ 0")
        with self.engine.connect() as conn:
            return started_by(conn, user, limit, offset)

    def task(self, task_id: str) -> dict:
        """A task with its instance and its step's rules (actions, field access): a task page's data."""
        with self.engine.connect() as conn:
            row = task_row(conn, task_id)
            if row is None:
                raise FlowError("unknown_task", f"no task `{task_id}`")
            stored = load(conn, row.instance_id)
            flow = flow_in(bundle_at(conn, stored.row.deployment_version), stored.row.flow)
            plan = plan_for(flow)
            data = {"task": task_id, "status": row.status, "assignee": row.assignee, "owner": row.owner,
                    "due_at": iso(row.due_at), "instance": instance_view(stored.row, stored.state),
                    "step": step_rules(plan.nodes[row.node], plan)}
            if row.node == INITIATOR:          # the application returned to its initiator: who, why
                data["returned"] = last_return(conn, row.instance_id)
            return data

    def preview(self, flow: str, *, actor: str, subject: Any = None, form: Mapping[str, Any] | None = None) -> dict:
        """Who would hold each step if `actor` submitted this draft now; nothing is written."""
        if form is not None and not isinstance(form, Mapping):
            raise FlowError("invalid", "the form must be an object of field values")
        self._check_subject(flow, actor, subject)
        with self.engine.connect() as conn:
            version = current_version(conn)
            bundle = bundle_at(conn, version)
            compiled = flow_in(bundle, flow)
            tx = FlowTx(conn, self.directory, self.records.refresh, self.calendar, self.clock())
            ctx = tx.context(bundle, compiled, subject, actor, strict=True)
            spec = form_check.form_spec(bundle, compiled)
            draft = dict(form or {}) if spec is None else form_check.read_draft(spec, form or {})
            return {**preview(compiled, draft, ctx, actor, tx.now), "deployment_version": version}

    def messages(self, user: str, *, unread_only: bool = False, limit: int = 50) -> list[dict]:
        """In-app notifications delivered to `user`, newest first (the jobs room's table)."""
        with self.engine.connect() as conn:
            rows = notifications.listing(conn, user, unread_only=unread_only, limit=limit)
        return [{"id": r.id, "instance": (r.source or "").removeprefix("flow:") if (r.source or "").startswith("flow:")
                 else None, "template": r.kind, "title": r.title, "text": r.body, "link": r.link, "source": r.source,
                 "at": iso(r.created_at), "read": r.read_at is not None} for r in rows]

    def flow(self, name: str, version: int | None = None) -> Any:
        """The compiled flow of deployment `version` (default: the current one)."""
        with self.engine.connect() as conn:
            return flow_in(bundle_at(conn, version or current_version(conn)), name)

    def form(self, name: str, version: int) -> Any:
        """The Form document `name` of deployment `version`, or None when it has none."""
        with self.engine.connect() as conn:
            return bundle_at(conn, version).get("Form", name)

    def flows(self) -> list[dict]:
        with self.engine.connect() as conn:
            bundle = bundle_at(conn, current_version(conn))
        return [{"name": n, "label": {"zh": f.meta.label.zh, "en": f.meta.label.en}, "subject": f.subject,
                 "form": f.form} for (k, n), f in sorted(bundle.documents.items()) if k == "Flow"]


def _vote_commutes(tx: FlowTx, stored: Stored, cmd: Any) -> Any:
    """A decision that edits no field — none given, or each given (typed by `_step_fields`) equal to
    what the form holds now, as a task page sends the step's fields unchanged with every vote —
    whose If-Match is stale only because other signers of the same step have decided since (without
    editing a field), is taken as current: the form is as its signer saw it, and votes among many
    commute; the fields stay on the vote, what its signer approved. Anything else since — a field
    edited, the step decided, the form resubmitted — leaves the version check to refuse it (409
    stale_version)."""
    expected, state = cmd.expected_version, stored.state
    if expected is None or state is None or not 0 <= expected < state.version:
        return cmd
    if cmd.fields and any(state.form.get(k) != v for k, v in cmd.fields.items()):
        return cmd
    task = state.tasks.get(cmd.task)
    if task is None or not only_votes_since(tx.conn, stored.id, expected, task.node):
        return cmd
    return dataclasses.replace(cmd, expected_version=None)


_REQUEST = Prepared(requests.insert(), ["request_id", "actor", "command", "fingerprint", "instance_id", "response", "at"])
_REPLAY = Prepared(sa.select(requests.c.command, requests.c.fingerprint, requests.c.response)
                   .where(requests.c.actor == sa.bindparam("k_actor"), requests.c.request_id == sa.bindparam("k_id")))


def _replay(conn: Any, request_id: str, actor: str, what: str, body: Any) -> dict | None:
    """The first answer to `actor`'s request `request_id`, or None. Keys are each person's own:
    another person's key is never seen, and one's own key reused for another command — or for the
    same command with another body (form, fields, comment) — is refused (ids stored before revision
    0008 have no fingerprint and are matched by their command)."""
    row = _REPLAY.first(conn, {"k_actor": actor, "k_id": request_id})
    if row is None:
        return None
    if row.command != what[:300] or (row.fingerprint and row.fingerprint != fingerprint(body)):
        raise FlowError("request_reused", f"you already used request id {request_id} for `{row.command}`; "
                                          "use a new id for a new command")
    return json.loads(row.response)


def known_people(conn: Any, names: list[str]) -> set[str]:
    """Which of `names` are people of the directory (what a `ref(user)` field may name)."""
    if not names:
        return set()
    return set(conn.execute(sa.select(people.c.name).where(people.c.name.in_(names))).scalars())
