"""The token game on a flow (flow_verify_net): every state the engine can reach, breadth first.

A state is what the engine keeps alive between two commands: the tokens resting at steps
(task, approval, subflow, wait), each inside the split instances it took, and the open split
instances with the branches that have reached their join. It is kept as a tree (a split
instance holds what runs inside it) so that two states differing only in the engine's ids
are one. A move is one command at one resting token — pass, reject, time out, or (for the
BNY507 trials) return — followed by the engine's automatic routing to the next resting
places, played exactly as engine/flow/routing.py does, with branch conditions as free choices.

It finds, each with the shortest run that shows it:
- a join that waits forever: a state with no resting token left while a split is still open
  (a path ended with `terminate: false`, or left its split, and the join cannot fire);
- lack of synchronization: a join getting work twice from one branch of its split (it would
  fire early and cancel work that is still due);
- work piling up: a split starting again from inside one of its own branches while its
  previous round still runs (each time round adds another copy);
- a move the engine refuses: on_reject or a timeout's goto into another branch."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Mapping, Sequence

from dsl.kinds.flow.ir import (
    ApprovalNode,
    BranchNode,
    EndNode,
    InclusiveNode,
    JoinNode,
    Node,
    ParallelNode,
    SubflowNode,
    TaskNode,
    WaitNode,
)
from dsl.kinds.flow.verify_net import Net

MAX_STATES = 20_000
MOVES_PER_STATE = 5                # on average: beyond MAX_STATES × this many moves, the game stops too
Tree = tuple                        # sorted items: ("t", branch, node) | ("s", branch, node, expected, arrived, Tree)
ROOT: Tree = (("<start>",),)        # before the instance starts
_RESTING = ("task", "approval", "subflow", "wait")


@dataclass(frozen=True)
class Problem:
    node: str
    message: str
    hint: str
    at: tuple = ()                  # the key under the node where it is written (default: the node's id)
    refused: bool = False           # the engine refuses the move (rather than the run going wrong later)


@dataclass
class Game:
    net: Net
    states: list[Tree] = field(default_factory=list)
    edges: list[list[tuple[int, str, tuple[str, ...]]]] = field(default_factory=list)  # (dst, node acting, labels)
    parent: list[tuple[int, tuple[str, ...]] | None] = field(default_factory=list)
    at: list[frozenset[str]] = field(default_factory=list)                           # nodes holding a token
    problems: dict[str, Problem] = field(default_factory=dict)
    index: dict[Tree, int] = field(default_factory=dict)
    truncated: bool = False

    def path(self, index: int) -> list[str]:
        labels: list[str] = []
        while (link := self.parent[index]) is not None:
            index, step = link
            labels[:0] = step
        return labels

    def report(self, problem: Problem) -> None:
        self.problems.setdefault(problem.node, problem)


def show_path(labels: list[str]) -> str:
    if not labels:
        return "the start"
    if len(labels) > 10:
        labels = labels[:3] + ["…"] + labels[-6:]
    return " → ".join(labels)


def play(net: Net, returns: Mapping[str, Sequence[str]] | None = None, limit: int | None = None,
         base: Game | None = None) -> Game:
    """Explore every state reachable from the start (at most `limit`, default MAX_STATES).
    `returns`: extra moves, node → the steps it may return work to. With `base`, a game already
    played on the same net without them: only what the returns add is explored (its problems
    are the new ones)."""
    returns, limit = returns or {}, limit or MAX_STATES
    game = Game(net)
    if base is not None:
        game.states, game.parent, game.at = list(base.states), list(base.parent), list(base.at)
        game.edges = [[] for _ in base.states]
        game.index = dict(base.index)
    else:
        game.states, game.edges, game.parent, game.at = [ROOT], [[]], [None], [frozenset()]
        game.index = {ROOT: 0}
    known = len(game.states) if base is not None else 0
    budget = limit * MOVES_PER_STATE
    i = 0
    while i < len(game.states):
        if i < known and game.at[i].isdisjoint(returns):
            i += 1
            continue                                       # a known state the returns do not touch
        for node, labels, outcome in _moves(net, game.states[i], returns, only_returns=i < known):
            budget -= 1
            if budget < 0:
                game.truncated = True
                return game
            if isinstance(outcome, Problem):
                run = show_path(game.path(i) + list(labels))
                game.report(Problem(outcome.node, outcome.message.replace("{run}", run), outcome.hint, outcome.at,
                                    outcome.refused))
                continue
            if outcome is None:
                continue                                   # the instance ends, or the engine refuses the move
            if outcome not in game.index:
                if len(game.states) >= limit:
                    game.truncated = True
                    return game
                game.index[outcome] = len(game.states)
                game.states.append(outcome)
                game.edges.append([])
                game.parent.append((i, labels))
                game.at.append(frozenset(_token_nodes(outcome)))
                stuck = _stuck(net, outcome)
                if stuck is not None:
                    run = show_path(game.path(len(game.states) - 1))
                    game.report(Problem(stuck.node, stuck.message.replace("{run}", run), stuck.hint))
            game.edges[i].append((game.index[outcome], node, labels))
        i += 1
    return game


# -- the engine's state, flat while a move is played ------------------------------------------

@dataclass
class _Split:
    node: str
    join: str
    expected: int
    arrived: tuple[str, ...]
    scopes: tuple[tuple[int, str], ...]


class _Run:
    """One way a move can go: the flat state it edits, the labels of the run, the routing stack."""

    def __init__(self, tokens: list[tuple[str, tuple[tuple[int, str], ...]]], splits: dict[int, _Split],
                 seq: int) -> None:
        self.tokens = tokens
        self.splits = splits
        self.seq = seq
        self.labels: list[str] = []
        self.stack: list[tuple[str | None, tuple[tuple[int, str], ...]]] = []
        self.finished = False
        self.problem: Problem | None = None
        self.steps = 0

    def copy(self) -> "_Run":
        run = _Run(list(self.tokens), {k: _Split(s.node, s.join, s.expected, s.arrived, s.scopes)
                                       for k, s in self.splits.items()}, self.seq)
        run.labels, run.stack, run.finished, run.steps = list(self.labels), list(self.stack), self.finished, self.steps
        return run

    def new_split(self, node: str, join: str, expected: int, scopes) -> int:
        self.seq += 1
        self.splits[self.seq] = _Split(node, join, expected, (), scopes)
        return self.seq

    def cancel_split(self, sid: int) -> None:
        """The engine's Work.cancel_split: the split, every token and split inside it."""
        self.tokens = [t for t in self.tokens if all(s != sid for s, _ in t[1])]
        for other in [k for k, s in self.splits.items() if any(p == sid for p, _ in s.scopes)]:
            self.splits.pop(other, None)
        self.splits.pop(sid, None)


def _decode(tree: Tree) -> _Run:
    """The flat state of a tree, with fresh split ids."""
    run = _Run([], {}, 0)

    def walk(items: Tree, scopes) -> None:
        for item in items:
            if item[0] == "t":
                run.tokens.append((item[2], scopes))
                continue
            _, _, node, join, expected, arrived, inner = item
            run.seq += 1
            sid = run.seq
            run.splits[sid] = _Split(node, join, expected, arrived, scopes)
            for child in inner:
                walk((child,), scopes + ((sid, child[1]),))

    walk(tree, ())
    return run


def _encode(run: _Run) -> Tree:
    children: dict[int | None, list] = {}
    for node, scopes in run.tokens:
        parent, branch = scopes[-1] if scopes else (None, "")
        children.setdefault(parent, []).append(("t", branch, node))

    def split_item(sid: int) -> tuple:
        s = run.splits[sid]
        inner = tuple(sorted(children.get(sid, [])))
        branch = s.scopes[-1][1] if s.scopes else ""
        return ("s", branch, s.node, s.join, s.expected, tuple(sorted(s.arrived)), inner)

    for sid in sorted(run.splits, key=lambda k: -len(run.splits[k].scopes)):   # innermost first
        s = run.splits[sid]
        parent = s.scopes[-1][0] if s.scopes else None
        children.setdefault(parent, []).append(split_item(sid))
    return tuple(sorted(children.get(None, [])))


def _token_nodes(tree: Tree) -> Iterator[str]:
    for item in tree:
        if item[0] == "t":
            yield item[2]
        elif item[0] == "s":
            yield from _token_nodes(item[6])


def _stuck(net: Net, tree: Tree) -> Problem | None:
    """A state with no resting token is final: fine when no split is open (every path ended),
    a join waiting forever otherwise (reported at the innermost open split's join)."""
    if next(_token_nodes(tree), None) is not None or not tree:
        return None
    item = tree[0]
    while item[6]:
        item = item[6][0]
    _, _, split, join, expected, arrived, _ = item
    join_node = net.nodes.get(join)
    wait = join_node.wait if isinstance(join_node, JoinNode) else "all"
    need = expected if wait == "all" else 1 if wait == "any" else min(int(wait), expected)
    have = f"it has work from {_names(list(arrived))}" if arrived else "no work has reached it"
    ended = [n for n, x in net.nodes.items() if isinstance(x, EndNode) and not x.terminate]
    hint = (f"every path of `{split}` must reach `{join}`: a path that ends "
            f"({_names(ended)} has `terminate: false`) or leaves the split without passing its join never arrives"
            if ended else f"every path of `{split}` must reach `{join}`: a path that leaves the split without passing "
                          "its join never arrives")
    return Problem(join, f"join `{join}` can wait forever: after {{run}}, {have} but nothing more can arrive "
                         f"(it waits for {need} of the {expected} paths `{split}` started)", hint)


# -- moves ------------------------------------------------------------------------------------

def _moves(net: Net, tree: Tree, returns: Mapping[str, Sequence[str]],
           only_returns: bool) -> Iterator[tuple[str, tuple[str, ...], Tree | Problem | None]]:
    """(node acting, labels, outcome) for every way every resting token can move: the new state,
    a Problem, or None (the instance ended or the engine refuses the move)."""
    if tree == ROOT:
        for run in _route(net, _start(net)):
            yield "", tuple(run.labels), _outcome(run)
        return
    base = _decode(tree)
    seen = set()
    for k, (nid, scopes) in enumerate(base.tokens):
        if (nid, scopes) in seen:
            continue
        seen.add((nid, scopes))
        node = net.nodes[nid]
        for label, kind, target in _choices(node, returns.get(nid, ()), only_returns):
            run = base.copy()
            del run.tokens[k]
            run.labels.append(label)
            if kind == "pass":
                if target is None:
                    continue                               # no `next` (BNY503): the engine refuses
                run.stack.append((target, scopes))
            elif kind == "end":
                run.finished = True
            elif not _relocate(net, run, nid, scopes, target, kind):
                yield nid, tuple(run.labels), run.problem
                continue
            for done in _route(net, run):
                yield nid, tuple(done.labels), _outcome(done)


def _start(net: Net) -> _Run:
    run = _Run([], {}, 0)
    run.stack.append((net.first, ()))
    return run


def _outcome(run: _Run) -> Tree | Problem | None:
    if run.problem is not None:
        return run.problem
    if run.finished:
        return None
    return _encode(run)


def _choices(node: Node, returns: Sequence[str], only_returns: bool) -> list[tuple[str, str, str | None]]:
    """(label, kind, target) for what a person or timer can do at a resting step."""
    out: list[tuple[str, str, str | None]] = []
    nid = node.id
    if not only_returns:
        out.append((nid, "pass", node.next))
        if isinstance(node, ApprovalNode):
            out.append((f"{nid} rejects ⇒ {node.on_reject}", "reject", node.on_reject) if node.on_reject
                       else (f"{nid} rejects (ends)", "end", None))
        if isinstance(node, (TaskNode, SubflowNode, WaitNode)) and node.timing.timeout_goto:
            out.append((f"{nid} times out ⇒ {node.timing.timeout_goto}", "timeout", node.timing.timeout_goto))
    out += [(f"{nid} returns to {t}", "return", t) for t in returns]
    return out


def _relocate(net: Net, run: _Run, nid: str, scopes, target: str | None, kind: str) -> bool:
    """The engine's relocate (routing.py): False, with run.problem set, when it refuses the move."""
    if target not in net.nodes:
        return False
    region = net.regions.get(target, ())
    depth = 0
    for (sid, branch), (snode, sbranch) in zip(scopes, region):
        split = run.splits.get(sid)
        if split is None or split.node != snode or (sbranch is not None and sbranch != branch):
            break
        depth += 1
    if depth < len(region) and (depth < len(scopes) or any(b is None for _, b in region[depth:])):
        snode, sbranch = region[depth]
        same = depth < len(scopes) and run.splits.get(scopes[depth][0]) is not None \
            and run.splits[scopes[depth][0]].node == snode
        where = (f"another branch of `{snode}` than `{nid}`" if same else
                 f"{'a branch' if sbranch else 'the branches'} of `{snode}`, a split `{nid}` is not inside")
        verb = {"reject": "rejects to", "timeout": "times out to", "return": "returns to"}[kind]
        at = {"reject": ("on_reject",), "timeout": ("on_timeout", "goto")}.get(kind, ())
        run.problem = Problem(nid, f"when `{nid}` {verb} `{target}` (after {{run}}), the engine refuses the move: "
                                   f"`{target}` lies in {where}",
                              "work can go back along its own path, to before a split (which cancels the split's other "
                              "paths), or from outside every split into one branch whose join has passed (redone "
                              "alone); not into another branch, nor to a step several branches share",
                              at, refused=True)
        return False
    if depth < len(scopes):
        run.cancel_split(scopes[depth][0])
    scopes = scopes[:depth]
    for split_node, path in region[depth:]:        # back into a branch whose join has passed: redo it alone
        opener = net.nodes[split_node]
        assert path is not None and isinstance(opener, (ParallelNode, InclusiveNode))  # any branch: refused above
        sid = run.new_split(split_node, opener.join, 1, scopes)
        scopes += ((sid, path),)
    run.stack.append((target, scopes))
    return True


def _route(net: Net, first: _Run) -> Iterator[_Run]:
    """The engine's advance (routing.py) from every entry on the run's stack, forking at each
    free choice; yields every way it can end (with run.problem set when it goes wrong). A run
    the engine would refuse (nowhere to go, an automatic loop) is dropped."""
    budget = 4 * len(net.nodes) + 50
    todo = [first]
    while todo:
        run, refused = todo.pop(), False
        while run.stack and not run.finished and run.problem is None:
            nid, sc = run.stack.pop()
            if any(s not in run.splits for s, _ in sc):
                continue                           # its split was cancelled by a partial join on the way
            run.steps += 1
            node = net.nodes.get(nid) if nid is not None else None
            options = net.moves.get(node.id, ()) if isinstance(node, (BranchNode, ParallelNode)) else ()
            if node is None or run.steps > budget or (isinstance(node, (BranchNode, ParallelNode)) and not options):
                refused = True
                break
            if node.type in _RESTING:
                run.tokens.append((node.id, sc))
            elif isinstance(node, EndNode):
                run.labels.append(f"{nid} (ends)" if node.terminate else f"{nid} (ends its path)")
                run.finished = node.terminate
            elif isinstance(node, JoinNode):
                _arrive(net, run, node, sc)
            elif options:
                for move in options[1:]:
                    other = run.copy()
                    _fan(run=other, node=node, targets=move.targets, label=move.label, sc=sc)
                    todo.append(other)
                _fan(run=run, node=node, targets=options[0].targets, label=options[0].label, sc=sc)
            else:                                  # action
                run.stack.append((node.next, sc))
        if not refused:
            yield run


def _fan(run: _Run, node: Node, targets: tuple[str, ...], label: str, sc) -> None:
    """A branch's choice: on to one target; a split's: a new split instance, a path per target."""
    run.labels.append(label)
    if not isinstance(node, (ParallelNode, InclusiveNode)):
        run.stack.append((targets[0], sc))
        return
    if any(run.splits.get(s) is not None and run.splits[s].node == node.id for s, _ in sc):
        run.problem = Problem(node.id, f"live work piles up at `{node.id}`: after {{run}}, the split starts again "
                                       "from inside one of its own branches while its earlier round still runs, "
                                       "and each time round adds another copy of that round's work",
                              "a loop through a parallel or inclusive split must pass its join too: start the loop "
                              "before the split and close it after the join (a rejection or timeout back before the "
                              "split is fine: it cancels the split)")
        return
    sid = run.new_split(node.id, node.join, len(targets), sc)
    for t in reversed(targets):
        run.stack.append((t, sc + ((sid, t),)))


def _arrive(net: Net, run: _Run, node: JoinNode, sc) -> None:
    """The engine's _arrive: count the arrival for the innermost split of this join the token is in."""
    for i in range(len(sc) - 1, -1, -1):
        split = run.splits.get(sc[i][0])
        if split is not None and split.join == node.id:
            break
    else:
        owner = net.joins[node.id].split if node.id in net.joins else None
        if owner is not None:
            run.problem = Problem(node.id, f"work reaches join `{node.id}` from outside its split `{owner}`: after "
                                           "{run}; the engine lets it pass uncounted (a simple merge), so the join "
                                           "does not wait for the split's paths",
                                  f"enter `{owner}`'s branches only through `{owner}`: a jump or rejection into a "
                                  "branch from outside the split skips its synchronization")
            return
        run.stack.append((node.next, sc))          # a join no split names: a simple merge
        return
    sid, branch = sc[i]
    if branch in split.arrived:
        opener = net.nodes[split.node]
        late = [b for b in opener.branches] if isinstance(opener, ParallelNode) else []
        late = [b for b in late if b not in split.arrived]
        waiting = f" while {_names(late)} may still be running" if late else ""
        run.problem = Problem(node.id, f"join `{node.id}` can get work twice from the branch `{branch}` of "
                                       f"`{split.node}`{waiting}: after {{run}}; it counts arrivals, so it would "
                                       "fire early and cancel work still due",
                              "each path of a split must reach its join once: a split inside a branch needs its own "
                              "join before the outer one, and a path must not loop back into a branch")
        return
    wait = node.wait
    need = split.expected if wait == "all" else 1 if wait == "any" else min(int(wait), split.expected)
    split.arrived = split.arrived + (branch,)
    if len(split.arrived) < need:
        return
    if wait == "all":
        inside = [n for n, scopes in run.tokens + run.stack if any(s == sid for s, _ in scopes)] + \
                 [s.node for s in run.splits.values() if any(p == sid for p, _ in s.scopes)]
        if inside:
            run.problem = Problem(node.id, f"join `{node.id}` can fire while work of `{split.node}` is still running "
                                           f"at {_names(list(dict.fromkeys(x for x in inside if x)))}: after {{run}}, "
                                           "every path it counts has arrived, so that work would be cancelled "
                                           "unfinished",
                                  "each path of a split must reach its join once: a split inside a branch needs its "
                                  "own join, and every path of it must pass that join before the outer one")
            return
    run.labels.append(f"{node.id} fires")
    run.cancel_split(sid)                          # a partial join cancels the paths still running
    run.stack.append((node.next, sc[:i]))


def _names(ids: list[str]) -> str:
    return ", ".join(f"`{x}`" for x in ids)


def always_before(game: Game) -> dict[str, frozenset[str]]:
    """For each node: the steps that have acted on every run that gives it a token (its dominators
    in the game's state graph, so a branch of a parallel split is not "before" its sibling)."""
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
                value &= must[s] | bit.get(node, 0)
            if value != must[d]:
                must[d], changed = value, True
    masks: dict[str, int] = {}
    for d in range(1, len(game.states)):
        for node in game.at[d]:
            masks[node] = masks.get(node, full) & must[d]
    return {n: frozenset(x for x in ids if m & bit[x]) for n, m in masks.items()}


def run_without(game: Game, node: str, avoid: str) -> list[str] | None:
    """The shortest run that gives `node` a token without `avoid` ever acting, or None."""
    seen: dict[int, list[str]] = {0: []}
    todo = [0]
    for i in todo:
        if node in game.at[i]:
            return seen[i]
        for dst, acted, labels in game.edges[i]:
            if acted != avoid and dst not in seen:
                seen[dst] = seen[i] + list(labels)
                todo.append(dst)
    return None
