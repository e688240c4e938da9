"""Credit facilities (group unified limits and member sub-limits) and the loans drawn under them.

Planted for the concentration and usage rules of domain/NOTES.md:
- `planted["concentration"]`: group -> credit balance / net capital, for the three groups above
  12% (yellow), 13.5% (orange) and 15% (red); every other group stays below 11%.
- `planted["limit_usage"]`: group -> used / unified limit for the three groups at 85%+, 95%+
  and over 100%; every other group stays below 80%.
Loans are overdue only at distressed firms; the five-tier class is never milder than the
regulatory minimum for the days overdue.

The figures add up: a loan's balance is within its principal; the member sub-limits of a group
share out at most its unified limit, and the loans drawn on a sub-limit stay within it (usage
≤ 100%) — except in the group planted over its limit, whose sub-limits are over too. The
Shanghai team's groups (parties.SHANGHAI_GROUPS) are never planted: the large one has a unified
limit of 25亿 about 60% used (5% of net capital, room for an 8亿 application), the small one 6亿.

About a tenth of the sub-limits are in USD, EUR or HKD, and so are the loans drawn on them: their
amounts are stored in that currency (planned in yuan, divided by the AS_OF rate, fx.py), so every
figure above holds once converted back to yuan. Unified limits are in CNY; a unified limit's
`used` is its sub-limits' used converted to yuan.
"""
from __future__ import annotations

import math
import random
from datetime import timedelta

from .fx import from_yuan, to_yuan
from .parties import SHANGHAI_GROUPS, _spread
from .values import AS_OF, NET_CAPITAL, money, money_wan, percent, random_date
from .world import World

CONCENTRATION = (0.125, 0.14, 0.155)
USAGE = (0.88, 0.97, 1.06)
OTHER_CAP = 0.11
SHANGHAI_LIMITS = {"large": (2.5e9, 0.55, 0.65), "small": (6e8, 0.5, 0.6)}   # unified limit, usage range
MIN_SUB_LIMIT = 1e6             # 100万
MIN_LOAN = 1e5                  # 10万
PRODUCTS = ("working_capital", "fixed_asset", "trade_finance", "bank_acceptance", "letter_of_guarantee",
            "letter_of_credit", "comprehensive")
LOAN_PRODUCT = {"working_capital": ("working_capital",), "fixed_asset": ("fixed_asset", "project_finance"),
                "comprehensive": ("working_capital", "syndicated"), "trade_finance": ("trade_finance",),
                "bank_acceptance": ("trade_finance",), "letter_of_guarantee": ("working_capital",),
                "letter_of_credit": ("trade_finance",)}
PURPOSES = ("日常经营周转", "采购原材料", "项目建设", "设备购置", "支付工程款", "进口付汇", "归还他行贷款")


def minimum_class(days: int) -> str:
    if days > 360:
        return "loss"
    if days > 270:
        return "doubtful"
    if days > 90:
        return "substandard"
    return "special_mention" if days > 0 else "normal"


def build_credit(world: World) -> None:
    rng = world.rng("credit")
    groups = world.records["group"]
    plantable = [g for g in groups if g["code"] not in SHANGHAI_GROUPS]
    ranked = sorted(plantable, key=lambda g: -len(world.members[g["code"]]))
    concentration = {g["code"]: c for g, c in zip(ranked[:3], CONCENTRATION)}
    usage_groups = [g["code"] for g in ranked[3:]]
    usage_planted = dict(zip(rng.sample(usage_groups, 3), USAGE))
    n_sub = max(len(groups), world.target("facility") - len(groups))
    subs_per_group = _spread(n_sub, [len(world.members[g["code"]]) for g in groups])
    n_loans_total = max(n_sub, world.target("loan"))
    facilities: list[dict] = []
    loans: list[dict] = []
    for group, n_group_subs in zip(groups, subs_per_group, strict=True):
        code = group["code"]
        assets = sum(world.profile[m]["total_assets"] for m in world.members[code])
        balance_target = (float(NET_CAPITAL) * concentration[code] if code in concentration
                          else min(float(NET_CAPITAL) * OTHER_CAP, assets * rng.uniform(0.005, 0.02)))
        usage = usage_planted.get(code, rng.uniform(0.45, 0.78))
        unified = money_wan(balance_target / usage)
        if code in SHANGHAI_GROUPS:
            limit, low, high = SHANGHAI_LIMITS[SHANGHAI_GROUPS[code]]
            unified = money_wan(limit)
            balance_target = limit * rng.uniform(low, high)
        start = random_date(rng, AS_OF - timedelta(days=700), AS_OF - timedelta(days=30))
        top = _facility(facilities, "group_unified", code, None, None, "comprehensive", unified,
                        "CNY", start, start + timedelta(days=3 * 365), group["lead_branch"])
        n_loans = max(n_group_subs, round(n_loans_total * n_group_subs / n_sub))
        _member_limits(world, rng, top, n_group_subs, n_loans, balance_target, facilities, loans)
        top["used"] = sum((to_yuan(world.fx, f["used"], f["currency"]) for f in facilities
                           if f["parent_facility"] == top["facility_no"]), start=money(0))
    world.records["facility"] = facilities
    world.records["loan"] = loans
    world.planted["concentration"] = {g: percent(c) for g, c in concentration.items()}
    world.planted["limit_usage"] = {g: percent(u) for g, u in usage_planted.items()}


def _facility(facilities: list[dict], level: str, group: str, borrower: str | None, parent: str | None,
              product: str, amount, currency: str, start, expiry, branch: str) -> dict:
    record = {
        "facility_no": f"F{len(facilities) + 1:06d}", "level": level, "group": group, "borrower": borrower,
        "parent_facility": parent, "product": product, "amount": amount, "used": money(0),
        "currency": currency, "start_date": start, "expiry_date": expiry, "approving_branch": branch,
        "status": "active",
    }
    facilities.append(record)
    return record


def _member_limits(world: World, rng: random.Random, top: dict, count: int, n_loans: int,
                   balance_target: float, facilities: list[dict], loans: list[dict]) -> None:
    """Share `top` out as `count` sub-limits and draw `n_loans` loans totalling `balance_target` on
    them, each sub-limit's loans within its amount unless the whole group is over its limit."""
    members = world.members[top["group"]]
    weights = [world.profile[m]["total_assets"] ** 0.7 for m in members]
    borrowers = rng.choices(members, weights, k=count) if count > len(members) else rng.sample(members, count)
    shares = [world.profile[b]["total_assets"] ** 0.7 * rng.uniform(0.5, 1.5) for b in borrowers]
    unified = float(top["amount"])
    usage = balance_target / unified
    over = usage > 1          # the planted over-limit group: its sub-limits are over too
    # Most of the unified limit is shared out: enough of it that a high usage still fits under the parts.
    share_out = rng.uniform(0.85, 1.0)
    limit_total = unified * (share_out if over else max(share_out, min(1.0, usage / 0.95)))
    loans_per = _spread(n_loans, [1] * count)
    floors = [_wan_up(max(MIN_SUB_LIMIT, k * MIN_LOAN / 0.9)) for k in loans_per]
    amounts = [_wan_down(a) for a in _allocate(limit_total, shares, floors, [math.inf] * count)]
    amounts = [max(a, f) for a, f in zip(amounts, floors, strict=True)]
    draws = [a * rng.uniform(0.6, 1.3) for a in amounts]
    if over:
        caps = [math.inf] * count
    else:   # each sub-limit used up to a random 90–99.9% at most (99.9% if that is what it takes)
        lowest = min(0.999, max(0.9, 2 * balance_target / sum(amounts) - 1 + 0.02))
        caps = [a * rng.uniform(lowest, 0.999) - 1 for a in amounts]
        if sum(caps) < balance_target:
            caps = [a * 0.999 - 1 for a in amounts]
    drawn_total = _allocate(balance_target, draws, [k * MIN_LOAN for k in loans_per], caps)
    for borrower, amount, drawn, k in zip(borrowers, amounts, drawn_total, loans_per, strict=True):
        product = rng.choice(PRODUCTS)
        currency = rng.choices(["CNY", "USD", "EUR", "HKD"], [90, 6, 2, 2])[0]
        sub = _facility(facilities, "member_sub", top["group"], borrower, top["facility_no"], product,
                        from_yuan(world, money(amount), currency), currency,
                        top["start_date"], top["expiry_date"], world.company[borrower]["branch"])
        for _ in range(k):
            loans.append(_loan(world, rng, len(loans) + 1, sub, drawn / k))
        sub["used"] = sum((loan["balance"] for loan in loans[len(loans) - k:]), start=money(0))


def _allocate(total: float, weights: list[float], lows: list[float], highs: list[float]) -> list[float]:
    """`total` split in proportion to `weights`, each part kept within [low, high] (water-filling:
    a part pushed past a bound is held there and the rest is shared again)."""
    parts = [0.0] * len(weights)
    fixed: dict[int, float] = {}
    while True:
        free = [i for i in range(len(weights)) if i not in fixed]
        if not free:
            return [fixed[i] for i in range(len(weights))]
        rest = total - sum(fixed.values())
        weight = sum(weights[i] for i in free)
        for i in free:
            parts[i] = rest * weights[i] / weight
        above = [i for i in free if parts[i] > highs[i]]
        below = [i for i in free if parts[i] < lows[i]]
        if not above and not below:
            return [fixed.get(i, parts[i]) for i in range(len(weights))]
        for i in above or below:
            fixed[i] = highs[i] if above else lows[i]


def _wan_up(yuan: float) -> float:
    return math.ceil(yuan / 10_000) * 10_000.0


def _wan_down(yuan: float) -> float:
    return math.floor(yuan / 10_000) * 10_000.0


def _loan(world: World, rng: random.Random, number: int, facility: dict, balance: float) -> dict:
    borrower = facility["borrower"]
    kind = world.distress.get(borrower)
    if kind == "composite":
        days = rng.choice((0, 45, 75, 120, 200, 300, 400))
    elif kind is not None and rng.random() < 0.2:
        days = rng.randint(1, 60)
    else:
        days = 0
    disbursed = random_date(rng, AS_OF - timedelta(days=3 * 365), AS_OF - timedelta(days=max(10, days + 1)))
    if days:
        maturity = AS_OF - timedelta(days=days)
        disbursed = min(disbursed, maturity - timedelta(days=90))
    else:
        maturity = max(disbursed + timedelta(days=365 * rng.randint(1, 5)), AS_OF + timedelta(days=30))
    cls = minimum_class(days)
    if cls == "normal" and kind is not None and rng.random() < 0.3:
        cls = "special_mention"
    balance_value = money(max(balance, 1e5))
    principal = money_wan(float(balance_value) / rng.uniform(0.5, 1.0) + 10_000)
    currency = facility["currency"]      # planned in yuan, stored in the facility's currency
    return {
        "loan_no": f"L{number:07d}", "facility": facility["facility_no"], "borrower": borrower,
        "product": rng.choice(LOAN_PRODUCT[facility["product"]]), "currency": currency,
        "principal": from_yuan(world, principal, currency),
        "balance": from_yuan(world, balance_value, currency), "rate": percent(rng.uniform(0.028, 0.065)),
        "disbursed_on": disbursed, "maturity_date": maturity, "overdue_days": days,
        "classification": cls, "branch": world.company[borrower]["branch"],
        "purpose": rng.choice(PURPOSES),
    }
