"""Aggregates, filters, distinct, projections, latest() and windows over a fixed now."""
from datetime import date, datetime
from decimal import Decimal as D

import pytest

from dsl.expr import EvaluationError
from dsl.expr.types import INTEGER, MONEY, NUMBER, ListType

from .expr_helpers import NOW, compile_err, compile_ok, ev


def test_sum_count_avg_min_max(company):
    assert ev("sum(loans, l -> l.balance)", company) == D(60000000)
    assert ev("sum(loans where l -> l.status == 'active', l -> l.balance)", company) == D(50000000)
    assert ev("count(loans)", company) == 3
    assert ev("count(loans, l -> l.overdue_days > 90)", company) == 1
    assert ev("count(loans where l -> l.status == 'active')", company) == 2
    assert ev("avg(loans, l -> l.balance)", company) == D(20000000)
    assert ev("min(loans, l -> l.balance)", company) == D(10000000)
    assert ev("max(financials, f -> f.period_end)", company) == date(2026, 9, 30)
    assert compile_ok("sum(loans, l -> l.balance)").type == MONEY
    assert compile_ok("avg(loans, l -> l.overdue_days)").type == NUMBER
    assert compile_ok("count(loans)").type == INTEGER


def test_any_all(company):
    assert ev("any(loans, l -> l.overdue_days > 90)", company) is True
    assert ev("all(loans, l -> l.balance > 1000万)", company) is False
    assert ev("all(financials, f -> f.total_assets > 0)", company) is True


def test_distinct(company):
    assert ev("count(distinct products)", company) == 3
    assert ev("count_distinct(products)", company) == 3
    assert ev("count(distinct loans, l -> l.product)", company) == 2
    assert ev("count(distinct loans where l -> l.status == 'active', l -> l.product)", company) == 2
    diags = compile_err("count(distinct loans)")
    assert diags[0].code == "BNY305" and "p -> p.code" in diags[0].hint
    assert compile_err("sum(distinct loans, l -> l.balance)")[0].code == "BNY305"


def test_projection_and_aggregates_without_a_function(company):
    assert compile_ok("financials.operating_cash_flow").type == ListType("list", MONEY)
    assert ev("sum(financials.operating_cash_flow)", company) == D(-22000000)
    assert ev("max(financials.total_liabilities)", company) == D(75)


def test_nested_lambdas(company):
    company["loans"] = [{"balance": D(1), "overdue_days": 1}, {"balance": D(2), "overdue_days": 2}]
    text = "count(loans, l -> any(financials, f -> f.total_liabilities > l.balance * 30))"
    assert ev(text, company) == 2


def test_latest(company):
    assert ev("latest(financials).period_end", company) == date(2026, 9, 30)
    assert ev("latest(financials).total_liabilities / latest(financials).total_assets", company) == D("0.75")
    company["financials"] = []
    assert ev("latest(financials).total_assets", company) is None


def test_last_quarters_window(company):
    text = "all(last 2 quarters of financials, f -> f.operating_cash_flow < 0)"
    assert ev(text, company) is True
    assert ev("all(last 4 quarters of financials, f -> f.operating_cash_flow < 0)", company) is False
    assert ev("count(last 2 quarters of financials)", company) == 2
    assert ev("count(last 1 year of financials)", company) == 4


def test_window_boundaries_are_half_open(company):
    company["$now"] = datetime(2026, 12, 31)
    # (2026-06-30, 2026-12-31]: the June statement is out, September in.
    assert ev("count(last 2 quarters of financials)", company) == 1
    company["$now"] = date(2026, 9, 30)  # a date stands for its midnight
    assert ev("count(last 2 quarters of financials)", company) == 2


def test_within_durations(company):
    assert ev("count(transactions within 24h)", company) == 1
    assert ev("sum(transactions within 3 days, t -> t.amount)", company) == D(2500000)
    assert ev("count(last 7 days of transactions)", company) == 2
    assert ev("count(transactions within 6 months)", company) == 3


def test_window_projection(company):
    assert ev("last 2 quarters of financials.operating_cash_flow", company) == [D(-12000000), D(-8000000)]


def test_now_from_clock_when_context_has_none(company):
    del company["$now"]
    expr = compile_ok("count(transactions within 24h)", clock=lambda: NOW)
    assert expr(company) == 1
    with pytest.raises(EvaluationError) as info:
        compile_ok("count(transactions within 24h)")(company)
    assert "$now" in str(info.value) and info.value.span.line == 7


def test_today(company):
    assert ev("today()", company) == date(2026, 11, 15)
    assert ev("days_between(founded, today())", company) == (date(2026, 11, 15) - date(2008, 5, 12)).days


@pytest.mark.parametrize("text,code", [
    ("sum(name, x -> x)", "BNY310"), ("count(net_assets)", "BNY310"), ("name within 2d", "BNY310"),
    ("loans within 2d", "BNY305"), ("financials within 5", "BNY305"), ("sum(loans, 3)", "BNY305"),
    ("sum(loans)", "BNY305"), ("any(loans, l -> l.balance)", "BNY306"), ("count(loans, l -> l.balanse > 1)", "BNY307"),
    ("sum(loans, l -> l.balance, 3)", "BNY304"), ("latest(loans)", "BNY305"), ("l -> l.balance", "BNY301"),
    ("abs(x -> x)", "BNY305"), ("loans.balance", None), ("min(3)", "BNY304"),
])
def test_collection_errors(text, code):
    if code is None:
        compile_ok(text)
    else:
        assert compile_err(text)[0].code == code


def test_scalar_min_max(company):
    assert ev("min(100, employees / 10)", company) == D(85)
    assert ev("max(debt_ratio, 80%, 10%)", company) == D("0.80")
    assert ev("min(5, 3, 9)") == 3


def test_referenced_fields_and_names():
    from dsl.expr import referenced_fields
    expr = compile_ok("group.lead_branch.name == 'x' and sum(loans, l -> l.balance) > 0 and listed")
    assert expr.names == frozenset({"group", "loans", "listed"})
    assert ("group", "lead_branch", "name") in referenced_fields(expr)
    assert ("loans", "balance") in referenced_fields(expr)


def test_latest_n_counts_records_not_the_calendar(company):
    """`latest 2 of financials`: the two newest statements however late they were filed (Q3 not
    yet in on 2026-10-15 still leaves Q2 and Q1), newest first; one dated after now is not there yet."""
    company["$now"] = datetime(2027, 4, 15)                 # nothing filed for two quarters
    assert ev("count(last 2 quarters of financials)", company) == 0
    assert ev("count(latest 2 of financials)", company) == 2
    assert ev("latest 2 of financials.period_end", company) == [date(2026, 9, 30), date(2026, 6, 30)]
    assert ev("all(latest 2 of financials, f -> f.operating_cash_flow < 0)", company) is True
    company["$now"] = date(2026, 8, 1)                      # September's statement is in the future
    assert ev("latest 1 of financials.period_end", company) == [date(2026, 6, 30)]
    assert ev("latest(financials).period_end", company) == date(2026, 9, 30)     # latest() alone is unchanged
    assert compile_ok("latest 2 of financials").type == compile_ok("financials").type
    assert compile_err("latest 0 of financials")[0].code == "BNY305"
    assert compile_err("latest 2 of name")[0].code == "BNY310"


def test_latest_n_over_dates_and_datetimes_keeps_the_list_order_on_a_tie():
    """Dates compare as their midnights, with datetimes among them too; two records of the same
    time keep the order they had in the list; one after now is left out."""
    from dsl.expr.runtime import latest_n
    now = datetime(2026, 6, 30, 12, 0)
    a, b, c = {"t": date(2026, 3, 31), "n": "a"}, {"t": date(2026, 3, 31), "n": "b"}, {"t": date(2026, 6, 30), "n": "c"}
    late, none = {"t": date(2026, 7, 1), "n": "late"}, {"t": None, "n": "none"}
    assert [r["n"] for r in latest_n([a, late, b, none, c], "t", 3, now)] == ["c", "a", "b"]
    noon, evening = {"t": datetime(2026, 6, 30, 9, 0), "n": "noon"}, {"t": datetime(2026, 6, 30, 18, 0), "n": "evening"}
    assert [r["n"] for r in latest_n([a, c, noon, evening], "t", 2, now)] == ["noon", "c"]     # c: midnight
    assert latest_n(None, "t", 2, now) is None and latest_n([], "t", 2, now) == []


def test_units_that_cannot_slip():
    """`debt_ratio > 75` means 7,500%: an error with the fix; a count against money too."""
    (d,) = compile_err("debt_ratio > 75")
    assert d.code == "BNY305" and "7,500%" in d.message and d.hint == "write 75%"
    assert compile_err("75 <= debt_ratio")[0].hint == "write 75%"
    assert compile_err("debt_ratio between 0.5 and 90")[0].hint == "write 90%"
    assert compile_ok("debt_ratio > 75%") and compile_ok("debt_ratio > 0.75") and compile_ok("debt_ratio >= 1")
    (c,) = compile_err("count(loans) > 10亿")
    assert c.code == "BNY305" and "amount of money" in c.message
    assert compile_err("employees > revenue")[0].code == "BNY305"
    assert compile_ok("revenue > 0") and compile_ok("count(loans) > 10") and compile_ok("revenue > 10亿")
