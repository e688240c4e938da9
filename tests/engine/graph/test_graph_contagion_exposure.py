import xml.dom.minidom

import pytest

from engine.graph import (
    EquityGraph,
    GraphSnapshot,
    GuaranteeGraph,
    cluster_exposure,
    connected_exposure_ratio,
    contagion,
    equity_tree_svg,
    group_credit_ratio,
    guarantee_channels,
    guarantee_circle_svg,
    indirect_exposure,
    limit_usage,
)


def test_probabilistic_formula_and_feedback_by_hand():
    r = contagion([("A", "B", 0.5), ("B", "C", 0.5), ("A", "C", 0.1), ("C", "D", 1.0), ("D", "C", 0.2)], ["A"],
                  model="probabilistic")
    # C = 1 - (1 - 0.25)(1 - 0.1)(1 - 0.2 C)  =>  C = 0.325 / 0.865
    assert r.score("B") == pytest.approx(0.5)
    assert r.score("C") == pytest.approx(0.325 / 0.865, abs=1e-8)
    c = next(a for a in r.affected if a.firm == "C")
    assert c.path == ("A", "B", "C") and c.path_strength == pytest.approx(0.25)
    assert [a.firm for a in r.affected][0] == "B"


def test_probabilistic_own_probability_and_validation():
    r = contagion([("A", "B", 0.5)], {"A": 0.4, "B": 0.1}, model="probabilistic")
    assert r.score("B") == pytest.approx(1 - 0.9 * 0.8)
    with pytest.raises(ValueError):
        contagion([("A", "B", 1.5)], ["A"])
    with pytest.raises(ValueError):
        contagion([("A", "B", 0.5)], ["A"], model="magic")


def test_debtrank_by_hand_each_firm_propagates_once():
    # Round 1: A (seed, 1.0) hits B 0.5 and C 0.1. Round 2: B adds 0.5 * 0.5 to C; C passes its
    # 0.1 to D. Round 3: D passes 0.2 * 0.1 back to C, which takes the loss (0.37) but, having
    # propagated once already, passes nothing on: D stays 0.1, no echo round the loop.
    channels = [("A", "B", 0.5), ("B", "C", 0.5), ("A", "C", 0.1), ("C", "D", 1.0), ("D", "C", 0.2)]
    r = contagion(channels, ["A"])
    assert r.score("B") == pytest.approx(0.5)
    assert r.score("C") == pytest.approx(0.1 + 0.25 + 0.02)
    assert r.score("D") == pytest.approx(0.1)
    c = next(a for a in r.affected if a.firm == "C")
    assert c.path == ("A", "B", "C")


def test_debtrank_does_not_saturate_round_a_loop():
    # A parent and its 100% subsidiary feed each other; the probabilistic fixpoint inflates
    # both toward 1, DebtRank keeps the one-pass value.
    channels = [("S", "P", 1.0), ("P", "S", 0.3), ("S", "X", 0.4), ("X", "S", 0.9)]
    assert contagion(channels, {"S": 0.5}).score("P") == pytest.approx(0.5)
    assert contagion(channels, {"S": 0.5}).score("X") == pytest.approx(0.2)
    assert contagion(channels, {"S": 0.5}, model="probabilistic").score("P") > 0.5


def test_guarantee_channels_run_borrower_to_guarantor():
    g = GuaranteeGraph([("G", "B", 50.0)])
    assert guarantee_channels(g, {"G": 100.0}) == [("B", "G", 0.5)]
    assert contagion(guarantee_channels(g), ["B"]).score("G") == pytest.approx(0.5)


def test_exposure_ratios():
    assert group_credit_ratio([3e9, 2e9], [5e8], 30e9) == pytest.approx(0.15)
    assert connected_exposure_ratio(4.8e9, 24e9) == pytest.approx(0.2)
    assert limit_usage([60, 35], 100) == pytest.approx(0.95)
    with pytest.raises(ValueError):
        group_credit_ratio(1, 0, 0)
    with pytest.raises(TypeError):
        limit_usage(["x"], 1)
    g = GuaranteeGraph([("A", "B", 80.0), ("A", "C", 10.0)])
    assert indirect_exposure(g, {"A": 100.0, "B": 50.0, "C": 20.0}) == {"A": 160.0, "B": 50.0, "C": 20.0}
    assert indirect_exposure(g, {"A": 100.0}, cap_by_borrower=False)["A"] == 190.0
    assert cluster_exposure(g, {"A": 1.0, "B": 2.0, "Z": 4.0}, "B") == 3.0
    assert cluster_exposure(g, {"Z": 4.0}, "Z") == 4.0


def test_snapshot_queries():
    s = GraphSnapshot(holdings=[("P", "A", 0.6), ("A", "B", 0.7)], guarantees=[("A", "B", 1.0), ("B", "A", 1.0)],
                      persons=["P"])
    assert s.in_guarantee_circle("A") and s.circle_size("B") == 2 and s.circle_size("nobody") == 0
    assert s.controller("B") == "P" and s.controller("nobody") is None
    assert s.effective_share("P", "B") == pytest.approx(0.42)
    assert s.contagion_score("A", ["B"]) > 0.5


def test_svg_escapes_and_collapses_large_groups():
    holdings = [("控股<&>", "甲", 0.9)] + [("甲", f"子公司{i}", 0.8) for i in range(600)]
    e = EquityGraph(holdings, persons=[])
    svg = equity_tree_svg(e, "控股<&>", max_children=10, highlight=[["控股<&>", "甲", "子公司3"]])
    xml.dom.minidom.parseString(svg)
    assert "控股&lt;&amp;&gt;" in svg and "+589 more" in svg and svg.count("<rect") == 14  # 10 largest + the highlighted one
    assert "#c0392b" in svg and "<script" not in svg
    ring = [(f"F{i}", f"F{(i + 1) % 600}", 1.0) for i in range(600)]
    g = GuaranteeGraph(ring)
    svg2 = guarantee_circle_svg(g, "F5", max_nodes=40, radius=30, highlight=[["F5", "F6"]])
    xml.dom.minidom.parseString(svg2)
    assert svg2.count("<circle") == 40 and "40 of 600 firms shown" in svg2
