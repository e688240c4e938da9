"""Mapping between firm/person ids (strings) and dense integer indices.

Every graph in this package stores its edges as integer arrays so that scipy.sparse
can work on them; this module does the one translation at the boundary, and checks
the edge lists that come in from callers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np


class NodeIndex:
    """A growable bijection between string ids and integers 0..n-1."""

    __slots__ = ("_ids", "_pos")

    def __init__(self, ids: Iterable[str] = ()) -> None:
        self._ids: list[str] = []
        self._pos: dict[str, int] = {}
        for node in ids:
            self.add(node)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, node: object) -> bool:
        return node in self._pos

    def add(self, node: str) -> int:
        """Return the index of ``node``, adding it if it is new."""
        found = self._pos.get(node)
        if found is not None:
            return found
        if not isinstance(node, str) or not node:
            raise TypeError(f"node ids must be non-empty strings, got {node!r}")
        self._pos[node] = len(self._ids)
        self._ids.append(node)
        return len(self._ids) - 1

    def index(self, node: str) -> int:
        """Return the index of a known node; raise KeyError naming it otherwise."""
        try:
            return self._pos[node]
        except KeyError:
            raise KeyError(f"unknown node {node!r}") from None

    def get(self, node: str) -> int | None:
        return self._pos.get(node)

    def id(self, i: int) -> str:
        return self._ids[i]

    def ids(self, indices: Iterable[int]) -> list[str]:
        ids = self._ids
        return [ids[int(i)] for i in indices]

    @property
    def all_ids(self) -> Sequence[str]:
        return tuple(self._ids)


def parse_edges(
    edges: Iterable[Sequence[Any]], index: NodeIndex, *, what: str, default_weight: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Turn ``(src, dst, weight)`` tuples into three arrays, registering the nodes.

    ``default_weight`` allows plain ``(src, dst)`` pairs.  Weights must be finite
    numbers; self-loops are rejected because neither a firm holding its own shares
    nor a firm guaranteeing itself is an edge of these graphs.
    """
    src: list[int] = []
    dst: list[int] = []
    weight: list[float] = []
    for k, edge in enumerate(edges):
        if len(edge) == 2 and default_weight is not None:
            a, b = edge
            w = default_weight
        elif len(edge) == 3:
            a, b, w = edge
        else:
            raise ValueError(f"{what} edge #{k} must be (source, target, weight), got {edge!r}")
        if isinstance(w, bool) or not isinstance(w, (int, float, np.integer, np.floating)):
            raise TypeError(f"{what} edge #{k} {a!r}->{b!r}: weight must be a number, got {w!r}")
        w = float(w)
        if not np.isfinite(w):
            raise ValueError(f"{what} edge #{k} {a!r}->{b!r}: weight must be finite, got {w!r}")
        if a == b:
            raise ValueError(f"{what} edge #{k}: self-loop on {a!r} is not allowed")
        src.append(index.add(a))
        dst.append(index.add(b))
        weight.append(w)
    return (
        np.asarray(src, dtype=np.int64),
        np.asarray(dst, dtype=np.int64),
        np.asarray(weight, dtype=np.float64),
    )
