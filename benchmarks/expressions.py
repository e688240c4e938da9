"""Expression evaluation speed: Banyan compiled expressions vs hand-written Python lambdas and
vs the rule-engine package (5.1.0), on 20 bank alert conditions over generated company records
with 8 quarterly financial statements each.

    .venv/bin/python benchmarks/expressions.py [--quick]

Prints a table and writes benchmarks/results/expressions.json. All three run side by side in
one process on the same records; each figure is the median of several repeats.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import date, datetime
from decimal import Decimal as D
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import rule_engine  # noqa: E402

from dsl.diagnostics import Diagnostics  # noqa: E402
from dsl.expr import compile_expression  # noqa: E402
from dsl.expr.types import (  # noqa: E402
    BOOL,
    DATE,
    INTEGER,
    MONEY,
    NUMBER,
    PERCENT,
    STRING,
    FieldInfo,
    TypeEnv,
    enum,
    list_of,
    record,
)
from dsl.source import Span  # noqa: E402

NOW = datetime(2026, 11, 15, 9, 0)
CUT_2Q = date(2026, 5, 15)   # NOW − 2 quarters, for the hand-written and rule-engine versions
CUT_4Q = date(2025, 11, 15)  # NOW − 4 quarters
TIERS = ["strategic_core", "high_potential", "stable", "adjust"]
RATINGS = ["AAA", "AA", "A", "BBB", "BB", "B", "C", "D"]
INDUSTRIES = ["manufacturing", "real_estate", "energy", "retail", "logistics"]


def make_env() -> TypeEnv:
    company = {
        "name": FieldInfo(STRING, False), "debt_ratio": FieldInfo(PERCENT, False), "net_assets": FieldInfo(MONEY, False),
        "revenue": FieldInfo(MONEY, False), "revenue_last_year": FieldInfo(MONEY, False),
        "tier": FieldInfo(enum(TIERS), False), "listed": FieldInfo(BOOL, False),
        "overdue_days": FieldInfo(INTEGER, False), "rating": FieldInfo(enum(RATINGS)),
        "credit_used": FieldInfo(MONEY, False), "credit_limit": FieldInfo(MONEY, False),
        "interest_cover": FieldInfo(NUMBER), "litigation_amount": FieldInfo(MONEY),
        "controller_changed": FieldInfo(BOOL, False), "bureau_queries_6m": FieldInfo(INTEGER, False),
        "employees": FieldInfo(INTEGER, False), "founded": FieldInfo(DATE, False),
        "industry": FieldInfo(enum(INDUSTRIES), False), "guarantee_out": FieldInfo(MONEY, False),
        "financials": FieldInfo(list_of(record("financial_statement")), False),
    }
    fs = {"period_end": FieldInfo(DATE, False), "operating_cash_flow": FieldInfo(MONEY, False),
          "total_assets": FieldInfo(MONEY, False), "total_liabilities": FieldInfo(MONEY, False),
          "revenue": FieldInfo(MONEY, False)}
    return TypeEnv({"company": company, "financial_statement": fs},
                   time_fields={"financial_statement": "period_end"})


QUARTER_ENDS = [date(2024, 12, 31), date(2025, 3, 31), date(2025, 6, 30), date(2025, 9, 30), date(2025, 12, 31),
                date(2026, 3, 31), date(2026, 6, 30), date(2026, 9, 30)]


def money(rng: random.Random, low: float, high: float) -> D:
    return D(int(rng.uniform(low, high)))


def make_records(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        assets = money(rng, 1e8, 5e10)
        fin = []
        for q in QUARTER_ENDS:
            a = assets * D(str(round(rng.uniform(0.9, 1.1), 3)))
            fin.append({"period_end": q, "operating_cash_flow": money(rng, -2e8, 3e8), "total_assets": a,
                        "total_liabilities": a * D(str(round(rng.uniform(0.3, 0.95), 3))),
                        "revenue": money(rng, 1e7, 2e9)})
        limit = money(rng, 1e8, 1e10)
        out.append({
            "name": f"company {i}", "debt_ratio": D(str(round(rng.uniform(0.2, 0.95), 4))),
            "net_assets": money(rng, 5e7, 2e10), "revenue": money(rng, 1e8, 8e9),
            "revenue_last_year": money(rng, 1e8, 8e9), "tier": rng.choice(TIERS), "listed": rng.random() < 0.3,
            "overdue_days": rng.choice([0] * 8 + [5, 20, 45, 95, 200]), "rating": rng.choice(RATINGS),
            "credit_used": limit * D(str(round(rng.uniform(0.1, 1.1), 3))), "credit_limit": limit,
            "interest_cover": D(str(round(rng.uniform(0.2, 8), 2))), "litigation_amount": money(rng, 0, 5e9),
            "controller_changed": rng.random() < 0.05, "bureau_queries_6m": rng.randint(0, 10),
            "employees": rng.randint(20, 20000), "founded": date(rng.randint(1990, 2025), rng.randint(1, 12), 1),
            "industry": rng.choice(INDUSTRIES), "guarantee_out": money(rng, 0, 1e10), "financials": fin,
            "$now": NOW,
        })
    return out


def _latest(fs):
    return max(fs, key=lambda f: f["period_end"])


# (name, Banyan, hand-written Python, rule-engine or None)
CASES = [
    ("debt_ratio", "debt_ratio > 70%", lambda r: r["debt_ratio"] > D("0.70"), "debt_ratio > 0.70"),
    ("small_core", "net_assets < 5亿 and tier == 'strategic_core'",
     lambda r: r["net_assets"] < 500000000 and r["tier"] == "strategic_core",
     'net_assets < 500000000 and tier == "strategic_core"'),
    ("overdue_orange", "overdue_days between 31 and 90", lambda r: 31 <= r["overdue_days"] <= 90,
     "overdue_days >= 31 and overdue_days <= 90"),
    ("overdue_red", "overdue_days > 90 or rating in ['C', 'D']",
     lambda r: r["overdue_days"] > 90 or r["rating"] in ("C", "D"), 'overdue_days > 90 or rating in ["C", "D"]'),
    ("limit_used", "credit_used / credit_limit >= 85%", lambda r: r["credit_used"] / r["credit_limit"] >= D("0.85"),
     "credit_used / credit_limit >= 0.85"),
    ("revenue_drop", "revenue < revenue_last_year * 80%", lambda r: r["revenue"] < r["revenue_last_year"] * D("0.8"),
     "revenue < revenue_last_year * 0.8"),
    ("litigation", "litigation_amount > net_assets * 30%",
     lambda r: r["litigation_amount"] is not None and r["litigation_amount"] > r["net_assets"] * D("0.3"),
     "litigation_amount > net_assets * 0.3"),
    ("interest_cover", "interest_cover < 1 and listed", lambda r: r["interest_cover"] < 1 and r["listed"],
     "interest_cover < 1 and listed"),
    ("controller", "controller_changed or bureau_queries_6m > 6",
     lambda r: r["controller_changed"] or r["bureau_queries_6m"] > 6, "controller_changed or bureau_queries_6m > 6"),
    ("tier_size", "tier not in ['adjust'] and employees >= 500",
     lambda r: r["tier"] not in ("adjust",) and r["employees"] >= 500, 'tier != "adjust" and employees >= 500'),
    ("listed_size", "if listed then net_assets > 10亿 else net_assets > 3亿",
     lambda r: r["net_assets"] > 1000000000 if r["listed"] else r["net_assets"] > 300000000,
     "(listed and net_assets > 1000000000) or (not listed and net_assets > 300000000)"),
    ("young_property", "founded > 2023-07-01 and industry == 'real_estate'",
     lambda r: r["founded"] > date(2023, 7, 1) and r["industry"] == "real_estate",
     'founded > d"2023-07-01" and industry == "real_estate"'),
    ("guarantees", "guarantee_out > net_assets * 50% and rating != 'AAA'",
     lambda r: r["guarantee_out"] > r["net_assets"] * D("0.5") and r["rating"] != "AAA",
     'guarantee_out > net_assets * 0.5 and rating != "AAA"'),
    ("ocf_2q", "all(last 2 quarters of financials, f -> f.operating_cash_flow < 0)",
     lambda r: all(f["operating_cash_flow"] < 0 for f in r["financials"] if f["period_end"] > CUT_2Q),
     '$all([f.operating_cash_flow < 0 for f in financials if f.period_end > d"2026-05-15"])'),
    ("ocf_4q", "count(last 4 quarters of financials, f -> f.operating_cash_flow < 0) >= 3",
     lambda r: sum(1 for f in r["financials"] if f["period_end"] > CUT_4Q and f["operating_cash_flow"] < 0) >= 3,
     '[f for f in financials if f.period_end > d"2025-11-15" and f.operating_cash_flow < 0].length >= 3'),
    ("revenue_sum", "sum(financials, f -> f.revenue) > 50亿",
     lambda r: sum(f["revenue"] for f in r["financials"]) > 5000000000,
     "$sum([f.revenue for f in financials]) > 5000000000"),
    ("avg_leverage", "avg(financials, f -> f.total_liabilities / f.total_assets) > 65%",
     lambda r: sum(f["total_liabilities"] / f["total_assets"] for f in r["financials"]) / len(r["financials"]) > D("0.65"),
     "$sum([f.total_liabilities / f.total_assets for f in financials]) / financials.length > 0.65"),
    ("latest_leverage", "latest(financials).total_liabilities / latest(financials).total_assets > 70%",
     lambda r: _latest(r["financials"])["total_liabilities"] / _latest(r["financials"])["total_assets"] > D("0.7"),
     "financials[-1].total_liabilities / financials[-1].total_assets > 0.7"),
    ("liability_swing", "max(financials, f -> f.total_liabilities) > 2 * min(financials, f -> f.total_liabilities)",
     lambda r: max(f["total_liabilities"] for f in r["financials"]) > 2 * min(f["total_liabilities"] for f in r["financials"]),
     "$max([f.total_liabilities for f in financials]) > 2 * $min([f.total_liabilities for f in financials])"),
    ("big_outflow", "any(financials, f -> f.operating_cash_flow < -1亿)",
     lambda r: any(f["operating_cash_flow"] < -100000000 for f in r["financials"]),
     "$any([f.operating_cash_flow < -100000000 for f in financials])"),
]


def timed(fn, records, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        list(map(fn, records))
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer records and repeats (CI)")
    args = ap.parse_args()
    n, n_re, repeats = (3000, 300, 3) if args.quick else (20000, 2000, 5)
    records = make_records(n)
    env = make_env()
    scope = env.fields("company")
    rows, compile_b, compile_re = [], [], []
    for name, text, lam, re_text in CASES:
        diags = Diagnostics()
        t0 = time.perf_counter()
        expr = compile_expression(text, span=Span("bench.yaml", 1, 1), scope=scope, env=env, diags=diags, expected=BOOL)
        compile_b.append(time.perf_counter() - t0)
        if expr is None:
            raise SystemExit(f"{name}: {[d.message for d in diags]}")
        for r in records[:200]:  # the three agree before they are timed
            want = lam(r)
            if expr(r) != want:
                raise SystemExit(f"{name}: Banyan {expr(r)} != Python {want}")
        rule = None
        if re_text:
            t0 = time.perf_counter()
            rule = rule_engine.Rule(re_text)
            compile_re.append(time.perf_counter() - t0)
            for r in records[:50]:
                if bool(rule.evaluate(r)) != lam(r):
                    raise SystemExit(f"{name}: rule-engine disagrees")
        b = timed(expr, records, repeats) / n
        p = timed(lam, records, repeats) / n
        e = timed(rule.evaluate, records[:n_re], max(1, repeats // 2)) / n_re if rule else None
        rows.append((name, b, p, e))
    b_total = sum(r[1] for r in rows)
    p_total = sum(r[2] for r in rows)
    re_rows = [r for r in rows if r[3] is not None]
    b_re = sum(r[1] for r in re_rows)
    e_total = sum(r[3] for r in re_rows)

    print(f"{'expression':<18}{'banyan µs':>11}{'lambda µs':>11}{'rule-engine µs':>16}")
    for name, b, p, e in rows:
        print(f"{name:<18}{b * 1e6:>11.2f}{p * 1e6:>11.2f}{(e * 1e6 if e else float('nan')):>16.1f}")
    print(f"{'total':<18}{b_total * 1e6:>11.2f}{p_total * 1e6:>11.2f}{e_total * 1e6:>16.1f}")
    results = [
        {"metric": "eval_vs_lambda", "value": round(b_total * 1e6, 3), "unit": "µs per record, 20 rules",
         "baseline": "hand-written Python lambdas", "baseline_value": round(p_total * 1e6, 3),
         "ratio": round(p_total / b_total, 3)},
        {"metric": "eval_vs_rule_engine", "value": round(b_re * 1e6, 3),
         "unit": f"µs per record, {len(re_rows)} rules", "baseline": "rule-engine 5.1.0",
         "baseline_value": round(e_total * 1e6, 3), "ratio": round(e_total / b_re, 3)},
        {"metric": "compile_vs_rule_engine", "value": round(statistics.median(compile_b) * 1e3, 3),
         "unit": "ms per expression (median)", "baseline": "rule-engine 5.1.0 Rule()",
         "baseline_value": round(statistics.median(compile_re) * 1e3, 3),
         "ratio": round(statistics.median(compile_re) / statistics.median(compile_b), 3)},
        {"metric": "evaluations_per_second", "value": round(len(rows) / b_total),
         "unit": "rule evaluations/s", "baseline": "rule-engine 5.1.0",
         "baseline_value": round(len(re_rows) / e_total), "ratio": round(e_total / b_re, 3)},
    ]
    for r in results:
        print(f"{r['metric']:<26} {r['value']:>12} {r['unit']:<30} vs {r['baseline_value']} ({r['baseline']}): "
              f"ratio {r['ratio']}")
    out = ROOT / "benchmarks" / "results" / "expressions.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
