"""The route preview (engine/flow/preview.py) and the return targets (FlowPlan.return_targets):
pure answers the runtime shows as they are."""
from __future__ import annotations

from datetime import datetime

from engine.flow import FlowContext, Return
from engine.flow.plan import plan_for
from engine.flow.preview import RoutePreview, Stopped, route_preview

from .flow_helpers import DIRECTORY, SUBJECT, T0, Driver, compile_flow
from .test_approvals import PARALLEL_RETURN

CTX = FlowContext(directory=DIRECTORY, subject=SUBJECT)

ROUTE = """
start: {}
nodes:
  - {id: apply, type: task, assignees: "role('u1')"}
  - id: route
    type: branch
    cases:
      - {when: "form.amount > 1000万", goto: committee}
    default: head
  - id: committee
    type: approval
    label: {zh: 贷审会, en: Credit committee}
    assignees: "role('credit_committee')"
    countersign: {mode: all}
    deadline: 2d
    next: done
  - {id: head, type: approval, assignees: "role('branch_head')", next: done}
  - {id: done, type: end, outcome: approved}
"""


def steps(found: RoutePreview) -> list[tuple[int, str, tuple[str, ...] | None]]:
    return [(s.round, s.node, s.assignees) for s in found.steps]


def test_the_preview_lists_who_holds_each_step_in_order_and_the_outcome():
    flow = compile_flow(ROUTE)
    big = route_preview(flow, {"amount": 2 * 10**7}, CTX, "ann", T0)
    assert steps(big) == [(1, "apply", ("u1",)), (2, "committee", ("c1", "c2", "c3"))]
    assert big.outcome == "approved" and big.stopped is None
    committee = big.steps[-1]
    assert committee.mode == "all" and committee.due == datetime(2026, 3, 4, 9, 0)     # two business days
    assert committee.label.text("en") == "Credit committee" and committee.type == "approval"
    small = route_preview(flow, {"amount": 10**6}, CTX, "ann", T0)
    assert steps(small) == [(1, "apply", ("u1",)), (2, "head", ("bob",))]


def test_steps_opened_together_share_a_round():
    found = route_preview(compile_flow(PARALLEL_RETURN), {}, CTX, "ann", T0)
    assert steps(found) == [(1, "apply", ("u1",)), (2, "check", ("u2",)), (2, "legal", ("u5",)),
                            (3, "sign", ("u3", "u4"))]
    assert found.outcome == "done"


def test_a_refused_start_stops_before_the_first_step():
    flow = compile_flow("""
start: {who: "role('u1')"}
nodes:
  - {id: apply, type: task, assignees: "role('u2')"}
  - {id: done, type: end}
""")
    found = route_preview(flow, {}, CTX, "ann", T0)
    assert found.steps == () and found.outcome is None
    assert isinstance(found.stopped, Stopped) and found.stopped.code == "not_allowed" and found.stopped.node is None
    assert route_preview(flow, {}, CTX, "u1", T0).outcome == "done"


def test_a_step_nobody_holds_stops_the_preview_there():
    flow = compile_flow("""
start: {}
nodes:
  - {id: apply, type: task, assignees: "role('u1')"}
  - {id: review, type: task, assignees: "form.reviewer", if_no_assignee: fail}
  - {id: done, type: end}
""")
    found = route_preview(flow, {}, CTX, "ann", T0)
    assert steps(found) == [(1, "apply", ("u1",))] and found.outcome is None
    assert found.stopped is not None and (found.stopped.code, found.stopped.node) == ("no_assignee", "apply")


def test_the_preview_is_pure():
    flow = compile_flow(ROUTE)
    form = {"amount": 2 * 10**7}
    assert route_preview(flow, form, CTX, "ann", T0) == route_preview(flow, form, CTX, "ann", T0)
    assert form == {"amount": 2 * 10**7}


def test_return_targets_are_earlier_steps_of_people_or_the_written_ones():
    plan = plan_for(compile_flow(PARALLEL_RETURN))
    assert plan.return_targets("sign") == ("apply", "check")     # not the sibling branch, not itself
    assert plan.return_targets("legal") == ("apply",)
    assert plan.return_targets("apply") == ()
    assert plan.return_targets("split") == ()                    # not a step of people
    written = plan_for(compile_flow("""
start: {}
nodes:
  - {id: a, type: task, assignees: "role('u1')"}
  - {id: b, type: task, assignees: "role('u2')"}
  - {id: c, type: approval, assignees: "role('u3')", actions: [approve, reject, return], return_to: [a]}
  - {id: done, type: end}
"""))
    assert written.return_targets("c") == ("a",) and written.return_targets("b") == ("a",)


def test_the_engine_accepts_exactly_the_return_targets():
    flow = compile_flow(PARALLEL_RETURN)
    d = Driver(flow)
    d.complete("apply", "u1")
    d.complete("check", "u2")
    sign = d.task("sign", "u3").id
    targets = plan_for(flow).return_targets("sign")
    for node in flow.by_id:
        if node not in targets:
            assert d.refused(Return(comment="请补充材料", actor="u3", now=d.now, task=sign, to=node)) == "illegal_target", node
    d.run(Return(comment="请补充材料", actor="u3", now=d.now, task=sign, to="check"))
    assert "check" in d.open()
