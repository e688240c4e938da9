"""The guarantee graph: circles, clusters, mutual pairs, cycles, chains, load.

Edges go guarantor -> borrower with an amount.  A guarantee circle (担保圈) is a
strongly connected component of two or more firms; a cluster is a weakly connected
component (for exposure).  The graph can be edited (:meth:`add_edge`,
:meth:`remove_edge`) and keeps circles and clusters current locally instead of
recomputing the bank (see :mod:`.dynamic`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse import csgraph

from ._index import NodeIndex, parse_edges
from .adjacency import DynamicAdjacency
from .cycles import bfs_paths, simple_cycles
from .dynamic import Components, DynamicStrong, DynamicWeak

_COMPACT_MIN = 4096


@dataclass(frozen=True)
class CrossGroupCircle:
    """A guarantee circle whose members belong to more than one group."""

    members: tuple[str, ...]
    groups: Mapping[str | None, int]  # group id (None: no group) -> number of members


class GuaranteeGraph:
    def __init__(self, guarantees: Iterable[Sequence[Any]], *, nodes: Iterable[str] = ()) -> None:
        index = NodeIndex(nodes)
        src, dst, amount = parse_edges(guarantees, index, what="guarantee")
        self._build(index, src, dst, amount)

    @classmethod
    def from_arrays(cls, ids: Sequence[str], src: npt.ArrayLike, dst: npt.ArrayLike,
                    amount: npt.ArrayLike) -> GuaranteeGraph:
        """Bulk constructor: integer ``src`` (guarantor) / ``dst`` (borrower) index ``ids``."""
        self = cls.__new__(cls)
        index = NodeIndex(ids)
        if len(index) != len(ids):
            raise ValueError("from_arrays: ids must be unique")
        src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
        amount = np.asarray(amount, dtype=np.float64)
        if src.shape != dst.shape or src.shape != amount.shape:
            raise ValueError("from_arrays: src, dst and amount must have the same length")
        if src.size and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= len(ids)):
            raise ValueError("from_arrays: an edge refers to an index outside ids")
        if np.any(src == dst):
            raise ValueError("from_arrays: a firm cannot guarantee itself")
        self._build(index, src, dst, amount)
        return self

    def _build(self, index: NodeIndex, src: np.ndarray, dst: np.ndarray, amount: np.ndarray) -> None:
        if amount.size and amount.min() <= 0:
            raise ValueError(f"guarantee amounts must be positive, got {float(amount.min())!r}")
        self._index = index
        self._adj = DynamicAdjacency(len(index), src, dst, amount)
        csr = self._adj.to_csr()
        self._strong_labels = csgraph.connected_components(csr, directed=True, connection="strong")[1]
        self._strong = Components(self._strong_labels)
        self._weak = Components(csgraph.connected_components(csr, directed=True, connection="weak")[1])
        self._dyn_strong: DynamicStrong | None = None
        self._dyn_weak: DynamicWeak | None = None

    # -- edits ------------------------------------------------------------------
    def _dynamic(self) -> tuple[DynamicStrong, DynamicWeak]:
        if self._dyn_strong is None or self._dyn_weak is None:     # both are made together
            csr = self._adj.to_csr()
            self._dyn_strong = DynamicStrong(self._adj, self._strong.label, csr)
            self._dyn_weak = DynamicWeak(self._adj, self._weak.label)
            self._strong, self._weak = self._dyn_strong.parts, self._dyn_weak.parts
        return self._dyn_strong, self._dyn_weak

    def add_edge(self, guarantor: str, borrower: str, amount: float) -> None:
        """Record a guarantee (amounts of the same pair add up); circles update locally."""
        if guarantor == borrower:
            raise ValueError(f"a firm cannot guarantee itself: {guarantor!r}")
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not amount > 0 or math.isinf(amount):
            raise ValueError(f"guarantee amount must be a positive number, got {amount!r}")
        strong, weak = self._dynamic()
        u, v = self._index.add(guarantor), self._index.add(borrower)
        n = len(self._index)
        if n > self._adj.n:
            self._adj.grow(n)
            strong.grow(n)
            weak.grow(n)
        if self._adj.add(u, v, float(amount)):
            strong.inserted(u, v)
            weak.inserted(u, v)
        self._maybe_compact()

    def remove_edge(self, guarantor: str, borrower: str) -> float:
        """Remove every guarantee from ``guarantor`` to ``borrower``; return the amount removed."""
        u, v = self._index.index(guarantor), self._index.index(borrower)
        if not self._adj.has(u, v):
            raise KeyError(f"no guarantee {guarantor!r} -> {borrower!r}")
        strong, weak = self._dynamic()
        amount = self._adj.remove(u, v)
        strong.removed(u, v)
        weak.removed(u, v)
        self._maybe_compact()
        return amount

    def _maybe_compact(self) -> None:
        if self._adj.overlay_size() > max(_COMPACT_MIN, self._adj._out.nnz // 8):
            self._adj.compact()

    # -- basics -----------------------------------------------------------------
    @property
    def nodes(self) -> Sequence[str]:
        return self._index.all_ids

    def __contains__(self, node: object) -> bool:
        return node in self._index

    def edges(self) -> list[tuple[str, str, float]]:
        coo = self._adj.to_csr().tocoo()
        ids = self._index.id
        return [(ids(a), ids(b), w) for a, b, w in zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist())]

    def amount(self, guarantor: str, borrower: str) -> float:
        return self._adj.weight(self._index.index(guarantor), self._index.index(borrower))

    def guarantees_given(self, firm: str) -> dict[str, float]:
        u = self._index.index(firm)
        return {self._index.id(v): self._adj.weight(u, v) for v in self._adj.out(u)}

    def guarantees_received(self, firm: str) -> dict[str, float]:
        v = self._index.index(firm)
        return {self._index.id(u): self._adj.weight(u, v) for u in self._adj.inn(v)}

    # -- circles and clusters ----------------------------------------------------
    def circle_of(self, firm: str) -> frozenset[str]:
        """The guarantee circle containing ``firm``; empty when it is in none."""
        part = self._strong.of(self._index.index(firm))
        return frozenset(self._index.ids(part)) if len(part) > 1 else frozenset()

    def in_circle(self, firm: str) -> bool:
        return len(self._strong.of(self._index.index(firm))) > 1

    def circle_size(self, firm: str) -> int:
        """Number of firms in ``firm``'s circle, 0 when it is in none."""
        size = len(self._strong.of(self._index.index(firm)))
        return size if size > 1 else 0

    def circles(self, min_size: int = 2) -> list[tuple[str, ...]]:
        """Every circle with at least ``min_size`` firms, largest first, members sorted."""
        return _listing(self._strong, self._index, max(min_size, 2))

    def cluster_of(self, firm: str) -> frozenset[str]:
        part = self._weak.of(self._index.index(firm))
        return frozenset(self._index.ids(part)) if len(part) > 1 else frozenset()

    def clusters(self, min_size: int = 2) -> list[tuple[str, ...]]:
        return _listing(self._weak, self._index, max(min_size, 2))

    def circle_labels(self) -> np.ndarray:
        """Circle label per node index (a member's index); nodes on no circle carry their own."""
        return self._strong.label.copy()

    # -- patterns -------------------------------------------------------------------
    def mutual_pairs(self) -> list[tuple[str, str]]:
        """Pairs that guarantee each other (2-cycles), each once, sorted."""
        pairs = set()
        for members in self._strong.members.values():
            for u in members:
                for v in self._adj.out(u):
                    if u < v and self._adj.has(v, u):
                        a, b = self._index.id(u), self._index.id(v)
                        pairs.add((min(a, b), max(a, b)))
        return sorted(pairs)

    def cycles(self, max_length: int = 6, min_length: int = 3, limit: int = 100_000) -> list[tuple[str, ...]]:
        """Circular guarantees: simple cycles with ``min_length..max_length`` firms, in edge order."""
        found = simple_cycles(self._strong.members.values(), self._adj.out, min_length, max_length, limit)
        return [tuple(self._index.ids(c)) for c in found]

    def chain(self, firm: str, direction: str = "down", max_depth: int | None = None) -> dict[str, tuple[str, ...]]:
        """Guarantee chain from ``firm``: every firm reached, with the shortest path to it.

        ``down`` follows guarantor -> borrower (whom ``firm`` backs, directly or not);
        ``up`` follows borrower -> guarantor (who backs ``firm``).
        """
        if direction not in ("down", "up"):
            raise ValueError(f"direction must be 'down' or 'up', got {direction!r}")
        step = self._adj.out if direction == "down" else self._adj.inn
        paths = bfs_paths(self._index.index(firm), step, max_depth)
        return {self._index.id(k): tuple(self._index.ids(p)) for k, p in paths.items()}

    def reachable(self, firm: str) -> set[str]:
        return set(self.chain(firm, "down"))

    # -- load and groups -------------------------------------------------------------
    def guarantor_load(
        self, net_assets: Mapping[str, float], group_of: Mapping[str, str] | None = None
    ) -> dict[str, float]:
        """External guarantees given / net assets, for every guarantor with net assets on record.

        With ``group_of``, guarantees to firms of the guarantor's own group are not
        external.  Net assets <= 0 with external guarantees give ``inf``.
        """
        load: dict[str, float] = {}
        for firm, assets in net_assets.items():
            if firm not in self._index:
                continue
            given = self.guarantees_given(firm)
            groups = group_of or {}
            mine = groups.get(firm)
            external = sum(a for b, a in given.items() if mine is None or groups.get(b) != mine)
            if not given:
                continue
            load[firm] = external / assets if assets > 0 else (math.inf if external > 0 else 0.0)
        return load

    def cross_group_circles(self, group_of: Mapping[str, str]) -> list[CrossGroupCircle]:
        """Circles whose members belong to two or more groups (firms with no group count apart)."""
        found = []
        for members in self.circles():
            counts: dict[str | None, int] = {}
            for m in members:
                g = group_of.get(m)
                counts[g] = counts.get(g, 0) + 1
            if len(counts) > 1:
                found.append(CrossGroupCircle(members, counts))
        return found


def _listing(parts: Components, index: NodeIndex, min_size: int) -> list[tuple[str, ...]]:
    out = [tuple(sorted(index.ids(m))) for m in parts.members.values() if len(m) >= min_size]
    out.sort(key=lambda c: (-len(c), c))
    return out
