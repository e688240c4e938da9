"""Random valid flows for the property tests, built from structured blocks (steps, exclusive
branches, parallel and inclusive splits with their joins), and the commands that could be
tried on an instance of one."""
from __future__ import annotations

import itertools

from hypothesis import strategies as st

from engine.flow import (
    AddSigner,
    Approve,
    Claim,
    Complete,
    Delegate,
    Reject,
    RemoveSigner,
    Return,
    TimerFired,
    Transfer,
    Withdraw,
)

USERS = ("u1", "u2", "u3", "u4", "u5")
ACTIONS = "[approve, reject, return, transfer, delegate, add_signer, remove_signer, comment]"


def step_item():
    people = st.lists(st.sampled_from(USERS), min_size=1, max_size=3, unique=True)
    return st.one_of(
        st.tuples(st.just("task"), people, st.sampled_from([None, "remind"])),
        st.tuples(st.just("approval"), people,
                  st.sampled_from([None, "any", "all", "ratio", "sequential"]),
                  st.sampled_from([None, "auto_approve", "auto_reject"]),
                  st.booleans()))


def items(depth: int):
    if depth == 0:
        return st.lists(step_item(), min_size=1, max_size=3)
    inner = items(depth - 1)
    block = st.one_of(
        step_item(),
        st.tuples(st.just("branch"), st.lists(inner, min_size=2, max_size=3)),
        st.tuples(st.just("parallel"), st.lists(inner, min_size=2, max_size=3), st.sampled_from(["all", "any", 2])),
        st.tuples(st.just("inclusive"), st.lists(inner, min_size=2, max_size=3)))
    return st.lists(block, min_size=1, max_size=3)


def flows():
    return items(2).map(flow_spec)


def flow_spec(top) -> str:
    counter = itertools.count(1)
    nodes: list[str] = []

    def seq(its, after: str) -> str:
        first = after
        for item in reversed(its):
            first = node(item, first)
        return first

    def node(item, nxt: str) -> str:
        nid = f"n{next(counter)}"
        kind = item[0]
        if kind in ("task", "approval"):
            who = "[" + ", ".join(f"role('{u}')" for u in item[1]) + "]"
            line = f"  - {{id: {nid}, type: {kind}, assignees: \"{who}\", next: {nxt}"
            if kind == "task":
                if item[2]:
                    line += ", deadline: 1d, on_timeout: remind"
            else:
                _, _, mode, timeout, loops = item
                line += f", actions: {ACTIONS}"
                if mode:
                    line += f", countersign: {{mode: {mode}" + (", pass: 1/2}" if mode == "ratio" else "}")
                if timeout:
                    line += f", deadline: 2 business days, on_timeout: {timeout}"
                if loops and nodes_first:
                    line += f", on_reject: {nodes_first[0]}"
            nodes.append(line + "}")
        elif kind == "branch":
            firsts = [seq(s, nxt) for s in item[1]]
            cases = ", ".join(f"{{when: \"form.amount > {i * 100}\", goto: {f}}}" for i, f in enumerate(firsts[:-1]))
            nodes.append(f"  - {{id: {nid}, type: branch, cases: [{cases}], default: {firsts[-1]}}}")
        else:
            join = f"j{next(counter)}"
            wait = item[2] if kind == "parallel" else "all"
            nodes.append(f"  - {{id: {join}, type: join, wait: {wait}, next: {nxt}}}")
            firsts = [seq(s, join) for s in item[1]]
            if kind == "parallel":
                nodes.append(f"  - {{id: {nid}, type: parallel, branches: [{', '.join(firsts)}], join: {join}}}")
            else:
                cases = ", ".join(f"{{when: \"form.amount > {i * 100}\", goto: {f}}}" for i, f in enumerate(firsts))
                nodes.append(f"  - {{id: {nid}, type: inclusive, cases: [{cases}], default: {firsts[0]}, "
                             f"join: {join}}}")
        return nid

    nodes_first: list[str] = []
    nodes_first.append(seq(top, "done"))            # a rejection may send the work back to the first step
    nodes.clear()
    counter = itertools.count(1)
    first = seq(top, "done")
    nodes.append("  - {id: done, type: end, outcome: ok}")
    return f"start: {{first: {first}}}\nnodes:\n" + "\n".join(nodes) + "\n"


def candidates(flow, state, now) -> list:
    """Commands worth trying now (some will be refused, which must change nothing)."""
    out = []
    plan_nodes = {n.id: n for n in flow.nodes}
    for t in sorted(state.tasks.values(), key=lambda t: t.id):
        holder = t.assignee or t.candidates[0]
        node = plan_nodes[t.node]
        if t.assignee is None:
            out.append(Claim(actor=holder, now=now, task=t.id))
        if node.type == "approval":
            out += [Approve(actor=holder, now=now, task=t.id),
                    Reject(actor=holder, now=now, task=t.id, comment="不同意")]
            out += [AddSigner(actor=holder, now=now, task=t.id, users=(u,), position=p)
                    for u in USERS[:3] for p in ("before", "after", "parallel")]
            out += [RemoveSigner(actor=holder, now=now, task=t.id, user=u) for u in USERS[:3]]
        else:
            out.append(Complete(actor=holder, now=now, task=t.id))
        out += [Transfer(actor=holder, now=now, task=t.id, to="u5"), Delegate(actor=holder, now=now, task=t.id, to="u4")]
        out += [Return(comment="请补充材料", actor=holder, now=now, task=t.id, to=n.id) for n in flow.nodes
                if n.type in ("task", "approval")][:4]
        out.append(Approve(actor="zed", now=now, task=t.id))
    out += [Withdraw(actor=u, now=now) for u in USERS]
    out += [TimerFired(actor="system", now=now, timer=m) for m in sorted(state.timers)]
    return out


def progress(flow, state, now):
    """A command that moves the instance on, or None: approve/complete a free task, else fire a timer."""
    plan_nodes = {n.id: n for n in flow.nodes}
    for t in sorted(state.tasks.values(), key=lambda t: t.id):
        if t.held:
            continue
        holder = t.assignee or t.candidates[0]
        kind = Approve if plan_nodes[t.node].type == "approval" else Complete
        return kind(actor=holder, now=now, task=t.id)
    if state.timers:
        return TimerFired(actor="system", now=now, timer=min(state.timers))
    return None
