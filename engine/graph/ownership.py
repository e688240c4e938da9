"""Effective (look-through) ownership over a sparse holdings matrix.

``A[h, f]`` is the share of firm ``f`` held directly by ``h``.  Effective ownership
multiplies shares along a path and adds over paths: 40%x50% + 30%x20% = 26%.

Cycles (cross-holdings) make the set of paths infinite; the sum over walks is the
Leontief-like series ``L = I + A + A^2 + ... = (I - A)^-1``.  Walks are allowed to go
round a cycle that does not pass through the holder (that is how value flows back
through a cross-holding), but a walk that comes back to the holder itself is cut:
a firm holding part of itself through a loop is treasury stock, not more ownership
of the target.  So the effective share of ``h`` in ``f`` is

    E[h, f] = L[h, f] / L[h, h]        (walks from h to f that never revisit h)

which equals the plain Leontief sum whenever ``h`` is on no cycle (natural persons,
top holding companies), and equals the probability that tracing ``f``'s shareholders
backwards, share-weighted, ever reaches ``h``.  Hence, as long as the shares of every
firm sum to at most 100%, each ``E[h, f]`` lies in [0, 1].  The shares held by
holders nobody holds (persons, unowned firms) add up to at most 100% of each firm.

Computation never inverts a matrix: we propagate the walk sums with sparse
matrix-vector (or matrix-matrix) products until the new contributions fall under a
tolerance.  A set of firms that own each other entirely with no outside holder makes
the series diverge; :func:`check_holdings` rejects that input with a clear message.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

SHARE_SLACK = 1e-9  # rounding allowance when shares of a firm are summed
DEFAULT_TOLERANCE = 1e-12
MAX_STEPS = 100_000


def holdings_matrix(n: int, src: np.ndarray, dst: np.ndarray, share: np.ndarray) -> sp.csr_matrix:
    """Build ``A`` (duplicate holder/firm pairs are added) and validate it."""
    a = sp.csr_matrix((share, (src, dst)), shape=(n, n), dtype=np.float64)
    a.sum_duplicates()
    check_holdings(a)
    return a


def check_holdings(a: sp.csr_matrix, names: Callable[[int], str] | None = None) -> None:
    """Raise ValueError when shares are out of (0, 1] or a firm is over-held."""
    data = a.data
    if data.size and (data.min() <= 0.0 or data.max() > 1.0 + SHARE_SLACK):
        bad = float(data[(data <= 0.0) | (data > 1.0 + SHARE_SLACK)][0])
        raise ValueError(f"equity shares must be in (0, 1]; got {bad!r} (write 40% as 0.4)")
    held = np.asarray(a.sum(axis=0)).ravel()
    over = np.flatnonzero(held > 1.0 + SHARE_SLACK)
    if over.size:
        firm = names(int(over[0])) if names else int(over[0])
        raise ValueError(
            f"shares held in {firm!r} add up to {held[over[0]]:.4%}, more than 100% "
            f"({over.size} firm(s) affected)"
        )
    _check_closed_loops(a, names)


def _check_closed_loops(a: sp.csr_matrix, names: Callable[[int], str] | None) -> None:
    n = a.shape[0]
    if a.nnz == 0:
        return
    count, label = csgraph.connected_components(a, directed=True, connection="strong")
    if count == n:
        return
    coo = a.tocoo()
    inside = label[coo.row] == label[coo.col]
    internal = np.bincount(coo.col[inside], weights=coo.data[inside], minlength=n)
    size = np.bincount(label, minlength=count)
    least = np.full(count, np.inf)
    np.minimum.at(least, label, internal)
    closed = np.flatnonzero((size > 1) & (least >= 1.0 - SHARE_SLACK))
    if closed.size:
        members = np.flatnonzero(label == closed[0])[:6]
        shown = [names(int(m)) if names else int(m) for m in members]
        raise ValueError(
            "closed ownership loop: firms " + ", ".join(map(repr, shown))
            + " own each other entirely with no outside shareholder, so look-through "
            "ownership is undefined; add the missing outside holders"
        )


def holder_row(a: sp.csr_matrix, holder: int, tol: float = DEFAULT_TOLERANCE) -> dict[int, float]:
    """Effective shares of ``holder`` in every firm it reaches: ``{firm: E[holder, firm]}``.

    ``a`` is the holdings matrix in CSR form; walks that come back to the holder
    are cut (see the module docstring).
    """
    return _propagate(a, holder, cut=holder, tol=tol)


def firm_column(at: sp.csr_matrix, firm: int, tol: float = DEFAULT_TOLERANCE) -> dict[int, float]:
    """Walk sums ``L[h, firm]`` for every ``h`` that reaches ``firm``; ``at`` is ``A.T`` in CSR.

    For a holder ``h`` that nobody holds (a person, a top company) this is its
    effective share; for holders inside a loop use :func:`holder_row` instead.
    """
    return _propagate(at, firm, cut=None, tol=tol)


def _propagate(m: sp.csr_matrix, start: int, cut: int | None, tol: float) -> dict[int, float]:
    n = m.shape[0]
    if m.indptr[start] == m.indptr[start + 1]:
        return {}
    total: dict[int, float] = {}
    vec = sp.csr_matrix(([1.0], ([0], [start])), shape=(1, n))
    for _ in range(MAX_STEPS):
        vec = vec @ m
        keep = vec.data >= tol if tol > 0 else vec.data > 0
        if cut is not None:
            keep &= vec.indices != cut
        if not keep.all():
            vec = sp.csr_matrix((vec.data[keep], vec.indices[keep], [0, int(keep.sum())]), shape=(1, n))
        if vec.nnz == 0:
            return total
        for j, v in zip(vec.indices.tolist(), vec.data.tolist()):
            total[j] = total.get(j, 0.0) + v
    raise ValueError("effective ownership did not converge; check near-closed ownership loops")


def root_shares(
    a: sp.csr_matrix, roots: np.ndarray, tol: float = DEFAULT_TOLERANCE, block: int = 32_768
) -> sp.csr_matrix:
    """Effective shares of each root holder (a row) in every firm (a column), at once.

    ``roots`` must be holders nobody holds (checked), so no walk returns to them.
    The result is sparse; walk contributions below ``tol`` are dropped as they
    arise, which bounds the work (the dropped mass per firm is measured by the
    benchmark).  Roots are processed in blocks to bound peak memory.
    """
    roots = np.asarray(roots, dtype=np.int64)
    n = a.shape[0]
    held = np.diff(a.tocsc().indptr)
    if roots.size and held[roots].any():
        raise ValueError("root_shares: every root must be a holder that nobody holds")
    blocks = [_root_block(a, roots[i:i + block], tol) for i in range(0, roots.size, block)]
    if not blocks:
        return sp.csr_matrix((0, n))
    return sp.vstack(blocks, format="csr")


def _root_block(a: sp.csr_matrix, roots: np.ndarray, tol: float) -> sp.csr_matrix:
    n = a.shape[0]
    step = a[roots].tocsr()
    rows, cols, data = [], [], []
    for _ in range(MAX_STEPS):
        if step.nnz == 0:
            break
        rows.append(np.repeat(np.arange(roots.size, dtype=np.int32), np.diff(step.indptr)))
        cols.append(step.indices)
        data.append(step.data)
        step = step @ a
        if tol > 0:
            step.data[step.data < tol] = 0.0
            step.eliminate_zeros()
    else:
        raise ValueError("effective ownership did not converge; check near-closed ownership loops")
    if not rows:
        return sp.csr_matrix((roots.size, n))
    coo = (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols)))
    total = sp.csr_matrix(coo, shape=(roots.size, n))
    total.sum_duplicates()
    return total
