import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.graph import GuaranteeGraph


def _random_edges(seed, n=25, m=45):
    rng = np.random.default_rng(seed)
    out = []
    for a, b in zip(rng.integers(0, n, m).tolist(), rng.integers(0, n, m).tolist()):
        if a != b:
            out.append((f"f{a}", f"f{b}", float(rng.integers(1, 100))))
    return out


def _oracle(edges, nodes):
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    g.add_edges_from((a, b) for a, b, _ in edges)
    return g


def _parts(parts):
    return {frozenset(p) for p in parts if len(p) > 1}


@pytest.mark.parametrize("seed", range(20))
def test_circles_clusters_cycles_reachability_match_networkx(seed):
    edges = _random_edges(seed)
    g = GuaranteeGraph(edges)
    ref = _oracle(edges, g.nodes)
    assert _parts(g.circles()) == _parts(nx.strongly_connected_components(ref))
    assert _parts(g.clusters()) == _parts(nx.weakly_connected_components(ref))
    ours = {frozenset(c) for c in g.cycles(max_length=5, min_length=3)}
    theirs = {frozenset(c) for c in nx.simple_cycles(ref, length_bound=5) if len(c) >= 3}
    assert len(g.cycles(max_length=5)) == sum(1 for c in nx.simple_cycles(ref, length_bound=5) if len(c) >= 3)
    assert ours == theirs
    mutual = {tuple(sorted(c)) for c in nx.simple_cycles(ref, length_bound=2) if len(c) == 2}
    assert set(g.mutual_pairs()) == mutual
    for x in list(g.nodes)[:8]:
        assert g.reachable(x) == nx.descendants(ref, x)
        for y, path in g.chain(x, "up").items():
            assert len(path) - 1 == nx.shortest_path_length(ref, y, x)


def test_planted_patterns():
    edges = [("A", "B", 1), ("B", "A", 1), ("C", "D", 1), ("D", "E", 1), ("E", "C", 1), ("E", "F", 1)]
    g = GuaranteeGraph(edges)
    assert g.mutual_pairs() == [("A", "B")]
    assert g.cycles() == [("C", "D", "E")]
    assert g.circle_size("D") == 3 and g.circle_size("F") == 0 and not g.in_circle("F")
    assert g.chain("C") == {"D": ("C", "D"), "E": ("C", "D", "E"), "F": ("C", "D", "E", "F")}


def test_guarantor_load_and_cross_group_circles():
    g = GuaranteeGraph([("A", "B", 30), ("A", "C", 50), ("B", "A", 10), ("C", "A", 5)])
    group = {"A": "G1", "B": "G1", "C": "G2"}
    assert g.guarantor_load({"A": 100, "B": 0}, group) == {"A": 0.5, "B": 0.0}
    assert g.guarantor_load({"A": 100}) == {"A": 0.8}
    [circle] = g.cross_group_circles(group)
    assert circle.members == ("A", "B", "C") and circle.groups == {"G1": 2, "G2": 1}
    assert g.cross_group_circles({"A": "G", "B": "G", "C": "G"}) == []


def test_rejects_bad_guarantees():
    with pytest.raises(ValueError):
        GuaranteeGraph([("A", "A", 1)])
    with pytest.raises(ValueError):
        GuaranteeGraph([("A", "B", -5)])
    g = GuaranteeGraph([("A", "B", 1)])
    with pytest.raises(KeyError):
        g.remove_edge("B", "A")
    with pytest.raises(ValueError):
        g.add_edge("A", "B", float("nan"))


def _check_against_full(g: GuaranteeGraph):
    full = GuaranteeGraph(g.edges(), nodes=g.nodes)
    assert _parts(g.circles()) == _parts(full.circles())
    assert _parts(g.clusters()) == _parts(full.clusters())
    dyn = g._dyn_strong
    if dyn is not None:  # the kept topological order must respect every edge between circles
        label, pos = dyn.parts.label, dyn.pos
        idx = {x: i for i, x in enumerate(g.nodes)}
        for a, b, _ in g.edges():
            ca, cb = label[idx[a]], label[idx[b]]
            assert ca == cb or pos[ca] < pos[cb]


@pytest.mark.parametrize("seed", range(25))
def test_incremental_equals_full_on_random_edit_sequences(seed):
    rng = np.random.default_rng(100 + seed)
    g = GuaranteeGraph(_random_edges(seed, n=18, m=20))
    for step in range(120):
        edges = g.edges()
        if edges and rng.random() < 0.45:
            a, b, _ = edges[rng.integers(len(edges))]
            g.remove_edge(a, b)
        else:
            a, b = rng.integers(0, 22, 2)
            if a == b:
                continue
            g.add_edge(f"f{a}", f"f{b}", float(rng.integers(1, 9)))
        if step % 10 == 0:
            _check_against_full(g)
    _check_against_full(g)


@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9), st.booleans()), max_size=60))
@settings(max_examples=60, deadline=None)
def test_incremental_property(ops):
    g = GuaranteeGraph([], nodes=[f"f{i}" for i in range(10)])
    for a, b, add in ops:
        if a == b:
            continue
        if add:
            before = g.reachable(f"f{a}")
            g.add_edge(f"f{a}", f"f{b}", 1.0)
            assert before <= g.reachable(f"f{a}")  # adding an edge never removes reachability
        elif g.amount(f"f{a}", f"f{b}"):
            g.remove_edge(f"f{a}", f"f{b}")
    _check_against_full(g)


@given(st.integers(0, 10_000))
@settings(max_examples=30, deadline=None)
def test_relabelling_changes_nothing(seed):
    edges = _random_edges(seed, n=15, m=30)
    rename = {f"f{i}": f"担保{i * 7919 % 101}" for i in range(15)}
    g = GuaranteeGraph(edges)
    r = GuaranteeGraph([(rename[a], rename[b], w) for a, b, w in reversed(edges)])
    assert {frozenset(rename[x] for x in c) for c in g.circles()} == set(map(frozenset, r.circles()))
    assert len(g.cycles()) == len(r.cycles())


def test_from_arrays_and_new_nodes():
    g = GuaranteeGraph.from_arrays(["a", "b", "c"], [0, 1], [1, 2], [5.0, 6.0])
    g.add_edge("c", "a", 1)
    assert g.circles() == [("a", "b", "c")]
    g.add_edge("c", "新", 2)
    g.add_edge("新", "c", 2)
    assert g.circle_size("新") == 4
    assert g.remove_edge("b", "c") == 6.0
    assert _parts(g.circles()) == {frozenset({"c", "新"})}


@pytest.mark.parametrize("seed", range(8))
def test_full_recompute_fallback_keeps_results_equal(seed, monkeypatch):
    from engine.graph import dynamic

    monkeypatch.setattr(dynamic, "LOCAL_BUDGET", 3)  # force the scipy fallback often
    rng = np.random.default_rng(500 + seed)
    g = GuaranteeGraph(_random_edges(seed, n=16, m=24))
    for _ in range(80):
        edges = g.edges()
        if edges and rng.random() < 0.4:
            a, b, _ = edges[rng.integers(len(edges))]
            g.remove_edge(a, b)
        else:
            a, b = rng.integers(0, 18, 2)
            if a != b:
                g.add_edge(f"f{a}", f"f{b}", 1.0)
        _check_against_full(g)
