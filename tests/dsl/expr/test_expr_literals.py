"""Literals and units: money in 万/亿/元, percents, durations, periods, dates, text."""
from datetime import date, datetime, timedelta
from decimal import Decimal as D

import pytest

from dsl.expr import Period
from dsl.expr.types import DATE, DATETIME, DURATION, INTEGER, MONEY, NUMBER, PERCENT, PERIOD, STRING

from .expr_helpers import compile_err, compile_ok, ev


@pytest.mark.parametrize("text,value,type_", [
    ("42", 42, INTEGER), ("0.75", D("0.75"), NUMBER),
    ("5亿", D(500000000), MONEY), ("3000万", D(30000000), MONEY), ("1.5亿", D(150000000), MONEY),
    ("100元", D(100), MONEY), ("2.5万元", D(25000), MONEY), ("3亿元", D(300000000), MONEY),
    ("70%", D("0.70"), PERCENT), ("12.5%", D("0.125"), PERCENT),
    ("2d", timedelta(days=2), DURATION), ("24h", timedelta(hours=24), DURATION),
    ("30m", timedelta(minutes=30), DURATION), ("1w", timedelta(weeks=1), DURATION),
    ("90s", timedelta(seconds=90), DURATION), ("3 days", timedelta(days=3), DURATION),
    ("2 weeks", timedelta(weeks=2), DURATION), ("15min", timedelta(minutes=15), DURATION),
    ("3 months", Period(3), PERIOD), ("2 quarters", Period(6), PERIOD), ("1 year", Period(12), PERIOD),
    ("2026-03-31", date(2026, 3, 31), DATE), ("2026-03-31T10:30", datetime(2026, 3, 31, 10, 30), DATETIME),
    ("'华东'", "华东", STRING), ('"it\'s"', "it's", STRING), (r"'a\'b'", "a'b", STRING),
])
def test_literal_values_and_types(text, value, type_):
    expr = compile_ok(text)
    assert expr({}) == value
    assert expr.type == type_
    assert expr.nullable is False


def test_money_literals_print_as_whole_yuan():
    assert str(ev("5亿")) == "500000000"
    assert str(ev("1.5亿")) == "150000000"


def test_booleans_and_null():
    assert ev("true") is True and ev("false") is False and ev("null") is None


def test_date_function_is_folded_at_compile_time():
    expr = compile_ok("date('2026-03-31')")
    assert expr({}) == date(2026, 3, 31)
    assert "f" not in "".join(line for line in expr.source.splitlines() if "return" in line)


@pytest.mark.parametrize("text", ["2026-02-30", "2026-13-01", "date('2026-02-30')", "date('31/03/2026')"])
def test_impossible_dates_are_invalid_literals(text):
    diags = compile_err(text)
    assert [d.code for d in diags] == ["BNY308"]


def test_unit_letters_are_case_sensitive_and_m_is_minutes():
    assert ev("60m") == timedelta(hours=1)
    assert compile_err("3M")[0].code == "BNY301"


@pytest.mark.parametrize("text,says", [
    ("9" * 4301, "4,301 digits"),                       # int() would refuse it with a ValueError (lark VisitError)
    ("9" * 31 + "亿", "31 digits"), ("1." + "5" * 40 + "%", "41 digits"), ("9" * 31 + " days", "31 digits"),
    ("'" + "x" * 5000 + "'", "5,000 characters"),
])
def test_a_literal_larger_than_a_rule_needs_is_a_diagnostic(text, says):
    diags = compile_err(text)
    assert [d.code for d in diags] == ["BNY308"] and says in diags[0].message


def test_the_largest_literals_still_read():
    assert compile_ok("9" * 30)({}) == int("9" * 30)
    assert compile_ok("'" + "x" * 4096 + "'")({}) == "x" * 4096
