"""The regulation in the route, through FlowService.preview on a small bank: the shipped group
credit approval (its route checks the concentration limits before the amount), loans on
the books and the bank's capital as `bank_capital` records. At a limit the application goes the
usual way; a cent over, to the board risk committee; no capital on record stops the preview with
words saying so."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from dsl.compiler import compile_path
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.releases import release_of
from runtime.flows.directory import put_people
from runtime.flows.service import FlowService
from runtime.records.service import Records
from runtime.storage.db import writing
from tests.runtime.flow_bank import ROLES, Clock, company, company_key

YI = Decimal(100_000_000)
T0 = datetime(2026, 7, 6, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def shipped_bundle(tmp: Path):
    """configs/ as shipped: its credit route checks the concentration limits first."""
    result = compile_path("configs")
    assert result.ok, [d.message for d in result.diagnostics]
    text = Path("configs/flows/group_credit_approval.yaml").read_text(encoding="utf-8")
    assert "goto: board_risk_committee" in text and "id: board_risk_committee" in text
    return result.bundle


def make(engine, tmp: Path, capital: bool = True) -> FlowService:
    DeploymentRegistry(engine).deploy(release_of(shipped_bundle(tmp)), author="test", message="route")
    records = Records(engine)
    records.create("group", {"code": "G0001", "name": "Acme Group", "industry": "manufacturing",
                             "lead_branch": "bj_branch", "recognized_on": "2020-01-01",
                             "tier": "stable_cooperation"}, actor="test")
    for code, branch in (("C1", "sh_branch"), ("C2", "bj_branch")):
        records.create("company", company(code, branch), actor="test")
    records.create("facility", {"facility_no": "F000001", "level": "group_unified", "group": "G0001", "product": "working_capital",
                                "amount": 100 * YI, "used": 0, "currency": "CNY", "start_date": "2026-01-01",
                                "expiry_date": "2028-01-01", "approving_branch": "bj_branch", "status": "active"},
                   actor="test")
    for i, (code, balance) in enumerate((("C1", 30 * YI), ("C2", 10 * YI))):
        records.create("loan", {"loan_no": f"L000000{i + 1}", "facility": "F000001", "borrower": company_key(code),
                                "product": "working_capital", "currency": "CNY", "principal": balance,
                                "balance": balance, "rate": Decimal("0.04"), "disbursed_on": "2026-01-10",
                                "maturity_date": "2027-01-10", "overdue_days": 0, "classification": "normal",
                                "branch": "bj_branch"}, actor="test")
    if capital:
        for period, on, net, tier1 in (("2026Q1", "2026-03-31", 280 * YI, 220 * YI),
                                       ("2026Q2", "2026-06-30", 300 * YI, 240 * YI)):
            records.create("bank_capital", {"period": period, "effective_on": on, "net_capital": net,
                                            "tier1_capital": tier1}, actor="test")
    roles = {**ROLES, "board_risk_committee": {None: ["board1", "board2"]}}
    users = sorted({u for units in roles.values() for us in units.values() for u in us})
    with writing(engine) as conn:
        put_people(conn, [{"name": u, "email": f"{u}@bank.test"} for u in users],
                   [{"user": u, "role": r, "org_unit": unit} for r, units in roles.items()
                    for unit, us in units.items() for u in us])
    return FlowService(engine, clock=Clock(T0))


def form(amount: Decimal, sub: Decimal | None = None) -> dict:
    return {"credit_type": "new", "amount": str(amount), "term_months": 12, "products": ["working_capital"],
            "purpose": "扩大生产", "guarantee_mode": "credit",
            "sub_limits": [{"borrower": company_key("C2"), "amount": str(sub if sub is not None else amount)}]}


def route(found: dict) -> list[str]:
    assert found["stopped"] is None, found["stopped"]
    return [s["node"] for s in found["steps"]]


def test_each_limit_at_it_and_a_cent_over(engine, tmp_path):
    flows = make(engine, tmp_path)
    preview = lambda f: route(flows.preview("group_credit_approval", actor="rm", subject="G0001", form=f))  # noqa: E731
    # balances 40亿; net capital 300亿 (2026Q2, the figure on 2026-07-06): 5亿 more is 15% exactly
    at = preview(form(5 * YI, YI))
    assert "board_risk_committee" not in at and "head_office_review" in at
    over = preview(form(5 * YI + Decimal("0.01"), YI))
    assert "board_risk_committee" in over and "head_office_review" not in over
    # single borrower C2: 10亿 + 20亿 = 30亿 = 10% of net capital (group 40 + 2 = 14%)
    assert "board_risk_committee" not in preview(form(2 * YI, 20 * YI))
    assert "board_risk_committee" in preview(form(2 * YI, 20 * YI + Decimal("0.01")))


def test_connected_clients_against_tier1(engine, tmp_path):
    flows = make(engine, tmp_path)
    records = Records(engine)
    q2 = records.find("bank_capital", "2026Q2")["id"]
    records.update("bank_capital", q2, {"tier1_capital": 225 * YI}, actor="test")
    preview = lambda f: route(flows.preview("group_credit_approval", actor="rm", subject="G0001", form=f))  # noqa: E731
    # 40亿 + 5亿 = 45亿 = 20% of 225亿 (and 15% of 300亿): at both limits, over neither
    assert "board_risk_committee" not in preview(form(5 * YI, YI))
    records.update("bank_capital", q2, {"tier1_capital": Decimal("22499999999")}, actor="test")
    assert "board_risk_committee" in preview(form(5 * YI, YI))


def test_no_capital_on_record_stops_the_route_with_words(engine, tmp_path):
    flows = make(engine, tmp_path, capital=False)
    found = flows.preview("group_credit_approval", actor="rm", subject="G0001", form=form(YI))
    assert found["stopped"] is not None and found["stopped"]["code"] == "evaluation_failed"
    assert "Bank capital" in found["stopped"]["message"]
    assert "board_risk_committee" not in [s["node"] for s in found["steps"]]


def test_no_capital_refuses_the_start_in_the_functions_own_words_in_each_language(engine, tmp_path):
    """The refusal keeps the function's own words (which figure, which date, what to do), not
    the generic 'could not be evaluated', in Chinese as in English."""
    import pytest

    from runtime.flows.store import FlowError
    flows = make(engine, tmp_path, capital=False)
    view = flows.start("group_credit_approval", actor="rm", subject="G0001", form=form(YI))

    def act(view, node, action, **params):
        t = next(t for t in view["tasks"] if t["node"] == node)
        who = t["assignee"] or t["candidates"][0]
        return flows.act(view["id"], action, actor=who, task=t["id"], **params)
    view = act(view, "document_review", "complete", fields={"review_opinion": "资料齐全"})
    view = act(view, "risk_assessment", "complete", fields={"risk_rating": "medium", "risk_opinion": "可控"})
    with pytest.raises(FlowError) as caught:           # the branch's approval leads to the limits' check
        act(view, "branch_approval", "approve", comment="同意")
    err = caught.value
    assert err.code == "evaluation_failed" and err.key == "graph.no_capital"
    assert "本行资本" in err.render("zh") and "录入" in err.render("zh")
    assert "Bank capital" in err.render("en")
