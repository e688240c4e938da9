"""Inline flows and a driver for the flow engine tests.

`compile_flow(nodes)` compiles a Flow over a small base bundle (a group with a lead branch,
a form `app`, roles); `Driver` runs commands, keeps the effects and events, and (unless told
otherwise) checks after every step that a JSON save/restore gives back the same state."""
from __future__ import annotations

import functools
import json
import textwrap
from datetime import datetime, timedelta

from dsl.compiler import compile_texts
from engine.flow import (
    Approve,
    Claim,
    CommandRejected,
    Complete,
    FlowContext,
    Reject,
    Start,
    StaticDirectory,
    apply,
    from_json,
    to_json,
)
from engine.flow.effects import CloseTask, CreateTask

PEOPLE = ("u1", "u2", "u3", "u4", "u5", "ann", "bob")
ROLES = ("credit_officer", "branch_head", "risk_manager", "credit_committee", "chief_risk_officer", "legal",
         "admin") + PEOPLE     # role('u1') is held by u1 alone: how a test names one person

BASE = {
    "group.yaml": """\
apiVersion: banyan/v1
kind: Entity
metadata: {name: group}
spec:
  key: code
  fields:
    - {name: code, type: string, required: true, unique: true}
    - {name: lead_branch, type: ref(org_unit)}
    - {name: tier, type: enum, values: [core, other]}
""",
    "app.yaml": """\
apiVersion: banyan/v1
kind: Form
metadata: {name: app}
spec:
  fields:
    - {name: amount, type: money}
    - {name: opinion, type: text}
    - {name: urgent, type: bool}
    - {name: legal, type: bool}
    - {name: grade, type: enum, values: [green, red]}
    - {name: reviewer, type: ref(user)}
    - {name: result, type: text}
""",
    "filing.yaml": """\
apiVersion: banyan/v1
kind: Entity
metadata: {name: filing}
spec:
  fields:
    - {name: group, type: ref(group)}
    - {name: score, type: integer}
""",
    **{f"{r}.yaml": f"apiVersion: banyan/v1\nkind: Role\nmetadata: {{name: {r}}}\nspec: {{scope: org_unit}}\n"
       for r in ROLES},
}

HEAD = """\
apiVersion: banyan/v1
kind: Flow
metadata: {name: %s}
spec:
  subject: group
  form: app
  roles: [admin]
"""


@functools.lru_cache(maxsize=None)
def compile_flows(*named: tuple[str, str]):
    files = dict(BASE)
    for name, text in named:
        files[f"{name}.yaml"] = text
    result = compile_texts(files)
    assert result.ok, [f"{d.span} {d.code} {d.message}" for d in result.diagnostics]
    return result.bundle


def flow_text(spec: str, name: str = "f") -> str:
    return HEAD % name + textwrap.indent(textwrap.dedent(spec), "  ")


def compile_flow(spec: str, name: str = "f", *more: tuple[str, str]):
    """A flow from the YAML under `spec:` (start and nodes), indented or not; `more`: other
    flows as (name, full text), for subflows."""
    bundle = compile_flows((name, flow_text(spec, name)), *more)
    return bundle.documents[("Flow", name)]


DIRECTORY = StaticDirectory(
    roles={"credit_officer": {"bj": ["olga", "oscar"]}, "branch_head": {"bj": ["bob"]},
           "risk_manager": {"bj": ["rita"]}, "credit_committee": {None: ["c1", "c2", "c3"]},
           "chief_risk_officer": {None: ["c3"]}, "legal": {None: ["lee"]}, "admin": {None: ["ada"]},
           **{p: {None: [p]} for p in PEOPLE}},
    supervisors={"ann": "bob", "olga": "bob"})
SUBJECT = {"code": "G1", "lead_branch": {"name": "bj"}, "tier": "other"}
T0 = datetime(2026, 3, 2, 9, 0)   # a Monday


class Driver:
    """One instance under test. `path` lists the nodes whose steps opened, in order."""

    def __init__(self, flow, initiator: str = "ann", form: dict | None = None, roundtrip: bool = True,
                 directory=DIRECTORY, subject=SUBJECT):
        self.flow, self.roundtrip = flow, roundtrip
        self.ctx = FlowContext(directory=directory, subject=subject)
        self.now = T0
        self.state = None
        self.effects: list = []
        self.events: list = []
        self.run(Start(actor=initiator, now=self.now, instance="i1", form=form or {}))

    def run(self, cmd):
        result = apply(self.flow, self.state, cmd, self.ctx)
        if self.roundtrip:
            saved = json.loads(json.dumps(to_json(result.state)))
            assert from_json(saved) == result.state
        self.state = result.state
        self.effects += result.effects
        self.events += result.events
        self.now += timedelta(minutes=1)
        return result

    def refused(self, cmd) -> str:
        """Run a command that must be refused; check nothing changed; give the error code."""
        before = self.state
        try:
            apply(self.flow, self.state, cmd, self.ctx)
        except CommandRejected as exc:
            assert self.state is before
            return exc.code
        raise AssertionError(f"{cmd} was accepted")

    # shortcuts --------------------------------------------------------------------------
    def task(self, node: str, user: str | None = None):
        found = [t for t in self.state.tasks.values() if t.node == node and (user is None or user in
                 ((t.assignee,) if t.assignee else t.candidates))]
        assert found, f"no open task at {node} for {user}: {self.open()}"
        return found[0]

    def approve(self, node: str, user: str, **kw):
        return self.run(Approve(actor=user, now=self.now, task=self.task(node, user).id, **kw))

    def reject(self, node: str, user: str, **kw):
        kw.setdefault("comment", "资料不全")         # a rejection needs a reason (reason_required) by default
        return self.run(Reject(actor=user, now=self.now, task=self.task(node, user).id, **kw))

    def complete(self, node: str, user: str | None = None, **kw):
        task = self.task(node, user)
        actor = user or task.assignee or task.candidates[0]
        return self.run(Complete(actor=actor, now=self.now, task=task.id, **kw))

    def claim(self, node: str, user: str):
        return self.run(Claim(actor=user, now=self.now, task=self.task(node, user).id))

    def open(self) -> dict[str, list]:
        """Open tasks by node: {node: [assignee or (candidates)]} (held ones marked)."""
        out: dict[str, list] = {}
        for t in self.state.tasks.values():
            who = t.assignee or tuple(t.candidates)
            out.setdefault(t.node, []).append(("held", who) if t.held else who)
        return out

    @property
    def path(self) -> list[str]:
        return [e.node for e in self.events if e.kind == "step_opened"]

    def kinds(self, kind: str) -> list:
        return [e for e in self.events if e.kind == kind]

    def created_minus_closed(self) -> set[str]:
        created = {e.task for e in self.effects if isinstance(e, CreateTask)}
        closed = {e.task for e in self.effects if isinstance(e, CloseTask)}
        return created - closed

    @property
    def outcome(self):
        return self.state.status, self.state.outcome
