"""Concentration before approval, at the engine: each limit exactly at it (not broken) and one cent
over (broken), through the expression functions a flow's route calls; the capital of the date;
no capital on record and no exchange rate are errors that say so, never a default or a partial sum."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from dsl.diagnostics import Diagnostics
from dsl.errors import BanyanError
from dsl.expr import compile_expression
from dsl.expr.types import MONEY, STRING, FieldInfo, TypeEnv, list_of, record
from dsl.source import Span
from engine.functions import GRAPH_KEY
from engine.fx import MissingRate, RateTable
from engine.graph import Capital, CapitalTable, ExposureBook, GraphSnapshot, NoCapitalFigure

YI = Decimal(100_000_000)
CAPITAL = CapitalTable([Capital(date(2026, 3, 31), 280 * YI, 220 * YI, "2026Q1"),
                        Capital(date(2026, 6, 30), 300 * YI, 240 * YI, "2026Q2")])
DAY = date(2026, 7, 15)


def book(balances: dict, capital: CapitalTable = CAPITAL, rates: RateTable | None = None) -> ExposureBook:
    return ExposureBook(balances=balances, members={"G1": ["A", "B"]}, connected={"G1": ["A", "B", "X"]},
                        rates=rates or RateTable(), capital=capital, as_of=DAY)


def ctx(b: ExposureBook, **more) -> dict:
    return {GRAPH_KEY: GraphSnapshot(exposure=b), "$now": datetime(2026, 7, 15, 2, tzinfo=timezone.utc), **more}


ENV = TypeEnv({"group": {"code": FieldInfo(STRING, False)},
               "row": {"borrower": FieldInfo(STRING), "amount": FieldInfo(MONEY)}})
SCOPE = {"g": FieldInfo(STRING), "subject": FieldInfo(record("group")), "amount": FieldInfo(MONEY),
         "rows": FieldInfo(list_of(record("row")))}


def compiled(text: str):
    diags = Diagnostics()
    expr = compile_expression(text, span=Span("flow.yaml", 1, 1), scope=SCOPE, env=ENV, diags=diags)
    assert expr is not None and not diags.items, [d.message for d in diags]
    return expr


def run(text: str, b: ExposureBook, **values):
    return compiled(text)(ctx(b, **values))


def test_group_limit_at_and_over():
    b = book({"A": {"CNY": 30 * YI}, "B": {"CNY": 10 * YI}})
    # 40亿 on the books + 5亿 = 45亿 = 15% of 300亿 exactly: not over; one cent more is
    assert b.concentration("G1", 5 * YI, DAY).group_ratio == Decimal("0.15")
    assert run("group_credit_ratio(g, amount) > 15%", b, g="G1", amount=5 * YI) is False
    assert run("group_credit_ratio(g, amount) > 15%", b, g="G1", amount=5 * YI + Decimal("0.01")) is True


def test_single_borrower_limit_at_and_over():
    b = book({"A": {"CNY": 20 * YI}, "B": {"CNY": 1 * YI}})
    rows = [{"borrower": "A", "amount": 6 * YI}, {"borrower": "A", "amount": 4 * YI}, {"borrower": "B", "amount": YI}]
    found = b.concentration("G1", 0, DAY, [(r["borrower"], r["amount"]) for r in rows])
    assert (found.single_borrower, found.single_credit, found.single_ratio) == ("A", 30 * YI, Decimal("0.1"))
    assert run("single_borrower_ratio(g, rows) > 10%", b, g="G1", rows=rows) is False
    rows[1]["amount"] += Decimal("0.01")
    assert run("single_borrower_ratio(g, rows) > 10%", b, g="G1", rows=rows) is True


def test_connected_limit_at_and_over_counts_the_firms_control_links():
    # members 30亿 + X (connected by control, not a member) 10亿 + 8亿 = 48亿 = 20% of 240亿
    b = book({"A": {"CNY": 20 * YI}, "B": {"CNY": 10 * YI}, "X": {"CNY": 10 * YI}, "Z": {"CNY": 99 * YI}})
    assert run("connected_credit_ratio(g, amount)", b, g="G1", amount=8 * YI) == Decimal("0.2")
    assert run("connected_credit_ratio(g, amount) > 20%", b, g="G1", amount=8 * YI) is False
    assert run("connected_credit_ratio(g, amount) > 20%", b, g="G1", amount=8 * YI + Decimal("0.01")) is True
    assert run("group_credit_ratio(g, amount)", b, g="G1", amount=0) == Decimal("0.1")   # X is not a member


def test_the_capital_of_the_day_counts():
    b = book({"A": {"CNY": 42 * YI}})
    early = b.concentration("G1", 0, date(2026, 6, 29))
    assert early.capital.key == "2026Q1" and early.group_ratio == Decimal("0.15")
    late = b.concentration("G1", 0, date(2026, 6, 30))
    assert late.capital.key == "2026Q2" and late.group_ratio == Decimal("0.14")


def test_no_capital_on_record_is_a_clear_problem():
    b = book({"A": {"CNY": YI}}, capital=CapitalTable())
    with pytest.raises(NoCapitalFigure) as err:
        b.concentration("G1", YI, DAY)
    assert err.value.params == {"date": "2026-07-15"} and err.value.message_key == "graph.no_capital"
    assert "本行资本" in err.value.render("zh") and "2026-07-15" in err.value.render("zh")
    early = book({"A": {"CNY": YI}})
    with pytest.raises(NoCapitalFigure):
        early.concentration("G1", YI, date(2026, 3, 30))        # before the first figure
    with pytest.raises(BanyanError) as err:
        run("group_credit_ratio(g, amount) > 15%", b, g="G1", amount=YI)
    assert "Bank capital" in str(err.value)


def test_an_amount_without_a_rate_is_never_summed_as_yuan():
    usd = book({"A": {"USD": YI}}, rates=RateTable([("USD", date(2026, 6, 30), "7.1")]))
    assert usd.concentration("G1", 0, DAY).group_credit == Decimal("710000000.00")
    with pytest.raises(MissingRate):
        book({"A": {"USD": YI}}).concentration("G1", 0, DAY)


def test_the_group_record_brings_its_context_and_no_context_is_null():
    b = book({"A": {"CNY": 45 * YI}})

    class Subject(Mapping):             # a flow's subject, as runtime records are: it resolves `$` keys
        def __init__(self, **values):
            self.values = values

        def __getitem__(self, key):
            return GraphSnapshot(exposure=b) if key == GRAPH_KEY else self.values[key]

        def __iter__(self):
            return iter(self.values)

        def __len__(self):
            return len(self.values)

    expr = compiled("group_credit_ratio(subject, amount) > 15%")
    assert expr({"subject": Subject(code="G1"), "amount": Decimal(0), "$now": DAY}) is False
    assert expr({"subject": Subject(code="G1"), "amount": Decimal("0.01"), "$now": DAY}) is True
    assert compiled("group_credit_ratio(subject, amount)")({"subject": {"code": "G1"}, "amount": YI}) is None


def test_capital_table_refuses_two_figures_for_one_day():
    with pytest.raises(ValueError, match="two different capital figures"):
        CapitalTable([Capital(DAY, 300 * YI, 240 * YI, "a"), Capital(DAY, 301 * YI, 240 * YI, "b")])
