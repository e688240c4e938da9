"""What the engine precomputes once per compiled flow: nodes by id, the split region each
node lies in (to keep returns and jumps correct inside parallel branches), and the earlier
human steps a return may go back to."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from dsl.kinds.flow_graph import forward_edges
from dsl.kinds.flow_verify_net import Region, regions as split_regions
from dsl.kinds.flow_ir import Flow, Node, TaskNode


@dataclass(frozen=True)
class FlowPlan:
    flow: Flow
    nodes: Mapping[str, Node]
    regions: Mapping[str, Region]
    earlier: Mapping[str, frozenset[str]]

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]


def build_plan(flow: Flow) -> FlowPlan:
    nodes = {n.id: n for n in flow.nodes}
    regions = split_regions(dict(nodes), flow.first)  # the verifier's own definition: they cannot drift
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


_PLANS: dict[int, FlowPlan] = {}


def plan_for(flow: Flow) -> FlowPlan:
    """The plan of a compiled flow, built once (flows are immutable after compile)."""
    plan = _PLANS.get(id(flow))
    if plan is None or plan.flow is not flow:
        if len(_PLANS) > 512:
            _PLANS.clear()
        plan = _PLANS[id(flow)] = build_plan(flow)
    return plan
