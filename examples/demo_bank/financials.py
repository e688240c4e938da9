"""Eight quarters of financial statements per company, with planted deterioration.

Healthy firms never trip the warning rules of domain/NOTES.md: operating cash flow is positive
every quarter, the debt ratio stays below 70%, interest cover stays above 1.2 and revenue does
not fall 20% year on year. Distressed firms (about 6%) trip exactly the rules of their kind,
recorded in `planted["distressed"]` (credit code -> kind):

- cash_flow       operating cash flow < 0 in the last 2, 3 or 4 quarters
- leverage        debt ratio rising in each of the last 4 quarters, from 67–69% into the 70s (above
                  70% in the last 3: a backtest of a 65% threshold sees it a quarter earlier)
- interest_cover  interest cover (EBIT / interest expense) < 1 in the last 2 quarters
- revenue_drop    revenue down more than 20% year on year in the last 2 quarters
- composite       all four (these firms also get overdue loans and bad external events)
"""
from __future__ import annotations

import random

from .values import lognormal, money, quarters
from .world import World

KINDS = ("cash_flow", "leverage", "interest_cover", "revenue_drop", "composite")
KIND_WEIGHTS = (25, 25, 15, 15, 20)
DISTRESSED_SHARE = 0.06
SEASON = (0.9, 1.0, 1.0, 1.1)   # Q1..Q4 revenue
QUARTERS = 8


def choose_distressed(world: World, must_include: list[str]) -> None:
    """Pick the distressed firms: some planted guarantee-circle firms (for contagion demos), then random members."""
    rng = world.rng("distress")
    count = round(len(world.company) * DISTRESSED_SHARE)
    chosen: dict[str, str] = {}
    for code in must_include:
        chosen[code] = "composite"
    roots = {g["parent_company"] for g in world.records["group"]}
    candidates = [c["credit_code"] for c in world.records["company"] if c["credit_code"] not in roots]
    for code in rng.sample(candidates, min(len(candidates), count)):
        if len(chosen) >= count:
            break
        chosen.setdefault(code, rng.choices(KINDS, KIND_WEIGHTS)[0])
    world.distress = chosen
    world.planted["distressed"] = dict(chosen)


def build_financials(world: World) -> None:
    rng = world.rng("financials")
    periods = quarters(QUARTERS)
    roots = {g["parent_company"]: len(world.members[g["code"]]) for g in world.records["group"]}
    statements: list[dict] = []
    for company in world.records["company"]:
        code = company["credit_code"]
        if code in roots:
            assets0 = lognormal(rng, 1.5e10 * (roots[code] / 60) ** 0.5, 0.4)
        else:
            assets0 = lognormal(rng, 4e8, 1.1)
        rows = _company_quarters(rng, assets0, world.distress.get(code))
        for (period, period_end), row in zip(periods, rows, strict=True):
            statements.append({
                "statement_no": f"{code}-{period}", "company": code, "period": period,
                "period_end": period_end, "audited": period.endswith("Q4"),
                **{k: money(v) for k, v in row.items()},
            })
        last = rows[-1]
        world.profile[code] = {"total_assets": last["total_assets"],
                               "net_assets": last["total_assets"] - last["total_liabilities"],
                               "debt_ratio": last["total_liabilities"] / last["total_assets"],
                               "revenue": last["revenue"], "cash": last["cash"]}
    world.records["financial_statement"] = statements


def _company_quarters(rng: random.Random, assets0: float, kind: str | None) -> list[dict]:
    debt_ratio0 = rng.uniform(0.35, 0.62)
    turnover = rng.uniform(0.08, 0.35)
    margin = rng.uniform(0.06, 0.18)
    current_share, cash_share = rng.uniform(0.4, 0.7), rng.uniform(0.1, 0.3)
    current_liab_share, debt_share = rng.uniform(0.5, 0.8), rng.uniform(0.4, 0.7)
    rate = rng.uniform(0.035, 0.06)
    leverage = kind in ("leverage", "composite")
    cover = kind in ("interest_cover", "composite")
    cash_flow_quarters = rng.choice((2, 3, 4)) if kind == "cash_flow" else 3 if kind == "composite" else 0
    revenue_drop = kind in ("revenue_drop", "composite")
    step = rng.uniform(0.03, 0.045)
    rows: list[dict] = []
    assets = assets0
    for t in range(QUARTERS):
        assets *= 1 + rng.gauss(0.012, 0.006)
        if leverage and t >= 4:
            ratio = 0.64 + (t - 3) * step
        else:
            ratio = min(0.66, max(0.2, debt_ratio0 + rng.gauss(0, 0.01)))
        liabilities = assets * ratio
        revenue = assets * turnover * SEASON[t % 4]
        if revenue_drop and t >= QUARTERS - 2:
            revenue = rows[t - 4]["revenue"] * rng.uniform(0.6, 0.78)
        debt = liabilities * debt_share
        interest = debt * rate / 4
        ebit = revenue * margin
        if cover and t >= QUARTERS - 2:
            ebit = interest * rng.uniform(0.2, 0.9)
        elif ebit < 1.5 * interest:
            ebit = interest * rng.uniform(1.5, 4.0)
        pre_tax = ebit - interest
        net_profit = pre_tax * 0.75 if pre_tax > 0 else pre_tax
        if t >= QUARTERS - cash_flow_quarters:
            ocf = -revenue * rng.uniform(0.02, 0.10)
        else:
            ocf = max(net_profit, 0.0) * rng.uniform(0.7, 1.5) + revenue * rng.uniform(0.005, 0.03)
        current_assets = assets * current_share
        rows.append({
            "total_assets": assets, "current_assets": current_assets,
            "cash": current_assets * cash_share, "total_liabilities": liabilities,
            "current_liabilities": liabilities * current_liab_share, "interest_bearing_debt": debt,
            "revenue": revenue, "net_profit": net_profit, "operating_cash_flow": ocf,
            "interest_expense": interest, "ebit": ebit,
        })
    return rows
