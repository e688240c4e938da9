"""What the engine precomputes once per compiled flow: nodes by id, the split region each
node lies in (to keep returns and jumps correct inside parallel branches), the steps a
return may go back to and the actions each step offers — the one answer the commands and the
task page both use — and, when some step may return work to the initiator, the initiator's
edit step (`INITIATOR`): a task of the initiator's, offering resubmit, withdraw and comment."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from dsl.ir import Label
from dsl.kinds.flow.ir import (
    INITIATOR,
    NO_TIMING,
    ActionNode,
    BranchNode,
    EndNode,
    FieldAccess,
    Flow,
    InclusiveNode,
    JoinNode,
    Node,
    ParallelNode,
    SubflowNode,
    TaskNode,
    WaitNode,
)
from dsl.kinds.flow.regions import Region, forward_edges
from dsl.kinds.flow.regions import regions as split_regions


@dataclass(frozen=True)
class FlowPlan:
    flow: Flow
    nodes: Mapping[str, Node]
    regions: Mapping[str, Region]
    earlier: Mapping[str, frozenset[str]]
    returns: Mapping[str, tuple[str, ...]]
    offered: Mapping[str, tuple[str, ...]]
    name: str = ""                       # the flow's name (Flow.name is a property: read once here)
    kinds: Mapping[str, int] = field(default_factory=dict)   # node → what `advance` does there (KIND_*)
    steps: Mapping[str, TaskNode] = field(default_factory=dict)   # the steps of people, typed (as `step()`)

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]

    def step(self, node_id: str) -> TaskNode:
        """The human step `node_id`: tasks, and tokens carrying a Step, only ever rest at one."""
        node = self.nodes[node_id]
        assert isinstance(node, TaskNode), f"`{node_id}` is a {node.type} node, not a step of people"
        return node

    def return_targets(self, node_id: str) -> tuple[str, ...]:
        """The steps work at `node_id` may be returned to: its `return_to` when written, else
        every earlier step of people (in name order); never itself, never a non-step. INITIATOR
        when written: the initiator's edit form."""
        return self.returns.get(node_id, ())

    def actions(self, node_id: str) -> tuple[str, ...]:
        """What step `node_id` offers: its actions, but `return` only where it has a legal target."""
        return self.offered.get(node_id, ())

    def resubmit(self, node_id: str) -> str:
        """Where an application returned from `node_id` to the initiator continues (RESUBMIT)."""
        node = self.nodes.get(node_id)
        return getattr(node, "resubmit", None) or self.flow.resubmit


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
    returns = {n.id: _returns(n, nodes, earlier[n.id]) for n in flow.nodes if isinstance(n, TaskNode)}
    if any(INITIATOR in r for r in returns.values()):
        nodes[INITIATOR] = initiator_step(flow)
    offered = {nid: tuple(a for a in n.actions if a != "return" or returns.get(nid))
               for nid, n in nodes.items() if isinstance(n, TaskNode)}
    return FlowPlan(flow, nodes, regions, earlier, returns, offered, flow.name,
                    {nid: node_kind(n) for nid, n in nodes.items()},
                    {nid: n for nid, n in nodes.items() if isinstance(n, TaskNode)})


# What moving control does at a node, decided once per node (routing.advance), in the order
# the isinstance checks it replaces went: an inclusive split is a branch node too.
KIND_STEP, KIND_SPLIT, KIND_BRANCH, KIND_JOIN, KIND_ACTION, KIND_END, KIND_SUBFLOW, KIND_WAIT, KIND_OTHER = range(9)


def node_kind(node: Node) -> int:
    for cls, kind in ((TaskNode, KIND_STEP), (InclusiveNode, KIND_SPLIT), (ParallelNode, KIND_SPLIT),
                      (BranchNode, KIND_BRANCH), (JoinNode, KIND_JOIN), (ActionNode, KIND_ACTION),
                      (EndNode, KIND_END), (SubflowNode, KIND_SUBFLOW), (WaitNode, KIND_WAIT)):
        if isinstance(node, cls):
            return kind
    return KIND_OTHER


def _returns(node: TaskNode, nodes: Mapping[str, Node], earlier: frozenset[str]) -> tuple[str, ...]:
    allowed = node.return_to or tuple(sorted(earlier))
    return tuple(t for t in allowed if t == INITIATOR or (t != node.id and isinstance(nodes.get(t), TaskNode)))


INITIATOR_LABEL = Label("发起人修改", "Initiator edits")
INITIATOR_ACTIONS = ("resubmit", "withdraw", "comment")


def initiator_step(flow: Flow) -> TaskNode:
    """The step an application returned to the initiator rests at: the initiator's own task
    (four eyes do not apply: it is their application), with no deadline and no reasons required."""
    return TaskNode(INITIATOR, "task", INITIATOR_LABEL, None, flow.nodes[0].span, NO_TIMING, None,
                    INITIATOR_ACTIONS, FieldAccess(), "fail", "allow", (), reason_required=())


_PLANS: dict[int, FlowPlan] = {}


def plan_for(flow: Flow) -> FlowPlan:
    """The plan of a compiled flow, built once (flows are immutable after compile)."""
    plan = _PLANS.get(id(flow))
    if plan is None or plan.flow is not flow:
        if len(_PLANS) > 512:
            _PLANS.clear()
        plan = _PLANS[id(flow)] = build_plan(flow)
    return plan
