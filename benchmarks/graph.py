"""Benchmark of engine.graph: guarantee circles and look-through ownership at bank scale.

A seeded synthetic network (numpy): N firms plus N/4 persons, ~1.5 N equity edges
(1-3 holders per firm, holders skewed toward old firms so out-degrees follow a power
law, 3% of firm-firm stakes reversed into cross-holdings) and ~1.5 N guarantees
(power-law guarantors, 70% to nearby firms, 5% mutual).

    python benchmarks/graph.py [--quick]     # --quick: 100k firms instead of 1M

Writes benchmarks/results/graph.json.  Side by side in the same run, on 50k firms:
the same work with networkx (its SCC / weak components, and look-through ownership
as walk propagation over its adjacency), medians of repeated runs.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.graph import EquityGraph, GuaranteeGraph  # noqa: E402

TOL = 1e-7


def synthetic_network(n_firms: int, seed: int = 7):
    rng = np.random.default_rng(seed)
    n_persons = n_firms // 4
    n = n_persons + n_firms
    indeg = 1 + rng.poisson(0.5, n_firms)
    target = n_persons + np.repeat(np.arange(n_firms), indeg)
    m_e = target.size
    is_person = rng.random(m_e) < 0.5
    person = (n_persons * rng.random(m_e) ** 2.5).astype(np.int64)
    rank = target - n_persons
    holder_firm = n_persons + (rank * rng.random(m_e) ** 2).astype(np.int64)
    holder = np.where(is_person | (rank == 0), person, holder_firm)
    cross = (~is_person) & (rng.random(m_e) < 0.03) & (holder != target)
    holder[cross], target[cross] = target[cross].copy(), holder[cross].copy()
    keep = holder != target
    key = np.unique(holder[keep] * n + target[keep])
    holder, target = key // n, key % n
    raw = rng.random(holder.size) + 0.05
    col_sum = np.bincount(target, weights=raw, minlength=n)
    share = raw / col_sum[target] * rng.uniform(0.55, 1.0, n)[target]
    m_g = int(1.5 * n_firms)
    g = rng.permutation(n_firms)[(n_firms * rng.random(m_g) ** 1.8).astype(np.int64)]
    near = rng.random(m_g) < 0.7
    off = rng.geometric(1 / 20, m_g) * rng.choice([-1, 1], m_g)
    b = np.where(near, (g + off) % n_firms, rng.integers(0, n_firms, m_g))
    mutual = rng.random(m_g) < 0.05
    g, b = np.concatenate([g, b[mutual]]), np.concatenate([b, g[mutual]])
    keep = g != b
    g, b = g[keep] + n_persons, b[keep] + n_persons
    amount = rng.lognormal(16, 1.2, g.size)
    ids = [f"P{i:08d}" for i in range(n_persons)] + [f"F{i:08d}" for i in range(n_firms)]
    persons = np.zeros(n, dtype=bool)
    persons[:n_persons] = True
    return ids, persons, (holder, target, share), (g, b, amount)


def banyan_circles(ids, guarantees):
    graph = GuaranteeGraph.from_arrays(ids, *guarantees)
    return len(graph.circles()), len(graph.clusters())


def banyan_ownership(ids, persons, holdings):
    equity = EquityGraph.from_arrays(ids, *holdings, persons=persons)
    roots, _, shares = equity.ultimate_owner_matrix(tol=TOL)
    return equity, shares


def networkx_circles(ids, guarantees):
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(ids)
    src, dst, amount = guarantees
    g.add_weighted_edges_from((ids[a], ids[b], w) for a, b, w in zip(src.tolist(), dst.tolist(), amount.tolist()))
    strong = [c for c in nx.strongly_connected_components(g) if len(c) > 1]
    weak = [c for c in nx.weakly_connected_components(g) if len(c) > 1]
    return len(strong), len(weak)


def networkx_ownership(ids, persons, holdings):
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(ids)
    src, dst, share = holdings
    g.add_weighted_edges_from((ids[a], ids[b], w) for a, b, w in zip(src.tolist(), dst.tolist(), share.tolist()))
    roots = [x for x in g if g.in_degree(x) == 0 and g.out_degree(x) > 0]
    total = 0
    for r in roots:
        owned: dict[str, float] = {}
        frontier = {r: 1.0}
        while frontier:
            nxt: dict[str, float] = {}
            for x, v in frontier.items():
                for y, data in g[x].items():
                    nxt[y] = nxt.get(y, 0.0) + v * data["weight"]
            frontier = {y: v for y, v in nxt.items() if v >= TOL}
            for y, v in frontier.items():
                owned[y] = owned.get(y, 0.0) + v
        total += len(owned)
    return total


def timed(fn, *args, repeat=1):
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def dropped_mass(n: int, holdings, shares) -> float:
    """Largest share of a firm lost to the tolerance: exact mass held by roots minus what was kept."""
    src, dst, share = holdings
    at = sp.csr_matrix((share, (dst, src)), shape=(n, n))
    held = np.bincount(dst, minlength=n) > 0
    x = ((np.bincount(src, minlength=n) > 0) & ~held).astype(float)
    exact = np.zeros(n)
    for _ in range(10_000):
        x = at @ x
        if x.max(initial=0.0) < 1e-18:
            break
        exact += x
    kept = np.asarray(shares.sum(axis=0)).ravel()
    return float(np.max(exact - kept))


def row(metric, value, unit, baseline, baseline_value, ratio):
    return {"metric": metric, "value": float(f"{value:.5g}"), "unit": unit, "baseline": baseline,
            "baseline_value": float(f"{baseline_value:.5g}"), "ratio": float(f"{ratio:.4g}")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k firms instead of 1M")
    args = parser.parse_args()
    big = 100_000 if args.quick else 1_000_000
    repeat = 3
    results = []

    ids, persons, holdings, guarantees = synthetic_network(50_000)
    t_ours_c, ours_c = timed(banyan_circles, ids, guarantees, repeat=repeat)
    t_nx_c, nx_c = timed(networkx_circles, ids, guarantees, repeat=repeat)
    if ours_c != nx_c:
        raise SystemExit(f"circle counts differ from networkx: {ours_c} vs {nx_c}")
    t_ours_o, (_, shares) = timed(banyan_ownership, ids, persons, holdings, repeat=repeat)
    t_nx_o, nx_pairs = timed(networkx_ownership, ids, persons, holdings, repeat=repeat)
    if abs(nx_pairs - shares.nnz) > 0.001 * nx_pairs:
        raise SystemExit(f"ownership pairs differ from networkx: {shares.nnz} vs {nx_pairs}")
    ours, theirs = t_ours_c + t_ours_o, t_nx_c + t_nx_o
    results.append(row("vs_networkx", theirs / ours, "x", "networkx 3.6.1, 50k firms: circles + ownership",
                       theirs, theirs / ours))
    results.append(row("vs_networkx_circles", t_ours_c, "s", "networkx 3.6.1 SCC + weak, 50k firms", t_nx_c, t_nx_c / t_ours_c))
    results.append(row("vs_networkx_ownership", t_ours_o, "s", "networkx 3.6.1 walk propagation, 50k firms",
                       t_nx_o, t_nx_o / t_ours_o))
    del ids, persons, holdings, guarantees, shares

    suffix = "_1m"
    ids, persons, holdings, guarantees = synthetic_network(big)
    t_c, (n_circles, n_clusters) = timed(banyan_circles, ids, guarantees, repeat=repeat)
    results.append(row("circles" + suffix, t_c, "s", f"budget 60 s; {big:,} firms, {guarantees[0].size:,} guarantees",
                       60.0, 60.0 / t_c))
    t_o, (equity, shares) = timed(banyan_ownership, ids, persons, holdings, repeat=repeat)
    results.append(row("ownership" + suffix, t_o, "s", f"budget 60 s; {holdings[0].size:,} equity edges, control included",
                       60.0, 60.0 / t_o))
    lost = dropped_mass(len(ids), holdings, shares)
    results.append(row("ownership_dropped_share" + suffix, lost, "fraction",
                       f"budget 1e-4 of a firm; tolerance {TOL:g} per walk step",
                       1e-4, 1e-4 / max(lost, 1e-300)))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    results.append(row("peak_memory" + suffix, peak, "GiB", "budget 4 GiB (whole process)", 4.0, 4.0 / peak))

    size = "100k (--quick)" if args.quick else "1M"
    print(f"graph benchmark, {size} firms: {n_circles:,} circles, {n_clusters:,} clusters, "
          f"{shares.nnz:,} owner-firm pairs")
    print(f"{'metric':<28}{'value':>12} {'unit':<9}{'baseline':>12}  ratio")
    for r in results:
        print(f"{r['metric']:<28}{r['value']:>12.4g} {r['unit']:<9}{r['baseline_value']:>12.4g}  {r['ratio']:.2f}")
    out = Path(__file__).resolve().parent / "results" / "graph.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
