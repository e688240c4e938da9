"""dsl/expr/trace.py: the value of every sub-expression, from a tracing compilation of the same
checked tree. The property: traced and plain evaluation agree on random data, nulls and
failures included."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from dsl.expr import EvaluationError
from dsl.expr.trace import NOT_EVALUATED, text_of, traced

from .expr_helpers import NOW, compile_ok, fs
from .test_expr_properties import VALID

EXPRESSIONS = VALID + [
    "debt_ratio > 70% or net_assets / employees > 100万",
    "net_assets / revenue >= 50% and score between 10 and 90",
    "not watch and (listed or employees > 100)",
    "count(latest 2 of financials) >= 2 and all(latest 2 of financials, f -> f.operating_cash_flow < 0)",
    "max(loans, l -> l.overdue_days) > 90 or sum(loans, l -> l.balance) > 1亿",
    "-score < 0 and tier in ['stable', 'adjust']",
]

money = st.one_of(st.none(), st.decimals(-10**9, 10**9, places=2, allow_nan=False))
percent = st.one_of(st.none(), st.decimals(0, 2, places=4, allow_nan=False))
maybe_int = st.one_of(st.none(), st.integers(-5, 2000))


@st.composite
def companies(draw):
    n = draw(st.integers(0, 4))
    financials = [fs(date(2025, 3 * (i % 4) + 3, 28), draw(money)) for i in range(n)]
    loans = [{"balance": draw(st.decimals(0, 10**8, places=2, allow_nan=False)),
              "status": draw(st.sampled_from(["active", "closed"])), "overdue_days": draw(maybe_int),
              "product": draw(st.sampled_from(["a", "b", None]))} for _ in range(draw(st.integers(0, 3)))]
    return {"name": "华东", "credit_code": None, "debt_ratio": draw(percent), "net_assets": draw(money),
            "revenue": draw(money), "employees": draw(maybe_int), "listed": draw(st.one_of(st.none(), st.booleans())),
            "watch": draw(st.one_of(st.none(), st.booleans())), "score": draw(money),
            "tier": draw(st.sampled_from(["strategic_core", "stable", "adjust", None])),
            "founded": date(2008, 5, 12), "updated_at": NOW, "group": None, "financials": financials,
            "loans": loans, "transactions": [], "products": [], "$now": NOW}


def plain(expr, ctx):
    try:
        return expr(ctx), None
    except EvaluationError as exc:
        return None, str(exc)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(EXPRESSIONS), companies())
def test_traced_and_plain_evaluation_agree(text, ctx):
    expr = compile_ok(text)
    value, error = plain(expr, ctx)
    trace = traced(expr).run(ctx)
    assert (trace.value, trace.error) == (value, error)
    if error is None:
        assert trace.steps[0].value == value            # the root is the expression itself
        assert trace.steps[0].depth == 0 and trace.steps[0].text == text_of(expr.checked.root)


def test_the_steps_name_each_part_with_its_value_and_what_was_skipped():
    expr = compile_ok("debt_ratio > 70% and net_assets > 5亿")
    trace = traced(expr).run({"debt_ratio": D("0.65"), "net_assets": D("800000000")})
    steps = [(s.text, s.value, s.depth) for s in trace.steps]
    assert steps[0] == ("debt_ratio > 70% and net_assets > 5亿", False, 0)
    assert ("debt_ratio > 70%", False, 1) in steps and ("debt_ratio", D("0.65"), 2) in steps
    skipped = [s for s in trace.steps if s.text == "net_assets > 5亿"]
    assert skipped and skipped[0].value is NOT_EVALUATED and not skipped[0].evaluated
    nulls = traced(expr).run({"debt_ratio": None, "net_assets": None})
    assert nulls.value is None and [s.value for s in nulls.steps if s.text == "debt_ratio"] == [None]


def test_text_of_reads_as_written():
    for text in EXPRESSIONS:
        expr = compile_ok(text)
        again = compile_ok(text_of(expr.checked.root))           # it parses back to the same meaning
        assert text_of(again.checked.root) == text_of(expr.checked.root)
