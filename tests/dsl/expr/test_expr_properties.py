"""Property tests: whatever text arrives, parse and compile give diagnostics, never an exception,
and every diagnostic uses an expression code and lies inside the expression's lines."""
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from dsl.diagnostics import Diagnostics
from dsl.expr import EvaluationError, compile_expression, parse_expression
from dsl.source import Span

from .expr_helpers import ENV, SCOPE, company

RECORD = company.__wrapped__()

VALID = [
    "debt_ratio > 70% and tier == 'strategic_core'",
    "all(last 2 quarters of financials, f -> f.operating_cash_flow < 0)",
    "sum(loans where l -> l.status == 'active', l -> l.balance) > 5亿",
    "count(distinct loans, l -> l.product) >= 3",
    "if listed then net_assets * 10% else 3000万",
    "latest(financials).total_liabilities / latest(financials).total_assets",
    "count(transactions within 24h) > 5 or employees between 10 and 20",
    "band(tier, {strategic_core: 90, stable: 50}) + min(100, employees / 10)",
    "days_between(founded, today()) > 365 and not is_null(group.lead_branch.name)",
    "tier not in ['stable', 'adjust'] and founded + 3 months < 2026-03-31",
]
TOKENS = ["(", ")", "[", "]", "{", "}", ",", ".", "->", "==", "<", "+", "-", "*", "/", " and ", " or ",
          " not ", " in ", " between ", " within ", " where ", " distinct ", " last ", " of ", "if ", " then ",
          " else ", "5亿", "70%", "2d", "3 months", "2026-03-31", "'x'", "null", "true", "l", "loans",
          "financials", "sum", "count", "f -> f.", "debt_ratio", "tier", ":", "%", "亿", "（"]
SPAN = Span("fuzz.yaml", 3, 9)
EXPR_CODES = {f"BNY3{i:02d}" for i in range(1, 12)}


def run(text):
    diags = Diagnostics()
    try:
        expr = compile_expression(text, span=SPAN, scope=SCOPE, env=ENV, diags=diags)
    except Exception as exc:  # the property: this never happens
        raise AssertionError(f"compile raised {exc!r} on {text!r}") from exc
    lines = text.count("\n") + 1
    for d in diags:
        assert d.code in EXPR_CODES
        assert SPAN.line <= d.span.line <= SPAN.line + lines - 1
    assert (expr is None) == bool(diags.items)
    if expr is not None:  # evaluation gives a value or an EvaluationError, nothing else
        for ctx in (RECORD, {}, {"$now": RECORD["$now"]}):
            try:
                expr(ctx)
            except EvaluationError:
                pass
    return expr


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=string.printable + "万亿元％（）", max_size=60))
def test_random_text(text):
    run(text)
    parse_expression(text, span=SPAN, diags=Diagnostics())


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(VALID), st.data())
def test_mutations_of_valid_expressions(text, data):
    for _ in range(data.draw(st.integers(1, 3))):
        kind = data.draw(st.sampled_from(["delete", "insert", "replace", "swap"]))
        i = data.draw(st.integers(0, max(len(text) - 1, 0)))
        j = data.draw(st.integers(i, min(len(text), i + 6)))
        if kind == "delete":
            text = text[:i] + text[j:]
        elif kind == "insert":
            text = text[:i] + data.draw(st.sampled_from(TOKENS)) + text[i:]
        elif kind == "replace":
            text = text[:i] + data.draw(st.sampled_from(TOKENS)) + text[j:]
        else:
            text = text[j:] + text[:i]
    run(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=25))
def test_token_soup(tokens):
    run("".join(tokens))


def test_all_valid_samples_compile():
    for text in VALID:
        assert run(text) is not None, text
