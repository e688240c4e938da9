"""FlowService.inbox_page on SQLite and PostgreSQL: the form's amount read from the stored state
(JSON on both), sorted by it, and a search narrowed to the sets the page resolves."""
from __future__ import annotations

from decimal import Decimal

from tests.runtime.test_concentration_route import YI, form, make


def test_amount_sort_and_match(engine, tmp_path):
    svc = make(engine, tmp_path)
    small = svc.start("group_credit_approval", actor="rm", subject="G0001", form=form(Decimal(2) * YI))
    big = svc.start("group_credit_approval", actor="rm", subject="G0001", form=form(Decimal(3) * YI))
    who = small["tasks"][0]["assignee"] or small["tasks"][0]["candidates"][0]
    box = "mine" if small["tasks"][0]["assignee"] else "pool"
    fields = {"group_credit_approval": "amount"}
    found = svc.inbox_page(who, box, sort="amount", amount_fields=fields)
    assert [i["instance"] for i in found["items"]] == [big["id"], small["id"]]
    assert Decimal(found["items"][0]["amount"]) == 3 * YI and found["total"] == 2
    started = svc.inbox_page("rm", "started", sort="amount", amount_fields=fields)
    assert [i["instance"] for i in started["items"]] == [big["id"], small["id"]]
    none = svc.inbox_page(who, box, match={"initiators": ["nobody"]}, amount_fields=fields)
    assert none["items"] == [] and none["total"] == 0
    by_step = svc.inbox_page(who, box, match={"steps": [("group_credit_approval", "document_review")]})
    assert by_step["total"] == 2 and by_step["items"][0]["amount"] is None
    assert svc.urgeable("rm", [small["id"]]) == set()      # document review offers no urge


def test_the_preview_gives_the_ratios_against_the_yaml_limits(engine, tmp_path):
    svc = make(engine, tmp_path)
    # balances 40亿, net capital 300亿 (2026Q2): 6亿 more is 46/300 = 15.33% > 15%
    found = svc.preview("group_credit_approval", actor="rm", subject="G0001", form=form(6 * YI, YI))["concentration"]
    ratios = {r["kind"]: r for r in found["ratios"]}
    assert set(ratios) == {"group", "single", "connected"}
    assert ratios["group"]["limit"] == "0.15" and ratios["group"]["over"] is True
    assert Decimal(ratios["group"]["ratio"]) > Decimal("0.15") and ratios["single"]["over"] is False
    assert found["capital"]["key"] == "2026Q2" and Decimal(found["capital"]["net_capital"]) == 300 * YI
    half = svc.preview("group_credit_approval", actor="rm", subject="G0001", form={"credit_type": "new"})
    assert all(r["ratio"] is None and not r["over"] for r in half["concentration"]["ratios"])
