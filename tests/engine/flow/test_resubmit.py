"""Return to the initiator, edit, resubmit (退回发起人修改后重新提交), and reasons where banks
require them (reject and return need an opinion by default), and the 审批意见 block."""
from __future__ import annotations

from datetime import timedelta

import pytest

from dsl.kinds.flow.ir import INITIATOR
from engine.flow import (
    Approve,
    Cancel,
    Comment,
    Complete,
    Reject,
    Resubmit,
    Return,
    TimerFired,
    Transfer,
    Withdraw,
)
from engine.flow.opinions import opinions
from engine.flow.plan import plan_for

from .flow_helpers import Driver, compile_flow

CHAIN = """\
start: {{}}
{resubmit}
nodes:
  - {{id: review, type: task, assignees: "role('u1')", return_to: [initiator]}}
  - id: check
    type: approval
    assignees: "[role('u2'), role('u3')]"
    countersign: {{mode: all}}
    return_to: [initiator, review]
    {step}
  - {{id: sign, type: approval, assignees: "role('u4')"}}
  - {{id: done, type: end, outcome: approved}}
"""


def chain(resubmit: str = "", step: str = ""):
    return compile_flow(CHAIN.format(resubmit=resubmit, step=step))


def back_to_initiator(d: Driver, node: str, user: str, comment: str = "请补充2025年审计报告"):
    return d.run(Return(actor=user, now=d.now, task=d.task(node, user).id, to=INITIATOR, comment=comment))


def resubmit(d: Driver, form: dict | None = None, actor: str = "ann", comment: str | None = "已补充"):
    return d.run(Resubmit(actor=actor, now=d.now, task=d.task(INITIATOR, "ann").id, form=form or {},
                          comment=comment))


def test_a_return_to_the_initiator_gives_them_the_edit_task_and_stops_all_other_work():
    d = Driver(chain(), form={"amount": 100})
    d.complete("review", "u1")
    d.approve("check", "u2")                                 # half the countersign done
    back_to_initiator(d, "check", "u3")
    assert d.open() == {INITIATOR: ["ann"]}                  # u2's vote and u3's task are gone
    assert d.created_minus_closed() == {d.task(INITIATOR, "ann").id}
    returned = d.kinds("returned")[-1]
    assert (returned.node, returned.actor, returned.data["to"], returned.data["comment"]) == \
        ("check", "u3", INITIATOR, "请补充2025年审计报告")
    # the edit step offers what the initiator may do with it, and nothing an approver does
    assert plan_for(d.flow).actions(INITIATOR) == ("resubmit", "withdraw", "comment")
    task = d.task(INITIATOR, "ann").id
    assert d.refused(Approve(actor="ann", now=d.now, task=task)) == "action_not_allowed"
    assert d.refused(Complete(actor="ann", now=d.now, task=task)) == "action_not_allowed"
    assert d.refused(Transfer(actor="ann", now=d.now, task=task, to="bob", comment="x")) == "action_not_allowed"
    assert d.refused(Resubmit(actor="u3", now=d.now, task=task)) == "not_assignee"


def test_resubmission_continues_from_the_returning_step_with_the_edited_form_and_fresh_votes():
    d = Driver(chain(), form={"amount": 100})
    d.complete("review", "u1")
    d.approve("check", "u2")
    back_to_initiator(d, "check", "u3")
    resubmit(d, {"amount": 80})
    assert d.state.form["amount"] == 80
    assert sorted(d.open()["check"]) == ["u2", "u3"]         # the returning step again, every vote fresh
    assert "review" not in d.open()
    e = d.kinds("resubmitted")[-1]
    assert (e.actor, e.data["to"], e.data["comment"]) == ("ann", "check", "已补充")
    d.approve("check", "u2")
    d.approve("check", "u3")
    d.approve("sign", "u4")
    assert d.outcome == ("finished", "approved") and d.created_minus_closed() == set()


@pytest.mark.parametrize("resubmit_key,step_key", [("resubmit: from_start", ""), ("", "resubmit: from_start")])
def test_resubmission_from_the_start_when_the_flow_or_the_step_says_so(resubmit_key, step_key):
    d = Driver(chain(resubmit_key, step_key))
    d.complete("review", "u1")
    back_to_initiator(d, "check", "u2")
    resubmit(d)
    assert d.open() == {"review": ["u1"]}


def test_a_step_override_wins_over_the_flow_default():
    d = Driver(chain("resubmit: from_start", "resubmit: from_returning_step"))
    d.complete("review", "u1")
    back_to_initiator(d, "check", "u2")
    resubmit(d)
    assert sorted(d.open()) == ["check"]


PARALLEL = """\
start: {}
nodes:
  - {id: apply, type: task, assignees: "role('u1')"}
  - {id: split, type: parallel, branches: [check, legal], join: meet}
  - {id: check, type: approval, assignees: "role('u2')", return_to: [initiator, apply], next: meet}
  - {id: legal, type: task, assignees: "role('u5')", next: meet}
  - {id: meet, type: join}
  - {id: done, type: end}
"""


def test_inside_parallel_paths_resubmission_reopens_the_split_so_no_path_is_skipped():
    d = Driver(compile_flow(PARALLEL))
    d.complete("apply", "u1")
    back_to_initiator(d, "check", "u2")                      # legal still open: cancelled with it
    assert d.open() == {INITIATOR: ["ann"]} and not d.state.splits
    resubmit(d)
    assert sorted(d.open()) == ["check", "legal"]            # both paths again, the join counts both
    d.approve("check", "u2")
    assert d.state.running
    d.complete("legal", "u5")
    assert d.outcome == ("finished", "done") and len(d.kinds("joined")) == 1


def test_the_initiator_may_withdraw_or_cancel_instead_of_resubmitting():
    d = Driver(chain())
    d.complete("review", "u1")
    back_to_initiator(d, "check", "u2")
    assert d.refused(Withdraw(actor="u2", now=d.now)) == "withdraw_too_late"
    d.run(Withdraw(actor="ann", now=d.now))
    assert d.outcome == ("cancelled", "withdrawn") and d.created_minus_closed() == set()

    d = Driver(chain())
    d.complete("review", "u1")
    back_to_initiator(d, "check", "u2")
    d.run(Cancel(actor="ann", now=d.now, reason="客户不再需要"))
    assert d.outcome == ("cancelled", "cancelled") and d.created_minus_closed() == set()


def test_a_resubmission_can_be_withdrawn_until_the_next_step_acts():
    d = Driver(chain())
    d.complete("review", "u1")
    back_to_initiator(d, "check", "u2")
    resubmit(d)
    d.approve("check", "u2")                                 # the step acted: too late now
    assert d.refused(Withdraw(actor="ann", now=d.now)) == "withdraw_too_late"

    d = Driver(chain())
    d.complete("review", "u1")
    back_to_initiator(d, "check", "u2")
    resubmit(d)
    d.run(Withdraw(actor="ann", now=d.now))
    assert d.outcome == ("cancelled", "withdrawn")


def test_the_first_step_returns_to_the_initiator_and_the_state_round_trips():
    d = Driver(chain())                                      # the Driver checks the JSON round trip
    back_to_initiator(d, "review", "u1")
    token = next(iter(d.state.tokens.values()))
    assert (token.node, token.back) == (INITIATOR, "review")
    resubmit(d)
    assert d.open() == {"review": ["u1"]}


NO_TARGET = """\
start: {}
nodes:
  - {id: first, type: approval, assignees: "role('u1')"}
  - {id: second, type: approval, assignees: "role('u2')"}
  - {id: done, type: end}
"""


def test_return_is_not_offered_where_it_has_no_legal_target():
    flow = compile_flow(NO_TARGET)
    plan = plan_for(flow)
    assert "return" in flow.by_id["first"].actions              # the default actions list it …
    assert "return" not in plan.actions("first") and plan.return_targets("first") == ()   # … nothing to go to
    assert "return" in plan.actions("second") and plan.return_targets("second") == ("first",)
    d = Driver(flow)
    task = d.task("first", "u1").id
    for to in ("first", INITIATOR, "done"):
        assert d.refused(Return(actor="u1", now=d.now, task=task, to=to, comment="退回")) == "action_not_allowed"
    d.approve("first", "u1")
    task = d.task("second", "u2").id
    assert d.refused(Return(actor="u2", now=d.now, task=task, to=INITIATOR, comment="退回")) == "illegal_target"


# -- reasons ----------------------------------------------------------------------------------
def test_reject_and_return_need_a_reason_by_default():
    d = Driver(chain())
    d.complete("review", "u1")
    task = d.task("check", "u2").id
    for comment in (None, "", "   "):
        assert d.refused(Reject(actor="u2", now=d.now, task=task, comment=comment)) == "reason_required"
        assert d.refused(Return(actor="u2", now=d.now, task=task, to="review", comment=comment)) == \
            "reason_required"
    d.approve("check", "u2")                                 # an approval needs none
    d.reject("check", "u3", comment="担保不足")
    assert d.outcome == ("finished", "rejected")


REASONS = """\
start: {{}}
nodes:
  - id: first
    type: approval
    assignees: "role('u1')"
    reason_required: {reasons}
    deadline: 1d
    on_timeout: auto_reject
  - {{id: done, type: end}}
"""


def test_a_step_says_which_actions_need_a_reason():
    d = Driver(compile_flow(REASONS.format(reasons="[]")))
    d.run(Reject(actor="u1", now=d.now, task=d.task("first", "u1").id))
    assert d.outcome == ("finished", "rejected")

    d = Driver(compile_flow(REASONS.format(reasons="[approve]")))
    task = d.task("first", "u1").id
    assert d.refused(Approve(actor="u1", now=d.now, task=task)) == "reason_required"
    d.run(Approve(actor="u1", now=d.now, task=task, comment="同意"))
    assert d.outcome == ("finished", "done")


def test_the_system_needs_no_reason_when_a_deadline_rejects():
    d = Driver(compile_flow(REASONS.format(reasons="[reject]")))
    timer = next(m for m in d.state.timers.values() if m.kind == "deadline")
    d.now = timer.at + timedelta(minutes=1)
    d.run(TimerFired(actor="system", now=d.now, timer=timer.id))
    assert d.outcome == ("finished", "rejected")
    [row] = opinions(d.events)
    assert (row["person"], row["decision"], row["step"]) == ("system", "reject", "first")


def test_the_opinions_block_lists_every_opinion_in_order_with_step_person_decision_and_time():
    flow = chain()
    d = Driver(flow)
    d.complete("review", "u1")
    d.run(Comment(actor="u2", now=d.now, text="请说明担保情况", task=d.task("check", "u2").id))
    d.approve("check", "u2", comment="同意")
    back_to_initiator(d, "check", "u3", comment="担保材料缺失")
    resubmit(d, comment="已补充担保合同")
    d.approve("check", "u2")
    d.reject("check", "u3", comment="担保仍不足")
    rows = opinions(d.events, flow)
    assert [(r["step"], r["person"], r["decision"], r["opinion"]) for r in rows] == [
        ("review", "u1", "complete", None),
        ("check", "u2", "comment", "请说明担保情况"),
        ("check", "u2", "approve", "同意"),
        ("check", "u3", "return", "担保材料缺失"),
        (INITIATOR, "ann", "resubmit", "已补充担保合同"),
        ("check", "u2", "approve", None),
        ("check", "u3", "reject", "担保仍不足"),
    ]
    assert [r["at"] for r in rows] == sorted(r["at"] for r in rows)
    assert rows[3]["to"] == INITIATOR and rows[4]["to"] == "check"
    assert rows[4]["step_label"]["zh"] == "发起人修改"
    # the runtime's timeline rows (dicts) give the same block
    as_rows = [{"kind": e.kind, "node": e.node, "actor": e.actor, "at": e.at, "data": e.data} for e in d.events]
    assert opinions(as_rows, flow) == rows
