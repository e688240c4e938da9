"""The four shipped flows of configs/flows, end to end in memory."""
from __future__ import annotations

import functools

from dsl.compiler import compile_path
from engine.flow import EventOccurred, Return, StaticDirectory, SubflowEnded, TimerFired
from engine.flow.effects import Notify, StartSubflow

from .flow_helpers import Driver

DIRECTORY = StaticDirectory(
    roles={"relationship_manager": {"bj_branch": ["rm"], "sh_branch": ["rm_sh"]},
           "credit_officer": {"bj_branch": ["officer"]}, "risk_manager": {"bj_branch": ["risk"], None: ["risk_ho"]},
           "branch_head": {"bj_branch": ["head"], "sh_branch": ["head_sh"]},
           "head_office_credit": {None: ["ho_credit"]}, "credit_committee": {None: ["m1", "m2", "m3"]},
           "chief_risk_officer": {None: ["m3"]}, "group_client_manager": {"bj_branch": ["gcm"]},
           "product_manager": {None: ["pm1", "pm2"]}, "legal_compliance": {None: ["legal_ho"]}},
    supervisors={"rm": "head"})
GROUP = {"code": "G1", "name": "Acme Group", "lead_branch": {"name": "bj_branch"}, "tier": "stable_cooperation"}
COMPANY = {"code": "C1", "name": "Acme Shanghai", "branch": {"name": "sh_branch"}, "group": GROUP}


@functools.lru_cache(maxsize=None)
def flows():
    result = compile_path("configs")
    assert result.ok
    return {name: f for (kind, name), f in result.bundle.documents.items() if kind == "Flow"}


def driver(name, subject, initiator, form):
    return Driver(flows()[name], initiator=initiator, form=form, directory=DIRECTORY, subject=subject)


def credit(amount, tier="stable_cooperation"):
    return driver("group_credit_approval", {**GROUP, "tier": tier}, "rm",
                  {"amount": amount, "credit_type": "new", "purpose": "working capital", "term_months": 12})


def _reviews(d):
    d.complete("document_review", "officer", fields={"review_opinion": "complete"})
    d.complete("risk_assessment", "risk", fields={"risk_rating": "medium", "risk_opinion": "ok"})
    d.approve("branch_approval", "head")


def test_group_credit_within_branch_authority_goes_to_head_office():
    d = credit(2 * 10**8)
    _reviews(d)
    d.approve("head_office_review", "ho_credit", fields={"approved_amount": 1.5 * 10**8})
    assert d.path == ["document_review", "risk_assessment", "branch_approval", "head_office_review"]
    assert d.outcome == ("finished", "approved") and d.state.form["approved_amount"] == 1.5 * 10**8
    assert any(isinstance(e, Notify) and e.template == "flow_finished" for e in d.effects)


def test_group_credit_over_5yi_goes_to_the_committee_and_the_cro_vetoes():
    d = credit(8 * 10**8)
    _reviews(d)
    assert d.open() == {"committee": ["m1", "m2", "m3"]}
    d.approve("committee", "m1", fields={"approved_amount": 6 * 10**8})
    d.reject("committee", "m3")                     # the chief risk officer vetoes
    assert d.outcome == ("finished", "rejected")


def test_group_credit_committee_passes_on_two_thirds_and_can_return():
    d = credit(8 * 10**8, tier="strategic_core")
    _reviews(d)
    d.run(Return(comment="请补充材料", actor="m2", now=d.now, task=d.task("committee", "m2").id, to="risk_assessment"))
    assert list(d.open()) == ["risk_assessment"]
    d.complete("risk_assessment", "risk", fields={"risk_rating": "medium", "risk_opinion": "revised"})
    d.approve("branch_approval", "head")
    d.approve("committee", "m1", fields={"approved_amount": 7 * 10**8})
    d.approve("committee", "m2")
    assert d.state.running and d.open() == {"committee": ["m3"]}   # 2/3 reached; the CRO's veto still to come
    d.approve("committee", "m3")
    assert d.outcome == ("finished", "approved")


def test_group_credit_deadline_escalates():
    d = credit(10**8)
    timers = sorted(d.state.timers.values(), key=lambda t: t.at)
    assert [t.kind for t in timers] == ["remind", "deadline", "escalate"]
    assert timers[1].at.weekday() == 2              # Monday + 2 business days
    escalate = timers[2]
    d.run(TimerFired(actor="system", now=escalate.at, timer=escalate.id))
    assert any(isinstance(e, Notify) and e.template == "escalation" and e.users == ("head",) for e in d.effects)


def test_cross_branch_service_inclusive_and_return_into_a_branch():
    d = driver("cross_branch_service", COMPANY, "rm_sh", {"description": "FX hedging", "needs_product_support": True})
    d.complete("coordinate", "gcm", fields={"coordination_note": "go", "needs_product_support": True})
    assert sorted(d.open()) == ["local_service", "product_support"]
    d.complete("local_service", "rm_sh", fields={"service_result": "done"})
    d.complete("product_support", "pm1")
    d.run(Return(comment="请补充材料", actor="rm_sh", now=d.now, task=d.task("confirm", "rm_sh").id, to="local_service"))
    assert list(d.open()) == ["local_service"]      # only that branch is redone; the join waits for it alone
    d.complete("local_service", "rm_sh", fields={"service_result": "redone"})
    d.complete("confirm", "rm_sh")
    assert d.outcome == ("finished", "served") and d.created_minus_closed() == set()


def test_major_risk_disposal_parallel_escalation_and_wait():
    d = driver("major_risk_disposal", {**COMPANY, "branch": {"name": "bj_branch"}}, "risk",
               {"grade": "orange", "situation": "cash flow negative"})
    assert any(isinstance(e, Notify) and e.template == "cc" and e.users == ("rm",) for e in d.effects)
    d.complete("assess", "risk", fields={"situation": "confirmed"})
    assert d.open() == {"risk_measures": ["risk"], "client_contact": ["rm"], "legal_review": ["legal_ho"]}
    d.complete("risk_measures", "risk")
    d.complete("client_contact", "rm", fields={"client_contact_note": "met CFO"})
    d.complete("legal_review", "legal_ho")
    d.approve("close_review", "head")
    assert list(d.state.tokens.values())[0].node == "monitor"
    d.run(EventOccurred(actor="system", now=d.now, event="financials.updated", record={}))
    assert d.outcome == ("finished", "resolved")


def test_major_risk_red_goes_to_the_board_and_a_rejection_loops_back():
    d = driver("major_risk_disposal", {**COMPANY, "branch": {"name": "bj_branch"}}, "risk_ho",
               {"grade": "red", "situation": "default"})
    for _ in range(2):
        d.complete("assess", "risk", fields={"situation": "confirmed", "grade": "red"})
        for node, user in (("risk_measures", "risk"), ("legal_review", "legal_ho")):
            d.complete(node, user)
        d.complete("client_contact", "rm", fields={"client_contact_note": "called"})
        if d.path.count("board_report") == 1:
            d.reject("board_report", "m3")         # on_reject: assess (back across the whole split)
    d.approve("board_report", "m3", fields={"board_report": "reported"})
    monitor = [t for t in d.state.timers.values() if t.kind == "deadline"][0]
    d.run(TimerFired(actor="system", now=monitor.at, timer=monitor.id))
    assert d.outcome == ("finished", "resolved") and d.path.count("assess") == 2


def test_joint_marketing_with_a_credit_subflow_and_sequential_split():
    d = driver("joint_marketing", GROUP, "gcm", {"project_name": "Acme 2026", "needs_credit": True,
                                                  "credit_amount": 10**8})
    d.approve("initiation", "head")
    d.complete("design", "pm2", fields={"solution": "cash pooling"})
    d.approve("resources", "pm1")
    d.approve("resources", "pm2")
    (call,) = [e for e in d.effects if isinstance(e, StartSubflow)]
    assert call.flow == "group_credit_approval" and call.input["amount"] == 10**8
    d.run(SubflowEnded(actor="system", now=d.now, call=call.call, outcome="approved"))
    assert d.state.form["credit_outcome"] == "approved"
    d.complete("tracking", "gcm", fields={"actual_revenue": 3 * 10**6})
    d.approve("credit_split", "head")
    assert d.outcome == ("finished", "completed")
