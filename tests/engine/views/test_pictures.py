"""The equity tree and the guarantee network shaped for drawing: shares and amounts on the
holdings, persons named, hidden parties anonymous (never a key or a name), cut subtrees counted."""
from __future__ import annotations

from engine.graph import EquityGraph, GuaranteeGraph
from engine.views import equity_tree, guarantee_network
from engine.views.pictures import tree_rows

LABELS = {"P1": "张三", "A": "甲控股", "B": "乙公司", "C": "丙公司", "D": "丁公司", "X": "外行公司", "Y": "外行子公司"}


def equity() -> EquityGraph:
    return EquityGraph([("P1", "A", 0.8), ("A", "B", 0.6), ("A", "C", 0.3), ("B", "D", 0.9), ("A", "X", 0.1),
                        ("X", "Y", 0.9), ("X", "D", 0.1)], persons=["P1"])


def test_the_tree_names_holders_and_puts_shares_and_amounts_on_holdings():
    tree = equity_tree(equity(), "P1", labels=LABELS, members={"A", "B"}, capital={"B": 1000.0}, chain=["P1", "A"])
    assert (tree["name"], tree["kind"], tree["chain"]) == ("张三", "person", True)
    a = tree["children"][0]
    assert (a["name"], a["share"], a["member"], a["chain"]) == ("甲控股", 0.8, True, True)
    assert [c["name"] for c in a["children"]] == ["乙公司", "丙公司", "外行公司"]          # by share
    b = a["children"][0]
    assert b["amount"] == 600.0 and a["children"][1]["amount"] is None            # C's capital unknown
    rows = tree_rows(tree)
    assert rows[0] == {"level": 1, "holder": "张三", "holder_kind": "person", "firm": "甲控股", "firm_kind": "company",
                       "share": 0.8, "amount": None, "member": True}


def test_hidden_parties_are_anonymous_or_counted():
    tree = equity_tree(equity(), "P1", labels=LABELS, hidden={"X", "Y"})
    a = tree["children"][0]
    x = a["children"][2]
    assert x["kind"] == "hidden" and x["key"] is None and x["name"] is None and x["id"] == "h1"
    assert [c["name"] for c in x["children"]] == ["丁公司"]        # a firm shown beneath stays in its place
    assert x["others"] == 1                                       # Y: hidden with nothing beneath, counted
    assert "外行" not in repr(tree) and "'X'" not in repr(tree) and "'Y'" not in repr(tree)


def test_depth_and_width_are_cut_and_counted():
    tree = equity_tree(equity(), "P1", labels=LABELS, depth=2, max_children=2)
    a = tree["children"][0]
    assert [c["name"] for c in a["children"]] == ["乙公司", "丙公司"] and a["more"] == 1 and a["others"] == 0
    assert a["children"][0]["children"] == []                     # depth 2 stops under A's holdings


def test_a_firm_met_twice_is_drawn_once():
    tree = equity_tree(equity(), "P1", labels=LABELS, depth=6)
    names = [r["firm"] for r in tree_rows(tree)]
    assert names.count("丁公司") == 2
    ds = [n for n in _walk(tree) if n["key"] == "D"]
    assert sum(1 for d in ds if d["repeat"]) == 1


def _walk(n):
    yield n
    for c in n["children"]:
        yield from _walk(c)


def test_the_guarantee_network_marks_circles_and_veils_hidden_amounts():
    graph = GuaranteeGraph([("A", "B", 100.0), ("B", "A", 50.0), ("B", "C", 10.0), ("C", "X", 5.0), ("X", "Z", 7.0)])
    net = guarantee_network(graph, ["A", "B"], labels=LABELS, hidden={"X"}, members={"A", "B"}, depth=2)
    by_id = {n["id"]: n for n in net["nodes"]}
    assert set(by_id) == {"A", "B", "C", "h1"}                      # Z is three steps away
    assert by_id["A"]["circle"] and by_id["A"]["member"] and by_id["A"]["seed"] and not by_id["C"]["circle"]
    assert by_id["h1"]["name"] is None and by_id["h1"]["key"] is None and by_id["h1"]["hidden"]
    links = {(x["source"], x["target"]): x for x in net["links"]}
    assert links[("A", "B")]["circle"] and links[("A", "B")]["mutual"] and links[("A", "B")]["amount"] == 100.0
    assert links[("C", "h1")]["amount"] is None
    small = guarantee_network(graph, ["A"], labels=LABELS, depth=3, max_nodes=2)
    assert len(small["nodes"]) == 2 and small["cut"] >= 1
