"""Connected pieces of an undirected link list, as arrays (scipy.sparse.csgraph)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph


def component_labels(n: int, links: Sequence[tuple[int, int]]) -> np.ndarray:
    """Label of each of ``n`` nodes: nodes joined by links share a label."""
    if not links:
        return np.arange(n, dtype=np.int64)
    a, b = (np.asarray(x, dtype=np.int64) for x in zip(*links))
    g = sp.csr_matrix((np.ones(a.size), (a, b)), shape=(n, n))
    labels: np.ndarray = csgraph.connected_components(g, directed=False)[1]
    return labels.astype(np.int64)


def components_of_links(n: int, links: Sequence[tuple[int, int]]) -> list[np.ndarray]:
    """The pieces with two or more nodes, each as a sorted index array."""
    if not links:
        return []
    label = component_labels(n, links)
    size = np.bincount(label)
    order = np.argsort(label, kind="stable")
    bounds = np.r_[0, np.cumsum(size)]
    return [order[bounds[c]:bounds[c + 1]] for c in np.flatnonzero(size > 1)]
