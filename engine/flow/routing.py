"""Moving control through the flow: from a node onwards through the automatic nodes
(branches, splits, joins, actions, ends) until every path rests at a human step, a subflow
call or a wait; and relocating a token (return, on_reject, timeout goto) without losing or
duplicating work in parallel branches."""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from dsl.expr.compiled import CompiledExpr
from dsl.kinds.flow.ir import (
    BranchNode,
    InclusiveNode,
    JoinNode,
    ParallelNode,
    SubflowNode,
    WaitNode,
)

from .actions import run_actions
from .effects import StartSubflow
from .errors import CommandRejected, evaluation_failed
from .plan import KIND_ACTION, KIND_BRANCH, KIND_END, KIND_JOIN, KIND_SPLIT, KIND_STEP, KIND_SUBFLOW, KIND_WAIT
from .state import FINISHED, RUNNING, Scope, Split, Token
from .steps import arm, open_step
from .work import Work


class Route:
    """What one advance produced: resting tokens, join arrivals that did not fire, new splits;
    `closed` when a join fired or the flow ended (then the move cannot be withdrawn)."""

    __slots__ = ("tokens", "arrivals", "splits", "closed")

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.arrivals: list[str] = []
        self.splits: list[str] = []
        self.closed = False


def advance(work: Work, node_id: str | None, scopes: tuple[Scope, ...]) -> Route:
    route = Route()
    stack: list[tuple[str | None, tuple[Scope, ...]]] = [(node_id, scopes)]
    splits, nodes, kinds = work.splits, work.plan.nodes, work.plan.kinds
    while stack and work.status == RUNNING:
        nid, sc = stack.pop()
        if sc and any(s not in splits for s, _ in sc):
            continue                   # its split was cancelled by a partial join on the way
        work.budget -= 1
        if work.budget < 0:
            raise CommandRejected("runaway_loop", f"the flow loops without a human step (at `{nid}`); "
                                                  "fix the flow's conditions")
        if nid is None:
            raise CommandRejected("no_route", "the flow has nowhere to go after this step")
        node: Any = nodes[nid]                 # its class is `kind` (plan.node_kind): no isinstance chain
        kind = kinds[nid]
        if kind == KIND_STEP:
            token = open_step(work, node, sc)
            if token is None:
                stack.append((node.next, sc))
            else:
                route.tokens.append(token)
        elif kind == KIND_SPLIT:
            targets = node.branches if isinstance(node, ParallelNode) else _inclusive_targets(work, node)
            split = Split(work.next_id("s"), nid, node.join, len(targets), sc)
            work.add_split(split)
            route.splits.append(split.id)
            work.event("split", nid, paths=list(targets))
            for target in reversed(targets):
                stack.append((target, sc + ((split.id, target),)))
        elif kind == KIND_BRANCH:
            stack.append((_branch_target(work, node), sc))
        elif kind == KIND_JOIN:
            _arrive(work, node, sc, stack, route)
        elif kind == KIND_ACTION:
            run_actions(work, node.actions, nid)
            stack.append((node.next, sc))
        elif kind == KIND_END:
            if node.actions:
                run_actions(work, node.actions, nid)
            work.finish(FINISHED, node.outcome, "flow ended", nid)
            route.closed = True
        elif kind == KIND_SUBFLOW:
            route.tokens.append(_call(work, node, sc))
        elif kind == KIND_WAIT:
            token = _wait(work, node, sc)
            if token is None:
                stack.append((node.next, sc))
            else:
                route.tokens.append(token)
    return route


def _branch_target(work: Work, node: BranchNode) -> str:
    ctx = work.expr_ctx()
    for case in node.cases:
        if case.when is None or _holds(work, case.when, ctx):
            work.event("branch", node.id, goto=case.goto)
            return case.goto
    if node.default:
        work.event("branch", node.id, goto=node.default)
        return node.default
    raise CommandRejected("no_route", f"no case of branch `{node.id}` holds and it has no default")


def _inclusive_targets(work: Work, node: InclusiveNode) -> list[str]:
    ctx = work.expr_ctx()
    fired = list(dict.fromkeys(c.goto for c in node.cases if c.when is None or _holds(work, c.when, ctx)))
    if not fired and node.default:
        fired = [node.default]
    if not fired:
        raise CommandRejected("no_route", f"no case of `{node.id}` holds and it has no default")
    return fired


def _holds(work: Work, expr: CompiledExpr, ctx: Mapping[str, Any]) -> bool:
    try:
        return expr.test(ctx)
    except Exception as exc:
        raise evaluation_failed(expr.text, exc) from exc


def _arrive(work: Work, node: JoinNode, sc: tuple[Scope, ...], stack: list[tuple[str | None, tuple[Scope, ...]]],
            route: Route) -> None:
    for i in range(len(sc) - 1, -1, -1):
        split = work.splits.get(sc[i][0])
        if split is not None and split.join == node.id:
            break
    else:                              # not inside a split of this join: a simple merge
        stack.append((node.next, sc))
        return
    need = split.expected if node.wait == "all" else 1 if node.wait == "any" else min(int(node.wait), split.expected)
    arrived = split.arrived + 1
    if arrived < need:
        work.splits[split.id] = replace(split, arrived=arrived)
        route.arrivals.append(split.id)
        work.event("arrived", node.id, arrived=arrived, needed=need)
        return
    route.closed = True
    work.event("joined", node.id, arrived=arrived, needed=need)
    work.cancel_split(split.id, "join passed")   # a partial join cancels the paths still running
    stack.append((node.next, sc[:i]))


def _call(work: Work, node: SubflowNode, sc: tuple[Scope, ...]) -> str:
    token = Token(work.next_id("t"), node.id, sc)
    due = arm(work, token.id, node.timing)
    work.tokens[token.id] = replace(token, due=due) if due else token
    subject = work.evaluate(node.subject) if node.subject is not None else work.ctx.subject
    work.effects.append(StartSubflow(token.id, node.flow, subject, {k: work.evaluate(e) for k, e in node.input}))
    work.event("subflow_started", node.id, call=token.id, flow=node.flow)
    return token.id


def _wait(work: Work, node: WaitNode, sc: tuple[Scope, ...]) -> str | None:
    at = None
    if node.duration is not None:
        at = work.ctx.calendar.add(work.now, node.duration.amount, node.duration.unit)
    elif node.until is not None:
        at = work.evaluate(node.until)
        if at is None:
            return None                # nothing to wait for: a null `until` does not hold the flow
        if not hasattr(at, "hour"):
            from datetime import datetime, time
            at = datetime.combine(at, time(0), tzinfo=work.now.tzinfo)
        if at <= work.now:
            return None
    token = Token(work.next_id("t"), node.id, sc)
    due = arm(work, token.id, node.timing)
    work.tokens[token.id] = replace(token, due=due) if due else token
    if at is not None:
        work.set_timer(token.id, "wait", at)
    work.event("waiting", node.id, event=node.event, until=at)
    return token.id


def relocate(work: Work, token: Token, target: str, reason: str) -> Route:
    """Move `token` to `target` (an earlier or other node). A target outside the token's splits
    closes those splits and cancels their other paths; one in another branch is refused."""
    region = work.plan.regions.get(target, ())
    depth = 0
    for (sid, branch), (snode, sbranch) in zip(token.scopes, region):
        split = work.splits.get(sid)
        if split is None or split.node != snode or (sbranch is not None and sbranch != branch):
            break
        depth += 1
    if depth < len(region) and (depth < len(token.scopes) or any(b is None for _, b in region[depth:])):
        raise CommandRejected("illegal_target", f"`{target}` lies in another branch than step `{token.node}`; "
                                                "work can only go back along its own path")
    work.drop_token(token.id, reason)
    if depth < len(token.scopes):
        work.cancel_split(token.scopes[depth][0], reason)
    scopes = token.scopes[:depth]
    for split_node, path in region[depth:]:     # back into a branch whose join has passed: redo it alone
        opener = work.plan.nodes[split_node]
        assert path is not None and isinstance(opener, (ParallelNode, InclusiveNode))  # any branch: refused above
        split = Split(work.next_id("s"), split_node, opener.join, 1, scopes)
        work.add_split(split)
        scopes += ((split.id, path),)
    return advance(work, target, scopes)
