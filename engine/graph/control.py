"""Control: who controls whom, as an iterative fixpoint over direct holdings.

X controls Y when X together with the firms X controls holds more than 50% of Y
(direct shares are *added*, not multiplied), or when a declared control agreement
says so.  Persons linked as close relatives form one controlling party: their
holdings are pooled as if one holder.

Control is hierarchical: two disjoint sets of holders cannot both hold more than
half of a firm, so every node belongs to exactly one *bloc* -- an ultimate
controller together with everything it controls, directly or indirectly.  The
fixpoint grows the blocs: each round sums, for every firm that is still the top of
its own bloc, the shares held in it by every other bloc, and a bloc holding more
than 50% absorbs the firm (and the firm's whole bloc).  Rounds repeat until nothing
moves, so the number of rounds is the depth of the control chains.

A bloc whose own members hold more than 50% of its top (mutual control through
cross-holdings, e.g. A holds 60% of B and B holds 60% of A) has no ultimate
controller: following control upward never reaches a holder nobody controls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

MAJORITY = 0.5


@dataclass(frozen=True)
class ControlState:
    """The result of the fixpoint, indexed by node.

    ``top[i]``: the top node of i's bloc (i itself when nobody controls i);
    ``captured_by[i]``: the holder inside the controlling bloc with the largest
    share in i (or the agreement's controller), -1 for tops;
    ``bloc_share[i]``: the summed share the bloc held in i when it took control
    (``inf`` for an agreement); ``mutual[t]``: the bloc topped by t controls t
    itself; ``party_top[i]``: the representative of i's relatives party, or i.
    """

    top: np.ndarray
    captured_by: np.ndarray
    bloc_share: np.ndarray
    mutual: np.ndarray
    party_top: np.ndarray


def solve_control(
    a: sp.csr_matrix,
    agreements: tuple[np.ndarray, np.ndarray],
    parties: list[np.ndarray],
    names: Callable[[int], str] = str,
) -> ControlState:
    """Run the control fixpoint over holdings ``a`` (CSR, ``a[h, f]`` = share)."""
    n = a.shape[0]
    coo = a.tocoo()
    src, dst, share = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
    ag_src, ag_dst = (np.asarray(x, dtype=np.int64) for x in agreements)
    parent = np.arange(n, dtype=np.int64)
    party_top = np.arange(n, dtype=np.int64)
    for members in parties:
        rep = int(members.min())
        parent[members] = rep
        party_top[members] = rep
    captured_by = np.full(n, -1, dtype=np.int64)
    bloc_share = np.zeros(n)
    mutual = np.zeros(n, dtype=bool)
    all_src = np.concatenate([src, ag_src])
    all_dst = np.concatenate([dst, ag_dst])
    all_w = np.concatenate([share, np.full(ag_src.size, np.inf)])
    while True:
        label = _find_all(parent)
        is_top = label == np.arange(n)
        live = is_top[all_dst] & ~mutual[all_dst]
        key_bloc, key_dst, w, holder = label[all_src[live]], all_dst[live], all_w[live], all_src[live]
        if key_dst.size == 0:
            break
        key = key_bloc * n + key_dst
        order = np.lexsort((-w, key))
        key, w, holder = key[order], w[order], holder[order]
        first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        total = np.add.reduceat(w, first)
        win = total > MAJORITY
        if not win.any():
            break
        w_key, w_total, w_holder = key[first][win], total[win], holder[first][win]
        bloc, firm = w_key // n, w_key % n
        _reject_conflicts(firm, bloc, names)
        own = bloc == firm
        mutual[firm[own]] = True
        bloc, firm, w_total, w_holder = bloc[~own], firm[~own], w_total[~own], w_holder[~own]
        captured_by[firm] = w_holder
        bloc_share[firm] = w_total
        parent[firm] = bloc
        _merge_pointer_cycles(parent, mutual, firm, bloc)
    return ControlState(_find_all(parent), captured_by, bloc_share, mutual, party_top)


def _find_all(parent: np.ndarray) -> np.ndarray:
    """Vectorised union-find lookup: follow parent pointers to the roots (pointer jumping)."""
    label = parent.copy()
    while True:
        nxt = label[label]
        if np.array_equal(nxt, label):
            return label
        label = nxt


def _reject_conflicts(firm: np.ndarray, bloc: np.ndarray, names: Callable[[int], str]) -> None:
    dup = np.flatnonzero(np.bincount(firm) > 1)
    if dup.size:
        f = int(dup[0])
        claims = sorted(names(int(b)) for b in bloc[firm == f])
        raise ValueError(
            f"conflicting control of {names(f)!r}: both {claims[0]!r} and {claims[1]!r} "
            "hold more than 50% or have a control agreement; fix the agreements"
        )


def _merge_pointer_cycles(parent: np.ndarray, mutual: np.ndarray, firm: np.ndarray, bloc: np.ndarray) -> None:
    """Two blocs that took control of each other in one round form a mutual bloc."""
    if firm.size < 2:
        return
    nodes, inv = np.unique(np.concatenate([firm, bloc]), return_inverse=True)
    m = len(nodes)
    g = sp.csr_matrix((np.ones(firm.size), (inv[: firm.size], inv[firm.size:])), shape=(m, m))
    count, label = csgraph.connected_components(g, directed=True, connection="strong")
    if count == m:
        return
    size = np.bincount(label)
    for comp in np.flatnonzero(size > 1):
        members = nodes[label == comp]
        rep = members.min()
        parent[members] = rep
        mutual[rep] = True
