"""Issue 12's approval semantics through the durable flow service (and the deploy and validate
doors where they show): ratios that say what they mean, a veto that holds, a signer added before
the approver who rejects sends it back, and four eyes on the shipped document review."""
from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from runtime.auth.tables import role_holders
from runtime.cli.main import main
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.releases import release_of
from runtime.flows.directory import put_people
from runtime.flows.store import FlowError
from runtime.storage.db import writing

from .flow_bank import bundle, make_bank
from .test_flow_service import CREDIT, act, reviews, task_of

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _people(engine, drop: tuple[str, str] | None = None, add: tuple[tuple[str, str, str | None], ...] = ()):
    """Change who holds what: drop (user, role) everywhere; add (user, role, org unit)."""
    with writing(engine) as conn:
        if drop:
            conn.execute(role_holders.delete().where(role_holders.c.user_name == drop[0],
                                                     role_holders.c.role == drop[1]))
        put_people(conn, [{"name": u} for u, _, _ in add if u == "cro"],
                   [{"user": u, "role": r, "org_unit": unit} for u, r, unit in add])


# -- 1. ratios say what they mean: the validate door warns -------------------------------------


def test_validate_warns_that_67_percent_is_not_two_thirds(tmp_path):
    src = tmp_path / "configs"
    shutil.copytree(CONFIGS, src)
    flow = src / "flows" / "group_credit_approval.yaml"
    flow.write_text(flow.read_text(encoding="utf-8").replace("pass: 2/3", "pass: 67%"), encoding="utf-8")
    out = CliRunner().invoke(main, ["validate", str(src)])
    assert out.exit_code == 0, out.output
    assert "BNY509" in out.output and "is not 2/3" in out.output and "1 warning" in out.output


# -- 2. a veto holds ---------------------------------------------------------------------------


def test_the_cro_outside_the_committee_gets_a_task_and_the_committee_waits_for_the_veto(engine):
    flows = make_bank(engine)
    _people(engine, drop=("m3", "chief_risk_officer"), add=(("cro", "chief_risk_officer", None),))
    v = flows.start("group_credit_approval", actor="rm", subject="G0001", form={"amount": 8 * 10**8, **CREDIT})
    v = reviews(flows, v)
    assert sorted(t["assignee"] for t in v["tasks"]) == ["cro", "m1", "m2", "m3"]
    assert [i["node"] for i in flows.inbox("cro")["items"]] == ["committee"]
    v = act(flows, v, "approve", "committee", "m1", fields={"approved_amount": 6 * 10**8})
    v = act(flows, v, "approve", "committee", "m2")
    v = act(flows, v, "approve", "committee", "m3")       # 3 of 4 ≥ 2/3, but the CRO has not voted
    assert v["status"] == "running" and [t["assignee"] for t in v["tasks"]] == ["cro"]
    v = act(flows, v, "reject", "committee", "cro", comment="concentration too high")
    assert (v["status"], v["outcome"]) == ("finished", "rejected")
    assert "veto" in [e["kind"] for e in flows.timeline(v["id"])]


def test_a_deploy_warns_when_a_veto_role_has_no_holder(engine):
    reg = DeploymentRegistry(engine)
    out = reg.deploy(release_of(bundle()), author="test", message="no people yet")
    assert [w for w in out.plan.warnings if "`chief_risk_officer`" in w and "`committee`" in w]
    assert out.plan.to_dict()["warnings"] == out.plan.warnings
    _people(engine, add=(("cro", "chief_risk_officer", None),))
    assert reg.plan(release_of(bundle())).warnings == []


# -- 3. a signer added before the approver (前加签) ----------------------------------------------


def test_a_signer_added_before_the_branch_head_who_rejects_gives_it_back_to_the_head(engine):
    flows = make_bank(engine)
    v = flows.start("group_credit_approval", actor="rm", subject="G0001", form={"amount": 2 * 10**8, **CREDIT})
    v = act(flows, v, "complete", "document_review", "officer", fields={"review_opinion": "complete"})
    v = act(flows, v, "complete", "risk_assessment", "risk", fields={"risk_rating": "medium", "risk_opinion": "ok"})
    v = act(flows, v, "add_signer", "branch_approval", "head", users=["risk_ho"], position="before")
    assert flows.inbox("head")["counts"]["mine"] == 0           # held until risk_ho has signed
    v = act(flows, v, "reject", "branch_approval", "risk_ho", comment="ask for the 2025 accounts")
    assert v["status"] == "running" and [t["assignee"] for t in v["tasks"]] == ["head"]
    assert flows.inbox("head")["counts"]["mine"] == 1
    kinds = [e["kind"] for e in flows.timeline(v["id"])]
    assert "back_to_adder" in kinds and "step_rejected" not in kinds
    v = act(flows, v, "approve", "branch_approval", "head")
    assert v["current_nodes"] == ["head_office_review"]


# -- 4. four eyes on the shipped document review -----------------------------------------------


def test_an_initiator_who_is_a_credit_officer_does_not_review_their_own_application(engine):
    flows = make_bank(engine)
    _people(engine, add=(("rm", "credit_officer", "bj_branch"),))
    v = flows.start("group_credit_approval", actor="rm", subject="G0001", form={"amount": 2 * 10**8, **CREDIT})
    (task,) = [t for t in v["tasks"] if t["node"] == "document_review"]
    assert "rm" not in task["candidates"] and task["assignee"] != "rm"
    assert set(task["candidates"]) == {"officer", "head"}          # rm's supervisor stands in for them
    assert flows.inbox("rm", "pool")["counts"]["pool"] == 0
    try:
        flows.act(v["id"], "claim", actor="rm", task=task_of(v, "document_review", "officer"))
    except FlowError as exc:
        assert exc.code == "four_eyes"             # says why
    else:
        raise AssertionError("the initiator claimed the review of their own application")
    v = act(flows, v, "claim", "document_review", "head")
    v = act(flows, v, "complete", "document_review", "head", fields={"review_opinion": "complete"})
    assert v["current_nodes"] == ["risk_assessment"]
