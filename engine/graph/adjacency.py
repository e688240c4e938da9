"""A directed weighted adjacency that can be edited: a CSR base plus a small overlay.

The bulk of a bank's guarantees sits in compressed sparse rows; edits go to
dictionaries beside it, and :meth:`compact` folds them back in when they grow.
Parallel edges between the same pair are one pair whose amount is the sum.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp


class DynamicAdjacency:
    def __init__(self, n: int, src: np.ndarray, dst: np.ndarray, weight: np.ndarray) -> None:
        self._set_base(sp.csr_matrix((weight, (src, dst)), shape=(n, n), dtype=np.float64))

    def _set_base(self, base: sp.csr_matrix) -> None:
        base.sum_duplicates()
        self._n: int = base.shape[0]
        self._out = base
        self._in = base.T.tocsr()
        self._extra: dict[tuple[int, int], float] = {}  # pairs not in the base (or amounts changed)
        self._extra_out: dict[int, set[int]] = {}
        self._extra_in: dict[int, set[int]] = {}
        self._removed: set[tuple[int, int]] = set()  # base pairs that are gone

    @property
    def n(self) -> int:
        return self._n

    def grow(self, n: int) -> None:
        """Make room for nodes ``self.n .. n-1`` (they start without edges)."""
        if n > self._n:
            self._n = n

    def _base_weight(self, u: int, v: int) -> float:
        if u >= self._out.shape[0] or v >= self._out.shape[0]:
            return 0.0
        lo, hi = self._out.indptr[u], self._out.indptr[u + 1]
        cols = self._out.indices[lo:hi]
        k = np.searchsorted(cols, v)
        return float(self._out.data[lo + k]) if k < cols.size and cols[k] == v else 0.0

    def weight(self, u: int, v: int) -> float:
        """Summed amount of the pair ``u -> v``; 0.0 when there is none."""
        if (u, v) in self._extra:
            return self._extra[(u, v)]
        if (u, v) in self._removed:
            return 0.0
        return self._base_weight(u, v)

    def has(self, u: int, v: int) -> bool:
        return self.weight(u, v) != 0.0

    def add(self, u: int, v: int, amount: float) -> bool:
        """Add ``amount`` to the pair; return True when the pair is new."""
        old = self.weight(u, v)
        self._removed.discard((u, v))
        self._extra[(u, v)] = old + amount
        self._extra_out.setdefault(u, set()).add(v)
        self._extra_in.setdefault(v, set()).add(u)
        return old == 0.0

    def remove(self, u: int, v: int) -> float:
        """Drop the pair entirely and return its amount; KeyError when absent."""
        old = self.weight(u, v)
        if old == 0.0:
            raise KeyError((u, v))
        if self._extra.pop((u, v), None) is not None:
            self._extra_out[u].discard(v)
            self._extra_in[v].discard(u)
        if self._base_weight(u, v) != 0.0:
            self._removed.add((u, v))
        return old

    def out(self, u: int) -> Iterator[int]:
        yield from self._side(self._out, self._extra_out, u, forward=True)

    def inn(self, v: int) -> Iterator[int]:
        yield from self._side(self._in, self._extra_in, v, forward=False)

    def _side(self, m: sp.csr_matrix, extra: dict[int, set[int]], u: int, forward: bool) -> Iterator[int]:
        added = extra.get(u, ())
        if u < m.shape[0]:
            removed = self._removed
            for w in m.indices[m.indptr[u]:m.indptr[u + 1]].tolist():
                pair = (u, w) if forward else (w, u)
                if w not in added and pair not in removed:
                    yield w
        yield from added

    def overlay_size(self) -> int:
        return len(self._extra) + len(self._removed)

    def to_csr(self) -> sp.csr_matrix:
        """The current edges, amounts summed per pair."""
        base = self._out
        if self.overlay_size() == 0 and base.shape[0] == self._n:
            return base
        coo = base.tocoo()
        keep = np.ones(coo.nnz, dtype=bool)
        if self._extra or self._removed:
            touched = np.asarray([u * self._n + v for u, v in (set(self._extra) | self._removed)], dtype=np.int64)
            keep = ~np.isin(coo.row.astype(np.int64) * self._n + coo.col, touched)
        rows, cols = coo.row[keep].tolist(), coo.col[keep].tolist()
        data = coo.data[keep].tolist()
        for (u, v), w in self._extra.items():
            rows.append(u)
            cols.append(v)
            data.append(w)
        return sp.csr_matrix((data, (rows, cols)), shape=(self._n, self._n), dtype=np.float64)

    def compact(self) -> None:
        """Fold the overlay into the CSR base."""
        self._set_base(self.to_csr())
