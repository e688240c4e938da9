import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.graph import EquityGraph

APPROX = dict(abs=1e-9)


def test_worked_example_26_percent():
    g = EquityGraph([("P", "A", 0.4), ("A", "T", 0.5), ("P", "B", 0.3), ("B", "T", 0.2),
                     ("Q", "A", 0.6), ("R", "B", 0.7)], persons=["P", "Q", "R"])
    assert g.effective_share("P", "T") == pytest.approx(0.26, **APPROX)
    assert g.beneficial_owners("T") == [("Q", pytest.approx(0.3)), ("P", pytest.approx(0.26))]
    assert [p for p, _ in g.beneficial_owners("T", 0.26, inclusive=False)] == ["Q"]
    assert [p for p, _ in g.beneficial_owners("T", 0.26, inclusive=True)] == ["Q", "P"]


def test_cross_holding_solved_by_hand():
    # X 50% of Y, Q 20% of Y, Z 30% of Y; Y 40% of Z, P 60% of Z.
    # Y owns 0.4*0.3 = 12% of itself through Z, so outside stakes in Y scale by 1/0.88.
    g = EquityGraph([("X", "Y", 0.5), ("Q", "Y", 0.2), ("Z", "Y", 0.3), ("Y", "Z", 0.4), ("P", "Z", 0.6)],
                    persons=["X", "P", "Q"])
    assert g.effective_share("X", "Y") == pytest.approx(0.5 / 0.88, **APPROX)
    assert g.effective_share("X", "Z") == pytest.approx(0.2 / 0.88, **APPROX)
    assert g.effective_share("P", "Y") == pytest.approx(0.18 / 0.88, **APPROX)
    # walks returning to the holder are cut: Y's share in Z is just its direct 40%
    assert g.effective_share("Y", "Z") == pytest.approx(0.4, **APPROX)
    owners = g.ultimate_owners("Y")
    assert sum(owners.values()) == pytest.approx(1.0, **APPROX)


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="more than 100%"):
        EquityGraph([("A", "C", 0.7), ("B", "C", 0.6)])
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        EquityGraph([("A", "C", 40)])
    with pytest.raises(ValueError, match="closed ownership loop"):
        EquityGraph([("A", "B", 1.0), ("B", "A", 1.0)])
    with pytest.raises(ValueError, match="person but has shareholders"):
        EquityGraph([("A", "P", 0.5)], persons=["P"])
    with pytest.raises(TypeError):
        EquityGraph([("A", "B", "half")])


def test_control_sums_not_products():
    g = EquityGraph([("X", "A", 0.6), ("X", "B", 0.3), ("A", "B", 0.25), ("B", "C", 0.51)], persons=["X"])
    assert g.controls("X", "B")  # 30% + 25% through controlled A
    assert not g.controls("A", "B")
    assert g.controlled_firms("X") == {"A", "B", "C"}
    assert g.ultimate_controller("C") == "X"
    chain = g.control_chain("C")
    assert [(e.holder, e.firm) for e in chain] == [("X", "B"), ("B", "C")]
    assert chain[0].bloc_share == pytest.approx(0.55)


def test_exactly_half_is_not_control_and_agreement_is():
    g = EquityGraph([("X", "A", 0.5), ("Y", "A", 0.5)], agreements=[("Y", "A")])
    assert g.ultimate_controller("A") == "Y"
    assert g.control_chain("A")[0].agreement
    assert EquityGraph([("X", "A", 0.5)]).ultimate_controller("A") is None


def test_relatives_pool_as_one_party():
    g = EquityGraph([("F1", "G", 0.3), ("F2", "G", 0.3), ("G", "H", 0.8)], persons=["F1", "F2"],
                    relatives=[("F1", "F2")])
    assert g.controlling_party("H") == ("F1", "F2")
    assert g.controls("F2", "H")
    assert EquityGraph([("F1", "G", 0.3), ("F2", "G", 0.3)], persons=["F1", "F2"]).ultimate_controller("G") is None


def test_mutual_control_has_no_ultimate_controller():
    g = EquityGraph([("A", "B", 0.6), ("B", "A", 0.6), ("C", "A", 0.4), ("D", "B", 0.4), ("B", "E", 0.9)])
    assert g.ultimate_controller("E") is None
    assert g.in_mutual_control("E")


def test_conflicting_agreements_rejected():
    with pytest.raises(ValueError, match="conflicting control"):
        EquityGraph([("X", "A", 0.6)], agreements=[("Y", "A")])


def _random_holdings(seed, n=12, m=30):
    rng = np.random.default_rng(seed)
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = src != dst
    pairs = sorted(set(zip(src[keep].tolist(), dst[keep].tolist())))
    raw = rng.random(len(pairs)) + 0.1
    col = {}
    for (_a, b), r in zip(pairs, raw):
        col[b] = col.get(b, 0.0) + r
    cap = rng.uniform(0.3, 0.95, n)
    return [(f"n{a}", f"n{b}", float(r / col[b] * cap[b])) for (a, b), r in zip(pairs, raw)]


def _dense_effective(edges, ids):
    pos = {x: i for i, x in enumerate(ids)}
    a = np.zeros((len(ids), len(ids)))
    for h, f, s in edges:
        a[pos[h], pos[f]] += s
    lin = np.linalg.inv(np.eye(len(ids)) - a)
    return lin / np.diag(lin)[:, None], pos


@pytest.mark.parametrize("seed", range(15))
def test_matches_dense_leontief_solution(seed):
    edges = _random_holdings(seed)
    g = EquityGraph(edges)
    e, pos = _dense_effective(edges, list(g.nodes))
    for h in g.nodes:
        row = g.effective_holdings(h)
        for f in g.nodes:
            if f != h:
                assert row.get(f, 0.0) == pytest.approx(e[pos[h], pos[f]], abs=1e-8)


@given(st.integers(0, 10_000))
@settings(max_examples=40, deadline=None)
def test_effective_ownership_in_unit_interval_and_relabel_invariant(seed):
    edges = _random_holdings(seed)
    g = EquityGraph(edges)
    rename = {x: f"企业{x[::-1]}" for x in g.nodes}
    r = EquityGraph([(rename[a], rename[b], s) for a, b, s in edges[::-1]])
    for h in g.nodes:
        row = g.effective_holdings(h)
        assert all(0.0 <= v <= 1.0 + 1e-9 for v in row.values())
        other = r.effective_holdings(rename[h])
        assert set(other) == {rename[f] for f in row}
        for f, v in row.items():
            assert other[rename[f]] == pytest.approx(v, abs=1e-9)
        assert (g.ultimate_controller(h) is None) == (r.ultimate_controller(rename[h]) is None)


def test_bulk_matrix_matches_per_firm_queries():
    edges = _random_holdings(3, n=30, m=60)
    g = EquityGraph(edges)
    roots, ids, m = g.ultimate_owner_matrix(tol=0.0 + 1e-15)
    pos = {x: i for i, x in enumerate(ids)}
    for f in g.nodes:
        owners = g.ultimate_owners(f)
        for r_i, r in enumerate(roots):
            assert m[r_i, pos[f]] == pytest.approx(owners.get(r, 0.0), abs=1e-9)


def test_from_arrays_equals_tuples():
    edges = _random_holdings(5)
    g = EquityGraph(edges)
    ids = list(g.nodes)
    pos = {x: i for i, x in enumerate(ids)}
    src, dst, share = zip(*[(pos[a], pos[b], s) for a, b, s in edges])
    h = EquityGraph.from_arrays(ids, src, dst, share)
    for x in ids:
        assert h.effective_holdings(x) == pytest.approx(g.effective_holdings(x))
