"""A Flow's shape as its IR states it, shared by the verifier (verify_net, graph) and the
engine (engine/flow/plan.py), so the two cannot drift:

- `forward_edges`: where control goes from a node on its own (returns left out: they are
  people's choice);
- `regions`: the split region of every node — the parallel or inclusive splits around it,
  each with the branch it lies in (None: reached from more than one branch)."""
from __future__ import annotations

from dsl.kinds.flow.ir import (
    ApprovalNode,
    BranchNode,
    InclusiveNode,
    JoinNode,
    Node,
    ParallelNode,
    SubflowNode,
    TaskNode,
    WaitNode,
)

Region = tuple[tuple[str, "str | None"], ...]   # (split node, branch first node, or None: any branch)


def forward_edges(node: Node) -> list[str]:
    """Where control goes on its own (returns left out: they are people's choice). The one
    definition the verifier's token game and the engine's plan both use."""
    out: list[str] = []
    if isinstance(node, BranchNode):
        out += [c.goto for c in node.cases] + ([node.default] if node.default else [])
    elif isinstance(node, ParallelNode):
        out += list(node.branches)
    elif node.next:
        out.append(node.next)
    if isinstance(node, ApprovalNode) and node.on_reject:
        out.append(node.on_reject)
    if isinstance(node, (TaskNode, SubflowNode, WaitNode)) and node.timing.timeout_goto:
        out.append(node.timing.timeout_goto)
    return [t for t in out if t]


def split_starts(split: Node) -> tuple[str, ...]:
    """The first node of each branch of a parallel or inclusive split (an inclusive split's
    default included)."""
    if isinstance(split, ParallelNode):
        return split.branches
    if isinstance(split, InclusiveNode):
        return tuple(c.goto for c in split.cases) + ((split.default,) if split.default else ())
    return ()


def regions(by_id: dict[str, Node], first: str) -> dict[str, Region]:
    """The split region of each node, as the engine computes it (engine/flow/plan.py): the splits
    around it, merged over every way to reach it (reached from two branches of one split: "any
    branch"; from inside and outside a split: outside it). A fixpoint over the forward edges."""
    out: dict[str, Region] = {first: ()}
    todo = [first]
    while todo:
        node = by_id.get(todo.pop())
        if node is None:
            continue
        here = out[node.id]
        steps: list[tuple[str, Region]] = []
        if isinstance(node, (ParallelNode, InclusiveNode)):
            steps = [(t, here + ((node.id, t),)) for t in split_starts(node)]
        else:
            if isinstance(node, JoinNode):
                for i in range(len(here) - 1, -1, -1):
                    if getattr(by_id.get(here[i][0]), "join", None) == node.id:
                        here = here[:i]
                        break
            steps = [(t, here) for t in forward_edges(node)]
        for target, region in steps:
            if target not in by_id:
                continue
            merged = region if target not in out else _merge(out[target], region)
            if out.get(target) != merged:
                out[target] = merged
                todo.append(target)
    return out


def _merge(a: Region, b: Region) -> Region:
    out = []
    for (sa, ba), (sb, bb) in zip(a, b):
        if sa != sb:
            break
        out.append((sa, ba if ba == bb else None))
        if ba != bb:
            break
    return tuple(out)
