"""The equity graph: effective ownership, control, ultimate controller, beneficial owners.

Build it from plain ``(holder, firm, share)`` tuples (shares as fractions: 40% is
0.4); every query takes and returns string ids.  See :mod:`.ownership` for the
look-through arithmetic and how cross-holdings are handled, and :mod:`.control` for
the control fixpoint.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from . import ownership
from ._index import NodeIndex, parse_edges
from .control import MAJORITY, solve_control
from .unionfind import components_of_links

DEFAULT_THRESHOLD = 0.25


@dataclass(frozen=True)
class ControlEdge:
    """One link of a control chain: ``controller``'s bloc took control of ``firm``.

    ``holder`` is the bloc member with the largest direct share in ``firm``
    (``share``); ``bloc_share`` is what the whole bloc held (``inf`` when the link
    is a declared control agreement, ``agreement`` then True).
    """

    holder: str
    firm: str
    share: float
    bloc_share: float
    agreement: bool = False


class EquityGraph:
    """Shareholdings between persons and firms, with look-through and control queries."""

    def __init__(
        self,
        holdings: Iterable[Sequence[Any]],
        *,
        persons: Iterable[str] = (),
        agreements: Iterable[Sequence[str]] = (),
        relatives: Iterable[Sequence[str]] = (),
        nodes: Iterable[str] = (),
    ) -> None:
        index = NodeIndex(nodes)
        src, dst, share = parse_edges(holdings, index, what="holding")
        ag = parse_edges(agreements, index, what="control agreement", default_weight=1.0)
        persons = list(persons)
        for p in persons:
            index.add(p)
        rel_pairs = [(index.add(a), index.add(b)) for a, b in _pairs(relatives, "relatives")]
        person_idx = np.asarray([index.index(p) for p in persons], dtype=np.int64)
        self._build(index, src, dst, share, person_idx, (ag[0], ag[1]), rel_pairs)

    @classmethod
    def from_arrays(
        cls, ids: Sequence[str], src: npt.ArrayLike, dst: npt.ArrayLike, share: npt.ArrayLike, *,
        persons: npt.ArrayLike | None = None, agreements: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
        relatives: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
    ) -> EquityGraph:
        """Bulk constructor: integer ``src``/``dst`` arrays index into ``ids``.

        ``persons`` is a boolean mask over ``ids``; ``agreements`` and ``relatives``
        are ``(src, dst)`` integer array pairs.
        """
        self = cls.__new__(cls)
        index = NodeIndex(ids)
        if len(index) != len(ids):
            raise ValueError("from_arrays: ids must be unique")
        n = len(ids)
        src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
        share = np.asarray(share, dtype=np.float64)
        if src.shape != dst.shape or src.shape != share.shape:
            raise ValueError("from_arrays: src, dst and share must have the same length")
        if src.size and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n):
            raise ValueError("from_arrays: an edge refers to an index outside ids")
        if np.any(src == dst):
            raise ValueError("from_arrays: self-holdings are not allowed")
        person_idx = np.flatnonzero(np.asarray(persons, dtype=bool)) if persons is not None else np.zeros(0, np.int64)
        empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        ag_src, ag_dst = (np.asarray(x, dtype=np.int64) for x in (agreements or empty))
        rel: list[tuple[int, int]] = []
        if relatives is not None:
            rel = list(zip(*(np.asarray(x).tolist() for x in relatives)))
        self._build(index, src, dst, share, person_idx, (ag_src, ag_dst), rel)
        return self

    def _build(
        self, index: NodeIndex, src: np.ndarray, dst: np.ndarray, share: np.ndarray, person_idx: np.ndarray,
        agreements: tuple[np.ndarray, np.ndarray], rel_pairs: list[tuple[int, int]],
    ) -> None:
        n = len(index)
        self._index = index
        self._a = ownership.holdings_matrix(n, src, dst, share)
        self._at = self._a.T.tocsr()
        self._held = np.diff(self._at.indptr) > 0
        self._holds = np.diff(self._a.indptr) > 0
        self._person = np.zeros(n, dtype=bool)
        self._person[person_idx] = True
        held_person = np.flatnonzero(self._person & self._held)
        if held_person.size:
            raise ValueError(f"{index.id(int(held_person[0]))!r} is declared a person but has shareholders")
        for a, b in rel_pairs:
            if person_idx.size and not (self._person[a] and self._person[b]):
                raise ValueError(f"relatives must both be persons: {index.id(a)!r}, {index.id(b)!r}")
        self._parties = components_of_links(n, rel_pairs)
        self._agreement_out: dict[int, list[int]] = {}
        for a, b in zip(np.asarray(agreements[0]).tolist(), np.asarray(agreements[1]).tolist()):
            self._agreement_out.setdefault(a, []).append(b)
        self._control = solve_control(self._a, agreements, self._parties, names=index.id)

    # -- basics -----------------------------------------------------------------
    @property
    def nodes(self) -> Sequence[str]:
        return self._index.all_ids

    def __contains__(self, node: object) -> bool:
        return node in self._index

    def is_person(self, node: str) -> bool:
        return bool(self._person[self._index.index(node)])

    def direct_share(self, holder: str, firm: str) -> float:
        return float(self._a[self._index.index(holder), self._index.index(firm)])

    def shareholders(self, firm: str) -> dict[str, float]:
        """Direct holders of ``firm`` and their shares."""
        f = self._index.index(firm)
        lo, hi = self._at.indptr[f], self._at.indptr[f + 1]
        return dict(zip(self._index.ids(self._at.indices[lo:hi]), self._at.data[lo:hi].tolist()))

    def holdings(self, holder: str) -> dict[str, float]:
        """Firms ``holder`` holds directly and the shares."""
        h = self._index.index(holder)
        lo, hi = self._a.indptr[h], self._a.indptr[h + 1]
        return dict(zip(self._index.ids(self._a.indices[lo:hi]), self._a.data[lo:hi].tolist()))

    # -- look-through ownership ---------------------------------------------------
    def effective_share(self, holder: str, firm: str, tol: float = ownership.DEFAULT_TOLERANCE) -> float:
        """Product along each path, summed over paths; 0 for ``holder == firm``."""
        h, f = self._index.index(holder), self._index.index(firm)
        if h == f:
            return 0.0
        return ownership.holder_row(self._a, h, tol).get(f, 0.0)

    def effective_holdings(self, holder: str, min_share: float = 0.0) -> dict[str, float]:
        """Every firm ``holder`` owns through any number of layers, with its share."""
        row = ownership.holder_row(self._a, self._index.index(holder))
        return {self._index.id(f): s for f, s in row.items() if s >= min_share and s > 0}

    def ultimate_owners(self, firm: str, min_share: float = 0.0) -> dict[str, float]:
        """Effective shares in ``firm`` of the holders nobody holds (persons, top firms).

        They add up to at most 100%; the rest is held by nobody on record.
        """
        col = ownership.firm_column(self._at, self._index.index(firm))
        return {self._index.id(h): s for h, s in col.items() if not self._held[h] and s >= min_share}

    def beneficial_owners(
        self, firm: str, threshold: float = DEFAULT_THRESHOLD, inclusive: bool = True
    ) -> list[tuple[str, float]]:
        """Declared persons whose effective share is ``>= threshold`` (or ``>`` when not inclusive).

        Sorted by share, largest first.  The 2024 rules use ``>=`` 25%, the 2017 ones ``>``.
        """
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be a fraction in [0, 1], got {threshold!r}")
        owners = self.ultimate_owners(firm)
        hits = [
            (p, s) for p, s in owners.items()
            if self._person[self._index.index(p)] and (s >= threshold if inclusive else s > threshold)
        ]
        return sorted(hits, key=lambda ps: (-ps[1], ps[0]))

    def ultimate_owner_matrix(self, tol: float = 1e-7) -> tuple[list[str], list[str], sp.csr_matrix]:
        """Bulk look-through for every firm at once: ``(root ids, node ids, shares)``.

        ``shares[r, f]`` is root r's effective share in node f; contributions under
        ``tol`` are dropped as they arise.
        """
        roots = np.flatnonzero(self._holds & ~self._held)
        return self._index.ids(roots), list(self.nodes), ownership.root_shares(self._a, roots, tol)

    # -- control ------------------------------------------------------------------
    def ultimate_controller(self, firm: str) -> str | None:
        """The holder nobody controls at the top of ``firm``'s control chain.

        None when nobody controls ``firm``, or when the chain ends in mutual
        control.  For a party of relatives, its representative (first id in
        index order); see :meth:`controlling_party` for all its members.
        """
        i = self._index.index(firm)
        top = int(self._control.top[i])
        if top == i or self._control.mutual[top] or self._control.party_top[i] == top:
            return None
        return self._index.id(top)

    def controlling_party(self, firm: str) -> tuple[str, ...]:
        """Everyone who jointly is the ultimate controller (relatives pooled); ``()`` if none."""
        top = self.ultimate_controller(firm)
        if top is None:
            return ()
        t = self._index.index(top)
        members = np.flatnonzero(self._control.party_top == self._control.party_top[t])
        return tuple(sorted(self._index.ids(members)))

    def in_mutual_control(self, firm: str) -> bool:
        """True when ``firm``'s control chain ends in a loop of mutual control."""
        return bool(self._control.mutual[self._control.top[self._index.index(firm)]])

    def control_chain(self, firm: str) -> tuple[ControlEdge, ...]:
        """The evidence: control links from the top of the bloc down to ``firm``."""
        c = self._control
        chain: list[ControlEdge] = []
        seen: set[int] = set()
        i = self._index.index(firm)
        while c.captured_by[i] >= 0 and i not in seen:
            seen.add(i)
            h = int(c.captured_by[i])
            share = float(self._a[h, i])
            agreement = bool(np.isinf(c.bloc_share[i]))
            chain.append(ControlEdge(self._index.id(h), self._index.id(i), share, float(c.bloc_share[i]), agreement))
            i = h
        return tuple(reversed(chain))

    def controls(self, controller: str, firm: str) -> bool:
        """Whether ``controller`` (with its relatives' party) controls ``firm``, directly or not."""
        return firm in self.controlled_firms(controller)

    def controlled_firms(self, controller: str) -> set[str]:
        """Everything ``controller`` controls: the least fixpoint, computed locally."""
        x = self._index.index(controller)
        party = self._control.party_top
        inside = set(np.flatnonzero(party == party[x]).tolist())
        ag_out = self._agreement_out
        pooled: dict[int, float] = {}
        queue = list(inside)
        controlled: set[int] = set()
        while queue:
            h = queue.pop()
            lo, hi = self._a.indptr[h], self._a.indptr[h + 1]
            gains = list(zip(self._a.indices[lo:hi].tolist(), self._a.data[lo:hi].tolist()))
            gains += [(b, np.inf) for b in ag_out.get(h, ())]
            for f, s in gains:
                pooled[f] = pooled.get(f, 0.0) + s
                if pooled[f] > MAJORITY and f not in inside:
                    inside.add(f)
                    controlled.add(f)
                    queue.append(f)
        return set(self._index.ids(controlled))

    def control_blocs(self) -> dict[str, list[str]]:
        """Each top (a holder nobody controls, a party representative, or a mutual
        loop's representative) with every node in its bloc, for the group step."""
        top = self._control.top
        members = np.flatnonzero(top != np.arange(top.size))
        blocs: dict[str, list[str]] = {}
        order = np.argsort(top[members], kind="stable")
        for t, m in zip(top[members][order].tolist(), members[order].tolist()):
            blocs.setdefault(self._index.id(t), []).append(self._index.id(m))
        return blocs


def _pairs(links: Iterable[Sequence[str]], what: str) -> list[tuple[str, str]]:
    out = []
    for k, link in enumerate(links):
        if len(link) != 2 or not all(isinstance(x, str) for x in link):
            raise ValueError(f"{what} link #{k} must be a pair of ids, got {link!r}")
        out.append((link[0], link[1]))
    return out
