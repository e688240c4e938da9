"""Money across currencies (engine/fx.py, engine.graph.group_money): the latest rate on or before
the as-of date, exact conversion, and a missing rate that leaves the figure unknown and says so."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dsl.errors import words
from engine.fx import MissingRate, RateTable, to_cny
from engine.graph import GuaranteeGraph, group_money

RATES = RateTable([("USD", date(2026, 5, 31), "7.10"), ("USD", date(2026, 6, 30), "7.20"),
                   ("HKD", date(2026, 6, 30), "0.92")])


def test_the_rate_is_the_latest_on_or_before_the_date():
    assert RATES.rate_on("USD", date(2026, 6, 29)).value == Decimal("7.10")
    assert RATES.rate_on("USD", date(2026, 6, 30)).on == date(2026, 6, 30)
    assert RATES.rate_on("USD", date(2027, 1, 1)).value == Decimal("7.20")
    assert RATES.rate_on("USD", date(2026, 5, 30)) is None
    assert RATES.rate_on("EUR", date(2026, 6, 30)) is None
    assert RATES.rate_on("CNY", date(1990, 1, 1)).value == 1


def test_convert_and_total():
    assert RATES.convert(Decimal("100.00"), "USD", date(2026, 6, 30)) == Decimal("720.00")
    assert RATES.convert(Decimal("100.00"), "CNY", date(2026, 6, 30)) == Decimal("100.00")
    out = RATES.total([(Decimal("100"), "USD"), (Decimal("50"), "USD"), (Decimal("1000"), "CNY"),
                       (Decimal("10"), "HKD"), (None, "USD")], date(2026, 6, 30))
    assert out.total == Decimal("1000") + Decimal("1080.00") + Decimal("9.20")
    assert set(out.rates) == {"USD", "HKD"} and out.complete


def test_a_missing_rate_is_never_summed_as_yuan():
    out = RATES.total([(Decimal("100"), "EUR"), (Decimal("1000"), "CNY"), (Decimal("5"), "EUR")], date(2026, 6, 30))
    assert out.total is None and out.missing == {"EUR": (Decimal("105"), 2)}
    with pytest.raises(MissingRate) as caught:
        RATES.convert(Decimal("1"), "USD", date(2026, 1, 1))
    error = caught.value
    assert error.currency == "USD" and error.as_of == date(2026, 1, 1)
    assert error.render("zh") == words("fx.missing_rate", "zh", currency="USD", date="2026-01-01", reporting="CNY")
    assert "2026-01-01" in str(error) and "USD" in str(error)


def test_bad_rates_are_refused():
    with pytest.raises(ValueError, match="positive"):
        RateTable([("USD", date(2026, 6, 30), 0)])
    with pytest.raises(ValueError, match="two different USD rates"):
        RateTable([("USD", date(2026, 6, 30), "7.1"), ("USD", date(2026, 6, 30), "7.2")])


def test_to_cny_reads_the_context_table_and_its_date():
    from datetime import datetime
    ctx = {"$fx": RATES, "$now": datetime(2026, 6, 30, 9, 0)}
    assert to_cny(ctx, Decimal("10.00"), "USD") == Decimal("72.00")
    assert to_cny(ctx, Decimal("10.00"), "USD", date(2026, 6, 1)) == Decimal("71.00")
    dated = RateTable([("USD", date(2026, 5, 31), "7.10")], as_of=date(2026, 6, 2))
    assert to_cny({"$fx": dated}, Decimal("10.00"), "USD") == Decimal("71.00")      # no $now: the table's date
    assert to_cny({}, Decimal("10.00"), "CNY") == Decimal("10.00")     # yuan needs no table
    with pytest.raises(MissingRate):
        to_cny({}, Decimal("10.00"), "USD")


def test_to_cny_in_an_expression():
    from dsl.diagnostics import Diagnostics
    from dsl.expr import compile_expression
    from dsl.expr.types import MONEY, STRING, FieldInfo, TypeEnv
    from dsl.source import Span
    diags = Diagnostics()
    expr = compile_expression("to_cny(amount, currency)", span=Span("t", 1, 1),
                              scope={"amount": FieldInfo(MONEY), "currency": FieldInfo(STRING)},
                              env=TypeEnv({}), diags=diags, expected=MONEY)
    assert expr is not None, diags
    assert expr({"amount": Decimal("2.00"), "currency": "HKD", "$fx": RATES, "$now": date(2026, 7, 1)}) == Decimal("1.84")
    with pytest.raises(MissingRate):
        expr({"amount": Decimal("2.00"), "currency": "EUR", "$fx": RATES, "$now": date(2026, 7, 1)})


def _group(**over):
    balances = {"A": {"CNY": Decimal("1000")}, "B": {"USD": Decimal("100")}, "C": {"CNY": Decimal("50")},
                "X": {"HKD": Decimal("1000")}}
    kw = dict(balances=balances, members=["A", "B"], connected=["A", "B", "C"],
              unified_limits=[(Decimal("2000"), "CNY"), (Decimal("100"), "USD")],
              guarantees=GuaranteeGraph([("A", "X", 500.0)]), rates=RATES, as_of=date(2026, 6, 30))
    kw.update(over)
    return group_money(**kw)


def test_group_money_converts_every_figure():
    m = _group()
    assert m.credit == pytest.approx(1000 + 720) and m.connected == pytest.approx(1770)
    assert m.unified_limit == pytest.approx(2720)
    assert m.guaranteed_outside == pytest.approx(500)          # X owes 920 yuan; the guarantee caps at 500
    assert set(m.rates) == {"USD", "HKD"} and m.complete and m.reporting == "CNY"


def test_group_money_missing_rate_is_a_problem_on_the_figures_it_touches():
    m = _group(as_of=date(2026, 6, 15))              # USD has a May rate, HKD none yet
    assert m.credit == pytest.approx(1000 + 710)
    assert m.guaranteed_outside is None
    assert [(s.figure, s.currency, s.amount, s.count) for s in m.shortfalls] == [
        ("guaranteed_outside", "HKD", Decimal("1000"), 1)]
    m = _group(as_of=date(2026, 1, 1))               # no USD rate at all
    assert m.credit is None and m.connected is None and m.unified_limit is None
    assert {(s.figure, s.currency) for s in m.shortfalls} >= {("group_credit", "USD"), ("connected", "USD"),
                                                              ("limit", "USD")}
    assert not m.complete
