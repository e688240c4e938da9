"""Approvals as a bank's staff expect them (issue 12, items 1–4): ratios counted exactly, a veto
that holds, a signer added before the approver who rejects sends it back to them, and four eyes
on every step that says so."""
from __future__ import annotations

import pytest

from engine.flow import AddSigner, Claim, Complete, RemoveSigner, StaticDirectory, TimerFired, Transfer
from engine.flow.effects import CloseTask

from .flow_helpers import DIRECTORY, Driver, compile_flow
from .test_approvals import vote_flow
from .test_shipped_flows import DIRECTORY as BANK
from .test_shipped_flows import GROUP, flows

# -- 1. ratios say what they mean -------------------------------------------------------------


@pytest.mark.parametrize("written, outcome", [("2/3", "approved"), ("67%", "rejected"), ("0.67", "rejected")])
def test_two_thirds_and_67_percent_are_not_the_same_with_three_signers(written, outcome):
    d = Driver(compile_flow(vote_flow("ratio", extra=f", pass: {written}")))
    d.approve("vote", "c1")
    d.approve("vote", "c2")
    if d.state.running:                             # 67% of 3 needs all three
        d.reject("vote", "c3")
    assert d.outcome == ("finished", outcome)


# -- 2. a veto holds ---------------------------------------------------------------------------
VETO = ", pass: 2/3, veto: [legal]"                 # lee holds legal and is no committee member


def test_a_veto_holder_outside_the_signers_role_gets_a_task():
    d = Driver(compile_flow(vote_flow("ratio", extra=VETO)))
    assert sorted(d.open()["vote"]) == ["c1", "c2", "c3", "lee"]
    assert d.kinds("veto_holders_added")[0].data["users"] == ["lee"]


def test_the_step_does_not_pass_before_the_veto_holder_has_voted_and_the_veto_then_holds():
    flow = compile_flow(vote_flow("ratio", extra=VETO))
    d = Driver(flow)
    for u in ("c1", "c2", "c3"):                    # 3 of 4 signers ≥ 2/3 — but lee has not voted
        d.approve("vote", u)
    assert d.state.running and d.open() == {"vote": ["lee"]}
    d.reject("vote", "lee")
    assert d.outcome == ("finished", "rejected") and d.kinds("veto")
    d = Driver(flow)
    for u in ("c1", "c2", "lee"):
        d.approve("vote", u)
    assert d.outcome == ("finished", "approved")
    assert [e.reason for e in d.effects if isinstance(e, CloseTask) and e.reason != "done"] == ["step decided"]


def test_a_veto_holder_cannot_be_removed_from_the_step():
    d = Driver(compile_flow(vote_flow("ratio", extra=VETO)))
    task = d.task("vote", "c1").id
    assert d.refused(RemoveSigner(actor="c1", now=d.now, task=task, user="lee")) == "cannot_remove"


def test_a_veto_holder_who_started_the_request_is_kept_off_under_four_eyes():
    d = Driver(compile_flow(vote_flow("ratio", extra=VETO)), initiator="lee")
    assert sorted(d.open()["vote"]) == ["c1", "c2", "c3"]


def test_shipped_committee_gives_the_cro_a_task_when_the_cro_sits_outside_it():
    bank = StaticDirectory(roles={**BANK.roles, "chief_risk_officer": {None: ["cro"]}}, supervisors=BANK.supervisors)
    d = Driver(flows()["group_credit_approval"], initiator="rm", directory=bank, subject=GROUP,
               form={"amount": 8 * 10**8, "credit_type": "new", "purpose": "working capital"})
    d.complete("document_review", "officer", fields={"review_opinion": "complete"})
    d.complete("risk_assessment", "risk", fields={"risk_rating": "medium", "risk_opinion": "ok"})
    d.approve("branch_approval", "head")
    assert sorted(d.open()["committee"]) == ["cro", "m1", "m2", "m3"]
    for u in ("m1", "m2", "m3"):
        d.approve("committee", u, **({"fields": {"approved_amount": 6 * 10**8}} if u == "m1" else {}))
    assert d.state.running and d.open() == {"committee": ["cro"]}
    d.reject("committee", "cro")
    assert d.outcome == ("finished", "rejected") and d.kinds("veto")


# -- 3. a signer added before the approver (前加签) ----------------------------------------------


def _before(extra: str = ""):
    flow = compile_flow(vote_flow("any", "role('u1')").replace("    actions:", f"{extra}    actions:"))
    d = Driver(flow)
    d.run(AddSigner(actor="u1", now=d.now, task=d.task("vote", "u1").id, users=("u2", "u3"), position="before"))
    assert d.open() == {"vote": [("held", "u1"), "u2", "u3"]}
    return d


def test_a_before_signer_who_rejects_sends_the_decision_back_to_the_adder():
    d = _before()
    d.reject("vote", "u2", comment="collateral unclear")
    assert d.state.running and d.open() == {"vote": ["u1"]}       # u3 let go, u1 decides now
    back = d.kinds("back_to_adder")
    assert back and back[0].data["to"] == "u1"
    assert [e for e in d.kinds("reject") if e.data["comment"] == "collateral unclear"]
    assert "returned to the adder" in [e.reason for e in d.effects if isinstance(e, CloseTask)]
    d.approve("vote", "u1")
    assert d.outcome == ("finished", "approved")


def test_a_before_signer_rejection_can_be_made_the_steps_verdict():
    d = _before("    added_signer_reject: reject_request\n")
    d.reject("vote", "u2")
    assert d.outcome == ("finished", "rejected")


def test_a_before_signer_rejecting_in_a_countersign_leaves_the_others_votes():
    flow = compile_flow(vote_flow("all", "[role('u1'), role('u4')]"))
    d = Driver(flow)
    d.approve("vote", "u4")
    d.run(AddSigner(actor="u1", now=d.now, task=d.task("vote", "u1").id, users=("u2",), position="before"))
    d.reject("vote", "u2")
    assert d.state.running and d.open() == {"vote": ["u1"]}
    d.approve("vote", "u1")
    assert d.outcome == ("finished", "approved")


# -- 4. four eyes, everywhere it is written ----------------------------------------------------


def _skip_alone(who: str = "role('ann')", directory=DIRECTORY):
    flow = compile_flow(vote_flow("all", who).replace("    actions:", "    if_initiator: skip\n    actions:"))
    return Driver(flow, initiator="ann", directory=directory)


def test_skip_with_the_initiator_alone_goes_to_their_supervisor_not_through():
    d = _skip_alone()
    assert d.state.running and d.open() == {"vote": ["bob"]} and not d.kinds("skipped")
    d.approve("vote", "bob")
    assert d.outcome == ("finished", "approved")


def test_skip_with_the_initiator_alone_and_no_supervisor_never_passes_unapproved():
    nobody = StaticDirectory(roles={**DIRECTORY.roles}, supervisors={})
    d = _skip_alone(directory=nobody)               # the flow's admin role is the fallback
    assert d.open() == {"vote": ["ada"]} and d.kinds("escalated")


def _review(if_initiator: str | None):
    line = f"    if_initiator: {if_initiator}\n" if if_initiator else ""
    return compile_flow(f"""
start: {{}}
nodes:
  - id: review
    type: task
    assignees: "role('credit_officer', subject.lead_branch)"
{line}  - {{id: done, type: end}}
""")


def test_a_task_honours_if_initiator_supervisor():
    d = Driver(_review("supervisor"), initiator="olga")           # olga is a credit officer; bob her supervisor
    assert d.open() == {"review": [("bob", "oscar")]}
    assert d.refused(Transfer(actor="oscar", now=d.now, task=d.task("review").id, to="olga")) == "four_eyes"
    d = Driver(_review(None), initiator="olga")                   # a task's default stays `allow`
    assert d.open() == {"review": [("olga", "oscar")]}
    d.claim("review", "olga")
    d.complete("review", "olga")
    assert d.outcome == ("finished", "done")


def test_a_task_with_if_initiator_refuses_the_initiator_completing_it():
    d = Driver(_review("skip"), initiator="olga")
    assert d.open() == {"review": ["oscar"]}
    task = d.task("review").id
    assert d.refused(Transfer(actor="oscar", now=d.now, task=task, to="olga")) == "four_eyes"
    assert d.refused(Complete(actor="olga", now=d.now, task=task)) == "four_eyes"     # says why, not just "not yours"


def test_a_task_escalation_does_not_hand_the_step_to_the_initiator():
    flow = compile_flow("""
start: {}
nodes:
  - id: review
    type: task
    assignees: "role('u1')"
    if_initiator: supervisor
    deadline: 4h
    on_timeout: escalate
    escalation: [{after: 1h, to: "[role('ann'), role('u2')]", action: reassign}]
  - {id: done, type: end}
""")
    d = Driver(flow, initiator="ann")
    (timer,) = [t for t in d.state.timers.values() if t.kind == "escalate"]
    d.run(TimerFired(actor="system", now=timer.at, timer=timer.id))
    assert d.open() == {"review": ["u2"]}


def test_shipped_document_review_keeps_an_initiator_who_is_a_credit_officer_off():
    bank = StaticDirectory(roles={**BANK.roles, "credit_officer": {"bj_branch": ["officer", "rm"]}},
                           supervisors=BANK.supervisors)
    d = Driver(flows()["group_credit_approval"], initiator="rm", directory=bank, subject=GROUP,
               form={"amount": 10**8, "credit_type": "new", "purpose": "working capital"})
    (task,) = [t for t in d.state.tasks.values() if t.node == "document_review"]
    people = {task.assignee} if task.assignee else set(task.candidates)
    assert "rm" not in people and people == {"officer", "head"}
    assert d.refused(Claim(actor="rm", now=d.now, task=task.id)) == "four_eyes"
