"""BNY505: an unguarded loop. A loop is a strongly connected part of the flow's graph (returns
left out, since a return needs a person to act); it is guarded when some node on it has a
choice that leaves it: a branch case or default, an approval's rejection or approval, a
timeout's goto. A loop with no way out at all is already BNY503 (it cannot reach an end), so
this reports the loops that only a return, or a parallel branch running beside them, leaves."""
from __future__ import annotations

from typing import Callable

from dsl.kinds.flow.ir import Node, TaskNode
from dsl.kinds.flow.verify_net import Net
from dsl.link import LinkContext
from dsl.source import Span


def check_loops(ctx: LinkContext, nodes: list[Node], net: Net, span_of: Callable[[str], Span]) -> None:
    """BNY505: a strongly connected part of the graph (returns left out) where no node has a
    choice that leaves it. One with no way out at all is already BNY503 (it cannot reach an end)."""
    succ = {n.id: net.successors(n.id) for n in nodes}
    order = _bfs_order(net.first, succ)
    can_end = _can_end(nodes, net)
    for part in _components(succ):
        looped = len(part) > 1 or any(x in succ[x] for x in part)
        if not looped or not part & set(order) or not part & can_end:
            continue
        guarded = any(not m.targets or all(t not in part for t in m.targets)
                      for x in part for m in net.moves.get(x, ()))
        if guarded:
            continue
        entry = min(part & set(order), key=order.__getitem__)
        cycle = _cycle(entry, succ, part)
        ctx.diags.add("BNY505", f"the loop {' → '.join(f'`{x}`' for x in cycle)} has no way out: no branch case, "
                                "rejection or timeout on it leads elsewhere, so an instance could go round forever",
                      span_of(entry),
                      "add a branch on the loop with a case (or `default`) that leaves it, or an approval whose "
                      "`on_reject` or `next` leads out; a `return` does not count, it needs a person to act")


def _can_end(nodes: list[Node], net: Net) -> set[str]:
    """Nodes from which an end is reachable along every edge, returns included (as flow_graph counts)."""
    preds: dict[str, set[str]] = {n.id: set() for n in nodes}
    for n in nodes:
        for t in net.successors(n.id) + (list(n.return_to) if isinstance(n, TaskNode) else []):
            preds.setdefault(t, set()).add(n.id)
    done = {x for x, ms in net.moves.items() if any(not m.targets for m in ms)}
    todo = list(done)
    while todo:
        for p in preds.get(todo.pop(), ()):
            if p not in done:
                done.add(p)
                todo.append(p)
    return done


def _bfs_order(first: str, succ: dict[str, list[str]]) -> dict[str, int]:
    order, todo = {first: 0}, [first]
    for x in todo:
        for t in succ.get(x, []):
            if t not in order:
                order[t] = len(order)
                todo.append(t)
    return order


def _components(succ: dict[str, list[str]]) -> list[set[str]]:
    """Strongly connected components (Tarjan, iterative)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    for root in succ:
        if root in index:
            continue
        work = [(root, iter(succ.get(root, [])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next((x for x in it if x in succ), None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(succ.get(w, []))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                part = set()
                while True:
                    x = stack.pop()
                    on.discard(x)
                    part.add(x)
                    if x == v:
                        break
                out.append(part)
    return out


def _cycle(entry: str, succ: dict[str, list[str]], part: set[str]) -> list[str]:
    """A shortest cycle through entry inside part, written entry → … → entry."""
    back: dict[str, str | None] = {entry: None}
    todo = [entry]
    for x in todo:
        for t in succ.get(x, []):
            if t == entry:
                path = [x]
                while (prev := back[path[-1]]) is not None:
                    path.append(prev)
                return path[::-1] + [entry]
            if t in part and t not in back:
                back[t] = x
                todo.append(t)
    return [entry]
