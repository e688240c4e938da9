"""What the engine precomputes once per compiled flow: nodes by id, the split region each
node lies in (to keep returns and jumps correct inside parallel branches), and the earlier
human steps a return may go back to."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from dsl.kinds.flow_graph import edges
from dsl.kinds.flow_ir import BranchNode, Flow, InclusiveNode, JoinNode, Node, ParallelNode, TaskNode

Region = tuple[tuple[str, str | None], ...]   # (split node, branch first node, or None: any branch)


@dataclass(frozen=True)
class FlowPlan:
    flow: Flow
    nodes: Mapping[str, Node]
    regions: Mapping[str, Region]
    earlier: Mapping[str, frozenset[str]]

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]


def forward_edges(node: Node) -> list[str]:
    """Where control flows on its own (returns excluded: they are people's choice)."""
    out: list[str] = []
    if isinstance(node, BranchNode):
        out += [c.goto for c in node.cases] + ([node.default] if node.default else [])
    elif isinstance(node, ParallelNode):
        out += list(node.branches)
    elif node.next:
        out.append(node.next)
    on_reject = getattr(node, "on_reject", None)
    if on_reject:
        out.append(on_reject)
    timing = getattr(node, "timing", None)
    if timing is not None and timing.timeout_goto:
        out.append(timing.timeout_goto)
    return [t for t in out if t]


def build_plan(flow: Flow) -> FlowPlan:
    nodes = {n.id: n for n in flow.nodes}
    regions = _regions(flow, nodes)
    preds: dict[str, set[str]] = {n: set() for n in nodes}
    for n in flow.nodes:
        for t in forward_edges(n):
            if t in preds:
                preds[t].add(n.id)
    earlier = {}
    for nid in nodes:
        seen, todo = set(), list(preds[nid])
        while todo:
            p = todo.pop()
            if p not in seen:
                seen.add(p)
                todo.extend(preds[p])
        earlier[nid] = frozenset(p for p in seen if isinstance(nodes[p], TaskNode) and p != nid)
    return FlowPlan(flow, nodes, regions, earlier)


def _regions(flow: Flow, nodes: Mapping[str, Node]) -> dict[str, Region]:
    """The region of each node: the splits around it, merged over every way to reach it (a
    node reached from two branches of one split is in "any branch"; one reached from inside
    and outside a split is outside it). A fixpoint over the forward edges."""
    regions: dict[str, Region] = {flow.first: ()}
    todo = [flow.first]
    while todo:
        nid = todo.pop()
        node = nodes.get(nid)
        if node is None:
            continue
        here = regions[nid]
        for target, region in _successors(node, here, nodes):
            if target not in nodes:
                continue
            merged = region if target not in regions else _merge(regions[target], region)
            if regions.get(target) != merged:
                regions[target] = merged
                todo.append(target)
    return regions


def _successors(node: Node, here: Region, nodes: Mapping[str, Node]):
    if isinstance(node, (ParallelNode, InclusiveNode)):
        targets = node.branches if isinstance(node, ParallelNode) else \
            [c.goto for c in node.cases] + ([node.default] if node.default else [])
        for t in targets:
            yield t, here + ((node.id, t),)
        return
    if isinstance(node, JoinNode):
        for i in range(len(here) - 1, -1, -1):
            split = nodes.get(here[i][0])
            if getattr(split, "join", None) == node.id:
                here = here[:i]
                break
    for t in forward_edges(node):
        yield t, here


def _merge(a: Region, b: Region) -> Region:
    out = []
    for (sa, ba), (sb, bb) in zip(a, b):
        if sa != sb:
            break
        out.append((sa, ba if ba == bb else None))
        if ba != bb:
            break
    return tuple(out)


_PLANS: dict[int, FlowPlan] = {}


def plan_for(flow: Flow) -> FlowPlan:
    """The plan of a compiled flow, built once (flows are immutable after compile)."""
    plan = _PLANS.get(id(flow))
    if plan is None or plan.flow is not flow:
        if len(_PLANS) > 512:
            _PLANS.clear()
        plan = _PLANS[id(flow)] = build_plan(flow)
    return plan
