"""Contagion of distress through guarantees and control.

A *channel* ``(x, v, q)`` says that distress of ``x`` reaches ``v`` with weight
``q = p(v|x)``. Two models:

- ``"debtrank"`` (default; Battiston et al. 2012): distress levels ``h`` in [0, 1] start
  at ``p_s``; each round, every firm that became distressed in the previous round passes
  ``q * h(x)`` along its channels, once, and then goes inactive:

      h(v) <- min(1, h(v) + sum over newly distressed x of q(x, v) * h(x))

  Because a firm propagates only once, distress cannot echo round a loop (a 100%
  subsidiary and its parent, a mutual guarantee) and inflate itself: results stay
  readable on a whole bank.
- ``"probabilistic"``: the fixpoint of NOTES.md,
  ``p(v) = 1 - (1 - p_s(v)) * prod over channels x->v of (1 - p(v|x) * p(x))``. Loops feed
  back as if each pass were fresh evidence, so on dense ownership it saturates toward 1;
  kept for small networks and for comparison.

Each affected firm is explained by its strongest path from a distressed firm: the
path maximising ``p_s(source) * prod q`` (Dijkstra on ``-log q``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from ._index import NodeIndex
from .equity import EquityGraph
from .guarantee import GuaranteeGraph

_EPS = 1e-12


@dataclass(frozen=True)
class Affected:
    firm: str
    score: float  # p(v)
    path: tuple[str, ...]  # strongest path, from a distressed firm to this one
    path_strength: float  # p_s(source) * product of channel probabilities on the path


@dataclass(frozen=True)
class ContagionResult:
    scores: Mapping[str, float]  # every firm with p > 0, the distressed ones included
    affected: tuple[Affected, ...]  # firms not distressed at the start, highest score first

    def score(self, firm: str) -> float:
        return self.scores.get(firm, 0.0)


def guarantee_channels(
    graph: GuaranteeGraph, net_assets: Mapping[str, float] | None = None, default: float = 0.5
) -> list[tuple[str, str, float]]:
    """Borrower -> guarantor: a guarantor is called when its borrower fails.

    With net assets known, ``q = min(1, amount / net assets)``; otherwise ``default``.
    """
    _check_rate(default, "default")
    out = []
    for g, b, amount in graph.edges():
        assets = net_assets.get(g) if net_assets else None
        q = default if assets is None else (1.0 if assets <= 0 else min(1.0, amount / assets))
        out.append((b, g, q))
    return out


def equity_channels(equity: EquityGraph, control_rate: float = 0.3, holding_rate: float = 1.0) -> list[tuple[str, str, float]]:
    """Firm -> holder with ``q = holding_rate * direct share`` (a loss on the stake), and
    ultimate controller -> controlled firm with ``control_rate`` (the parent's trouble)."""
    _check_rate(control_rate, "control_rate")
    _check_rate(holding_rate, "holding_rate")
    out = []
    for firm in equity.nodes:
        for holder, share in equity.shareholders(firm).items():
            out.append((firm, holder, holding_rate * share))
        top = equity.ultimate_controller(firm)
        if top is not None and control_rate > 0:
            out.append((top, firm, control_rate))
    return out


def contagion(
    channels: Iterable[Sequence[Any]],
    distressed: Mapping[str, float] | Iterable[str],
    *,
    min_score: float = 1e-3,
    tol: float = 1e-10,
    max_rounds: int = 10_000,
    model: str = "debtrank",
) -> ContagionResult:
    """Propagate distress through ``channels`` from ``distressed`` (ids, or {id: p_s})."""
    if model not in ("debtrank", "probabilistic"):
        raise ValueError(f"model must be 'debtrank' or 'probabilistic', got {model!r}")
    seeds = dict(distressed) if isinstance(distressed, Mapping) else {f: 1.0 for f in distressed}
    index = NodeIndex()
    src, dst, q = [], [], []
    for k, ch in enumerate(channels):
        if len(ch) != 3:
            raise ValueError(f"channel #{k} must be (source, target, probability), got {ch!r}")
        x, v, p = ch
        _check_rate(p, f"channel #{k} probability")
        if x != v and p > 0:
            src.append(index.add(x))
            dst.append(index.add(v))
            q.append(float(p))
    for f, p in seeds.items():
        _check_rate(p, f"starting probability of {f!r}")
        index.add(f)
    n = len(index)
    src_a, dst_a, q_a = np.asarray(src, np.int64), np.asarray(dst, np.int64), np.asarray(q)
    ps = np.zeros(n)
    for f, p in seeds.items():
        ps[index.index(f)] = p
    if model == "debtrank":
        p = _debtrank(n, src_a, dst_a, q_a, ps)
    else:
        p = _fixpoint(n, src_a, dst_a, q_a, ps, tol, max_rounds)
    g, pred = _strongest_paths(n, src_a, dst_a, q_a, ps)
    scores = {index.id(int(i)): float(p[i]) for i in np.flatnonzero(p > 0)}
    affected = []
    for i in np.flatnonzero((p >= min_score) & (ps == 0)):
        path = _walk_back(pred, int(i), n)
        strength = _path_strength(path, ps, g)
        affected.append(Affected(index.id(int(i)), float(p[i]), tuple(index.ids(path)), strength))
    affected.sort(key=lambda a: (-a.score, a.firm))
    return ContagionResult(scores, tuple(affected))


def _debtrank(n: int, src: np.ndarray, dst: np.ndarray, q: np.ndarray, ps: np.ndarray) -> np.ndarray:
    """Each firm passes its distress along its channels once, in the round after it was hit."""
    w = sp.csr_matrix((q, (src, dst)), shape=(n, n))  # parallel channels add up
    h = ps.copy()
    active = ps > 0          # distressed, propagating this round
    done = np.zeros(n, bool)  # has propagated: inactive
    for _ in range(n + 1):
        if not active.any():
            break
        push: np.ndarray = w.T @ np.where(active, h, 0.0)
        done |= active
        nxt = np.minimum(1.0, h + push)  # an inactive firm still takes losses, but passes none on
        active = (nxt > h) & ~done
        h = nxt
    return h


def _fixpoint(n: int, src: np.ndarray, dst: np.ndarray, q: np.ndarray, ps: np.ndarray, tol: float,
              max_rounds: int) -> np.ndarray:
    with np.errstate(divide="ignore"):
        base = np.log1p(-ps)
    p = ps.copy()
    for _ in range(max_rounds):
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.bincount(dst, weights=np.log1p(-(q * p[src])), minlength=n)
            nxt: np.ndarray = np.maximum(-np.expm1(base + logs), ps)
        nxt = np.nan_to_num(nxt, nan=1.0)
        if np.max(np.abs(nxt - p), initial=0.0) <= tol:
            return nxt
        p = nxt
    raise ValueError("contagion did not converge within max_rounds")


def _strongest_paths(n: int, src: np.ndarray, dst: np.ndarray, q: np.ndarray,
                     ps: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """Dijkstra from a virtual source joined to every distressed firm by -log p_s."""
    seeds = np.flatnonzero(ps > 0)
    rows = np.concatenate([src, np.full(seeds.size, n)])
    cols = np.concatenate([dst, seeds])
    w = np.concatenate([-np.log(q), -np.log(ps[seeds])]) + _EPS
    key = rows * (n + 1) + cols
    order = np.lexsort((w, key))  # keep the strongest of parallel channels
    first = order[np.r_[True, key[order][1:] != key[order][:-1]]] if order.size else order
    g = sp.csr_matrix((w[first], (rows[first], cols[first])), shape=(n + 1, n + 1))
    dist, pred = csgraph.dijkstra(g, indices=n, return_predecessors=True)
    return g, pred


def _path_strength(path: list[int], ps: np.ndarray, g: sp.csr_matrix) -> float:
    strength = float(ps[path[0]])
    for x, v in zip(path, path[1:]):
        strength *= float(np.exp(-(g[x, v] - _EPS)))
    return strength


def _walk_back(pred: np.ndarray, i: int, virtual: int) -> list[int]:
    path = [i]
    while pred[path[-1]] not in (virtual, -9999):
        path.append(int(pred[path[-1]]))
    return path[::-1]


def _check_rate(p: object, what: str) -> None:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{what} must be a probability in [0, 1], got {p!r}")
