"""The first soundness checks of a Flow's graph: a start and an end exist, every node is
reachable from the start (BNY502) and can reach an end (BNY503).

Deadlocks, unguarded loops, exhaustive branches and return targets (BNY504–507) belong to
the flow-verification pass that reads the same `edges`."""
from __future__ import annotations

from typing import Iterable

from dsl.kinds.flow.ir import ApprovalNode, EndNode, Node, TaskNode
from dsl.kinds.flow.regions import forward_edges
from dsl.link import LinkContext
from dsl.loader import Document


def edges(node: Node) -> list[str]:
    """Every node this one can hand control to (returns included)."""
    out = forward_edges(node)
    if isinstance(node, TaskNode):
        out += [t for t in node.return_to if t]
    return out


def finishes(node: Node) -> bool:
    """Whether the flow can end right here: an end node, or an approval whose rejection ends it."""
    return isinstance(node, EndNode) or (isinstance(node, ApprovalNode) and node.on_reject is None)


def check_graph(doc: Document, ctx: LinkContext, nodes: Iterable[Node], first: str | None) -> None:
    nodes = list(nodes)
    by_id = {n.id: n for n in nodes}
    has_end = any(isinstance(n, EndNode) for n in nodes)
    if not has_end:
        ctx.diags.add("BNY508", "the flow has no end node", doc.key_span(("spec", "nodes")),
                      "add `- {id: done, type: end}` (and `outcome:` if it matters)")
    if first not in by_id:
        return
    succ = {n.id: [t for t in edges(n) if t in by_id] for n in nodes}
    reached = _closure([first], succ)
    for n in nodes:
        if n.id not in reached:
            ctx.diags.add("BNY502", f"node `{n.id}` cannot be reached from the start", doc.span(_path(doc, n.id)),
                          "point a `next`, `goto`, `default` or branch at it, or remove it")
    preds: dict[str, list[str]] = {n.id: [] for n in nodes}
    for src, targets in succ.items():
        for t in targets:
            preds[t].append(src)
    ending = _closure([n.id for n in nodes if finishes(n)], preds)
    for n in nodes:
        dangling = any(t not in by_id for t in edges(n))  # already reported as BNY501
        if has_end and n.id in reached and n.id not in ending and not dangling:
            hint = ("it is the last node and has no `next`; add `next:` or an end node after it"
                    if not edges(n) and not isinstance(n, EndNode) else
                    "every path from here loops or stops; lead one to an end node")
            ctx.diags.add("BNY503", f"from node `{n.id}` the flow can never reach an end", doc.span(_path(doc, n.id)), hint)


def _closure(start: list[str], succ: dict[str, list[str]]) -> set[str]:
    seen, todo = set(start), list(start)
    while todo:
        for t in succ.get(todo.pop(), []):
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return seen


def _path(doc: Document, node_id: str) -> tuple:
    for i, n in enumerate(doc.data["spec"]["nodes"]):
        if isinstance(n, dict) and n.get("id") == node_id:
            return ("spec", "nodes", i, "id")
    return ("spec", "nodes")
