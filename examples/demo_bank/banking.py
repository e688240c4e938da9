"""Settlement accounts and a year of transactions.

Planted (each when there are enough transactions, >= 1,000):
- `planted["idle_funds"]`: parent companies whose basic account holds a large idle balance (>= 5亿);
- `planted["round_trips"]`: (a, b, amount) where a pays b >= 1000万 and b pays it back within 7
  days, each leg booked on both sides, in the 90 days before AS_OF;
- `planted["large_outflows"]`: firms with a dozen ordinary payments in the 90 days before AS_OF
  and then, in its last week, one payment of 6x or more their average (the behaviour rule's 5x);
- `planted["loan_diversions"]`: (borrower, loan) where 60-80% of a loan disbursed in the 90 days
  before AS_OF is paid to a member of the borrower's group within 2 days (the rule's 50% in 3 days).
"""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from .fx import from_yuan
from .names import BRANCHES, CITIES, OUTSIDE_BRAND_FIRST, OUTSIDE_BRAND_SECOND, TRADES, brands
from .parties import _spread
from .values import AS_OF, cumulative, lognormal, money, money_wan, random_date
from .world import World

BRANCH_INDEX = {code: i for i, code in enumerate(BRANCHES)}
IDLE_FUNDS, ROUND_TRIPS, LARGE_OUTFLOWS, LOAN_DIVERSIONS = 3, 5, 3, 2
YEAR_START = datetime.combine(AS_OF - timedelta(days=364), time(0, 0))


def build_accounts(world: World) -> None:
    rng = world.rng("accounts")
    companies = world.records["company"]
    extra = _spread(max(0, world.target("account") - len(companies)),
                    [max(1, int(world.profile[c["credit_code"]]["total_assets"] ** 0.5 / 1e3)) for c in companies])
    accounts: list[dict] = []
    for company, n_extra in zip(companies, extra, strict=True):
        code = company["credit_code"]
        cash = world.profile[code]["cash"] * rng.uniform(0.05, 0.3)
        for k in range(1 + n_extra):
            kind = "basic" if k == 0 else rng.choices(["general", "special", "temporary"], [80, 15, 5])[0]
            opened = random_date(rng, max(company["established_on"], AS_OF - timedelta(days=20 * 365)),
                                 AS_OF - timedelta(days=400))
            status = "active"
            if k > 0:
                status = rng.choices(["active", "dormant", "closed"], [94, 3, 3])[0]
            if world.distress.get(code) == "composite" and rng.random() < 0.5:
                status = "frozen"
            balance = 0.0 if status == "closed" else cash * (0.6 if k == 0 else 0.4 / max(1, n_extra))
            branch = company["branch"]
            currency = rng.choices(["CNY", "USD", "EUR", "HKD"], [92, 5, 1, 2])[0]
            accounts.append({
                "account_no": f"62{BRANCH_INDEX[branch]:02d}{len(accounts) + 1:015d}", "company": code,
                "type": kind, "currency": currency,
                "branch": branch, "opened_on": opened,
                "closed_on": random_date(rng, opened, AS_OF - timedelta(days=1)) if status == "closed" else None,
                "status": status, "balance": from_yuan(world, money(balance), currency),
            })
    roots = [g["parent_company"] for g in world.records["group"]]
    idle = rng.sample(roots, min(IDLE_FUNDS, len(roots)))
    for account in accounts:
        if account["company"] in idle and account["type"] == "basic":
            account["balance"] = money_wan(rng.uniform(6e8, 1.5e9))
            account["status"] = "active"
            account["currency"] = "CNY"           # the idle yuan of the planted rule
    world.records["account"] = accounts
    world.planted["idle_funds"] = idle


def build_transactions(world: World, total: int) -> None:
    rng = world.rng("transactions")
    usable = [a for a in world.records["account"] if a["status"] in ("active", "frozen")]
    by_company = {}
    for a in usable:
        by_company.setdefault(a["company"], a)
    trips = _plan_round_trips(world, rng, by_company) if total >= 1000 else []
    taken = {c for t in trips for c in t[:2]}
    spikes = _plan_large_outflows(world, rng, by_company, taken) if total >= 1000 else []
    diversions = _plan_diversions(world, rng, by_company, taken | set(spikes)) if total >= 1000 else []
    n_background = max(0, total - 4 * len(trips) - 13 * len(spikes) - 2 * len(diversions))
    weights = cumulative([(3.0 if a["type"] == "basic" else 1.0) *
                          world.profile[a["company"]]["revenue"] ** 0.5 for a in usable])
    events = []
    for _ in range(n_background):
        day = rng.randrange(364)
        events.append((day * 86_400 + rng.randint(8 * 3600, 19 * 3600), rng.choices(range(len(usable)), cum_weights=weights)[0]))
    events.sort()
    outside = [f"{city}{b}{trade}有限公司" for city, b, trade in zip(
        [c[0] for c in CITIES] * 3, brands(rng, 60, OUTSIDE_BRAND_FIRST, OUTSIDE_BRAND_SECOND),
        [t[0] for t in TRADES] * 2)]
    companies = world.records["company"]
    rows: list[tuple] = []
    for seconds, index in events:
        account = usable[index]
        code = account["company"]
        median = max(5e4, world.profile[code]["revenue"] / 400)
        amount = max(100.0, lognormal(rng, median, 1.0))
        direction = "credit" if rng.random() < 0.5 else "debit"
        counterparty = None
        roll = rng.random()
        if roll < 0.12:
            counterparty = rng.choice(world.members[world.group_of(code)])
            purpose = "intra_group"
        elif roll < 0.2:
            counterparty = rng.choice(companies)["credit_code"]
            purpose = "trade"
        else:
            purpose = rng.choices(["trade", "payroll", "tax", "loan_repayment", "investment", "other"],
                                  [60, 10, 8, 5, 5, 12])[0]
        rows.append((seconds, account, direction, amount, counterparty, purpose))
    for a, b, amount, day, back in trips:
        for seconds, payer, payee in ((day * 86_400 + 10 * 3600, a, b), ((day + back) * 86_400 + 15 * 3600, b, a)):
            rows.append((seconds, by_company[payer], "debit", amount, payee, "trade"))
            rows.append((seconds + 1, by_company[payee], "credit", amount, payer, "trade"))
    rows.extend(_outflow_rows(world, rng, by_company, spikes, rows))
    for borrower, member, paid, when, _loan in diversions:
        rows.append((when, by_company[borrower], "debit", paid, member, "intra_group"))
        rows.append((when + 1, by_company[member], "credit", paid, borrower, "intra_group"))
    rows.sort(key=lambda r: (r[0], r[1]["account_no"], r[2]))
    accounts_by_code = {a["company"]: a["account_no"] for a in usable}
    records = []
    for number, (seconds, account, direction, amount, counterparty, purpose) in enumerate(rows, start=1):
        if counterparty is not None:
            name = world.company[counterparty]["name"]
            other = accounts_by_code.get(counterparty)
        else:
            name = rng.choice(outside)
            other = f"{rng.randint(10**15, 10**16 - 1)}"
        records.append({
            "txn_no": f"T{number:09d}", "account": account["account_no"], "company": account["company"],
            "booked_at": YEAR_START + timedelta(seconds=seconds), "direction": direction,
            "amount": money(amount), "counterparty_name": name, "counterparty_account": other,
            "counterparty_company": counterparty,
            "channel": rng.choices(["online_banking", "bank_enterprise_link", "counter", "swift"], [55, 35, 7, 3])[0],
            "purpose": purpose,
        })
    world.records["transaction"] = records
    world.planted["round_trips"] = [(a, b, money(amount)) for a, b, amount, _, _ in trips]
    world.planted["large_outflows"] = spikes
    world.planted["loan_diversions"] = [(borrower, loan) for borrower, _m, _p, _w, loan in diversions]


def _plan_large_outflows(world: World, rng: random.Random, by_company: dict, taken: set) -> list[str]:
    """Firms (healthy, outside the other plants) that will make one outsized payment."""
    codes = sorted(c for c in by_company if c not in taken and c not in world.distress)
    return rng.sample(codes, min(LARGE_OUTFLOWS, len(codes)))


def _outflow_rows(world: World, rng: random.Random, by_company: dict, spikes: list[str], rows: list) -> list:
    """A dozen ordinary payments of each firm in `spikes` over days -84..-8, then one payment in the
    last week, 6x (at least 100万) the average of its payments in the 90 days before it."""
    out = []
    window = (364 - 90) * 86_400            # 90 days before AS_OF (day 364 of the year)
    for code in spikes:
        account = by_company[code]
        median = max(5e4, world.profile[code]["revenue"] / 400)
        planted = [(rng.randint(280, 356) * 86_400 + rng.randint(9 * 3600, 17 * 3600),
                    max(1e4, lognormal(rng, median, 0.3))) for _ in range(12)]
        for seconds, amount in planted:
            out.append((seconds, account, "debit", amount, None, "trade"))
        when = rng.randint(358, 362) * 86_400 + 11 * 3600
        paid = [r[3] for r in rows if r[1]["company"] == code and r[2] == "debit" and window <= r[0] < when]
        paid += [a for _, a in planted]
        out.append((when, account, "debit", max(1e6, 6 * sum(paid) / len(paid)), None, "investment"))
    return out


def _plan_diversions(world: World, rng: random.Random, by_company: dict, taken: set) -> list[tuple]:
    """Loans of healthy borrowers (with another group member holding an account) moved to a recent
    disbursement, and the payment to that member that diverts most of it."""
    loans = [ln for ln in world.records["loan"]
             if ln["borrower"] in by_company and ln["borrower"] not in taken and ln["borrower"] not in world.distress
             and ln["currency"] == "CNY" and ln["maturity_date"] > AS_OF + timedelta(days=90)]
    rng.shuffle(loans)
    plans, used = [], set()
    for loan in loans:
        borrower = loan["borrower"]
        members = [m for m in world.members[world.group_of(borrower)] if m != borrower and m in by_company]
        if borrower in used or not members:
            continue
        day = rng.randint(290, 350)
        loan["disbursed_on"] = YEAR_START.date() + timedelta(days=day)
        paid = money(float(loan["principal"]) * rng.uniform(0.6, 0.8))
        plans.append((borrower, rng.choice(members), paid, (day + rng.randint(0, 1)) * 86_400 + 14 * 3600,
                      loan["loan_no"]))
        used.add(borrower)
        if len(plans) == LOAN_DIVERSIONS:
            break
    return plans


def _plan_round_trips(world: World, rng: random.Random, by_company: dict) -> list[tuple]:
    codes = sorted(by_company)
    trips = []
    while len(trips) < ROUND_TRIPS:
        a, b = rng.sample(codes, 2)
        if any(a in t[:2] or b in t[:2] for t in trips):
            continue
        trips.append((a, b, money_wan(rng.uniform(1.2e7, 8e7)), rng.randrange(280, 355), rng.randint(1, 6)))
    return trips
