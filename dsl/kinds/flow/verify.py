"""Verification of a Flow before deploy, beyond reachability (flow_graph): each problem a
diagnostic at the offending node.

- BNY504 a join that can deadlock, lack of synchronization, work piling up, or an on_reject /
  timeout goto the engine would refuse: the token game (flow_verify_game) played with the
  engine's semantics (flow_verify_net), plus the structure of splits and joins;
- BNY505 an unguarded loop: a cycle no choice on it can leave (flow_verify_loops);
- BNY506 an exclusive or inclusive branch without `default` whose cases leave values
  uncovered (flow_verify_cases);
- BNY507 an illegal return target: not a step with people, not run before on every run, a
  return the engine refuses (into another branch, or into a joined split's branch from inside
  another split), or one that would break the token game.
- BNY510 (a warning) an approval deadline in calendar days or weeks (flow_verify_calendar).
"""
from __future__ import annotations

from typing import Iterable, Mapping

from dsl.expr.types import FieldInfo
from dsl.kinds.flow.ir import Flow, Node, TaskNode
from dsl.kinds.flow.verify_calendar import check_calendar_days
from dsl.kinds.flow.verify_cases import check_cases
from dsl.kinds.flow.verify_game import Game, always_before, play, run_without, show_path
from dsl.kinds.flow.verify_loops import check_loops
from dsl.kinds.flow.verify_net import Net, build_net
from dsl.link import LinkContext
from dsl.loader import Document

_PEOPLE = ("task", "approval")


def verify_flow(doc: Document, ctx: LinkContext, nodes: Iterable[Node], first: str | None,
                scope: Mapping[str, FieldInfo]) -> None:
    nodes = list(nodes)
    where = _Where(doc)
    check_calendar_days(ctx, nodes)
    check_cases(doc, ctx, nodes, scope, where.node_path)
    if first not in {n.id for n in nodes}:
        return
    net, structural = build_net(nodes, first)
    for p in structural:
        ctx.diags.add("BNY504", p.message, where.span(p.join), p.hint, severity=p.severity)
    check_loops(ctx, nodes, net, where.span)
    if any(p.severity == "error" for p in structural):
        return
    game = play(net)
    for problem in game.problems.values():
        span = where.doc.span(where.node_path(problem.node) + problem.at) if problem.at else where.span(problem.node)
        ctx.diags.add("BNY504", problem.message, span, problem.hint)
    if game.truncated:
        ctx.diags.add("BNY504", f"the flow has more than {len(game.states)} states of parallel work, too many to "
                                "check every join and return", where.span(first),
                      "split it into subflows", severity="warning")
        return
    _check_returns(ctx, nodes, net, game, where)


class _Where:
    """Where a node (and its keys) are written in the document."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.index: dict[str, int] = {}
        for i, n in enumerate(doc.data["spec"]["nodes"]):
            if isinstance(n, dict) and isinstance(n.get("id"), str):
                self.index.setdefault(n["id"], i)

    def node_path(self, node_id: str) -> tuple:
        return ("spec", "nodes", self.index[node_id]) if node_id in self.index else ("spec", "nodes")

    def span(self, node_id: str):
        return self.doc.span(self.node_path(node_id) + ("id",))


def _check_returns(ctx: LinkContext, nodes: list[Node], net: Net, game: Game, where: _Where) -> None:
    before = always_before(game)
    by_id = {n.id: n for n in nodes}
    for n in nodes:
        if not isinstance(n, TaskNode):
            continue
        for j, target in enumerate(n.return_to):
            if target not in by_id:
                continue                                   # BNY501
            problem = return_problem(n.id, target, by_id, net, game, before)
            if problem:
                message, hint = problem
                ctx.diags.add("BNY507", message, where.doc.span(where.node_path(n.id) + ("return_to", j)), hint)


def return_problem(node: str, target: str, by_id: Mapping[str, Node], net: Net, game: Game,
                   before: Mapping[str, frozenset[str]]) -> tuple[str, str] | None:
    """Why `node` may not return work to `target` (message, hint), or None when it may."""
    kind = by_id[target].type
    if kind not in _PEOPLE:
        return (f"`{target}` is {'an' if kind[0] in 'aeiou' else 'a'} {kind} node; work can only be returned to a "
                "task or approval step", "name the step with people before it")
    if target == node:
        return f"`{node}` cannot return work to itself", "name an earlier step"
    if target not in before.get(node, frozenset()):
        run = run_without(game, node, target)
        shown = f": the run {show_path(run)} reaches `{node}` without it" if run is not None else ""
        return (f"`{target}` does not always run before `{node}`{shown}",
                "a return goes back to a step every run has passed through (not a sibling parallel branch, "
                "not an alternative path)")
    trial = play(net, {node: (target,)}, base=game)
    if trial.truncated or not trial.problems:
        return None
    p = trial.problems.get(node) or next(iter(trial.problems.values()))
    if p.refused:
        return p.message, p.hint
    return (f"returning from `{node}` to `{target}` would break the flow: {p.message}", p.hint)


def legal_return_targets(flow: Flow) -> dict[str, tuple[str, ...]]:
    """For each task or approval: the steps it may return work to (its `return_to` when written,
    else every step that passes the checks above, in flow order). Empty when none."""
    net, structural = build_net(flow.nodes, flow.first)
    if any(p.severity == "error" for p in structural):
        return {}
    game = play(net)
    if game.problems or game.truncated:
        return {}
    before = always_before(game)
    by_id = flow.by_id
    out = {}
    for n in flow.nodes:
        if isinstance(n, TaskNode):
            candidates = n.return_to or tuple(x.id for x in flow.nodes if x.type in _PEOPLE)
            out[n.id] = tuple(t for t in candidates
                              if t in by_id and return_problem(n.id, t, by_id, net, game, before) is None)
    return out
