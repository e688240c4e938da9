"""Benchmark of engine.graph: guarantee circles and look-through ownership at bank scale.

A seeded synthetic network (numpy): N firms plus N/4 persons, ~1.5 N equity edges
(1-3 holders per firm, holders skewed toward old firms so out-degrees follow a power
law, 3% of firm-firm stakes reversed into cross-holdings) and ~1.5 N guarantees
(power-law guarantors, 70% to nearby firms, 5% mutual).

    python benchmarks/graph.py [--quick]     # --quick: 100k firms instead of 1M

Writes benchmarks/results/graph.json (a full run only; --quick prints and keeps nothing).
Side by side in the same run, on 50k firms, in alternating rounds (medians quoted):

* circles: networkx strongly / weakly connected components;
* look-through ownership of every root holder (a holder nobody holds: persons, top
  firms) in every firm, against two baselines built from the same arrays:
  - the sparse solve a networkx user would write: a DiGraph from the arrays,
    ``nx.to_scipy_sparse_array(G, weight="share")``, then X = A[roots] (I - A)^-1
    = A + A^2 + ... on the root rows, exact (no tolerance), two ways: the one-liner
    ``spsolve(I - A^T, A[roots]^T)`` (scipy factorises once, solves one column per
    root) and ``splu(I - A^T)`` once with dense blocks of 256 roots; the faster of the
    two is the baseline.  Its time is split into graph build, matrix build and solve;
  - the hand-written per-root walk over networkx adjacency (the old baseline), pruned at
    the same tolerance as Banyan.
  Banyan's time includes EquityGraph.from_arrays (matrix, share validation, closed-loop
  check and the control fixpoint) and ultimate_owner_matrix.

Cycles: for a root no walk comes back to the holder, so Banyan's rule (walks that return
to the holder are cut: E[h, f] = L[h, f] / L[h, h]) coincides with the plain Leontief sum
and both sides count cross-holdings below the root geometrically; they differ only by the
walk contributions Banyan drops under the tolerance (checked, and reported).  For a holder
that is itself on a loop the raw solve counts the loop back to the holder as more
ownership; Banyan cuts it.  The run reports how far the two differ for such holders.
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


def per_root_walk(ids, persons, holdings):
    """The old baseline: a hand-written walk over networkx adjacency, one root at a time."""
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


def sparse_solve(ids, persons, holdings):
    """What a networkx + scipy user writes: to_scipy_sparse_array, then a sparse solve of (I - A).

    Returns ``(stage times, roots, X)`` with ``X[r, f]`` root r's total (direct + indirect)
    share of f, exact: the rows of A (I - A)^-1 for the roots.
    """
    import networkx as nx
    from scipy.sparse.linalg import spsolve

    t0 = time.perf_counter()
    g = nx.DiGraph()
    g.add_nodes_from(ids)
    src, dst, share = holdings
    g.add_weighted_edges_from(
        ((ids[a], ids[b], w) for a, b, w in zip(src.tolist(), dst.tolist(), share.tolist())), weight="share")
    t1 = time.perf_counter()
    a = nx.to_scipy_sparse_array(g, nodelist=ids, weight="share", format="csr")
    t2 = time.perf_counter()
    n = a.shape[0]
    roots = np.flatnonzero((np.diff(a.indptr) > 0) & (np.diff(a.tocsc().indptr) == 0))
    lhs = (sp.identity(n, format="csc") - a.T).tocsc()
    x = spsolve(lhs, a[roots].T.tocsc())
    shares = sp.csr_matrix(x.T)
    t3 = time.perf_counter()
    return {"graph": t1 - t0, "matrix": t2 - t1, "solve": t3 - t2}, roots, shares


def splu_blocks(ids, persons, holdings, block=256):
    """The other way a scipy user writes it: factorise (I - A^T) once with splu, solve dense blocks of roots."""
    import networkx as nx
    from scipy.sparse.linalg import splu

    t0 = time.perf_counter()
    g = nx.DiGraph()
    g.add_nodes_from(ids)
    src, dst, share = holdings
    g.add_weighted_edges_from(
        ((ids[a], ids[b], w) for a, b, w in zip(src.tolist(), dst.tolist(), share.tolist())), weight="share")
    t1 = time.perf_counter()
    a = nx.to_scipy_sparse_array(g, nodelist=ids, weight="share", format="csr")
    t2 = time.perf_counter()
    n = a.shape[0]
    roots = np.flatnonzero((np.diff(a.indptr) > 0) & (np.diff(a.tocsc().indptr) == 0))
    lu = splu((sp.identity(n, format="csc") - a.T).tocsc())
    rhs = a[roots].T.tocsc()
    parts = [sp.csr_matrix(lu.solve(rhs[:, i:i + block].toarray()).T) for i in range(0, roots.size, block)]
    shares = sp.vstack(parts, format="csr") if parts else sp.csr_matrix((0, n))
    t3 = time.perf_counter()
    return {"graph": t1 - t0, "matrix": t2 - t1, "solve": t3 - t2}, roots, shares


def banyan_ownership_staged(ids, persons, holdings):
    t0 = time.perf_counter()
    equity = EquityGraph.from_arrays(ids, *holdings, persons=persons)
    t1 = time.perf_counter()
    roots, _, shares = equity.ultimate_owner_matrix(tol=TOL)
    t2 = time.perf_counter()
    return {"build": t1 - t0, "lookthrough": t2 - t1}, equity, roots, shares


def alternating(contenders: dict, rounds: int) -> dict:
    """Run each contender once per round, the order reversed every other round.

    Returns ``{name: (median seconds, median of each stage, last result)}``; a contender
    returning ``(stage dict, ...)`` has its stages kept.
    """
    times: dict = {k: [] for k in contenders}
    stages: dict = {k: {} for k in contenders}
    last: dict = {}
    names = list(contenders)
    for i in range(rounds):
        for name in names if i % 2 == 0 else names[::-1]:
            fn, args = contenders[name]
            gc.collect()
            t = time.perf_counter()
            result = fn(*args)
            times[name].append(time.perf_counter() - t)
            if isinstance(result, tuple) and isinstance(result[0], dict):
                for k, v in result[0].items():
                    stages[name].setdefault(k, []).append(v)
            last[name] = result
    return {k: (statistics.median(times[k]), {s: statistics.median(v) for s, v in stages[k].items()}, last[k])
            for k in names}


def timed(fn, *args, repeat=1):
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def loop_holder_gap(equity, ids, holdings, sample=200):
    """For holders that sit on a cross-holding loop, the largest |raw solve - Banyan| share.

    The raw solve gives L[h, f] (walks back through h counted); Banyan gives
    L[h, f] / L[h, h].  Returns (holders compared, max gap raw, max gap after dividing).
    """
    from scipy.sparse.csgraph import connected_components
    from scipy.sparse.linalg import splu

    n = len(ids)
    pos = {x: i for i, x in enumerate(ids)}
    src, dst, share = holdings
    a = sp.csr_matrix((share, (src, dst)), shape=(n, n))
    count, label = connected_components(a, directed=True, connection="strong")
    size = np.bincount(label, minlength=count)
    on_loop = np.flatnonzero(size[label] > 1)[:sample]
    lu = splu((sp.identity(n, format="csc") - a.T).tocsc())
    raw_gap = scaled_gap = 0.0
    for h in on_loop.tolist():
        e = np.zeros(n)
        e[h] = 1.0
        row = lu.solve(e)  # L[h, :]
        mine = np.zeros(n)
        for f, v in equity.effective_holdings(ids[h]).items():
            mine[pos[f]] = v
        raw = row.copy()
        raw[h] = 0.0
        scaled = raw / row[h]
        raw_gap = max(raw_gap, float(np.abs(raw - mine).max()))
        scaled_gap = max(scaled_gap, float(np.abs(scaled - mine).max()))
    return on_loop.size, raw_gap, scaled_gap


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
    """One results row; ratio > 1 means Banyan is better (None: informative only)."""
    return {"metric": metric, "value": float(f"{value:.5g}"), "unit": unit, "baseline": baseline,
            "baseline_value": float(f"{baseline_value:.5g}"),
            "ratio": None if ratio is None else float(f"{ratio:.4g}")}


def agreement(roots_ours, shares, roots_theirs, exact) -> tuple[float, int, int]:
    """Largest |Banyan - exact| share, and owner-firm pairs on each side (exact: nonzero)."""
    if not np.array_equal(np.asarray(roots_ours), np.asarray(roots_theirs)):
        raise SystemExit("the sparse solve and Banyan disagree on who the root holders are")
    gap = abs(exact - shares).max() if exact.nnz else 0.0
    return float(gap), shares.nnz, exact.nnz


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="100k firms instead of 1M, one round of the comparison; writes nothing")
    args = parser.parse_args()
    big = 100_000 if args.quick else 1_000_000
    repeat = 3
    rounds = 1 if args.quick else 3
    results = []

    ids, persons, holdings, guarantees = synthetic_network(50_000)
    circ = alternating({"banyan": (banyan_circles, (ids, guarantees)),
                        "networkx": (networkx_circles, (ids, guarantees))}, rounds)
    (t_ours_c, _, ours_c), (t_nx_c, _, nx_c) = circ["banyan"], circ["networkx"]
    if ours_c != nx_c:
        raise SystemExit(f"circle counts differ from networkx: {ours_c} vs {nx_c}")
    own = alternating({"banyan": (banyan_ownership_staged, (ids, persons, holdings)),
                       "spsolve": (sparse_solve, (ids, persons, holdings)),
                       "splu_blocks": (splu_blocks, (ids, persons, holdings)),
                       "per_root_walk": (per_root_walk, (ids, persons, holdings))}, rounds)
    t_ours_o, st_ours, (_, equity, root_ids, shares) = own["banyan"]
    solver = min(("spsolve", "splu_blocks"), key=lambda k: own[k][0])  # the faster solve is the baseline
    t_solve, st_solve, (_, roots, exact) = own[solver]
    t_other, _, (_, roots_other, exact_other) = own["splu_blocks" if solver == "spsolve" else "spsolve"]
    if not np.array_equal(roots, roots_other) or abs(exact - exact_other).max() > 1e-9:
        raise SystemExit("spsolve and splu disagree")
    solver_text = {"spsolve": "spsolve(I - A^T, A[roots]^T) (factorises once, one column per root)",
                   "splu_blocks": "splu(I - A^T) once, then solve dense blocks of 256 roots"}
    t_walk, _, walk_pairs = own["per_root_walk"]
    pos = {x: i for i, x in enumerate(ids)}
    gap, ours_pairs, exact_pairs = agreement([pos[r] for r in root_ids], shares, roots, exact)
    if gap > 1e-4:
        raise SystemExit(f"ownership differs from the sparse solve by {gap:.3g} (budget 1e-4)")
    if abs(walk_pairs - ours_pairs) > 0.001 * walk_pairs:
        raise SystemExit(f"ownership pairs differ from the per-root walk: {ours_pairs} vs {walk_pairs}")
    n_loop, raw_gap, scaled_gap = loop_holder_gap(equity, ids, holdings)
    if scaled_gap > 1e-6:
        raise SystemExit(f"for holders on a loop, Banyan differs from L[h, f] / L[h, h] by {scaled_gap:.3g}")

    best_nx_o = min(t_solve, t_walk)
    ours, theirs = t_ours_c + t_ours_o, t_nx_c + best_nx_o
    size50 = "50k firms, median of %d alternating rounds" % rounds
    results.append(row("vs_networkx", theirs / ours, "x",
                       f"networkx 3.6.1, {size50}: circles + ownership (its faster ownership baseline)",
                       theirs, theirs / ours))
    results.append(row("vs_networkx_circles", t_ours_c, "s", f"networkx 3.6.1 SCC + weak, {size50}", t_nx_c,
                       t_nx_c / t_ours_c))
    results.append(row("ownership_vs_sparse_solve", t_ours_o, "s",
                       f"networkx DiGraph -> to_scipy_sparse_array -> scipy {solver_text[solver]}, exact, {size50} "
                       f"(the other solve took {t_other:.3g} s); "
                       "Banyan: from_arrays (validation, control) + ultimate_owner_matrix",
                       t_solve, t_solve / t_ours_o))
    results.append(row("ownership_lookthrough_vs_solve", st_ours["lookthrough"], "s",
                       f"the {solver} solve alone vs ultimate_owner_matrix alone",
                       st_solve["solve"], st_solve["solve"] / st_ours["lookthrough"]))
    results.append(row("ownership_build_vs_to_scipy", st_ours["build"], "s",
                       "networkx DiGraph from the arrays + to_scipy_sparse_array "
                       f"({st_solve['graph']:.3g} s + {st_solve['matrix']:.3g} s) vs EquityGraph.from_arrays",
                       st_solve["graph"] + st_solve["matrix"], (st_solve["graph"] + st_solve["matrix"]) / st_ours["build"]))
    results.append(row("ownership_vs_per_root_walk", t_ours_o, "s",
                       f"hand-written per-root walk over networkx adjacency, tolerance {TOL:g}, {size50}",
                       t_walk, t_walk / t_ours_o))
    results.append(row("ownership_gap_vs_solve", gap, "fraction",
                       f"max |Banyan - exact solve| over {exact_pairs:,} root-firm pairs "
                       f"(Banyan keeps {ours_pairs:,}; the rest are under tolerance {TOL:g}); budget 1e-4",
                       1e-4, 1e-4 / max(gap, 1e-300)))
    results.append(row("loop_holder_raw_solve_gap", raw_gap, "fraction",
                       f"{n_loop} holders on cross-holding loops: max |raw solve L[h, f] - Banyan|; "
                       "baseline: |L[h, f] / L[h, h] - Banyan| (Banyan cuts walks back to the holder); "
                       "informative, no target", scaled_gap, None))
    del ids, persons, holdings, guarantees, shares, exact, equity

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
    print(f"50k-firm stages: Banyan build {st_ours['build']:.3g} s, look-through {st_ours['lookthrough']:.3g} s; "
          f"networkx graph {st_solve['graph']:.3g} s, to_scipy_sparse_array {st_solve['matrix']:.3g} s, "
          f"{solver} {st_solve['solve']:.3g} s")
    print(f"{'metric':<32}{'value':>12} {'unit':<9}{'baseline':>12}  ratio")
    for r in results:
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}"
        print(f"{r['metric']:<32}{r['value']:>12.4g} {r['unit']:<9}{r['baseline_value']:>12.4g}  {ratio}")
    out = Path(__file__).resolve().parent / "results" / "graph.json"
    if args.quick:
        print(f"(--quick: not written to {out})")
        return
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"-> {out}")


if __name__ == "__main__":
    main()
