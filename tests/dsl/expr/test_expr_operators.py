"""Operators: values and the typing rules (money, percent, dates, enums, conditions)."""
from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from dsl.expr.types import BOOL, DURATION, INTEGER, MONEY, NUMBER, PERCENT, STRING, enum

from .expr_helpers import compile_err, compile_ok, ev


@pytest.mark.parametrize("text,type_", [
    ("net_assets + revenue", MONEY), ("net_assets - 100", MONEY), ("net_assets * debt_ratio", MONEY),
    ("debt_ratio * net_assets", MONEY), ("2 * net_assets", MONEY), ("net_assets / revenue", NUMBER),
    ("net_assets / 2", MONEY), ("debt_ratio - 5%", PERCENT), ("employees * 2", INTEGER),
    ("employees / 2", NUMBER), ("score + employees", NUMBER), ("founded - date('2000-01-01')", DURATION),
    ("name + '集团'", STRING), ("-net_assets", MONEY), ("2d * 3", DURATION),
])
def test_arithmetic_types(text, type_):
    assert compile_ok(text).type == type_


@pytest.mark.parametrize("text", [
    "net_assets + debt_ratio", "net_assets * revenue", "debt_ratio / net_assets", "name + 1",
    "founded + 5", "-name", "listed + 1", "founded * 2",
])
def test_arithmetic_type_errors(text):
    assert [d.code for d in compile_err(text)] == ["BNY305"]


def test_arithmetic_values(company):
    assert ev("net_assets * debt_ratio", company) == D("432000000")
    assert ev("net_assets / revenue", company) == D("0.5")
    assert ev("employees / 4", company) == D("212.5")
    assert ev("7 / 2") == D("3.5")
    assert ev("founded + 2d", company) == date(2008, 5, 14)
    assert ev("founded + 3 months", company) == date(2008, 8, 12)
    assert ev("date('2026-08-31') - 6 months") == date(2026, 2, 28)
    assert ev("date('2026-03-02') - date('2026-03-01')") == timedelta(days=1)
    assert ev("1 + 2 * 3 - 4") == 3
    assert ev("(1 + 2) * 3") == 9


def test_division_by_zero_is_null(company):
    assert ev("net_assets / 0", company) is None
    assert ev("net_assets / (revenue - revenue)", company) is None
    assert compile_ok("net_assets / 2").nullable is True  # net_assets itself may be null
    assert compile_ok("10 / 4").nullable is False


@pytest.mark.parametrize("text,expected", [
    ("debt_ratio > 70%", True), ("debt_ratio >= 72%", True), ("debt_ratio < 0.5", False),
    ("net_assets > 5亿", True), ("net_assets <= 6亿", True), ("net_assets == 600000000", True),
    ("net_assets != 6亿", False), ("tier == 'strategic_core'", True), ("tier != 'stable'", True),
    ("name == '华东建材有限公司'", True), ("founded < date('2010-01-01')", True),
    ("updated_at > date('2026-10-31')", True), ("updated_at < 2026-11-01", False),
    ("employees between 100 and 1000", True), ("debt_ratio between 50% and 70%", False),
    ("tier in ['strategic_core', 'high_potential']", True), ("tier not in ['stable', 'adjust']", True),
    ("employees in [1, 2, 3]", False), ("listed", True), ("not listed", False),
    ("listed and debt_ratio > 70%", True), ("listed or false", True),
    ("if debt_ratio > 70% then 'high' else 'low'", "high"),
    ("if founded < date('2000-01-01') then 1 else 2", 2),
])
def test_comparisons_and_logic(company, text, expected):
    assert ev(text, company) == expected


@pytest.mark.parametrize("text", [
    "net_assets > debt_ratio", "founded > 5", "name > 1", "listed > true", "tier < 'stable'",
    "net_assets == 'x'", "employees in ['a']",
])
def test_comparison_type_errors(text):
    assert compile_err(text)[0].code == "BNY305"


def test_enum_literal_must_be_a_value():
    diags = compile_err("tier == 'strategc_core'")
    assert diags[0].code == "BNY309" and "strategic_core" in diags[0].hint
    assert compile_err("tier in ['stable', 'stabel']")[0].code == "BNY309"
    assert compile_err("'bogus' != tier")[0].code == "BNY309"


def test_equality_with_null_is_a_null_test_and_ordering_with_null_is_refused():
    assert ev("debt_ratio == null", {"debt_ratio": None}) is True
    assert ev("debt_ratio != null", {}) is False
    assert ev("null != debt_ratio", {"debt_ratio": D("0.5")}) is True
    diags = compile_err("debt_ratio > null")
    assert diags[0].code == "BNY305" and "is_null(debt_ratio)" in diags[0].hint


def test_conditions_must_be_bool():
    assert compile_err("net_assets and listed")[0].code == "BNY306"
    assert compile_err("not name")[0].code == "BNY306"
    assert compile_err("if net_assets then 1 else 2")[0].code == "BNY306"
    assert compile_err("net_assets", expected=BOOL)[0].code == "BNY306"


def test_expected_type():
    assert compile_ok("net_assets / revenue", expected=PERCENT).type == NUMBER
    assert compile_ok("employees", expected=NUMBER)
    assert compile_ok("0", expected=MONEY)
    assert compile_err("name", expected=MONEY)[0].code == "BNY311"
    assert compile_err("debt_ratio > 1", expected=NUMBER)[0].code == "BNY311"
    assert compile_err("'stabel'", expected=enum(["stable", "adjust"]))[0].code == "BNY309"


def test_if_branches_must_agree():
    assert compile_err("if listed then 1 else 'x'")[0].code == "BNY305"
    assert compile_ok("if listed then net_assets else null").type == MONEY


def test_comparisons_do_not_chain():
    diags = compile_err("1 < employees < 3")
    assert diags[0].code == "BNY301" and "between" in diags[0].hint
