"""History shows everything: every task closed without its holder acting leaves a
`task_cancelled` event saying why (a join, a decided countersign, a return, a withdrawal, a
resubmission's return, a cancel); what the engine does by itself is the system's, not the
last person's; the diagram shows the steps done, the path taken and the real end."""
from __future__ import annotations

import re

from dsl.kinds.flow.ir import INITIATOR
from engine.flow import Cancel, Resubmit, Return, Withdraw
from engine.flow.commands import SYSTEM
from engine.flow.effects import CloseTask
from engine.flow.svg import flow_svg, walked

from .flow_helpers import Driver, compile_flow

PARALLEL = """
start: {}
nodes:
  - {id: a, type: task, assignees: "role('u1')"}
  - {id: split, type: parallel, branches: [b, c, d], join: meet}
  - {id: b, type: task, assignees: "role('u2')", next: meet}
  - {id: c, type: task, assignees: "role('u3')", next: meet}
  - {id: d, type: task, assignees: "role('u4')", next: meet}
  - {id: meet, type: join, wait: %s}
  - {id: e, type: task, assignees: "role('u5')"}
  - {id: done, type: end}
"""

APPROVAL = """
start: {}
nodes:
  - {id: a, type: task, assignees: "role('u1')"}
  - id: route
    type: branch
    cases:
      - {when: "form.amount > 100", goto: big}
    default: small
  - {id: small, type: approval, assignees: "role('u2')", next: granted}
  - id: big
    type: approval
    assignees: "[role('u2'), role('u3'), role('u4')]"
    countersign: {mode: any}
    return_to: [initiator, a]
  - {id: granted, type: end, outcome: approved, label: {zh: 审批通过, en: Approved}}
"""


def cancelled(d: Driver) -> dict[str, tuple[str, list]]:
    """The task_cancelled events: {task: (why, users)}."""
    return {e.task: (e.data["why"], e.data["users"]) for e in d.kinds("task_cancelled")}


def closed_without_acting(d: Driver, *, own: str | None = None) -> set[str]:
    return {e.task for e in d.effects if isinstance(e, CloseTask) and e.reason != "done" and e.task != own}


def test_a_partial_join_says_which_paths_it_cancelled_and_why():
    d = Driver(compile_flow(PARALLEL % "any"))
    d.complete("a", "u1")
    c, dd = d.task("c", "u3").id, d.task("d", "u4").id
    d.complete("b", "u2")
    assert cancelled(d) == {c: ("join_passed", ["u3"]), dd: ("join_passed", ["u4"])}
    assert closed_without_acting(d) == set(cancelled(d))
    ev = d.kinds("task_cancelled")[0]
    assert ev.actor == SYSTEM and ev.node in ("c", "d")


def test_a_decided_countersign_cancels_the_other_signers_tasks_with_a_reason():
    d = Driver(compile_flow(APPROVAL), form={"amount": 500})
    d.complete("a", "u1")
    others = {d.task("big", u).id for u in ("u3", "u4")}
    d.approve("big", "u2")
    assert set(cancelled(d)) == others and {w for w, _ in cancelled(d).values()} == {"step_decided"}


def test_a_return_cancels_the_other_open_tasks_but_not_the_returners_own():
    d = Driver(compile_flow(APPROVAL), form={"amount": 500})
    d.complete("a", "u1")
    own = d.task("big", "u2").id
    d.run(Return(actor="u2", now=d.now, task=own, to="a", comment="补充材料"))
    assert own not in cancelled(d)
    assert {u[0] for _, u in cancelled(d).values()} == {"u3", "u4"}
    assert {w for w, _ in cancelled(d).values()} == {"returned"}
    assert closed_without_acting(d, own=own) == set(cancelled(d))


def test_a_return_to_the_initiator_and_the_resubmission_leave_every_cancelled_task_in_the_history():
    d = Driver(compile_flow(APPROVAL), form={"amount": 500})
    d.complete("a", "u1")
    own = d.task("big", "u3").id
    d.run(Return(actor="u3", now=d.now, task=own, to=INITIATOR, comment="请补充"))
    assert {u[0] for _, u in cancelled(d).values()} == {"u2", "u4"}
    d.run(Resubmit(actor="ann", now=d.now, task=d.task(INITIATOR, "ann").id, form={"amount": 50}))
    assert closed_without_acting(d, own=own) == set(cancelled(d))
    assert d.kinds("resubmitted")[-1].actor == "ann"
    assert d.kinds("step_opened")[-1].actor == SYSTEM       # the next step opened by the engine, not by ann


def test_a_withdrawal_cancels_the_next_steps_task_with_why():
    d = Driver(compile_flow(PARALLEL % "all"))
    d.complete("a", "u1")
    opened = {d.task(n).id for n in ("b", "c", "d")}
    d.run(Withdraw(actor="u1", now=d.now))
    assert set(cancelled(d)) == opened and {w for w, _ in cancelled(d).values()} == {"withdrawn"}
    assert d.kinds("withdrawn")[-1].actor == "u1"


def test_a_cancel_closes_every_open_task_with_why_and_the_end_is_the_systems():
    d = Driver(compile_flow(PARALLEL % "all"))
    d.complete("a", "u1")
    d.complete("b", "u2")
    d.run(Cancel(actor="ann", now=d.now, reason="不再需要"))
    assert {w for w, _ in cancelled(d).values()} == {"cancelled"} and len(cancelled(d)) == 2
    assert d.kinds("cancel_requested")[-1].actor == "ann"
    assert d.kinds("cancelled")[-1].actor == SYSTEM


def test_system_actions_are_the_systems_and_decisions_the_persons():
    d = Driver(compile_flow(APPROVAL), form={"amount": 50})
    d.complete("a", "u1")
    d.approve("small", "u2")
    by_kind = {}
    for e in d.events:
        by_kind.setdefault(e.kind, set()).add(e.actor)
    assert by_kind["complete"] == {"u1"} and by_kind["approve"] == {"u2"} and by_kind["started"] == {"ann"}
    for kind in ("step_opened", "branch", "step_passed", "finished"):
        assert by_kind[kind] == {SYSTEM}, kind
    assert d.kinds("finished")[-1].node == "granted"           # the end node reached


def _classes(svg: str, node: str) -> str:
    m = re.search(rf'<g data-node="{node}"(?: class="([^"]*)")?>', svg)
    assert m, node
    return m.group(1) or ""


def test_the_diagram_marks_the_steps_done_the_path_taken_and_the_end_reached():
    flow = compile_flow(APPROVAL)
    d = Driver(flow, form={"amount": 50})
    d.complete("a", "u1")
    d.approve("small", "u2")
    walk = walked(flow, d.events)
    assert walk.end == "granted" and {"a", "route", "small"} <= walk.done and "big" not in walk.visited
    assert {("a", "route"), ("route", "small"), ("small", "granted")} <= walk.taken
    assert ("route", "big") not in walk.taken
    svg = flow_svg(flow, current=(), events=d.events)
    assert "done" in _classes(svg, "small") and "reached" in _classes(svg, "granted")
    assert _classes(svg, "big") == ""
    assert svg.count('class="taken"') == len(walk.taken)


def test_a_rejected_case_does_not_end_at_approved():
    flow = compile_flow(APPROVAL)
    d = Driver(flow, form={"amount": 50})
    d.complete("a", "u1")
    d.reject("small", "u2")
    assert d.outcome == ("finished", "rejected")
    walk = walked(flow, d.events)
    assert walk.end is None and walk.stopped_at == ["small"] and walk.outcome == "rejected"
    assert "small" in walk.rejected and ("small", "granted") not in walk.taken
    svg = flow_svg(flow, current=(), events=d.events)
    assert "reached" not in _classes(svg, "granted") and "rejected" in _classes(svg, "small")
    assert 'class="reached outcome-rejected"' in svg and "否决" in svg
    assert "Rejected" in flow_svg(flow, events=d.events, lang="en")


def test_the_diagram_keeps_the_current_steps_and_without_events_draws_as_before():
    flow = compile_flow(APPROVAL)
    d = Driver(flow, form={"amount": 500})
    d.complete("a", "u1")
    current = sorted({t.node for t in d.state.tokens.values()})
    svg = flow_svg(flow, current=current, events=d.events)
    assert _classes(svg, "big") == "current" and "done" in _classes(svg, "a")
    plain = flow_svg(flow, current=current)
    assert 'class="taken"' not in plain and "done" not in _classes(plain, "a")


def test_the_walk_reads_timeline_rows_as_the_runtime_stores_them():
    flow = compile_flow(APPROVAL)
    d = Driver(flow, form={"amount": 50})
    d.complete("a", "u1")
    d.reject("small", "u2")
    rows = [{"kind": e.kind, "node": e.node, "actor": e.actor, "data": dict(e.data)} for e in d.events]
    assert walked(flow, rows) == walked(flow, d.events)
