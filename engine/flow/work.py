"""The working copy one command edits: copies of the state's mappings, the effects and events
so far, and the helpers every handler shares (ids, tokens, tasks, timers, cancellation).
`freeze()` turns it into the next immutable FlowInstance."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from dsl.expr.runtime import NOW_KEY

from .calendar import WEEKDAYS, Calendar
from .commands import SYSTEM, Command
from .deputies import stand_in
from .directory import Directory, resolve_users
from .effects import CancelSubflow, ClearTimer, CloseTask, CreateTask, Event, Finished, SetTimer, UpdateTask
from .errors import CommandRejected, evaluation_failed
from .plan import FlowPlan
from .state import CANCELLED, RUNNING, FlowInstance, Split, Task, Timer, Token

# What the engine does by itself, whoever's command set it going: the timeline names the
# system as their actor, never the last person who acted (their own act is its own event).
SYSTEM_KINDS = frozenset({
    "step_opened", "step_passed", "step_rejected", "step_reopened", "split", "branch", "arrived", "joined",
    "finished", "cancelled", "task_cancelled", "skipped", "auto_approved", "escalated", "initiator_replaced",
    "veto_holders_added", "back_to_adder", "subflow_started", "subflow_ended", "waiting", "event_received",
    "action", "timer", "timeout_approved", "timeout_rejected",
})

# Why an open task was closed without its holder acting (CloseTask.reason) → the code the
# `task_cancelled` event carries (the timeline's words: runtime/web/flow_text.py `why_<code>`).
CANCEL_WHY = {
    "step decided": "step_decided", "join passed": "join_passed", "returned to the initiator": "returned",
    "returned": "returned", "returned to the adder": "returned_to_adder", "withdrawn": "withdrawn",
    "withdrawn by the initiator": "withdrawn", "instance cancelled": "cancelled", "step rejected": "rejected",
    "request rejected": "rejected", "flow ended": "flow_ended", "timed out": "timed_out",
    "signer removed": "signer_removed", "resubmitted": "resubmitted",
}


@dataclass(frozen=True)
class FlowContext:
    """What the runtime passes in besides the state: people, the calendar, the subject record
    (as expressions see it) and the initiator's user record (default: just the name)."""

    directory: Directory
    calendar: Calendar = WEEKDAYS
    subject: Mapping[str, Any] = field(default_factory=dict)
    initiator: Mapping[str, Any] | None = None
    # step id → the deadline that replaces the step's own for this instance (the response time a
    # client's service package promises: engine/tiering/sla.py)
    deadlines: Mapping[str, Any] = field(default_factory=dict)


class Work:
    __slots__ = ("plan", "flow", "cmd", "ctx", "now", "actor", "base", "status", "outcome", "seq", "form", "tokens",
                 "tasks", "splits", "timers", "handoffs", "watchers", "effects", "events", "budget", "_ectx")

    def __init__(self, plan: FlowPlan, state: FlowInstance, cmd: Command, ctx: FlowContext):
        self.plan, self.flow, self.cmd, self.ctx = plan, plan.flow, cmd, ctx
        self.now, self.actor = cmd.now, cmd.actor
        self.base = state
        self.status, self.outcome = state.status, state.outcome
        self.seq = state.seq
        self.form = state.form
        self.tokens = dict(state.tokens)
        self.tasks = dict(state.tasks)
        self.splits = dict(state.splits)
        self.timers = dict(state.timers)
        self.handoffs = list(state.handoffs)
        self.watchers = state.watchers
        self.effects: list[Any] = []
        self.events: list[Event] = []
        self.budget = 10_000           # automatic moves per command: an unguarded loop stops here
        self._ectx: dict[str, Any] | None = None

    # ids, effects, events -------------------------------------------------------------
    def next_id(self, prefix: str) -> str:
        self.seq += 1
        return f"{prefix}{self.seq}"

    def task_id(self) -> str:
        self.seq += 1
        return f"{self.base.id}/{self.seq}"

    def event(self, kind: str, node: str | None = None, task: str | None = None, actor: str | None = None,
              **data: Any) -> None:
        self.events.append(Event(kind, self.now, actor or (SYSTEM if kind in SYSTEM_KINDS else self.actor),
                                 node, task, data))

    # expressions and people -----------------------------------------------------------
    def expr_ctx(self) -> dict[str, Any]:
        if self._ectx is None or self._ectx["form"] is not self.form:
            initiator = self.ctx.initiator or {"name": self.base.initiator}
            self._ectx = {"subject": self.ctx.subject, "form": self.form, "initiator": initiator, NOW_KEY: self.now}
        return self._ectx

    def evaluate(self, expr: Any, extra: Mapping[str, Any] | None = None) -> Any:
        if expr is None:
            return None
        ctx = self.expr_ctx() if not extra else {**self.expr_ctx(), **extra}
        try:
            return expr(ctx)
        except Exception as exc:   # an EvaluationError from the data: refuse the command, keep the state
            raise evaluation_failed(expr.text, exc) from exc

    def users(self, expr: Any) -> list[str]:
        return resolve_users(self.evaluate(expr), self.ctx.directory)

    def set_form(self, values: Mapping[str, Any]) -> None:
        if values:
            self.form = {**self.form, **values}

    # tokens, tasks, timers ------------------------------------------------------------
    def task(self, task_id: str) -> Task:
        task = self.tasks.get(task_id)
        if task is None:
            raise CommandRejected("unknown_task", f"task {task_id} is not open in this instance")
        return task

    def add_task(self, task: Task) -> None:
        task = stand_in(self, task)                 # to the deputy of an assignee who is away
        self.tasks[task.id] = task
        self.effects.append(CreateTask(task.id, task.node, task.assignee, task.candidates,
                                       self.tokens[task.token].due, task.held))
        if task.owner is not None:                  # CreateTask carries no owner
            self.effects.append(UpdateTask(task.id, task.assignee, task.candidates, task.held, task.owner))

    def update_task(self, task: Task) -> None:
        self.tasks[task.id] = task
        self.effects.append(UpdateTask(task.id, task.assignee, task.candidates, task.held, task.owner))

    def close_task(self, task_id: str, reason: str) -> None:
        """Close a task; one closed without its holder acting — by a join, a decided countersign,
        a return, a withdrawal, a cancel — leaves a `task_cancelled` event saying why (the task
        of the command's own actor, closed by their return or resubmission, is theirs: no event)."""
        task = self.tasks.pop(task_id)
        self.effects.append(CloseTask(task_id, reason))
        if reason != "done" and task_id != getattr(self.cmd, "task", None):
            self.event("task_cancelled", task.node, task_id, why=CANCEL_WHY.get(reason, "other"),
                       users=[task.assignee] if task.assignee else list(task.candidates))

    def tasks_of_token(self, token_id: str) -> list[Task]:
        return [t for t in self.tasks.values() if t.token == token_id]

    def touch(self, token_id: str) -> None:
        tok = self.tokens[token_id]
        if not tok.touched:
            self.tokens[token_id] = Token(tok.id, tok.node, tok.scopes, tok.step, True, tok.due)

    def set_timer(self, token: str, kind: str, at: datetime, level: int = 0) -> None:
        timer = Timer(self.next_id("m"), token, kind, at, level)
        self.timers[timer.id] = timer
        self.effects.append(SetTimer(timer.id, at, kind))

    def clear_timers(self, token_id: str, kinds: tuple[str, ...] | None = None) -> None:
        for tid in [t.id for t in self.timers.values() if t.token == token_id and (kinds is None or t.kind in kinds)]:
            del self.timers[tid]
            self.effects.append(ClearTimer(tid))

    def drop_token(self, token_id: str, reason: str, call_over: bool = False) -> None:
        """Remove a token and everything hanging on it: open tasks, timers, a running subflow
        (unless `call_over`: the subflow has ended by itself)."""
        tok = self.tokens.pop(token_id)
        if self.tasks:
            gone = []
            for task in self.tasks.values():
                if task.token == token_id:
                    gone.append(task.id)
            for task_id in gone:
                self.close_task(task_id, reason)
        if self.timers:
            self.clear_timers(token_id)
        if not call_over and tok.step is None and self.plan.nodes[tok.node].type == "subflow":
            self.effects.append(CancelSubflow(token_id))

    def cancel_split(self, split_id: str, reason: str, keep: str | None = None) -> None:
        """Close a split and all inside it: tokens (but `keep`) and nested splits."""
        for tid in [t.id for t in self.tokens.values() if t.id != keep and any(s == split_id for s, _ in t.scopes)]:
            self.drop_token(tid, reason)
        for sid in [s.id for s in self.splits.values() if any(p == split_id for p, _ in s.scopes)]:
            self.splits.pop(sid, None)
        self.splits.pop(split_id, None)

    def add_split(self, split: Split) -> None:
        self.splits[split.id] = split

    def finish(self, status: str, outcome: str, reason: str, end: str | None = None) -> None:
        """End the instance: `end` is the end node reached (None: ended without one — rejected,
        withdrawn, cancelled)."""
        for tid in list(self.tokens):
            self.drop_token(tid, reason)
        self.splits.clear()
        if self.timers:
            for tid in list(self.timers):
                del self.timers[tid]
                self.effects.append(ClearTimer(tid))
        self.handoffs.clear()
        self.status, self.outcome = status, outcome
        self.effects.append(Finished(status, outcome))
        self.event("finished" if status != CANCELLED else "cancelled", end, status=status, outcome=outcome)

    @property
    def running(self) -> bool:
        return self.status == RUNNING

    def freeze(self) -> FlowInstance:
        return FlowInstance(self.base.id, self.base.flow, self.base.initiator, self.base.started_at, self.status,
                            self.outcome, self.base.version + 1, self.seq, self.form, self.tokens, self.tasks,
                            self.splits, self.timers, tuple(self.handoffs), self.watchers)
