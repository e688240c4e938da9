"""The null rules of dsl/expr/README.md, as a table."""
import pytest

from dsl.expr.types import BOOL, MONEY, FieldInfo

from .expr_helpers import SCOPE, compile_ok, ev

T, F, N = True, False, None
SCOPE3 = {"a": FieldInfo(BOOL), "b": FieldInfo(BOOL), "x": FieldInfo(MONEY), "y": FieldInfo(MONEY)}


@pytest.mark.parametrize("a,b,and_,or_", [
    (T, T, T, T), (T, F, F, T), (T, N, N, T),
    (F, T, F, T), (F, F, F, F), (F, N, F, N),
    (N, T, N, T), (N, F, F, N), (N, N, N, N),
])
def test_three_valued_and_or(a, b, and_, or_):
    ctx = {"a": a, "b": b}
    assert compile_ok("a and b", scope=SCOPE3)(ctx) is and_
    assert compile_ok("a or b", scope=SCOPE3)(ctx) is or_


def test_three_valued_logic_with_a_non_nullable_side():
    assert ev("x > 1 and true", {"x": None}, scope=SCOPE3) is None
    assert ev("false and x > 1", {"x": None}, scope=SCOPE3) is False
    assert ev("true or x > 1", {"x": None}, scope=SCOPE3) is True
    assert ev("x > 1 or false", {"x": None}, scope=SCOPE3) is None


@pytest.mark.parametrize("text", ["not a", "x + 1", "x - y", "x * 2", "x / 2", "-x", "x > 1", "x == y",
                                  "x != 0", "x between 1 and 2", "x in [1, 2]", "x not in [1]", "abs(x)",
                                  "round(x)"])
def test_null_in_null_out(text):
    assert compile_ok(text, scope=SCOPE3)({"a": None, "x": None, "y": 5}) is None


def test_null_condition_does_not_fire():
    expr = compile_ok("x > 100", scope=SCOPE3)
    assert expr({"x": None}) is None
    assert expr.test({"x": None}) is False
    assert expr.test({"x": 101}) is True
    assert expr.test({"x": 1}) is False


def test_if_with_null_condition_takes_else():
    assert ev("if a then 1 else 2", {"a": None}, scope=SCOPE3) == 2


def test_missing_keys_are_null():
    assert ev("x + 1", {}, scope=SCOPE3) is None


def test_is_null_and_coalesce():
    assert ev("is_null(x)", {"x": None}, scope=SCOPE3) is True
    assert ev("is_null(x)", {"x": 0}, scope=SCOPE3) is False
    assert compile_ok("is_null(x)", scope=SCOPE3).nullable is False
    assert ev("coalesce(x, y, 0)", {"x": None, "y": None}, scope=SCOPE3) == 0
    assert ev("coalesce(x, y)", {"x": None, "y": 7}, scope=SCOPE3) == 7


def test_null_record_field_is_null(company):
    company["group"] = {"name": "g", "lead_branch": None}
    assert ev("group.lead_branch.name", company) is None
    company["group"] = None
    assert ev("group.name", company) is None
    assert ev("is_null(group.lead_branch)", company) is True


def test_aggregates_skip_nulls(company):
    company["loans"] = [{"balance": 5, "overdue_days": None}, None, {"balance": 7, "overdue_days": 3}]
    assert ev("count(loans)", company) == 2
    assert ev("sum(loans, l -> l.overdue_days)", company) == 3
    assert ev("avg(loans, l -> l.overdue_days)", company) == 3
    assert ev("count(loans, l -> l.overdue_days > 1)", company) == 1
    assert ev("all(loans, l -> l.overdue_days > 1)", company) is True
    assert ev("any(loans, l -> l.overdue_days > 5)", company) is False


def test_empty_and_null_collections(company):
    for value in ([], None):
        company["loans"] = value
        assert ev("sum(loans, l -> l.balance)", company) == 0
        assert ev("count(loans)", company) == 0
        assert ev("avg(loans, l -> l.balance)", company) is None
        assert ev("min(loans, l -> l.balance)", company) is None
        assert ev("max(loans, l -> l.balance)", company) is None
        assert ev("any(loans, l -> l.balance > 0)", company) is False
        assert ev("all(loans, l -> l.balance > 0)", company) is True
    assert SCOPE["loans"].nullable


def test_records_missing_a_field_read_it_as_null(company):
    company["financials"] = [{"period_end": None}, {"period_end": None, "operating_cash_flow": -1}]
    assert ev("count(financials, f -> f.operating_cash_flow < 0)", company) == 1
    assert ev("sum(financials, f -> f.total_assets)", company) == 0
    del company["group"]
    assert ev("group.name", company) is None
