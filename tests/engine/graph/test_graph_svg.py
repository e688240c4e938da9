"""The pictures' `hidden` nodes: anonymous boxes with neither id, name nor amounts."""
from __future__ import annotations

import xml.dom.minidom

from engine.graph import EquityGraph, GuaranteeGraph, equity_tree_svg, guarantee_circle_svg

LABELS = {"P": "张三", "A": "甲公司", "B": "乙公司", "C": "丙公司"}


def test_equity_tree_draws_hidden_firms_anonymously():
    e = EquityGraph([("P", "B", 0.6), ("B", "A", 0.7), ("B", "C", 0.9)], persons=["P"])
    shown = equity_tree_svg(e, "P", labels=LABELS, highlight=[["P", "B", "A"]])
    assert "乙公司" in shown and ">B<" in shown
    svg = equity_tree_svg(e, "P", labels=LABELS, highlight=[["P", "B", "A"]], hidden={"B", "C"},
                          hidden_label="client of another branch")
    xml.dom.minidom.parseString(svg)
    assert "乙公司" not in svg and "丙公司" not in svg and ">B<" not in svg and ">C<" not in svg
    assert svg.count("client of") == 2 and "甲公司" in svg and "张三" in svg
    assert svg.count('stroke-dasharray="4 3"') == 2 and svg.count("<rect") == 4
    assert "其他机构客户" in equity_tree_svg(e, "P", labels=LABELS, hidden={"B"})     # the default label


def test_guarantee_circle_hides_ids_names_and_amounts_of_hidden_firms():
    g = GuaranteeGraph([("A", "B", 1_234_567.0), ("B", "C", 7_654_321.0), ("C", "A", 5_555_555.0)])
    shown = guarantee_circle_svg(g, "A", labels=LABELS)
    assert "乙公司" in shown and "1,234,567" in shown
    svg = guarantee_circle_svg(g, "A", labels=LABELS, hidden={"B"})
    xml.dom.minidom.parseString(svg)
    assert "乙公司" not in svg and "<title>B</title>" not in svg and "→ B" not in svg and "B →" not in svg
    assert "1,234,567" not in svg and "7,654,321" not in svg and "5,555,555" in svg
    assert svg.count("其他机构客户</text>") == 1 and "甲公司" in svg and "3 firms" in svg
