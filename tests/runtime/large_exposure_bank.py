"""A small bank for the large-exposure report: tier-1 capital 100亿 (net capital 120亿), three
groups and six clients whose loans put them just at, just under and over the lines.

    client  branch     group  loans                        of tier-1
    A       bj_branch  G1     12亿                          12%     (listed; sub-limit 3亿, 1亿 used)
    B       sh_branch  G1     5亿                           5%
    C       sh_branch  G2     16亿                          16%     (listed, over 15%)
    D       sh_branch  G2     9.99亿                        9.99%   (just under: not listed)
    E       gz_branch  G3     1亿 USD at 7.1 + 2.9亿 CNY    10%     (listed: exactly at the line)
    F       gz_branch  —      —
    G0001 (lead bj_branch) 17亿 17%; G0002 (lead sh_branch) 25.99亿, over 20%; G0003 (lead gz_branch) 10亿.
"""
from __future__ import annotations

import functools
from decimal import Decimal

from dsl.compiler import compile_path
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.releases import release_of
from runtime.records.service import Records

YI = Decimal(100_000_000)
TIER1 = 100 * YI
GROUPS = (("G0001", "甲集团", "bj_branch"), ("G0002", "乙集团", "sh_branch"), ("G0003", "丙集团", "gz_branch"))
CLIENTS = (("A", "bj_branch", "G0001"), ("B", "sh_branch", "G0001"), ("C", "sh_branch", "G0002"), ("D", "sh_branch", "G0002"),
           ("E", "gz_branch", "G0003"), ("F", "gz_branch", None))
LOANS = (("A", 12 * YI, "CNY"), ("B", 5 * YI, "CNY"), ("C", 16 * YI, "CNY"), ("D", Decimal("999000000"), "CNY"),
         ("E", YI, "USD"), ("E", Decimal("290000000"), "CNY"))


@functools.lru_cache(maxsize=None)
def _bundle():
    result = compile_path("configs")
    assert result.ok
    return result.bundle


@functools.lru_cache(maxsize=None)
def _companies() -> tuple:
    from examples.demo_bank import generate
    return tuple(generate(scale=0.01, seed=7, transactions=0).records["company"][:len(CLIENTS)])


def key(client: str) -> str:
    """Test client A…F's credit code (its key)."""
    return _companies()[ord(client) - ord("A")]["credit_code"]


def name(client: str) -> str:
    return f"客户{client}" if client != "F" else "=HYPERLINK(\"http://x\")"     # a name a spreadsheet would run


def make(engine, *, capital: bool = True) -> Records:
    DeploymentRegistry(engine).deploy(release_of(_bundle()), author="test", message="large exposures")
    records = Records(engine)
    for code, label, branch in GROUPS:
        records.create("group", {"code": code, "name": label, "industry": "manufacturing", "lead_branch": branch,
                                 "recognized_on": "2020-01-01"}, actor="test")
    for (client, branch, group), base in zip(CLIENTS, _companies()):
        records.create("company", {**base, "name": name(client), "group": group, "branch": branch,
                                   "legal_representative": None, "relationship_manager": None}, actor="test")
    records.create("fx_rate", {"code": "USD-20260101", "currency": "USD", "rate": Decimal("7.1"), "rate_date": "2026-01-01"}, actor="test")
    n = 0
    for group, _, branch in GROUPS:
        n += 1
        records.create("facility", {"facility_no": f"F{n:06d}", "level": "group_unified", "group": group,
                                    "product": "comprehensive", "amount": 100 * YI, "used": 0, "currency": "CNY",
                                    "start_date": "2026-01-01", "expiry_date": "2028-01-01",
                                    "approving_branch": branch, "status": "active"}, actor="test")
    records.create("facility", {"facility_no": "F000100", "level": "member_sub", "group": "G0001", "borrower": key("A"),
                                "parent_facility": "F000001", "product": "working_capital", "amount": 3 * YI,
                                "used": YI, "currency": "CNY", "start_date": "2026-01-01", "expiry_date": "2028-01-01",
                                "approving_branch": "bj_branch", "status": "active"}, actor="test")
    records.create("facility", {"facility_no": "F000004", "level": "group_unified", "group": "G0003",
                                "product": "comprehensive", "amount": 2 * YI, "used": 0, "currency": "USD",
                                "start_date": "2026-01-01", "expiry_date": "2028-01-01",
                                "approving_branch": "gz_branch", "status": "active"}, actor="test")
    facility = {c: f"F{i:06d}" for i, (c, _, _) in enumerate(GROUPS, 1)}
    branch_of = {c: b for c, b, _ in CLIENTS}
    group_of = {c: g for c, _, g in CLIENTS}
    for i, (client, amount, currency) in enumerate(LOANS, 1):
        records.create("loan", {"loan_no": f"L{i:07d}", "facility": "F000004" if currency == "USD" else facility[group_of[client]], "borrower": key(client),
                                "product": "working_capital", "currency": currency, "principal": amount,
                                "balance": amount, "rate": Decimal("0.04"), "disbursed_on": "2026-01-10",
                                "maturity_date": "2027-01-10", "overdue_days": 0, "classification": "normal",
                                "branch": branch_of[client]}, actor="test")
    if capital:
        for period, on, tier1 in (("2026Q1", "2026-03-31", 90 * YI), ("2026Q2", "2026-06-30", TIER1)):
            records.create("bank_capital", {"period": period, "effective_on": on, "net_capital": 120 * YI,
                                            "tier1_capital": tier1}, actor="test")
    return records
