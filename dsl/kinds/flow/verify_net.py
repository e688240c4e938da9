"""A Flow as the token game (flow_verify_game) sees it: what each node can do with a token,
the split each join closes, and the split region of every node.

Branch conditions are free choices, except a case that always holds (no `when`, or
`when: "true"`): an exclusive branch never goes past it, an inclusive branch always takes it.

The semantics are the engine's (engine/flow, routing.py and moves.py):
- a step hands its token to its `next`; an approval may instead reject (to `on_reject`, or the
  instance ends `rejected`); a step with `on_timeout: {goto: x}` may time out to x;
- an exclusive branch sends the token down one case (or `default`); an inclusive branch down
  one or more cases (or `default` when none holds); a parallel split down every branch. A
  token carries the split instances it is inside (and which branch it took);
- a join counts arrivals of the innermost split it closes that the token is inside: `all`
  waits for as many as the split started (an inclusive split: the paths that fired), `any`
  for one, N for min(N, started). When it fires it cancels that split's paths still running
  (a partial join) and the token goes on outside the split. A token inside no split of the
  join passes it (a simple merge);
- an end node ends the instance (open work is cancelled); with `terminate: false` it ends
  only its own path, and the instance finishes when no path is left;
- on_reject, a timeout's goto and a return relocate the token by the target's split region
  (`regions`, dsl/kinds/flow/regions.py: the engine's own definition): along its own path the
  splits stay; to before or outside a split it closes it and cancels its other paths; into a
  branch whose join has passed it redoes that branch alone; into another branch (or into a
  split the token is not in, from inside another) the engine refuses the move
  (`illegal_target`).
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Iterable

from dsl.kinds.flow.ir import (
    ApprovalNode,
    BranchNode,
    EndNode,
    InclusiveNode,
    JoinNode,
    Node,
    ParallelNode,
    SubflowNode,
    TaskNode,
    WaitNode,
)
from dsl.kinds.flow.regions import Region, regions, split_starts


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
    split: str | None              # the split whose `join` names it
    next: str | None


@dataclass(frozen=True)
class Structural:
    """A problem of the splits' and joins' wiring, found before the game (at a join)."""

    join: str
    message: str
    hint: str
    severity: str = "error"


@dataclass(frozen=True)
class Net:
    first: str
    moves: dict[str, tuple[Move, ...]]
    joins: dict[str, Join]
    kinds: dict[str, str]          # node id → type
    nodes: dict[str, Node]
    regions: dict[str, Region]     # the engine's split region of each node (engine/flow/plan.py)

    def successors(self, node: str) -> list[str]:
        """Where control can go from node (returns excluded)."""
        if node in self.joins:
            after = self.joins[node].next
            return [after] if after else []
        return list(dict.fromkeys(t for m in self.moves.get(node, ()) for t in m.targets))


def always_holds(case) -> bool:
    return case.when is None or case.when.text.strip() == "true"


def _moves(node: Node, known: set[str]) -> list[Move]:
    nid = node.id
    out: list[tuple[tuple[str, ...], str]] = []
    if isinstance(node, EndNode):
        return [Move(nid, (), f"{nid} (ends)" if node.terminate else f"{nid} (ends its path)")]
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


_JOIN_HINT = ("a join closes exactly one parallel or inclusive split: every path into it starts at one of that "
              "split's branches")


def build_net(nodes: Iterable[Node], first: str) -> tuple[Net, list[Structural]]:
    """The net, and structural problems of the joins found on the way."""
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
    problems: list[Structural] = []
    succ = {nid: list(dict.fromkeys(t for m in ms for t in m.targets)) for nid, ms in moves.items()}
    succ.update({n.id: [n.next] if n.next in known else [] for n in nodes if isinstance(n, JoinNode)})
    joins = {}
    for n in nodes:
        if not isinstance(n, JoinNode):
            continue
        owners = splits.get(n.id, [])
        if len(owners) > 1:
            problems.append(Structural(n.id, f"join `{n.id}` is the join of {len(owners)} splits "
                                             f"({', '.join(f'`{s.id}`' for s in owners)}); each split needs its own "
                                             "join", _JOIN_HINT))
        split = owners[0] if owners else None
        if split is None:
            problems.append(Structural(
                n.id, f"join `{n.id}` closes no parallel or inclusive split: each path lets work through it on its "
                      "own (a simple merge), so it synchronizes nothing",
                "name it as a split's `join`, or let the paths meet at an ordinary step", "warning"))
        else:
            region = _closure(list(split_starts(split)), succ, stop=n.id)
            for p in preds[n.id]:
                if p not in region and p != split.id:
                    problems.append(Structural(n.id, f"join `{n.id}` belongs to the {split.type} split `{split.id}`, "
                                                     f"but its path from `{p}` does not start at `{split.id}`: work "
                                                     "from there passes the join without being counted", _JOIN_HINT))
            if isinstance(split, ParallelNode) and isinstance(n.wait, int) and n.wait > len(split.branches):
                problems.append(Structural(
                    n.id, f"join `{n.id}` waits for {n.wait} paths, but `{split.id}` starts only "
                          f"{len(split.branches)}: it fires when all of them have arrived",
                    "write `wait: all`, or a number no larger than the split's branches", "warning"))
        joins[n.id] = Join(n.id, tuple(preds[n.id]), split.id if split else None,
                           n.next if n.next in known else None)
    return Net(first, moves, joins, {n.id: n.type for n in nodes}, by_id, regions(by_id, first)), problems


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
