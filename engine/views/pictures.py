"""The equity structure and the guarantee network of a group, shaped for drawing (the page draws
them with ECharts' tree and graph series) and for reading (each picture has a table behind it).

Both take `hidden`: the firms and persons the reader may not name (a container; the runtime passes
the graph room's `Sight.hidden`). A hidden node keeps its place in the picture as an anonymous
node — no key, no name, no amount — so the structure stays honest without naming anyone; a hidden
node with nothing shown beneath it is not drawn at all but counted in its parent's `others`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Container, Iterable, Mapping

from engine.graph import EquityGraph, GuaranteeGraph


@dataclass
class Hide:
    """Numbers the anonymous nodes of one picture (`h1`, `h2` …): never a key of theirs."""
    hidden: Container[str]
    count: int = 0
    ids: dict[str, str] = field(default_factory=dict)

    def __contains__(self, node: object) -> bool:
        return node in self.hidden

    def id_of(self, node: str) -> str:
        if node not in self.hidden:
            return node
        found = self.ids.get(node)
        if found is None:
            self.count += 1
            found = self.ids[node] = f"h{self.count}"
        return found


def _amount(capital: Mapping[str, float], firm: str, share: float) -> float | None:
    """The capital a holding stands for (the investee's registered capital × the share), when known."""
    base = capital.get(firm)
    return None if base is None else base * share


def equity_tree(equity: EquityGraph, root: str, *, labels: Mapping[str, str], hidden: Container[str] = frozenset(),
                members: Container[str] = frozenset(), capital: Mapping[str, float] | None = None,
                depth: int = 4, max_children: int = 30, chain: Iterable[str] = ()) -> dict[str, Any]:
    """The tree of holdings from `root` down `depth` levels: each node {id, key, name, kind
    (company, person or hidden), member (of the group), chain (on the control chain), share and
    amount (of the holding from its parent), children, others (holdings of hidden parties with
    nothing shown beneath: counted), more (holdings beyond `max_children`: counted), repeat (met
    before: drawn once, here without children)}. Children by share, largest first."""
    hide = Hide(hidden)
    capital = capital or {}
    on_chain = set(chain)
    seen: set[str] = set()

    def node(key: str, share: float | None, parent: str | None, level: int) -> dict[str, Any] | None:
        anonymous = key in hide
        repeat = key in seen
        seen.add(key)
        kids: list[dict[str, Any]] = []
        others = more = 0
        if not repeat and level < depth and key in equity:
            held = sorted(equity.holdings(key).items(), key=lambda kv: (-kv[1], kv[0]))
            for firm, s in held:
                if len(kids) >= max_children:
                    more += 1
                    continue
                child = node(firm, s, key, level + 1)
                if child is None:
                    others += 1
                else:
                    kids.append(child)
        if anonymous and not kids and parent is not None:
            return None                         # nothing shown beneath it: counted by its parent
        person = key in equity and equity.is_person(key)
        return {"id": hide.id_of(key) if anonymous else key, "key": None if anonymous else key,
                "name": None if anonymous else labels.get(key, key),
                "kind": "hidden" if anonymous else ("person" if person else "company"),
                "member": (not anonymous) and key in members, "chain": (not anonymous) and key in on_chain,
                "share": share, "amount": None if anonymous or share is None or parent in hide else
                _amount(capital, key, share),
                "children": kids, "others": others, "more": more, "repeat": repeat}

    tree = node(root, None, None, 0)
    assert tree is not None                     # the root is always drawn (anonymous if hidden)
    return tree


def tree_rows(tree: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The tree as the rows of a table (for reading it without the picture): each holding with its
    level, holder and investee names (None for an anonymous one), share and amount."""
    out: list[dict[str, Any]] = []

    def walk(n: Mapping[str, Any], level: int) -> None:
        for c in n["children"]:
            out.append({"level": level + 1, "holder": n["name"], "holder_kind": n["kind"], "firm": c["name"],
                        "firm_kind": c["kind"], "share": c["share"], "amount": c["amount"], "member": c["member"]})
            walk(c, level + 1)
        for kind in ("others", "more"):
            if n.get(kind):
                out.append({"level": level + 1, "holder": n["name"], "holder_kind": n["kind"], "firm": None,
                            "firm_kind": kind, "share": None, "amount": None, "member": False, kind: n[kind]})

    walk(tree, 0)
    return out


def guarantee_network(graph: GuaranteeGraph, seeds: Iterable[str], *, labels: Mapping[str, str],
                      hidden: Container[str] = frozenset(), members: Container[str] = frozenset(),
                      depth: int = 1, max_nodes: int = 150) -> dict[str, Any]:
    """The guarantees around `seeds` (the group's members): every firm within `depth` guarantee
    steps (either way), at most `max_nodes` firms (the seeds in circles and with the largest
    guarantees first, then the nearest), and the guarantees between them. Nodes {id, key, name,
    member, hidden, circle (in a guarantee circle), seed}; links {source, target, amount (None when
    a party is hidden), circle (both ends in one circle), mutual}. `cut` counts the firms left out by `max_nodes`."""
    hide = Hide(hidden)
    given: dict[str, dict[str, float]] = {}
    taken: dict[str, dict[str, float]] = {}
    near: dict[str, list[str]] = {}

    def gives(firm: str) -> dict[str, float]:
        found = given.get(firm)
        if found is None:
            found = given[firm] = graph.guarantees_given(firm)
        return found

    def receives(firm: str) -> dict[str, float]:
        found = taken.get(firm)
        if found is None:
            found = taken[firm] = graph.guarantees_received(firm)
        return found

    def neighbours(firm: str) -> list[str]:
        found = near.get(firm)
        if found is None:
            found = near[firm] = sorted(set(gives(firm)) | set(receives(firm)))
        return found

    def weight(firm: str) -> float:
        return sum(gives(firm).values()) + sum(receives(firm).values())

    # the seeds in circles first, then by the guarantees they give and receive: a large group's
    # picture keeps its `max_nodes` most involved members and counts the rest
    start = sorted({s for s in seeds if s in graph}, key=lambda f: (not graph.in_circle(f), -weight(f), f))
    cut = max(0, len(start) - max_nodes)
    start = start[:max_nodes]
    level = {s: 0 for s in start}
    frontier = list(start)
    for step in range(1, depth + 1):
        nxt: list[str] = []
        for firm in frontier:
            for other in neighbours(firm):
                if other in level:
                    continue
                if len(level) >= max_nodes:
                    cut += 1
                    continue
                level[other] = step
                nxt.append(other)
        frontier = nxt
    shown = set(level)
    circles = {f: graph.circle_of(f) for f in shown}
    nodes = [{"id": hide.id_of(f), "key": None if f in hide else f, "name": None if f in hide else labels.get(f, f),
              "member": f not in hide and f in members, "hidden": f in hide, "circle": len(circles[f]) > 1,
              "seed": level[f] == 0} for f in sorted(shown, key=lambda f: (level[f], f))]
    links = []
    for f in sorted(shown):
        for b, amount in sorted(gives(f).items()):
            if b not in shown:
                continue
            veiled = f in hide or b in hide
            links.append({"source": hide.id_of(f), "target": hide.id_of(b), "amount": None if veiled else amount,
                          "circle": b in circles[f] and len(circles[f]) > 1,
                          "mutual": f in gives(b)})
    return {"nodes": nodes, "links": links, "cut": cut, "circles": sum(1 for f in shown if len(circles[f]) > 1)}
