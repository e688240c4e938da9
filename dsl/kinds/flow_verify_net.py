"""A Flow as a token net: what each node can do with a token, and how each join fires.

This is the model the verification pass plays the token game on (flow_verify_game). Branch
conditions are abstracted as free choices, except a case that always holds (no `when`, or
`when: "true"`): an exclusive branch never goes past it, an inclusive branch always takes it.

The semantics, which the engine keeps:
- a step hands its token to its `next`; an approval may instead reject (to `on_reject`, or
  the instance ends `rejected`); a step with `on_timeout: {goto: x}` may time out to x;
- an exclusive branch sends the token down one case (or `default`); an inclusive branch down
  one or more cases (or `default` when none holds); a parallel split down every branch;
- an end node ends the instance (any other live token is cancelled);
- a join has one incoming arc per node that hands it tokens. A join of a parallel split, or a
  join named by no split, fires when `wait` of its arcs hold a token (`all`: every arc), and
  resets once every arc has delivered; a join of an inclusive split fires when `wait` arcs
  hold a token (`all`: when no live token elsewhere can still reach it) and resets when none
  can still arrive. `return` is not a move here: returns are checked one by one (BNY507).
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Iterable

from .flow_ir import (ApprovalNode, BranchNode, EndNode, InclusiveNode, JoinNode, Node, ParallelNode, SubflowNode,
                      TaskNode, WaitNode)


@dataclass(frozen=True)
class Move:
    """One thing a node can do with its token: hand one token to each target (none: the instance ends)."""

    node: str
    targets: tuple[str, ...]
    label: str


@dataclass(frozen=True)
class Join:
    id: str
    arcs: tuple[str, ...]          # the nodes that hand this join tokens
    need: int | None               # arcs that fire it; None: inclusive `all` (no token can still arrive)
    inclusive: bool
    split: str | None              # the split whose `join` names it
    upstream: frozenset[str]       # nodes from which a token can still reach it without passing it
    next: str | None


@dataclass(frozen=True)
class Net:
    first: str
    moves: dict[str, tuple[Move, ...]]
    joins: dict[str, Join]
    kinds: dict[str, str]          # node id → type

    def successors(self, node: str) -> list[str]:
        """Where control can go from node (returns excluded)."""
        if node in self.joins:
            return [self.joins[node].next] if self.joins[node].next else []
        return list(dict.fromkeys(t for m in self.moves.get(node, ()) for t in m.targets))


def always_holds(case) -> bool:
    return case.when is None or case.when.text.strip() == "true"


def _moves(node: Node, known: set[str]) -> list[Move]:
    nid = node.id
    out: list[tuple[tuple[str, ...], str]] = []
    if isinstance(node, EndNode):
        return [Move(nid, (), f"{nid} (ends)")]
    if isinstance(node, InclusiveNode):
        forced = tuple(dict.fromkeys(c.goto for c in node.cases if always_holds(c)))
        free = [c.goto for c in node.cases if not always_holds(c) and c.goto not in forced]
        free = list(dict.fromkeys(free))
        for size in range(0, len(free) + 1):
            for chosen in combinations(free, size):
                if forced or chosen:
                    targets = forced + chosen
                    out.append((targets, f"{nid} ⇒ {' + '.join(targets)}"))
        if node.default and not forced:
            out.append(((node.default,), f"{nid} ⇒ {node.default} (default)"))
    elif isinstance(node, BranchNode):
        for c in node.cases:
            out.append(((c.goto,), f"{nid} ⇒ {c.goto}"))
            if always_holds(c):
                break
        else:
            if node.default:
                out.append(((node.default,), f"{nid} ⇒ {node.default} (default)"))
    elif isinstance(node, ParallelNode):
        out.append((tuple(dict.fromkeys(node.branches)), f"{nid} ⇒ {' + '.join(node.branches)}"))
    elif node.next:
        out.append(((node.next,), nid))
    if isinstance(node, ApprovalNode):
        out.append(((node.on_reject,), f"{nid} rejects ⇒ {node.on_reject}") if node.on_reject
                   else ((), f"{nid} rejects (ends)"))
    if isinstance(node, (TaskNode, SubflowNode, WaitNode)) and node.timing.timeout_goto:
        out.append(((node.timing.timeout_goto,), f"{nid} times out ⇒ {node.timing.timeout_goto}"))
    return [Move(nid, targets, label) for targets, label in out if all(t in known for t in targets)]


def build_net(nodes: Iterable[Node], first: str) -> tuple[Net, list[tuple[str, str]]]:
    """The net, and structural join problems found on the way: (join id, message)."""
    nodes = list(nodes)
    by_id = {n.id: n for n in nodes}
    known = set(by_id)
    moves = {n.id: tuple(_moves(n, known)) for n in nodes if not isinstance(n, JoinNode)}
    preds: dict[str, list[str]] = {n.id: [] for n in nodes}
    for nid, ms in moves.items():
        for t in dict.fromkeys(t for m in ms for t in m.targets):
            preds[t].append(nid)
    for n in nodes:
        if isinstance(n, JoinNode) and n.next in known:
            preds[n.next].append(n.id)
    splits: dict[str, list[Node]] = {}
    for n in nodes:
        if isinstance(n, (ParallelNode, InclusiveNode)) and isinstance(by_id.get(n.join), JoinNode):
            splits.setdefault(n.join, []).append(n)
    problems: list[tuple[str, str]] = []
    succ = {nid: list(dict.fromkeys(t for m in ms for t in m.targets)) for nid, ms in moves.items()}
    succ.update({n.id: [n.next] if n.next in known else [] for n in nodes if isinstance(n, JoinNode)})
    rev = _reverse(succ)
    joins = {}
    for n in nodes:
        if not isinstance(n, JoinNode):
            continue
        owners = splits.get(n.id, [])
        if len(owners) > 1:
            problems.append((n.id, f"join `{n.id}` is the join of {len(owners)} splits "
                                   f"({', '.join(f'`{s.id}`' for s in owners)}); each split needs its own join"))
        split = owners[0] if owners else None
        inclusive = isinstance(split, InclusiveNode)
        if split is not None:
            region = _closure(list(_starts(split)), succ, stop=n.id)
            for p in preds[n.id]:
                if p not in region and p != split.id:
                    problems.append((n.id, f"join `{n.id}` belongs to the {split.type} split `{split.id}`, "
                                           f"but its path from `{p}` does not start at `{split.id}`"))
        wait = n.wait
        need = (None if inclusive else len(preds[n.id])) if wait == "all" else (1 if wait == "any" else int(wait))
        upstream = _closure(preds[n.id], rev, stop=n.id)
        joins[n.id] = Join(n.id, tuple(preds[n.id]), need, inclusive, split.id if split else None,
                           frozenset(upstream), n.next if n.next in known else None)
    return Net(first, moves, joins, {n.id: n.type for n in nodes}), problems


def _starts(split: Node) -> tuple[str, ...]:
    if isinstance(split, ParallelNode):
        return split.branches
    return tuple(c.goto for c in split.cases) + ((split.default,) if split.default else ())


def _reverse(succ: dict[str, list[str]]) -> dict[str, list[str]]:
    rev: dict[str, list[str]] = {k: [] for k in succ}
    for src, targets in succ.items():
        for t in targets:
            rev.setdefault(t, []).append(src)
    return rev


def _closure(start: list[str], succ: dict[str, list[str]], stop: str) -> set[str]:
    """Nodes reachable from start along succ, not going through `stop`."""
    seen = {s for s in start if s != stop}
    todo = list(seen)
    while todo:
        for t in succ.get(todo.pop(), []):
            if t not in seen and t != stop:
                seen.add(t)
                todo.append(t)
    return seen
