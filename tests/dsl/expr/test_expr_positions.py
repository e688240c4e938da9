"""Diagnostics point into the YAML file: an error at column k of an expression embedded at
line L, column C is reported at L:C+k-1 (and on the right line of a multi-line expression)."""
import pytest

from dsl.diagnostics import Diagnostics
from dsl.expr import compile_expression, parse_expression
from dsl.source import Span

from .expr_helpers import ENV, SCOPE


def first(text, line=12, col=20):
    diags = Diagnostics()
    assert compile_expression(text, span=Span("alerts/x.yaml", line, col), scope=SCOPE, env=ENV,
                              diags=diags) is None
    return diags.items[0]


@pytest.mark.parametrize("text,k,code", [
    ("debt_ratoi > 70%", 1, "BNY302"),
    ("listed and debt_ratoi > 70%", 12, "BNY302"),
    ("group.lead_brnch.name == 'x'", 7, "BNY307"),
    ("tier == 'stabel'", 9, "BNY309"),
    ("net_assets + debt_ratio", 12, "BNY305"),
    ("sum(loans, l -> l.status)", 17, "BNY305"),
    ("is_usc(credit_code)", 1, "BNY303"),
    ("debt_ratio > 70% and", 21, "BNY301"),
    ("debt_ratio = 1", 12, "BNY301"),
    ("net_assets > 5亿 and tier == 'stabel'", 29, "BNY309"),
    ("2026-02-30 < founded", 1, "BNY308"),
    ("count(loans, l -> l.overdue_days)", 19, "BNY306"),
])
def test_column_k_maps_to_col_plus_k_minus_1(text, k, code):
    d = first(text, line=12, col=20)
    assert d.code == code
    assert (d.span.file, d.span.line, d.span.col) == ("alerts/x.yaml", 12, 20 + k - 1)


def test_multi_line_expression_reports_the_right_line():
    text = "listed\n  and debt_ratoi > 70%"
    d = first(text, line=30, col=7)
    assert d.code == "BNY302"
    # line 2 of the text, column 7 of that line; block scalars keep the first line's indentation
    assert (d.span.line, d.span.col) == (31, 7 + 7 - 1)


def test_did_you_mean_for_names_fields_functions_and_enum_values():
    assert first("debt_ratoi > 1").hint == "did you mean `debt_ratio`?"
    assert first("group.nme == 'x'").hint == "did you mean `name`?"
    assert first("lastest(financials).total_assets > 0").hint == "did you mean `latest`?"
    assert first("tier == 'high_potentail'").hint == "did you mean `high_potential`?"
    assert first("count(loans, l -> l.overdue_dys > 90) > 0").hint == "did you mean `overdue_days`?"


def test_lambda_parameter_is_suggested():
    d = first("count(loans, loan -> lon.balance > 0) > 0")
    assert d.code == "BNY302" and d.hint == "did you mean `loan`?"


def test_all_errors_of_one_expression_are_reported():
    diags = Diagnostics()
    compile_expression("debt_ratoi > 1 and tier == 'stabel' and foo(1)", span=Span("f", 1, 1), scope=SCOPE,
                       env=ENV, diags=diags)
    assert [d.code for d in diags] == ["BNY302", "BNY309", "BNY303"]


@pytest.mark.parametrize("text,hint_part", [
    ("a AND b", "lower case"), ("x （ 1", "full-width"), ("a && b", "`and`"), ("'open", "quote"),
    ("", None),
])
def test_syntax_hints(text, hint_part):
    diags = Diagnostics()
    assert parse_expression(text, span=Span("f", 1, 1), diags=diags) is None
    assert diags.items[0].code == "BNY301"
    if hint_part:
        assert hint_part in diags.items[0].hint


def test_too_deep_nesting_is_a_diagnostic():
    diags = Diagnostics()
    assert parse_expression("(" * 200 + "1" + ")" * 200, span=Span("f", 1, 1), diags=diags) is None
    assert diags.items[0].code == "BNY301" and "nested" in diags.items[0].message


def test_long_flat_chains_compile():
    from .expr_helpers import compile_ok
    text = " or ".join(f"employees == {i}" for i in range(40))
    assert compile_ok(text)({"employees": 39}) is True
    assert compile_ok(" + ".join(["1"] * 40))({}) == 40


def test_a_hint_never_changes_the_meaning():
    """Only a slip is corrected: another word, a word more or fewer, or a one-letter change of a very
    short word is a different meaning, and the hint lists what there is instead."""
    d = first("annual_net_assets >= 10亿")                 # not `net_assets`: a word more is another figure
    assert d.code == "BNY302" and "did you mean" not in (d.hint or "") and "net_assets" in d.hint
    d = first("tier == 'core'")                            # not `strategic_core`
    assert d.code == "BNY309" and d.hint.startswith("values: ")
    d = first("tier == 'STABLE'")                          # case is a slip
    assert d.hint == "did you mean `stable`?"


@pytest.mark.parametrize("name,candidates,hint", [
    ("risk_manager", ["customer_manager", "relationship_manager"], None),
    ("annual_settlement_volume", ["settlement_volume"], None),
    ("Aa", ["A", "B"], None),
    ("Aa", ["AA", "A"], "AA"),
    ("aa-plus", ["aa_plus", "aa_minus"], "aa_plus"),
    ("aa_plsu", ["aa_plus", "aa_minus"], "aa_plus"),
    ("relationship_manger", ["relationship_manager"], "relationship_manager"),
    ("guarantees_recieved", ["guarantees_received"], "guarantees_received"),
    ("企业名字", ["企业名称"], "企业名称"),
])
def test_did_you_mean_offers_only_slips(name, candidates, hint):
    from dsl.diagnostics import did_you_mean
    assert did_you_mean(name, candidates) == (f"did you mean `{hint}`?" if hint else None)
