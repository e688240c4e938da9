"""Strong and weak components kept current under edge insertions and deletions.

Strong components (guarantee circles) use the Pearce-Kelly dynamic topological
order on the condensation: inserting ``u -> v`` between components already in order
costs O(1); otherwise only the components whose position lies between ``v``'s and
``u``'s are searched, those on a new cycle are merged, and the searched ones are
reordered.  Deleting an edge inside a component re-runs Tarjan on that component
alone (it may split).  Weak components (clusters) merge on insertion and, on
deletion, run two breadth-first searches in lock step from the two ends: the first
to run dry is the piece that split off, so the work is bounded by the smaller side.

Labels are representative node indices; members are kept only for components of two
or more nodes.  A local step that would touch more than ``LOCAL_BUDGET`` nodes gives
up and recomputes everything with scipy instead (about a second for a million firms),
so an edit is never much slower than a full recomputation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from .adjacency import DynamicAdjacency

_MIN_GAP = 1e-7
LOCAL_BUDGET = 50_000


class _TooLarge(Exception):
    """Internal signal: the local update would cost more than a full recomputation."""


class Components:
    """A partition of nodes 0..n-1 into labelled parts (label = a member's index)."""

    def __init__(self, labels: np.ndarray) -> None:
        n = labels.size
        first = np.full(n, n, dtype=np.int64)
        np.minimum.at(first, labels, np.arange(n))
        self.label: np.ndarray = first[labels]
        size = np.bincount(self.label, minlength=n)
        big = np.flatnonzero(size[self.label] > 1)
        order = big[np.argsort(self.label[big], kind="stable")]
        cut: np.ndarray | list[int] = []
        if order.size:
            cut = np.flatnonzero(np.r_[True, self.label[order][1:] != self.label[order][:-1]])
        self.members: dict[int, list[int]] = {}
        for part in np.split(order, cut[1:]) if order.size else []:
            self.members[int(self.label[part[0]])] = part.tolist()

    def grow(self, n: int) -> None:
        old = self.label.size
        if n > old:
            self.label = np.concatenate([self.label, np.arange(old, n, dtype=np.int64)])

    def of(self, i: int) -> list[int]:
        return self.members.get(int(self.label[i]), [i])

    def merge(self, labels: list[int]) -> int:
        """Merge parts into the largest one; return the surviving label."""
        labels = sorted(set(labels), key=lambda c: -len(self.of(c)))
        keep = labels[0]
        joined = list(self.of(keep))
        for c in labels[1:]:
            part = self.members.pop(c, [c])
            self.label[part] = keep
            joined.extend(part)
        if len(joined) > 1:
            self.members[keep] = joined
        return keep

    def split(self, old: int, parts: list[list[int]]) -> list[int]:
        """Replace part ``old`` by ``parts``; return their new labels in the same order."""
        self.members.pop(old, None)
        labels = []
        for part in parts:
            lab = min(part)
            self.label[part] = lab
            if len(part) > 1:
                self.members[lab] = list(part)
            labels.append(lab)
        return labels


class DynamicStrong:
    """Strongly connected components with a topological order of the condensation."""

    def __init__(self, adj: DynamicAdjacency, labels: np.ndarray, csr: sp.csr_matrix) -> None:
        self.adj = adj
        self.parts = Components(labels)
        self._order(csr)

    def _order(self, csr: sp.csr_matrix) -> None:
        self.pos = np.full(self.adj.n, np.nan)
        order = _topological_order(csr, self.parts.label)
        self.pos[order] = np.arange(order.size, dtype=np.float64)

    def rebuild(self) -> None:
        """Full recomputation with scipy (used when a local step would be larger)."""
        csr = self.adj.to_csr()
        labels = csgraph.connected_components(csr, directed=True, connection="strong")[1]
        fresh = Components(labels)
        self.parts.label, self.parts.members = fresh.label, fresh.members
        self._order(csr)

    def grow(self, n: int) -> None:
        old = self.pos.size
        if n > old:
            self.parts.grow(n)
            top = np.nanmax(self.pos) if old else -1.0
            self.pos = np.concatenate([self.pos, top + 1.0 + np.arange(n - old)])

    def inserted(self, u: int, v: int) -> None:
        try:
            self._inserted(u, v)
        except _TooLarge:
            self.rebuild()

    def _inserted(self, u: int, v: int) -> None:
        comp, pos = self.parts.label, self.pos
        cu, cv = int(comp[u]), int(comp[v])
        if cu == cv or pos[cu] < pos[cv]:
            return
        lb, ub = pos[cv], pos[cu]
        forward = self._search(cv, lambda c: pos[c] <= ub, self.adj.out)
        backward = self._search(cu, lambda c: pos[c] >= lb, self.adj.inn)
        cycle = [c for c in forward if c in backward] if cu in forward else []
        cyc = set(cycle)
        before = sorted((c for c in backward if c not in cyc), key=lambda c: pos[c])
        after = sorted((c for c in forward if c not in cyc), key=lambda c: pos[c])
        pool = np.sort(pos[list(set(forward) | set(backward))])
        for slot, c in zip(pool, before):
            pos[c] = slot
        for slot, c in zip(pool[::-1], after[::-1]):
            pos[c] = slot
        if cycle:
            keep = self.parts.merge(cycle)
            for c in cycle:
                if c != keep:
                    pos[c] = np.nan
            pos[keep] = pool[len(before)]

    def _search(self, start: int, inside: Callable[[int], bool], step: Callable[[int], Iterable[int]]) -> set[int]:
        comp = self.parts.label
        seen = {start}
        stack = [start]
        visits = 0
        while stack:
            c = stack.pop()
            members = self.parts.of(c)
            visits += len(members)
            if visits > LOCAL_BUDGET:
                raise _TooLarge
            for x in members:
                for y in step(x):
                    d = int(comp[y])
                    if d not in seen and inside(d):
                        seen.add(d)
                        stack.append(d)
        return seen

    def removed(self, u: int, v: int) -> None:
        c = int(self.parts.label[u])
        if c != int(self.parts.label[v]):
            return
        members = self.parts.of(c)
        if len(members) > LOCAL_BUDGET:
            self.rebuild()
            return
        pieces = _tarjan(members, self.adj.out)
        if len(pieces) == 1:
            return
        pieces.reverse()  # Tarjan yields sinks first
        p = self.pos[c]
        later = self.pos[self.pos > p]
        q = later.min() if later.size else p + 1.0
        if (q - p) / len(pieces) < _MIN_GAP * max(1.0, abs(p)):
            self._renumber()
            p = self.pos[c]
            later = self.pos[self.pos > p]
            q = later.min() if later.size else p + 1.0
        labels = self.parts.split(c, pieces)
        self.pos[c] = np.nan
        for k, lab in enumerate(labels):
            self.pos[lab] = p + k * (q - p) / len(labels)

    def _renumber(self) -> None:
        reps = np.flatnonzero(~np.isnan(self.pos))
        order = reps[np.argsort(self.pos[reps], kind="stable")]
        self.pos[order] = np.arange(order.size, dtype=np.float64)


class DynamicWeak:
    """Weakly connected components (clusters) under edits."""

    def __init__(self, adj: DynamicAdjacency, labels: np.ndarray) -> None:
        self.adj = adj
        self.parts = Components(labels)

    def grow(self, n: int) -> None:
        self.parts.grow(n)

    def inserted(self, u: int, v: int) -> None:
        a, b = int(self.parts.label[u]), int(self.parts.label[v])
        if a != b:
            self.parts.merge([a, b])

    def removed(self, u: int, v: int) -> None:
        if self.adj.has(v, u):
            return
        try:
            piece = self._smaller_side(u, v)
        except _TooLarge:
            labels = csgraph.connected_components(self.adj.to_csr(), directed=True, connection="weak")[1]
            fresh = Components(labels)
            self.parts.label, self.parts.members = fresh.label, fresh.members
            return
        if piece is None:
            return
        old = int(self.parts.label[u])
        rest = [x for x in self.parts.of(old) if x not in piece]
        self.parts.split(old, [sorted(piece), rest])

    def _neighbours(self, x: int) -> Iterator[int]:
        yield from self.adj.out(x)
        yield from self.adj.inn(x)

    def _smaller_side(self, u: int, v: int) -> set[int] | None:
        seen = ({u}, {v})
        frontier = ([u], [v])
        while frontier[0] and frontier[1]:
            for side in (0, 1):
                nxt = []
                for x in frontier[side]:
                    for y in self._neighbours(x):
                        if y in seen[1 - side]:
                            return None
                        if y not in seen[side]:
                            seen[side].add(y)
                            nxt.append(y)
                frontier[side][:] = nxt
                if not nxt:
                    return seen[side]
                if len(seen[0]) + len(seen[1]) > LOCAL_BUDGET:
                    raise _TooLarge
        return seen[0] if not frontier[0] else seen[1]


def _topological_order(csr: sp.csr_matrix, label: np.ndarray) -> np.ndarray:
    """Representatives of the components in a topological order of the condensation."""
    n = label.size
    coo = csr.tocoo()
    a, b = label[coo.row], label[coo.col]
    cross = a != b
    dag = sp.csr_matrix((np.ones(int(cross.sum()), dtype=np.int8), (a[cross], b[cross])), shape=(n, n))
    dag.sum_duplicates()
    indeg = np.bincount(dag.indices, minlength=n)
    reps = np.flatnonzero(label == np.arange(n))
    frontier = reps[indeg[reps] == 0]
    out = []
    while frontier.size:
        out.append(frontier)
        lo, hi = dag.indptr[frontier], dag.indptr[frontier + 1]
        counts = hi - lo
        idx = np.repeat(lo - np.r_[0, np.cumsum(counts)[:-1]], counts) + np.arange(counts.sum())
        targets = dag.indices[idx]
        np.subtract.at(indeg, targets, 1)
        nxt = np.unique(targets)
        frontier = nxt[indeg[nxt] == 0]
    order = np.concatenate(out) if out else np.zeros(0, np.int64)
    if order.size != reps.size:
        raise ValueError("internal: condensation is not acyclic")
    return order


def _tarjan(nodes: list[int], out: Callable[[int], Iterable[int]]) -> list[list[int]]:
    """Strong components of the subgraph induced by ``nodes`` (iterative Tarjan), sinks first."""
    inside = set(nodes)
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    result: list[list[int]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter([y for y in out(root) if y in inside]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            x, it = work[-1]
            for y in it:
                if y not in index:
                    index[y] = low[y] = counter
                    counter += 1
                    stack.append(y)
                    on_stack.add(y)
                    work.append((y, iter([z for z in out(y) if z in inside])))
                    break
                if y in on_stack:
                    low[x] = min(low[x], index[y])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[x])
                if low[x] == index[x]:
                    piece = []
                    while True:
                        y = stack.pop()
                        on_stack.discard(y)
                        piece.append(y)
                        if y == x:
                            break
                    result.append(piece)
    return result
