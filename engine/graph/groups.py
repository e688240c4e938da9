"""Group membership by the CBRC definition, and reviewable suggestions against the books.

A group client is a set of legal persons linked by control: one controls the other,
they share a controller (a person, a firm, or a party of relatives pooled as one),
or a declared relation links them.  :func:`propose_groups` derives the groups from an
:class:`~.equity.EquityGraph`; :func:`diff_membership` compares them with the current
membership and returns suggestions, each with its evidence -- it never edits anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .equity import ControlEdge, EquityGraph
from .unionfind import component_labels


@dataclass(frozen=True)
class Evidence:
    """Why a firm belongs: a control chain from the controller, or a declared relation."""

    control: tuple[ControlEdge, ...] = ()
    relation: tuple[str, str] | None = None

    def describe(self) -> str:
        if self.control:
            return " -> ".join([self.control[0].holder] + [e.firm for e in self.control])
        if self.relation:
            return f"declared relation {self.relation[0]} ~ {self.relation[1]}"
        return "controller"


@dataclass(frozen=True)
class ProposedGroup:
    key: str  # stable: the controller's id, or the smallest member id
    controller: tuple[str, ...]  # the controlling party; () when members are linked otherwise
    members: tuple[str, ...]  # firms only, sorted
    evidence: Mapping[str, Evidence]


@dataclass(frozen=True)
class Suggestion:
    """One reviewable change: ``join`` a firm to a group, ``leave`` a group, or a ``new_group``."""

    kind: str
    group: str  # current group id, or the proposed group's key for new_group
    firm: str
    evidence: Evidence
    reason: str


def propose_groups(equity: EquityGraph, relations: Iterable[Sequence[str]] = (), min_size: int = 2) -> list[ProposedGroup]:
    """Groups of at least ``min_size`` firms (persons are controllers, never members).

    ``relations`` are declared firm-firm links (other control, non-market transfers).
    """
    ids = list(equity.nodes)
    pos = {x: i for i, x in enumerate(ids)}
    links: list[tuple[int, int]] = []
    declared: dict[str, tuple[str, str]] = {}
    for k, rel in enumerate(relations):
        if len(rel) != 2 or rel[0] not in pos or rel[1] not in pos:
            raise ValueError(f"relation #{k} must link two known firms, got {rel!r}")
        links.append((pos[rel[0]], pos[rel[1]]))
        declared.setdefault(rel[0], (rel[0], rel[1]))
        declared.setdefault(rel[1], (rel[0], rel[1]))
    for top, members in equity.control_blocs().items():
        links.extend((pos[top], pos[m]) for m in members)
    label = component_labels(len(ids), links)
    pieces: dict[int, list[str]] = {}
    for i, x in enumerate(ids):
        pieces.setdefault(int(label[i]), []).append(x)
    groups = []
    for nodes in pieces.values():
        firms = sorted(x for x in nodes if not equity.is_person(x))
        if len(firms) < min_size:
            continue
        controllers = {equity.controlling_party(f) for f in firms} - {()}
        controller = min(controllers) if len(controllers) == 1 else ()
        evidence = {}
        for f in firms:
            chain = equity.control_chain(f)
            evidence[f] = Evidence(chain, None if chain else declared.get(f))
        key = controller[0] if controller else firms[0]
        groups.append(ProposedGroup(key, controller, tuple(firms), evidence))
    groups.sort(key=lambda g: (-len(g.members), g.key))
    return groups


def diff_membership(proposed: Sequence[ProposedGroup], current: Mapping[str, Iterable[str]]) -> list[Suggestion]:
    """Suggestions that turn ``current`` ({group id: firms}) into ``proposed``.

    Each current group is matched to the proposed group it overlaps most (one to
    one, largest overlaps first).  Firms of the match missing from the current group
    are ``join`` suggestions with their control chain; firms of the current group
    not in the match are ``leave`` suggestions with what the graph says about them
    now; proposed groups matched to nothing are ``new_group`` suggestions.
    """
    current_sets = {g: set(m) for g, m in current.items()}
    where = {}
    for p in proposed:
        for f in p.members:
            where[f] = p
    overlaps = sorted(
        ((len(cs & set(p.members)), g, p.key, p) for g, cs in current_sets.items() for p in proposed if cs & set(p.members)),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    match: dict[str, ProposedGroup] = {}
    taken: set[str] = set()
    for _, g, key, p in overlaps:
        if g not in match and key not in taken:
            match[g] = p
            taken.add(key)
    out: list[Suggestion] = []
    for g in sorted(current_sets):
        members, joined = current_sets[g], match.get(g)
        target = set(joined.members) if joined else set()
        if joined is not None:
            for f in sorted(target - members):
                ev = joined.evidence[f]
                out.append(Suggestion("join", g, f, ev, f"linked to group {g}: {ev.describe()}"))
        for f in sorted(members - target):
            other = where.get(f)
            if other is not None:
                ev = other.evidence[f]
                reason = f"now belongs with {other.key}: {ev.describe()}"
            else:
                ev = Evidence()
                reason = "no control link or declared relation to any other firm"
            out.append(Suggestion("leave", g, f, ev, reason))
    for p in proposed:
        if p.key not in taken:
            for f in p.members:
                out.append(Suggestion("new_group", p.key, f, p.evidence[f], f"new group {p.key}: {p.evidence[f].describe()}"))
    return out
