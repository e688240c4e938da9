"""The graph sections of a view: the group's equity structure (a tree from the parent company's
ultimate controller down, the control chain marked) and its guarantee network, from the graph
room's cached graph and cut to the reader's sight exactly as the graph API cuts its answers
(runtime/graph/scope.py: firms the reader may not read are anonymous or counted, never named).
Each picture comes with the rows of a table saying the same thing, for reading without it."""
from __future__ import annotations

from typing import Any, Mapping

from dsl.kinds.view import ViewSection
from engine.views import equity_tree, guarantee_network, tree_rows
from runtime.graph.facts import chain_path
from runtime.graph.load import GraphState
from runtime.graph.scope import Sight
from runtime.views.shown import money_text, share_text
from runtime.views.words import vtext

MAX_CHILDREN = 40            # holdings drawn under one holder; the rest counted
MAX_FIRMS = 120              # firms in the guarantee picture (a readable one); the rest counted


def _root(state: GraphState, parent: str | None, members: list[str]) -> tuple[str | None, list[str]]:
    """Where the equity tree starts (the parent company's ultimate controller, else the parent
    company, else the member holding the most) and the control chain down to the parent."""
    equity = state.snapshot.equity
    if parent is not None and parent in equity:
        path = chain_path(equity.control_chain(parent))
        return (path[0] if path else parent), path
    held = [m for m in members if m in equity]
    if not held:
        return None, []
    return max(held, key=lambda m: (len(equity.holdings(m)), m)), []


def equity_section(section: ViewSection, state: GraphState, sight: Sight, code: str, parent: str | None,
                   capital: Mapping[str, float], lang: str) -> dict[str, Any]:
    members = state.members(code)
    root, chain = _root(state, parent, members)
    if root is None:
        return {"graph": "equity", "tree": None, "rows": [], "focus": [], "note": vtext("no_equity", lang)}
    tree = equity_tree(state.snapshot.equity, root, labels={**state.person_names, **state.names},
                       hidden=sight.hidden(state) if not sight.bank_wide else frozenset(), members=set(members),
                       capital=capital, depth=section.depth or 4, max_children=MAX_CHILDREN, chain=chain)
    rows = []
    for r in tree_rows(tree):
        firm = vtext("other_clients", lang, n=r["others"]) if r["firm_kind"] == "others" else \
            vtext("more_firms", lang, n=r["more"]) if r["firm_kind"] == "more" else r["firm"] or vtext("other_client", lang)
        rows.append({"level": r["level"], "holder": r["holder"] or vtext("other_client", lang), "firm": firm,
                     "share": share_text(r["share"]), "amount": money_text(r["amount"], None, lang)
                     if r["amount"] is not None else "", "member": r["member"]})
    focus = sorted({(n["key"], n["name"]) for n in _nodes(tree) if n["member"] and n["key"]}, key=lambda kv: kv[1])
    return {"graph": "equity", "tree": tree, "rows": rows, "focus": [{"key": k, "name": n} for k, n in focus],
            "note": None}


def _nodes(tree: Mapping[str, Any]):
    yield tree
    for c in tree["children"]:
        yield from _nodes(c)


def guarantee_section(section: ViewSection, state: GraphState, sight: Sight, code: str, lang: str,
                      seen_as: Any = None) -> dict[str, Any]:
    """`seen_as`: what makes two readers' sights the same (their scope's units), so the network is
    kept with the graph's derived results (`GraphState.cache`, emptied when the graph changes)."""
    key = ("views.guarantee", code, section.depth, seen_as)
    net = state.cache.get(key)
    if net is None:
        members = state.members(code)
        net = state.cache[key] = guarantee_network(
            state.snapshot.guarantees, members, labels=state.names,
            hidden=sight.hidden(state) if not sight.bank_wide else frozenset(), members=set(members),
            depth=section.depth or 1, max_nodes=MAX_FIRMS)
    if not net["links"]:
        return {"graph": "guarantee", "network": net, "rows": [], "note": vtext("no_guarantees", lang)}
    name = {n["id"]: n["name"] or vtext("other_client", lang) for n in net["nodes"]}
    rows = [{"guarantor": name[x["source"]], "borrower": name[x["target"]],
             "amount": money_text(x["amount"], None, lang) if x["amount"] is not None else "",
             "circle": x["circle"], "mutual": x["mutual"]}
            for x in sorted(net["links"], key=lambda x: (not x["circle"], -(x["amount"] or 0)))]
    note = vtext("cut_nodes", lang, n=net["cut"]) if net["cut"] else None
    return {"graph": "guarantee", "network": net, "rows": rows, "note": note}
