"""The large-exposure report's rows over an ExposureBook made by hand (no database): the 10% line
inclusive, the limits exclusive, largest first with ties by key, a group's figure the one
`connected_credit_ratio` gives, potential exposure beside the total and unknown without a rate."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from engine.functions import GRAPH_KEY, connected_credit_ratio
from engine.fx import RateTable
from engine.graph.concentration import Capital, CapitalTable, ExposureBook, NoCapitalFigure
from engine.reports import Party, large_exposures, with_potential

DAY = date(2026, 9, 1)
TIER1 = Decimal(1000)


def book(balances: dict, members: dict, connected: dict | None = None, capital: bool = True) -> ExposureBook:
    figures = [Capital(date(2026, 6, 30), Decimal(1200), TIER1, "2026Q2")] if capital else []
    return ExposureBook(balances={k: {"CNY": Decimal(v)} for k, v in balances.items()}, members=members,
                        connected=connected or {}, rates=RateTable([("USD", date(2026, 1, 1), Decimal("7"))]),
                        capital=CapitalTable(figures), as_of=DAY)


def parties(*keys: str) -> list[Party]:
    return [Party(k, f"name {k}") for k in keys]


def test_the_line_is_inclusive_the_limits_exclusive_and_ties_go_by_key():
    b = book({"a": 100, "b": "99.99", "c": 150, "d": "150.01", "e": 100}, {"G1": ["a", "b"], "G2": ["c", "d"]})
    found = large_exposures(b, clients=parties("a", "b", "c", "d", "e"), groups=parties("G1", "G2"), as_of=DAY)
    assert [(c.key, c.over_limit) for c in found.clients] == [("d", True), ("c", False), ("a", False), ("e", False)]
    assert [c.rank for c in found.clients] == [1, 2, 3, 4]
    assert [(g.key, g.total, g.over_limit) for g in found.groups] == [("G2", Decimal("300.01"), True),
                                                                     ("G1", Decimal("199.99"), False)]
    assert found.summary[0].total == Decimal("500.01") and found.summary[1].count == 2


def test_only_the_parties_given_are_reported():
    b = book({"a": 500, "x": 900}, {"G1": ["a"], "G9": ["x"]})
    found = large_exposures(b, clients=parties("a"), groups=parties("G1"), as_of=DAY)
    assert [c.key for c in found.clients] == ["a"] and [g.key for g in found.groups] == ["G1"]


def test_a_group_counts_its_connected_firms_as_the_rule_does():
    b = book({"a": 60, "b": 30, "z": 20}, {"G1": ["a", "b"]}, {"G1": ["z"]})
    found = large_exposures(b, clients=parties(), groups=parties("G1"), as_of=DAY)
    (g,) = found.groups
    assert (g.members, g.total) == (3, Decimal(110))
    assert g.ratio == connected_credit_ratio({GRAPH_KEY: type("G", (), {"exposure": b})(), "$now": DAY}, "G1",
                                             Decimal(0))


def test_potential_is_beside_the_total_and_unknown_without_a_rate():
    b = book({"a": 200, "b": 200}, {})
    found = with_potential(large_exposures(b, clients=parties("a", "b"), groups=[], as_of=DAY), b,
                           {"a": [(Decimal(10), "USD"), (Decimal(5), "CNY")], "b": [(Decimal(1), "EUR")]})
    by = {c.key: c for c in found.clients}
    assert by["a"].potential == Decimal(75) and by["a"].total == Decimal(200)
    assert by["b"].potential is None


def test_no_capital_figure_is_said_before_anything_else():
    with pytest.raises(NoCapitalFigure):
        large_exposures(book({"a": 1}, {}, capital=False), clients=parties("a"), groups=[], as_of=DAY)
