"""The function registry (built-ins and functions registered from outside) and is_uscc."""
from datetime import date
from decimal import Decimal as D

import pytest

from dsl.diagnostics import Diagnostics
from dsl.expr import EvaluationError, compile_expression, functions
from dsl.expr.functions import Registry, Signature, TypeSet
from dsl.expr.types import BOOL, INTEGER, MONEY, NUMBER, STRING
from dsl.expr.uscc import CHARSET, check_character, is_uscc

from .expr_helpers import ENV, SCOPE, SPAN, compile_err, compile_ok, ev

REAL_CODES = ["91310000MA1FL8XQ6G",  # the sketch's example
              "914403001922038216", "9144030071526726XG", "91330100799655058B", "91110108551385082Q"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_have_valid_check_characters(code):
    assert is_uscc(code)
    assert check_character(code[:17]) == code[17]


@pytest.mark.parametrize("code", [
    "91310000MA1FL8XQ6H",   # wrong check character
    "91310000MA1FL8XQ6",    # 17 characters
    "91310000MA1FL8XQ6GG",  # 19
    "91310000MA1FL8XO6G",   # O is not in the character set
    "91310000ma1fl8xq6g",   # lower case
    "", None, 913100001234567890,
])
def test_invalid_codes(code):
    assert not is_uscc(code)


def test_every_single_character_change_is_caught():
    code = REAL_CODES[0]
    for i in range(18):
        for ch in CHARSET:
            if ch != code[i]:
                assert not is_uscc(code[:i] + ch + code[i + 1:])


def test_is_uscc_in_an_expression(company):
    assert ev("is_uscc(credit_code)", company) is True
    company["credit_code"] = "91310000MA1FL8XQ6H"
    assert compile_ok("is_uscc(credit_code)").test(company) is False


@pytest.mark.parametrize("text,value", [
    ("abs(-3)", 3), ("abs(0 - 5万)", D(50000)), ("round(2.345, 2)", D("2.35")), ("round(2.5)", D(3)),
    ("round(-2.5)", D(-3)), ("round(7)", 7), ("len('华东建材')", 4), ("lower('ABC')", "abc"),
    ("upper('abc')", "ABC"), ("contains('华东建材', '建材')", True), ("starts_with('9131', '91')", True),
    ("ends_with('abc', 'x')", False), ("year(date('2026-03-31'))", 2026), ("month(2026-03-31)", 3),
    ("quarter(2026-08-01)", 3), ("days_between(2026-01-01, 2026-03-01)", 59), ("trim('  a ')", "a"),
    ("band('strong', {weak: 20, stable: 60, strong: 90})", 90),
    ("band(75%, {0: 10, 50%: 40, 70%: 80})", 80), ("band(0.2, {0.5: 1})", None),
    ("add_months(2026-01-31, 1)", date(2026, 2, 28)), ("add_months(2026-02-28, 12)", date(2027, 2, 28)),
    ("add_months(2026-09-30, -6)", date(2026, 3, 31)), ("add_months(2026-12-05, 36)", date(2029, 12, 5)),
])
def test_builtins(text, value):
    assert ev(text) == value


def test_builtins_on_fields(company):
    assert ev("contains(products, 'fx')", company) is True
    assert ev("len(loans)", company) == 4
    assert ev("band(tier, {strategic_core: 90, stable: 50})", company) == 90


@pytest.mark.parametrize("text,code", [
    ("is_uscc(net_assets)", "BNY305"), ("round('x')", "BNY305"), ("abs()", "BNY304"),
    ("year(1, 2)", "BNY304"), ("coalesce(name, 1)", "BNY305"), ("band(name, {0.5: 1})", "BNY305"),
    ("band(1, {a: 1, 2: 3})", "BNY305"), ("contains(products, 1)", "BNY305"), ("is_usc(name)", "BNY303"),
    ("today", "BNY302"),
])
def test_function_errors(text, code):
    diags = compile_err(text)
    assert diags[0].code == code


def test_unknown_function_suggests():
    diags = compile_err("is_usc(credit_code)")
    assert diags[0].hint == "did you mean `is_uscc`?"


def test_registering_a_function_from_another_package(company):
    registry = functions.REGISTRY.copy()
    calls = []

    def shell_score(name, assets):
        calls.append(name)
        return 80 if assets < 1000 else 10

    registry.register("shell_score", Signature((STRING, MONEY), INTEGER), shell_score, pure=False,
                      doc="how much a company looks like a shell")
    diags = Diagnostics()
    expr = compile_expression("shell_score(name, net_assets) > 50", span=SPAN, scope=SCOPE, env=ENV,
                              diags=diags, registry=registry)
    assert expr is not None and expr(company) is False and calls == ["华东建材有限公司"]
    company["net_assets"] = None  # nulls propagate without calling the function
    assert expr(company) is None and len(calls) == 1
    # the process-wide registry does not know it
    assert compile_err("shell_score(name, net_assets) > 50")[0].code == "BNY303"
    # wrong argument types are caught against the declared signature
    diags = Diagnostics()
    assert compile_expression("shell_score(net_assets, name)", span=SPAN, scope=SCOPE, env=ENV, diags=diags,
                              registry=registry) is None
    assert {d.code for d in diags} == {"BNY305"}


def test_return_type_computed_from_arguments_and_global_register():
    name = "test_double_it"
    if functions.lookup(name) is None:
        functions.register(name, Signature((TypeSet("a number", frozenset({"number", "integer", "money"})),),
                                           lambda types: types[0]), lambda x: x * 2)
    assert compile_ok(f"{name}(3万)").type == MONEY
    assert compile_ok(f"{name}(3)").type == INTEGER
    assert ev(f"{name}(2.5)") == D(5)
    with pytest.raises(ValueError):
        functions.register(name, Signature((NUMBER,), NUMBER), abs)
    with pytest.raises(ValueError):
        functions.register("sum", Signature((NUMBER,), NUMBER), abs)


def test_function_raising_becomes_evaluation_error(company):
    registry = Registry()
    registry.register("explode", Signature((STRING,), BOOL), lambda s: 1 / 0, pure=False)
    expr = compile_expression("explode(name)", span=SPAN, scope=SCOPE, env=ENV, diags=Diagnostics(),
                              registry=registry)
    with pytest.raises(EvaluationError) as info:
        expr(company)
    err = info.value
    assert err.text == "explode(name)" and err.span == SPAN and err.reason == "division"
    assert "ZeroDivisionError" not in err.render("en") and "除数为零" in err.render("zh")
    assert isinstance(err.__cause__, ZeroDivisionError)           # for developers, never shown


def test_pure_function_with_literal_arguments_is_folded():
    calls = []
    registry = Registry()
    registry.register("seven", Signature((INTEGER,), INTEGER), lambda x: calls.append(x) or 7)
    expr = compile_expression("seven(1) + 1", span=SPAN, scope={}, env=ENV, diags=Diagnostics(), registry=registry)
    assert calls == [1] and expr({}) == 8 and expr({}) == 8 and calls == [1]


def test_bad_data_gives_evaluation_error_not_traceback(company):
    company["net_assets"] = "not money"
    with pytest.raises(EvaluationError) as info:
        compile_ok("net_assets > 5亿")(company)
    assert info.value.reason == "wrong_kind" and "TypeError" not in info.value.message
    with pytest.raises(EvaluationError):
        compile_ok("name == 'x'")(None)
    company["name"] = None  # declared required, yet missing
    with pytest.raises(EvaluationError) as info:
        compile_ok("len(name) > 3")(company)
    assert "missing" in info.value.message


def test_date_from_context_today(company):
    assert ev("today() > founded", company) is True
    assert ev("date(updated_at)", company) == date(2026, 11, 1)


def test_function_raising_key_error_is_still_an_evaluation_error(company):
    registry = Registry()
    registry.register("lookup_rating", Signature((STRING,), STRING), lambda s: {}[s], pure=False)
    expr = compile_expression("lookup_rating(name) == 'A'", span=SPAN, scope=SCOPE, env=ENV, diags=Diagnostics(),
                              registry=registry)
    with pytest.raises(EvaluationError) as info:
        expr(company)
    assert info.value.reason == "failed" and isinstance(info.value.__cause__, KeyError)


def test_a_function_may_read_the_evaluation_context():
    from dsl.expr import functions as fns
    from dsl.expr.types import BOOL, STRING
    reg = fns.REGISTRY.copy()
    reg.register("flagged", fns.Signature((STRING,), BOOL), lambda ctx, code: code in ctx.get("$flags", ()),
                 uses_context=True)
    expr = compile_ok("flagged(name) and flagged('x')", registry=reg)
    assert expr({"name": "a", "$flags": {"a", "x"}}) is True
    assert expr({"name": "a", "$flags": {"a"}}) is False
    assert reg.get("flagged").pure is False  # never folded: its value depends on the context


@pytest.mark.parametrize("text,code,hint", [
    ("band(tier, {strategic_core: 90, core: 50})", "BNY309", "values: strategic_core, high_potential, stable, adjust"),
    ("band(tier, {stabel: 50})", "BNY309", "did you mean `stable`?"),
    ("band(debt_ratio, {0: 'low', 70: 'high'})", "BNY305", "write 70%"),
    ("band(employees, {0: 'small', 100万: 'large'})", "BNY305", None),
    ("band(net_assets, {0: 'small', 50%: 'large'})", "BNY305", None),
])
def test_band_keys_are_checked_against_the_value(text, code, hint):
    """An enum is banded by its own values; thresholds are in the value's unit."""
    diags = compile_err(text)
    assert diags[0].code == code
    if hint is not None:
        assert diags[0].hint == hint


def test_band_keys_in_the_values_unit_compile():
    for text in ("band(debt_ratio, {0%: 'low', 70%: 'high'})", "band(net_assets, {0: 'small', 1亿: 'large'})",
                 "band(employees, {0: 'small', 300: 'large'})", "band(tier, {strategic_core: 90, stable: 50})"):
        compile_ok(text)
