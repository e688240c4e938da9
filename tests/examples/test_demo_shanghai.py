"""The Shanghai team's own groups, and the credit figures adding up, at every scale.

The demo's Shanghai relationship manager (`rm_sh_01`, examples/demo_bank/users.py) leads G0002 (large:
a credit application above 5亿 goes to the credit committee) and G0006 (smaller: one below it
goes the branch's way) at every scale and seed; most of their members bank in Shanghai, a few
elsewhere, and Shanghai firms also belong to groups that other branches lead (协办行). A loan's
balance stays within its principal and its sub-limit, the sub-limits within their unified
limit — except in the group planted over its limit (`planted["limit_usage"]` above 100%).
"""
from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal

import pytest
import yaml

from examples.demo_bank import generate
from examples.demo_bank.fx import rates_as_of, to_yuan
from examples.demo_bank.parties import SHANGHAI_GROUPS, SHANGHAI_RM
from examples.demo_bank.values import NET_CAPITAL

from .conftest import ROOT

YI = Decimal(10**8)                     # 亿
LARGE_APPLICATION = 8 * YI              # the README's journey
SMALL_APPLICATION = 3 * YI
OTHER_GROUP_CAP = Decimal("0.11")       # every unplanted group's credit balance / net capital stays below it
USAGE_YELLOW = Decimal("0.85")          # configs/alerts/group_limit_usage.yaml


def _units_under(top: str) -> set[str]:
    parent = {}
    for path in (ROOT / "configs" / "org").glob("*.yaml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        parent[doc["metadata"]["name"]] = doc["spec"].get("parent")
    out = {top}
    while True:
        more = {u for u, p in parent.items() if p in out} - out
        if not more:
            return out
        out |= more


SHANGHAI = _units_under("sh_branch")


def committee_threshold() -> Decimal:
    """The amount above which group_credit_approval routes to the committee (`form.amount > 5亿`)."""
    flow = yaml.safe_load((ROOT / "configs" / "flows" / "group_credit_approval.yaml").read_text(encoding="utf-8"))
    route = next(n for n in flow["spec"]["nodes"] if n["id"] == "route")
    case = next(c for c in route["cases"] if c["goto"] == "committee")
    return Decimal(re.search(r"form\.amount > (\d+)亿", case["when"]).group(1)) * YI


@pytest.fixture(params=["tiny", "demo", "small", "full"])
def bank(request):
    """Scale 0.01 and 0.1 (seed 42: the flow tests' and `make demo`'s), 0.2 (seed 7) and 1.0."""
    return request.getfixturevalue(f"{request.param}_bank")


def figures(bank) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """Per group: its unified limit, and its members' credit balance."""
    unified = {f["group"]: f["amount"] for f in bank.records["facility"] if f["level"] == "group_unified"}
    group_of = {c["credit_code"]: c["group"] for c in bank.records["company"]}
    balance: dict[str, Decimal] = defaultdict(Decimal)
    rates = rates_as_of(bank.records)          # loans in USD/EUR/HKD count in yuan
    for loan in bank.records["loan"]:
        balance[group_of[loan["borrower"]]] += to_yuan(rates, loan["balance"], loan["currency"])
    return unified, balance


def test_the_threshold_is_the_flows():
    assert committee_threshold() == 5 * YI < LARGE_APPLICATION and SMALL_APPLICATION < 5 * YI


def test_the_shanghai_team_leads_a_large_and_a_small_group(bank):
    led = {g["code"]: g for g in bank.records["group"]
           if g["lead_branch"] in SHANGHAI and g["relationship_manager"] == SHANGHAI_RM}
    assert len(led) >= 2 and set(SHANGHAI_GROUPS) <= set(led)
    assert SHANGHAI_GROUPS == {"G0002": "large", "G0006": "small"}        # the README names them
    unified, balance = figures(bank)
    threshold = committee_threshold()
    for code, application in (("G0002", LARGE_APPLICATION), ("G0006", SMALL_APPLICATION)):
        # the application fits the group: no bigger than its limit today, used well below the
        # yellow usage warning, and even drawn in full it keeps the group under 11% of net capital
        assert application <= unified[code], code
        assert Decimal("0.5") <= balance[code] / unified[code] < USAGE_YELLOW, code
        assert (balance[code] + application) / NET_CAPITAL < OTHER_GROUP_CAP, code
        assert code not in bank.planted["concentration"] and code not in bank.planted["limit_usage"]
        assert code not in bank.planted["big_circle_groups"]
    assert unified["G0002"] == 25 * YI and unified["G0006"] == 6 * YI
    assert LARGE_APPLICATION > threshold >= SMALL_APPLICATION              # committee route, branch route


def test_most_members_bank_in_shanghai_and_a_few_elsewhere(bank):
    for code in SHANGHAI_GROUPS:
        branches = [c["branch"] for c in bank.records["company"] if c["group"] == code]
        home = sum(b in SHANGHAI for b in branches)
        assert home / len(branches) >= 0.6 and home < len(branches), (code, home, len(branches))
        parent = next(g["parent_company"] for g in bank.records["group"] if g["code"] == code)
        root = next(c for c in bank.records["company"] if c["credit_code"] == parent)
        assert root["branch"] in SHANGHAI and root["relationship_manager"] == SHANGHAI_RM


def test_shanghai_co_serves_groups_other_branches_lead(bank):
    lead = {g["code"]: g["lead_branch"] for g in bank.records["group"]}
    co_served = [c for c in bank.records["company"] if c["branch"] in SHANGHAI
                 and lead[c["group"]] not in SHANGHAI and lead[c["group"]] != "head_office"]
    assert len(co_served) >= 2


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_shanghai_codes_do_not_depend_on_the_seed(seed):
    bank = generate(scale=0.1, seed=seed, transactions=0)
    groups = {g["code"]: g for g in bank.records["group"]}
    assert all(groups[code]["lead_branch"] == "sh_branch" and groups[code]["relationship_manager"] == SHANGHAI_RM
               for code in SHANGHAI_GROUPS)


def test_loans_stay_within_their_principal(bank):
    assert all(loan["balance"] <= loan["principal"] for loan in bank.records["loan"])


def test_facilities_stay_within_their_amounts_except_the_planted_overrun(bank):
    facilities = bank.records["facility"]
    over = {g for g, usage in bank.planted["limit_usage"].items() if usage > 1}
    assert len(over) == 1
    drawn: dict[str, Decimal] = defaultdict(Decimal)
    for loan in bank.records["loan"]:
        drawn[loan["facility"]] += loan["balance"]
    shared: dict[str, Decimal] = defaultdict(Decimal)
    for f in facilities:
        if f["level"] == "member_sub":
            assert f["used"] == drawn[f["facility_no"]]
            shared[f["parent_facility"]] += to_yuan(rates_as_of(bank.records), f["amount"], f["currency"])
            assert f["group"] in over or f["used"] <= f["amount"], f
    for top in (f for f in facilities if f["level"] == "group_unified"):
        assert drawn[top["facility_no"]] == 0                       # loans draw on the sub-limits
        assert shared[top["facility_no"]] <= top["amount"], top      # the sub-limits share out the limit
        assert (top["used"] > top["amount"]) == (top["group"] in over), top
    assert any(f["used"] > f["amount"] for f in facilities if f["level"] == "member_sub")   # the plant's


def test_same_seed_same_bank(tiny_bank):
    assert generate(scale=0.01, seed=42, transactions=0).records == tiny_bank.records
