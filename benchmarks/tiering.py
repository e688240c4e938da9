"""Tiering (issue 15, "Performance"): the decision table against zen-engine, and a portfolio run.
Results → benchmarks/results/tiering.json.

table_vs_zen: a 20-row decision table over the shipped matrix's four dimensions (contribution,
  potential, depth, risk, 0–100) under the FIRST hit policy — the shipped 4-row matrix grown to a
  realistic size (TABLE below: thresholds on one to three dimensions per row, a catch-all last) —
  side by side with GoRules zen-engine 2.1.3 on the same 10,000 inputs (uniform integer scores),
  table evaluation only, the tiers checked equal input by input. value = zen time ÷ Banyan time
  (target >= 10), medians of alternating rounds.
  - Banyan: the Tiering compiled from YAML (configs/ with this table in place of the shipped one,
    `dsl.compiler.compile_texts`). `tier_subject` always scores the dimensions first (a Tiering
    has at least one, computed from the subject), so it cannot be handed the scores; its table
    step is `engine.tiering.decide.decide_table`, called here as tier_subject calls it: over a
    `TableScope` of the scores (Decimal, as scoring gives them), `score` and `alert_grade` — each
    row's compiled `when` checked in order and kept as its RuleCheck, the rows after the first
    that holds not evaluated, `apply_policy` with the tiers' ranks, the deciding row marked.
  - zen: the same table as a JDM graph (inputNode → decisionTableNode, hitPolicy "first", one input
    column per dimension, unary tests such as `>= 70` → outputNode), `ZenEngine().create_decision`
    once and `decision.evaluate(input)` per input, as its users call it. zen-engine is installed
    for the benchmark only (`make bench` does; else `pip install zen-engine==2.1.3`).
tier_portfolio (s): `TieringService(engine).run()` — the shipped group value matrix over every
  group, tiers written through the records service and history kept — over a generated portfolio
  on SQLite: 10,000 groups holding 1,000,000 member companies (`--quick`: 100 / 10,000), group
  sizes log-normal like the demo's (examples/demo_bank/parties.group_sizes: a few large, many
  small), each company with 8 quarters of financial statements, and facilities, loans, accounts
  and guarantees in the demo generator's proportions per company (1.2, 2.4, 3, 1.6; facilities
  capped at 999,999 because facility_no is `F` and six digits), about 1% of loans overdue, open
  alerts on about 0.5% of companies (a third red, so the cap bites). Generating that through the
  records service would take hours, so configs/ is deployed (runtime.cli.seed.ensure_deployed)
  and the rows are bulk-inserted with SQLAlchemy executemany (`exec_driver_sql`, 250 groups a
  transaction, foreign keys checked once at the end with `PRAGMA foreign_key_check`) straight
  into the deployed tables, with the stored computed columns written consistent with the rows: company.total_assets /
  net_assets / debt_ratio from its latest statement, loan_balance / overdue_balance /
  max_overdue_days from its loans, deposit_balance from its active accounts,
  guarantees_given_amount from its active guarantees; group.member_count, total_credit_balance,
  overdue_balance, guarantees_given_amount, unified_limit and limit_usage from its members and
  facilities; facility.used / available / usage from its loans; the statements' ratios. Every
  amount is in CNY (no fx lookups). The run is timed in a child process on a fresh copy of the
  database (`--quick`: median of 3 copies; full: once), with `tier_groups_per_s` and the child's
  peak resident memory (ru_maxrss of the whole process, interpreter and imports included:
  `tier_peak_rss`, MB) reported. The time includes the run's fixed start (loading the deployed
  bundle, about 3 s), which weighs on `--quick`. Setup time is printed, not reported: about 110 s
  per 100,000 companies on a busy 2-core machine, so the full portfolio takes about 20 minutes to
  generate (and several GB of disk: BANYAN_BENCH_TMP names the directory, else the system's
  temporary one); `--groups N` runs N groups (100 companies each on average) once, for an
  estimate in between.
  The run must tier every group, write each tier and one history row per group, or the
  benchmark fails.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from _common import metric, report

from examples.demo_bank.codes import org_code_check_char, uscc_check_char
from examples.demo_bank.parties import group_sizes

ROOT = Path(__file__).resolve().parent.parent
DIMENSIONS = ("contribution", "potential", "depth", "risk")

# -- table_vs_zen ---------------------------------------------------------------------------------
# (conditions, tier): each condition (dimension, operator, threshold); the shipped four rows are
# rows 2, 7, 11 and 20.
TABLE: list[tuple[tuple[tuple[str, str, int], ...], str]] = [
    ((("contribution", ">=", 85), ("potential", ">=", 80), ("risk", ">=", 60)), "strategic_core"),
    ((("contribution", ">=", 70), ("potential", ">=", 70)), "strategic_core"),
    ((("contribution", ">=", 90), ("depth", ">=", 75)), "strategic_core"),
    ((("contribution", ">=", 80), ("depth", ">=", 60), ("risk", ">=", 70)), "strategic_core"),
    ((("potential", ">=", 85), ("risk", ">=", 60)), "high_potential"),
    ((("potential", ">=", 70), ("risk", ">=", 40), ("depth", ">=", 50)), "high_potential"),
    ((("potential", ">=", 70), ("risk", ">=", 40)), "high_potential"),
    ((("potential", ">=", 60), ("contribution", ">=", 50), ("risk", ">=", 50)), "high_potential"),
    ((("risk", "<", 20),), "opportunity_adjustment"),
    ((("risk", ">=", 80), ("contribution", ">=", 60)), "stable_cooperation"),
    ((("risk", ">=", 60), ("contribution", ">=", 40)), "stable_cooperation"),
    ((("risk", ">=", 70), ("depth", ">=", 70)), "stable_cooperation"),
    ((("depth", ">=", 80), ("contribution", ">=", 30), ("risk", ">=", 40)), "stable_cooperation"),
    ((("contribution", "<", 20), ("potential", "<", 40)), "opportunity_adjustment"),
    ((("risk", ">=", 50), ("potential", ">=", 50), ("depth", ">=", 40)), "stable_cooperation"),
    ((("contribution", ">=", 50), ("depth", ">=", 50), ("risk", ">=", 30)), "stable_cooperation"),
    ((("potential", ">=", 50), ("risk", ">=", 30)), "high_potential"),
    ((("depth", "<", 30), ("risk", "<", 40)), "opportunity_adjustment"),
    ((("contribution", ">=", 60), ("risk", ">=", 40)), "stable_cooperation"),
    ((), "opportunity_adjustment"),
]


def grown_matrix() -> str:
    """The shipped group value matrix's YAML with its table replaced by TABLE."""
    text = (ROOT / "configs" / "tiering" / "group_value_matrix.yaml").read_text(encoding="utf-8")
    head, rest = text.split("  table:\n", 1)
    tail = rest[rest.index("  caps:\n"):]
    rows = []
    for i, (conds, tier) in enumerate(TABLE):
        when = " and ".join(f"{d} {op} {v}" for d, op, v in conds)
        rows.append(f"      - {{{f'when: {when!r}, ' if when else ''}tier: {tier}, label: {{en: row {i + 1}}}}}")
    return head + "  table:\n    hit_policy: first\n    rules:\n" + "\n".join(rows) + "\n" + tail


def compiled_tiering():
    from dsl.compiler import compile_texts
    texts = {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in sorted((ROOT / "configs").rglob("*.yaml"))
             if "tests" not in p.relative_to(ROOT / "configs").parts}
    texts["configs/tiering/group_value_matrix.yaml"] = grown_matrix()
    result = compile_texts(texts)
    if not result.ok:
        raise SystemExit("the grown matrix does not compile:\n" + "\n".join(
            f"{d.span} {d.code} {d.message}" for d in result.diagnostics if d.severity == "error"))
    tiering = result.bundle.documents[("Tiering", "group_value_matrix")]
    assert len(tiering.rules) == 20 and tiering.hit_policy == "first"
    return tiering


def zen_decision(tiering):
    """The same table as a JDM decision graph, compiled once by zen-engine."""
    import zen
    inputs = [{"id": f"in_{d}", "name": d, "field": d} for d in DIMENSIONS]
    rules = []
    for i, (conds, tier) in enumerate(TABLE):
        cells = {f"in_{d}": "" for d in DIMENSIONS}
        for d, op, v in conds:
            cells[f"in_{d}"] = f"{op} {v}"
        rules.append({"_id": f"r{i}", **cells, "out_tier": json.dumps(tier).replace('"', "'")})
    jdm = {"nodes": [
        {"id": "request", "type": "inputNode", "name": "request", "position": {"x": 0, "y": 0}},
        {"id": "table", "type": "decisionTableNode", "name": tiering.name, "position": {"x": 300, "y": 0},
         "content": {"hitPolicy": "first", "inputs": inputs,
                     "outputs": [{"id": "out_tier", "name": "tier", "field": "tier"}], "rules": rules}},
        {"id": "response", "type": "outputNode", "name": "response", "position": {"x": 600, "y": 0}}],
        "edges": [{"id": "e1", "sourceId": "request", "targetId": "table", "type": "edge"},
                  {"id": "e2", "sourceId": "table", "targetId": "response", "type": "edge"}]}
    return zen.ZenEngine().create_decision(json.dumps(jdm))


def banyan_table(tiering, inputs: list[dict]) -> list[str]:
    """The table step of engine.tiering.tier_subject over given scores: `decide_table` (each row's
    compiled `when` in order under the hit policy, kept as its RuleCheck, apply_policy, the
    deciding row marked) over the TableScope tier_subject builds."""
    from engine.tiering.decide import TableScope, decide_table
    subject: dict = {}
    out = []
    for scores in inputs:
        tier, _, problem, _ = decide_table(tiering, TableScope(subject, scores))
        if tier is None:
            raise SystemExit(f"the table gave no tier for {scores}: {problem}")
        out.append(tier)
    return out


def zen_table(decision, inputs: list[dict]) -> list[str]:
    return [decision.evaluate(x)["result"]["tier"] for x in inputs]


def table_inputs(n: int, seed: int) -> tuple[list[dict], list[dict]]:
    """The same scores for both: zen's JSON numbers, and Banyan's Decimals (as scoring gives them),
    with `score` (the table reads no weighted total here) and `alert_grade` as tier_subject adds."""
    rng = random.Random(seed)
    plain = [{d: rng.randrange(0, 101) for d in DIMENSIONS} for _ in range(n)]
    ours = [{**{d: Decimal(v) for d, v in x.items()}, "score": None, "alert_grade": None} for x in plain]
    return plain, ours


def zen_available() -> bool:
    try:
        import zen  # noqa: F401
    except ImportError:
        return False
    return True


def table_vs_zen(n: int, rounds: int) -> tuple[float, float, dict[str, int]]:
    tiering = compiled_tiering()
    decision = zen_decision(tiering)
    ours, theirs = [], []
    spread: dict[str, int] = {}
    for r in range(rounds):
        plain, scores = table_inputs(n, 1000 + r)
        got = {}
        for who in (("banyan", "zen") if r % 2 == 0 else ("zen", "banyan")):
            start = time.perf_counter()
            got[who] = banyan_table(tiering, scores) if who == "banyan" else zen_table(decision, plain)
            (ours if who == "banyan" else theirs).append(time.perf_counter() - start)
        if got["banyan"] != got["zen"]:
            bad = next(i for i, (a, b) in enumerate(zip(got["banyan"], got["zen"])) if a != b)
            raise SystemExit(f"round {r}: the tables disagree on {plain[bad]}: Banyan {got['banyan'][bad]}, "
                             f"zen {got['zen'][bad]}")
        spread = {t: got["banyan"].count(t) for t in sorted(set(got["banyan"]))}
    return statistics.median(ours), statistics.median(theirs), spread


# -- tier_portfolio: the generated portfolio --------------------------------------------------------
BRANCHES = ("bj_branch", "sh_branch", "gz_branch", "sz_branch", "hz_branch", "nj_branch", "wh_branch", "cd_branch",
            "cq_branch", "tj_branch", "xa_branch", "cs_branch", "sy_branch")
DIVISIONS = ("110105", "310104", "440106", "440305", "330106", "320102", "420106", "510107", "500103", "120101",
             "610113", "430100", "210102")
INDUSTRIES = ("manufacturing", "construction", "real_estate", "wholesale_retail", "transport_logistics", "energy",
              "mining", "utilities", "information_technology", "investment_holding", "agriculture", "healthcare",
              "services")
FACILITY_PRODUCTS = ("working_capital", "fixed_asset", "trade_finance", "bank_acceptance", "letter_of_guarantee",
                     "letter_of_credit", "comprehensive")
LOAN_PRODUCT = {"working_capital": ("working_capital",), "fixed_asset": ("fixed_asset", "project_finance"),
                "comprehensive": ("working_capital", "syndicated"), "trade_finance": ("trade_finance",),
                "bank_acceptance": ("trade_finance",), "letter_of_guarantee": ("working_capital",),
                "letter_of_credit": ("trade_finance",)}
QUARTERS = [(f"{y}Q{q}", date(y, 3 * q, 30 if q in (2, 3) else 31)) for y, q in
            [(2024, 3), (2024, 4), (2025, 1), (2025, 2), (2025, 3), (2025, 4), (2026, 1), (2026, 2)]]
AS_OF = date(2026, 6, 30)
MAX_FACILITIES = 999_999                  # facility_no is F and six digits
STAMP = "2026-07-01 00:00:00.000000"


def uscc(n: int, division: str) -> str:
    """The `n`th enterprise credit code in `division`, both check characters right."""
    body = f"{10_000_000 + n:08d}"
    first17 = "91" + division + body + org_code_check_char(body)
    return first17 + uscc_check_char(first17)


def minimum_class(days: int) -> str:
    if days > 360:
        return "loss"
    if days > 270:
        return "doubtful"
    if days > 90:
        return "substandard"
    return "special_mention" if days > 0 else "normal"


def debt_ratio(rng: random.Random) -> float:
    """Mostly 35–70%, a few distressed firms above 85%."""
    if rng.random() < 0.005:
        return rng.uniform(0.86, 0.95)
    return min(0.84, max(0.2, rng.gauss(0.52, 0.07)))


class Portfolio:
    """Rows for each table, generated a chunk of groups at a time, ids and numbers running on."""

    def __init__(self, n_groups: int, n_companies: int, seed: int = 15):
        self.rng = random.Random(seed)
        self.sizes = group_sizes(n_groups, n_companies)
        self.rng.shuffle(self.sizes)
        self.facility_budget = min(MAX_FACILITIES, round(1.2 * n_companies))
        self.n_companies = n_companies
        self.ids = dict.fromkeys(("group", "company", "statement", "facility", "loan", "account", "guarantee",
                                  "alert"), 0)

    def next(self, kind: str) -> int:
        self.ids[kind] += 1
        return self.ids[kind]

    def chunk(self, groups: range) -> dict[str, list[tuple]]:
        rng = self.rng
        out: dict[str, list[tuple]] = {k: [] for k in ("group", "company", "financial_statement", "facility", "loan",
                                                         "account", "guarantee", "alert")}
        for g in groups:
            size = self.sizes[g]
            gid = self.next("group")
            branch = rng.choice(BRANCHES)
            members = []
            for _ in range(size):
                cid = self.next("company")
                division = rng.choice(DIVISIONS)
                code = uscc(cid, division)
                assets = math.exp(rng.gauss(19.5, 1.6))
                members.append({"id": cid, "code": code, "division": division, "assets": assets,
                                "debt_ratio": debt_ratio(rng), "loans": [], "deposit": 0.0,
                                "guarantees": 0.0})
            self._financials(members, out)
            unified_amount, unified_used = self._credit(gid, members, branch, out, g)
            self._accounts(members, branch, out)
            self._guarantees(members, out)
            for m in members:
                balance = sum(b for b, _ in m["loans"])
                overdue = sum(b for b, d in m["loans"] if d > 0)
                m.update(balance=round(balance, 2), overdue=round(overdue, 2))
                latest_assets, latest_liab = m["latest"]
                out["company"].append((
                    m["id"], 1, STAMP, STAMP, m["code"], f"企业{m['id']:07d}有限公司", gid, "limited_liability",
                    rng.choice(("large", "medium", "small", "micro")), rng.choice(INDUSTRIES),
                    round(m["assets"] * 0.05, -4), "2005-06-01", m["division"], None, None, branch, None, 0, None,
                    "operating", latest_assets, round(latest_assets - latest_liab, 2), latest_liab / latest_assets,
                    m["balance"], m["overdue"], max((d for _, d in m["loans"]), default=None),
                    round(m["guarantees"], 2), round(m["deposit"], 2)))
                if rng.random() < 0.005:
                    self._alert("company", m["id"], m["code"], out)
            total_credit = round(sum(m["balance"] for m in members), 2)
            out["group"].append((
                gid, 1, STAMP, STAMP, f"G{g:04d}", f"集团{g:04d}", members[0]["id"], None, "equity_control",
                rng.choice(INDUSTRIES), rng.choices(("weak", "stable", "strong"), (25, 50, 25))[0], branch, None,
                None, int(rng.random() < 0.4), "2015-03-01", "active", size, total_credit,
                round(sum(m["overdue"] for m in members), 2), round(sum(m["guarantees"] for m in members), 2),
                unified_amount, total_credit / unified_amount if unified_amount > 0 else 0.0))
            if rng.random() < 0.005:
                self._alert("group", gid, f"G{g:04d}", out)
        return out

    def _financials(self, members: list[dict], out: dict) -> None:
        rng = self.rng
        for m in members:
            assets, ratio = m["assets"] / 1.1, m["debt_ratio"]
            for period, end in QUARTERS:
                assets *= rng.uniform(0.99, 1.03)
                ta = round(assets, 2)
                tl = round(ta * min(0.99, ratio * rng.uniform(0.97, 1.03)), 2)
                ca, cl = round(ta * 0.55, 2), round(tl * 0.7, 2)
                revenue = round(ta * rng.uniform(0.04, 0.09), 2)
                interest = round(tl * 0.009, 2)
                ebit = round(revenue * rng.uniform(0.02, 0.12), 2)
                out["financial_statement"].append((
                    self.next("statement"), 1, STAMP, STAMP, f"{m['code']}-{period}", m["id"], period, end.isoformat(),
                    int(period.endswith("Q4")), ta, ca, round(ca * 0.25, 2), tl, cl, round(tl * 0.5, 2), revenue,
                    round(ebit * 0.7, 2), round(revenue * rng.uniform(-0.05, 0.1), 2), interest, ebit,
                    round(ta - tl, 2), tl / ta, ca / cl if cl > 0 else 0.0, ebit / interest if interest > 0 else None))
            m["latest"] = (ta, tl)

    def _credit(self, gid: int, members: list[dict], branch: str, out: dict, g: int) -> tuple[float, float]:
        """A unified limit and ~1.2 sub-limits per member (less when the facility numbers run out),
        ~2 loans per sub-limit; `used` is what the loans drew."""
        rng = self.rng
        left_groups = len(self.sizes) - g - 1
        room = self.facility_budget - self.ids["facility"] - 1 - left_groups
        n_subs = max(1, min(room, round(len(members) * (1.2 * self.n_companies - len(self.sizes)) / self.n_companies)))
        top_id = self.next("facility")
        start = AS_OF - timedelta(days=rng.randrange(30, 700))
        subs, unified_used = [], 0.0
        for _ in range(n_subs):
            m = rng.choice(members)
            fid = self.next("facility")
            product = rng.choice(FACILITY_PRODUCTS)
            amount = round(max(1e6, m["assets"] * rng.uniform(0.01, 0.05)), -4)
            used = 0.0
            k = rng.choices((1, 2, 3), (30, 40, 30))[0]
            for _ in range(k):
                lid = self.next("loan")
                principal = round(amount / k * rng.uniform(0.6, 1.0), -4)
                balance = round(principal * rng.uniform(0.5, 1.0), 2)
                days = rng.choice((15, 45, 120, 300, 400)) if rng.random() < 0.01 else 0
                klass = minimum_class(days)
                disbursed = start + timedelta(days=rng.randrange(0, 25))
                out["loan"].append((
                    lid, 1, STAMP, STAMP, f"L{lid:07d}", fid, m["id"], rng.choice(LOAN_PRODUCT[product]), "CNY",
                    principal, balance, round(rng.uniform(0.028, 0.065), 4), disbursed.isoformat(),
                    (disbursed + timedelta(days=3 * 365)).isoformat(), days, klass, branch, "日常经营周转",
                    int(klass in ("substandard", "doubtful", "loss"))))
                m["loans"].append((balance, days))
                used += balance
            used = round(used, 2)
            unified_used += used
            subs.append((fid, 1, STAMP, STAMP, f"F{fid:06d}", "member_sub", gid, m["id"], top_id, product, amount,
                         used, "CNY", start.isoformat(), (start + timedelta(days=3 * 365)).isoformat(), branch,
                         "active", round(max(0.0, amount - used), 2), used / amount))
        unified = round(sum(s[10] for s in subs) / rng.uniform(0.85, 1.0), -4)
        unified_used = round(unified_used, 2)
        out["facility"].append((top_id, 1, STAMP, STAMP, f"F{top_id:06d}", "group_unified", gid, None, None,
                                "comprehensive", unified, unified_used, "CNY", start.isoformat(),
                                (start + timedelta(days=3 * 365)).isoformat(), branch, "active",
                                round(max(0.0, unified - unified_used), 2), unified_used / unified))
        out["facility"] += subs
        return unified, unified_used

    def _accounts(self, members: list[dict], branch: str, out: dict) -> None:
        rng = self.rng
        for m in members:
            for _ in range(rng.choices((1, 2, 3, 4, 5), (15, 20, 25, 20, 20))[0]):
                aid = self.next("account")
                status = rng.choices(("active", "closed", "dormant", "frozen"), (92, 3, 3, 2))[0]
                balance = round(m["assets"] * rng.uniform(0.001, 0.03), 2)
                out["account"].append((aid, 1, STAMP, STAMP, f"6212{aid:015d}", m["id"],
                                       rng.choice(("basic", "general", "special", "temporary")), "CNY", branch,
                                       "2015-05-01", "2025-01-01" if status == "closed" else None, status, balance))
                if status == "active":
                    m["deposit"] += balance

    def _guarantees(self, members: list[dict], out: dict) -> None:
        rng = self.rng
        for m in members:
            for _ in range(rng.choices((0, 1, 2, 3, 4), (20, 30, 25, 15, 10))[0]):
                gid = self.next("guarantee")
                borrower = rng.choice(members)["id"] if len(members) > 1 else m["id"]
                status = "active" if rng.random() < 0.9 else "released"
                amount = round(m["assets"] * rng.uniform(0.001, 0.012), -4)
                out["guarantee"].append((gid, 1, STAMP, STAMP, f"GC{gid:07d}", m["id"], borrower, None,
                                         rng.choice(("joint_liability", "general_guarantee", "mortgage", "pledge")),
                                         amount, "2025-01-01", "2028-12-31", status))
                if status == "active":
                    m["guarantees"] += amount

    def _alert(self, entity: str, id_: int, key: str, out: dict) -> None:
        grade = self.rng.choice(("red", "orange", "yellow"))
        rule = "debt_ratio_high" if entity == "company" else "group_limit_usage"
        message = json.dumps({"zh": "基准预警", "en": "benchmark alert"}, ensure_ascii=False)
        out["alert"].append((self.next("alert"), rule, entity, id_, key, grade, "open", message, "[]", 1, STAMP,
                             STAMP))


COLUMNS = {
    "group": ("e_group", "id, version, created_at, updated_at, code, name, parent_company, actual_controller, "
              "control_basis, industry, industry_outlook, lead_branch, relationship_manager, tier, "
              "main_settlement_bank, recognized_on, status, member_count, total_credit_balance, overdue_balance, "
              "guarantees_given_amount, unified_limit, limit_usage"),
    "company": ("e_company", 'id, version, created_at, updated_at, credit_code, name, "group", legal_form, '
                "scale_class, industry, registered_capital, established_on, region, address, legal_representative, "
                "branch, relationship_manager, listed, ticker, status, total_assets, net_assets, debt_ratio, "
                "loan_balance, overdue_balance, max_overdue_days, guarantees_given_amount, deposit_balance"),
    "financial_statement": ("e_financial_statement", "id, version, created_at, updated_at, statement_no, company, "
                            "period, period_end, audited, total_assets, current_assets, cash, total_liabilities, "
                            "current_liabilities, interest_bearing_debt, revenue, net_profit, operating_cash_flow, "
                            "interest_expense, ebit, net_assets, debt_ratio, current_ratio, interest_cover"),
    "facility": ("e_facility", 'id, version, created_at, updated_at, facility_no, level, "group", borrower, '
                 "parent_facility, product, amount, used, currency, start_date, expiry_date, approving_branch, "
                 "status, available, usage"),
    "loan": ("e_loan", "id, version, created_at, updated_at, loan_no, facility, borrower, product, currency, "
             "principal, balance, rate, disbursed_on, maturity_date, overdue_days, classification, branch, purpose, "
             "non_performing"),
    "account": ("e_account", "id, version, created_at, updated_at, account_no, company, type, currency, branch, "
                "opened_on, closed_on, status, balance"),
    "guarantee": ("e_guarantee", "id, version, created_at, updated_at, contract_no, guarantor, borrower, loan, type, "
                  "amount, start_date, end_date, status"),
    "alert": ("banyan_alerts", "id, rule, subject_entity, subject_id, subject_key, grade, status, message, evidence, "
              "deployment_version, opened_at, updated_at"),
}


def build_portfolio(path: Path, n_groups: int, n_companies: int) -> dict[str, int]:
    """configs/ deployed on a new SQLite file, then the generated rows inserted (executemany)."""
    import sqlalchemy as sa

    from runtime.cli.seed import ensure_deployed
    from runtime.storage.db import make_engine
    from runtime.storage.migrate import upgrade
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    ensure_deployed(engine, str(ROOT / "configs"), "bench")
    with engine.connect() as conn:
        version = conn.execute(sa.text("SELECT max(version) FROM banyan_deployments")).scalar()
    assert version == 1, version
    portfolio = Portfolio(n_groups, n_companies)
    counts = dict.fromkeys(COLUMNS, 0)
    step = 250
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        raw.execute("PRAGMA foreign_keys=OFF")        # consistent by construction: checked at the end
        raw.execute("PRAGMA synchronous=OFF")
        for first in range(0, n_groups, step):
            rows = portfolio.chunk(range(first, min(n_groups, first + step)))
            with conn.begin():
                for kind, (table, cols) in COLUMNS.items():
                    if rows[kind]:
                        marks = ", ".join("?" * len(rows[kind][0]))
                        conn.exec_driver_sql(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows[kind])
                        counts[kind] += len(rows[kind])
        with conn.begin():
            for kind, (table, _) in COLUMNS.items():
                if kind != "alert" and conn.exec_driver_sql(f"PRAGMA foreign_key_check({table})").first():
                    raise SystemExit(f"the generated {table} rows name records that do not exist")
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return counts


# -- tier_portfolio: the run ------------------------------------------------------------------------
def tier_child(path: str) -> None:
    """In a process of its own: TieringService.run over `path`, then what it did, its time and the
    process's peak resident memory, as JSON on stdout."""
    import resource

    from runtime.storage.db import make_engine
    from runtime.tiering.service import TieringService
    engine = make_engine(f"sqlite:///{path}")
    service = TieringService(engine)
    start = time.perf_counter()
    counts = service.run(actor="bench")
    took = time.perf_counter() - start
    engine.dispose()
    print(json.dumps({"seconds": took, "subjects": counts.subjects, "changed": counts.changed,
                      "written": counts.written, "by_tier": dict(counts.by_tier), "untiered": len(counts.untiered),
                      "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


def run_child(path: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--tier-child", str(path)],
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"the tier run failed:\n{done.stdout[-2000:]}{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def tier_portfolio(n_groups: int, n_companies: int, rounds: int) -> tuple[list[dict], dict[str, int], float]:
    """Each round on a fresh copy of the generated database: the runs, the row counts, setup seconds."""
    import sqlalchemy as sa

    from runtime.storage.db import make_engine
    with tempfile.TemporaryDirectory(dir=os.environ.get("BANYAN_BENCH_TMP")) as tmp:
        os.environ.setdefault("BANYAN_SECRET_FILE", str(Path(tmp) / "secret"))
        base = Path(tmp) / "portfolio.db"
        start = time.perf_counter()
        counts = build_portfolio(base, n_groups, n_companies)
        setup = time.perf_counter() - start
        print(f"(portfolio generated in {setup:.0f} s: " + ", ".join(f"{n:,} {k}" for k, n in counts.items()) + ")",
              flush=True)
        runs = []
        for r in range(rounds):
            copy = Path(tmp) / f"round{r}.db"
            if rounds > 1:
                shutil.copy(base, copy)
            else:
                base.rename(copy)
            run = run_child(copy)
            engine = make_engine(f"sqlite:///{copy}")
            with engine.connect() as conn:
                tiered = conn.execute(sa.text("SELECT count(*) FROM e_group WHERE tier IS NOT NULL")).scalar()
                history = conn.execute(sa.text("SELECT count(*) FROM banyan_tier_history")).scalar()
            engine.dispose()
            if run["subjects"] != n_groups or tiered != n_groups or history != n_groups:
                raise SystemExit(f"round {r}: {run['subjects']} groups tiered, {tiered} written, {history} history "
                                 f"rows, of {n_groups}: {run}")
            runs.append(run)
            print(f"(round {r}: {run['seconds']:.1f} s, {run['maxrss_kb'] / 1024:.0f} MB peak, {run['by_tier']})",
                  flush=True)
            copy.unlink()
    return runs, counts, setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 groups / 10,000 companies")
    parser.add_argument("--groups", type=int, help="tier_portfolio over this many groups (with 100 companies each "
                                                    "on average): an estimate between --quick and the full run")
    parser.add_argument("--tier-child", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tier_child:
        tier_child(args.tier_child)
        return
    rows = []
    if zen_available():
        ours, theirs, spread = table_vs_zen(10_000, 5 if args.quick else 7)
        rows.append(metric("table_vs_zen", theirs / ours, "x", "zen-engine 2.1.3 decision.evaluate", theirs,
                           theirs / ours))
        rows.append(metric("table_evals_per_s", 10_000 / ours, "evals/s", "zen-engine evals/s", 10_000 / theirs))
        print(f"(20-row table × 10,000 inputs, equal in both: {spread})")
    else:
        print("zen-engine is not installed: pip install zen-engine==2.1.3 (make bench does)")
    n_groups, n_companies, rounds = (100, 10_000, 3) if args.quick else (10_000, 1_000_000, 1)
    if args.groups:
        n_groups, n_companies, rounds = args.groups, 100 * args.groups, 1
    runs, counts, setup = tier_portfolio(n_groups, n_companies, rounds)
    took = statistics.median(r["seconds"] for r in runs)
    rows.append(metric("tier_portfolio", took, "s"))
    rows.append(metric("tier_groups_per_s", n_groups / took, "groups/s"))
    rows.append(metric("tier_peak_rss", max(r["maxrss_kb"] for r in runs) / 1024, "MB"))
    print(f"({n_groups:,} groups, {counts['company']:,} companies, {counts['loan']:,} loans, "
          f"{counts['facility']:,} facilities, {counts['financial_statement']:,} statements; by tier "
          f"{runs[0]['by_tier']}; generated in {setup:.0f} s)")
    report("tiering", rows)


if __name__ == "__main__":
    main()
