"""The token game on a flow's net (flow_verify_net): every reachable marking, breadth first.

A marking is where the live tokens are (at nodes, or on a join's incoming arcs) plus which
discriminator-like joins have fired and wait to reset. Exploring every marking is exact for
the net (conditions taken as free choices) and small for approval flows. It finds
- a join that waits forever: a marking where nothing can move and a join holds tokens;
- lack of synchronization: a join arc getting a second token before the join consumed the
  first (a branch ran twice, or work from two rounds met);
- tokens piling up: a marking that covers an earlier one on its own path (Karp–Miller), so
  the loop between them adds live tokens without bound.
Each problem comes with the shortest run that shows it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Mapping, Sequence

from .flow_verify_net import Join, Move, Net

MAX_STATES = 20_000
Place = tuple[str, str]            # ("", node) for a token at a node; (pred, join) on a join's arc
State = tuple[tuple[tuple[Place, int], ...], frozenset[str]]


@dataclass(frozen=True)
class Problem:
    node: str
    message: str
    hint: str


@dataclass
class Game:
    net: Net
    states: list[State] = field(default_factory=list)
    edges: list[list[tuple[int, str, str]]] = field(default_factory=list)   # per state: (dst, node fired, label)
    parent: list[tuple[int, str] | None] = field(default_factory=list)
    problems: dict[str, Problem] = field(default_factory=dict)
    totals: list[int] = field(default_factory=list)                         # live tokens per state
    index: dict[State, int] = field(default_factory=dict)
    truncated: bool = False
    unsynchronized: bool = False

    def path(self, index: int) -> list[str]:
        labels = []
        while self.parent[index] is not None:
            index, label = self.parent[index]
            labels.append(label)
        return labels[::-1]

    def report(self, node: str, message: str, hint: str, unsynchronized: bool = False) -> None:
        """Keep the first problem per node; of lack of synchronization only the first (shortest) run,
        as one mistake lets work pile up at several places."""
        if unsynchronized:
            if self.unsynchronized:
                return
            self.unsynchronized = True
        self.problems.setdefault(node, Problem(node, message, hint))


def show_path(labels: list[str]) -> str:
    if not labels:
        return "the start"
    if len(labels) > 10:
        labels = labels[:3] + ["…"] + labels[-6:]
    return " → ".join(labels)


def play(net: Net, extra: Mapping[str, Sequence[Move]] | None = None, limit: int | None = None,
         base: Game | None = None) -> Game:
    """Explore every marking reachable from a token at the first node (at most `limit`, default
    MAX_STATES). With `base`, a game already played on the same net without `extra`: only what
    the extra moves add is explored (its problems are the new ones)."""
    extra, limit = extra or {}, limit or MAX_STATES
    game = Game(net)
    if base is not None:
        game.states, game.parent, game.totals = list(base.states), list(base.parent), list(base.totals)
        game.edges = [[] for _ in base.states]
        index = dict(base.index)
    else:
        game.states, game.edges, game.parent, game.totals = [(((("", net.first), 1),), frozenset())], [[]], [None], [1]
        index = {game.states[0]: 0}
    game.index = index
    known = len(game.states) if base is not None else 0
    starts = {("", x) for x in extra}
    i = 0
    while i < len(game.states):
        if i < known and not any(p in starts for p, _ in game.states[i][0]):
            i += 1
            continue                                       # a known marking the extra moves do not touch
        toks, fired = dict(game.states[i][0]), game.states[i][1]
        moved = False
        for label, node, result in _successors(net, toks, fired, extra, only_extra=i < known):
            moved = True
            if result is None:
                continue                                   # the instance ends
            new, new_fired, clash = result
            if clash is not None:
                _report_clash(game, i, label, *clash)
                continue
            state: State = (tuple(sorted((p, c) for p, c in new.items() if c)), new_fired)
            if state not in index:
                if _covers_ancestor(game, i, state, label):
                    continue
                if len(game.states) >= limit:
                    game.truncated = True
                    return game
                index[state] = len(game.states)
                game.states.append(state), game.edges.append([]), game.parent.append((i, label))
                game.totals.append(sum(c for _, c in state[0]))
            game.edges[i].append((index[state], node, label))
        if not moved and i >= known:
            _report_stuck(game, i, toks)
        i += 1
    return game


def _successors(net: Net, toks: dict[Place, int], fired: frozenset[str], extra: Mapping[str, Sequence[Move]],
                only_extra: bool = False) -> Iterator[tuple[str, str, tuple | None]]:
    for place in list(toks):
        pred, node = place
        if pred:
            continue                                       # arc tokens move when their join fires
        for move in (() if only_extra else net.moves.get(node, ())) + tuple(extra.get(node, ())):
            if not move.targets:
                yield move.label, node, None
                continue
            new = dict(toks)
            new[place] -= 1
            clash = None
            for t in move.targets:
                clash = _put(net, new, node, t) or clash
            yield move.label, node, (new, fired, clash)
    if only_extra:
        return
    for j in net.joins.values():
        marked = [a for a in j.arcs if toks.get((a, j.id))]
        if not marked:
            continue
        pending = j.inclusive and any(c and p[1] in j.upstream for p, c in toks.items() if p[1] != j.id)
        ready = (not pending) if j.need is None else len(marked) >= j.need
        settled = (not pending) if j.inclusive else len(marked) == len(j.arcs)
        if j.id not in fired and ready:
            new = dict(toks)
            consume = j.need is None or (not j.inclusive and j.need == len(j.arcs))
            if consume:
                for a in marked:
                    new[(a, j.id)] -= 1
            clash = _put(net, new, j.id, j.next) if j.next else None
            yield f"{j.id} fires", j.id, (new, fired if consume else fired | {j.id}, clash)
        elif j.id in fired and settled:
            new = dict(toks)
            for a in marked:
                new[(a, j.id)] -= 1
            yield f"{j.id} resets", j.id, (new, fired - {j.id}, None)


def _put(net: Net, toks: dict[Place, int], src: str, target: str) -> tuple[str, str] | None:
    """Put a token on target; (join, src) when it lands on a join arc that already holds one."""
    place = (src, target) if target in net.joins else ("", target)
    clash = (target, src) if place[0] and toks.get(place) else None
    toks[place] = toks.get(place, 0) + 1
    return clash


def _report_clash(game: Game, i: int, label: str, join: str, src: str) -> None:
    j: Join = game.net.joins[join]
    toks = dict(game.states[i][0])
    late = [a for a in j.arcs if a != src and not toks.get((a, join))]
    path = show_path(game.path(i) + [label])
    if join in game.states[i][1]:
        game.report(join, f"join `{join}` has fired but still waits for {_names(late)} to finish that round when "
                          f"work from `{src}` of the next round arrives: after {path}",
                    f"a join that waits for {j.need} of its paths lets the others run on, and a loop back before "
                    f"the split starts them again; use `wait: all` when the flow can come round again",
                    unsynchronized=True)
        return
    waiting = f" while it still waits for {_names(late)}" if late else ""
    game.report(join, f"join `{join}` can get a second token from `{src}` before it has fired: after "
                      f"{path}, work reaches it twice{waiting}",
                "a path that loops or leaves the split must not lead back into a branch of it: end each branch "
                "at its join, and put a loop around the whole split and join", unsynchronized=True)


def _report_stuck(game: Game, i: int, toks: dict[Place, int]) -> None:
    for (pred, node), count in toks.items():
        if not pred or not count:
            continue
        j: Join = game.net.joins[node]
        have = [a for a in j.arcs if toks.get((a, node))]
        missing = [a for a in j.arcs if a not in have]
        labels = game.path(i)
        exclusive = [n for n in (lbl.split(" ")[0] for lbl in labels) if game.net.kinds.get(n) == "branch"]
        waits = "every path" if j.need in (None, len(j.arcs)) else f"{j.need} of its paths"
        game.report(node, f"join `{node}` can wait forever: after {show_path(labels)}, it has work from "
                          f"{_names(have)} but nothing more can arrive{' from ' + _names(missing) if missing else ''}"
                          f" (it waits for {waits})", _stuck_hint(j, exclusive))
        return


def _stuck_hint(j: Join, exclusive: list[str]) -> str:
    if exclusive:
        return (f"`{exclusive[-1]}` is an exclusive branch: only one of its paths runs, so a join after it waits "
                f"for the others forever; let its paths meet at an ordinary step instead of `{j.id}`, or make it "
                f"`type: inclusive` with its own join")
    if j.split is None:
        return f"no parallel or inclusive split names `{j.id}` as its `join`; alternative paths meet at an ordinary step"
    return f"every path into `{j.id}` must come from a branch of `{j.split}`, and `wait` cannot exceed them"


def _covers_ancestor(game: Game, i: int, state: State, label: str) -> bool:
    new = dict(state[0])
    total = sum(new.values())
    k: int | None = i
    while k is not None:
        old_toks, old_fired = game.states[k]
        if game.totals[k] >= total:                        # covering needs strictly more tokens
            k = game.parent[k][0] if game.parent[k] is not None else None
            continue
        old = dict(old_toks)
        if old_fired == state[1] and old != new and all(new.get(p, 0) >= c for p, c in old.items()):
            grown = next(p for p in sorted(new) if new[p] > old.get(p, 0))
            where = grown[1]
            game.report(where, f"live work piles up at `{where}`: after {show_path(game.path(i) + [label])}, "
                               f"the same steps can repeat and add another copy each time round",
                        "a loop through a parallel or inclusive split must pass its join too; "
                        "start the loop before the split and close it after the join", unsynchronized=True)
            return True
        k = game.parent[k][0] if game.parent[k] is not None else None
    return False


def _names(ids: list[str]) -> str:
    return ", ".join(f"`{x}`" for x in ids)


def always_before(game: Game) -> dict[str, frozenset[str]]:
    """For each node: the nodes that have run on every run that gives it a token (its dominators in
    the game's state graph, so a branch of a parallel split is not "before" its sibling)."""
    ids = list(game.net.kinds)
    bit = {n: 1 << k for k, n in enumerate(ids)}
    full = (1 << len(ids)) - 1
    incoming: list[list[tuple[int, str]]] = [[] for _ in game.states]
    for src, outs in enumerate(game.edges):
        for dst, node, _ in outs:
            incoming[dst].append((src, node))
    must = [0] + [full] * (len(game.states) - 1)
    changed = True
    while changed:
        changed = False
        for d in range(1, len(game.states)):
            value = full
            for s, node in incoming[d]:
                value &= must[s] | bit[node]
            if value != must[d]:
                must[d], changed = value, True
    masks: dict[str, int] = {}
    for d, (toks, _) in enumerate(game.states):
        for (pred, node), _count in toks:
            if not pred:
                masks[node] = masks.get(node, full) & must[d]
    return {n: frozenset(x for x in ids if m & bit[x]) for n, m in masks.items()}


def run_without(game: Game, node: str, avoid: str) -> list[str] | None:
    """The shortest run that gives `node` a token without `avoid` ever running, or None."""
    seen, todo = {0: []}, [0]
    for i in todo:
        if any(not pred and n == node for (pred, n), _ in game.states[i][0]):
            return seen[i]
        for dst, fired, label in game.edges[i]:
            if fired != avoid and dst not in seen:
                seen[dst] = seen[i] + [label]
                todo.append(dst)
    return None
