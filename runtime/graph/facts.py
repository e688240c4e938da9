"""A firm's graph facts, contagion, the list of circles and the pictures, as plain JSON-ready
data: the API and the CLI show the same thing. Every figure comes from engine/graph; this
module only looks things up in the cached state and shapes the answer.

Each takes the asker's `sight` (runtime/graph_scope.py; the default sees the whole bank, as
the CLI does). A firm the asker may not read is a 404 exactly like an unknown one. In an
answer, other parties the asker may not read are not named: lists keep the shown ones and
`other_branches` counts the rest (summing their amounts, so totals stay honest); a path or
chain has `null` where a hidden node stands; a party object is `{"key": null, "name": null,
"group": null, "hidden": true}`. Totals and ratios (circle size, guarantor load, external
guarantees) are computed over everything, as they are facts about the firm itself.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

from engine.graph import ControlEdge, EquityGraph, GuaranteeGraph, equity_tree_svg, guarantee_circle_svg
from runtime.graph.load import GraphState
from runtime.graph.scope import BANK_WIDE, Sight
from runtime.records.errors import NotFound
from runtime.records.validation import Problem

HIDDEN_PARTY = {"key": None, "name": None, "group": None, "hidden": True}


def _num(value: float | None) -> float | None:
    return None if value is None or math.isinf(value) or math.isnan(value) else float(value)


def require_firm(state: GraphState, key: str, loc: tuple = ("path", "key"), sight: Sight = BANK_WIDE) -> None:
    """NotFound for a firm the graph does not know and, with the same words, for one `sight` may not read."""
    if key not in state.names or not sight.sees_firm(key):
        raise NotFound(f"no firm `{key}` (firms are named by their credit code)",
                       [Problem(loc, f"unknown firm `{key}`", "not_found")])


def party(state: GraphState, key: str | None, sight: Sight = BANK_WIDE) -> dict | None:
    if key is None:
        return None
    if not sight.shows(state, key):
        return dict(HIDDEN_PARTY)
    return {"key": key, "name": state.names.get(key), "group": state.snapshot.group_of.get(key)}


def edge_dict(e: ControlEdge, state: GraphState | None = None, sight: Sight = BANK_WIDE) -> dict:
    holder, firm = (e.holder, e.firm) if state is None else (sight.mask(state, e.holder), sight.mask(state, e.firm))
    return {"holder": holder, "firm": firm, "share": e.share, "bloc_share": _num(e.bloc_share),
            "agreement": e.agreement}


def chain_path(chain: tuple[ControlEdge, ...]) -> list[str]:
    return [chain[0].holder] + [e.firm for e in chain] if chain else []


def masked(state: GraphState, nodes, sight: Sight) -> list[str | None]:
    """`nodes` in order, None for each hidden one (a path keeps its length and shape)."""
    return [sight.mask(state, n) for n in nodes]


def split(state: GraphState, nodes, sight: Sight) -> tuple[list[str], int]:
    """(the shown nodes, sorted; how many others there are)."""
    shown = sorted(n for n in nodes if sight.shows(state, n))
    return shown, len(nodes) - len(shown)


def _by_size(items) -> list:
    return sorted(items, key=lambda kv: (-kv[1], kv[0]))


def _amounts(state: GraphState, amounts: Mapping[str, float], sight: Sight) -> tuple[list[dict], dict]:
    """The shown counterparts with their amounts, and {"firms", "amount"} of the hidden ones."""
    shown = [{**party(state, f), "amount": a} for f, a in _by_size(amounts.items()) if sight.shows(state, f)]
    others = [a for f, a in amounts.items() if not sight.shows(state, f)]
    return shown, {"firms": len(others), "amount": float(sum(others))}


def firm_facts(state: GraphState, key: str, *, threshold: float = 0.25, inclusive: bool = True,
               top: int = 10, sight: Sight = BANK_WIDE) -> dict:
    require_firm(state, key, sight=sight)
    return {**party(state, key), "guarantees": _guarantee_facts(state, key, sight),
            "equity": _equity_facts(state, key, threshold, inclusive, top, sight)}


def _guarantee_facts(state: GraphState, key: str, sight: Sight) -> dict:
    snap, graph = state.snapshot, state.snapshot.guarantees
    if key not in graph:
        none = {"firms": 0, "amount": 0.0}
        return {"in_circle": False, "circle_size": 0, "circle": [], "cluster_size": 0, "mutual_with": [],
                "given": [], "received": [], "guarantor_load": None, "external_given": 0.0,
                "net_assets": snap.net_assets.get(key),
                "other_branches": {"circle": 0, "mutual_with": 0, "given": none, "received": dict(none)}}
    given, received = graph.guarantees_given(key), graph.guarantees_received(key)
    assets = snap.net_assets.get(key)
    mine = snap.group_of.get(key)
    external = sum(a for b, a in given.items() if mine is None or snap.group_of.get(b) != mine)
    load = graph.guarantor_load({key: assets}, snap.group_of).get(key) if assets is not None else None
    circle, circle_others = split(state, graph.circle_of(key), sight)
    mutual, mutual_others = split(state, set(given) & set(received), sight)
    given_shown, given_others = _amounts(state, given, sight)
    received_shown, received_others = _amounts(state, received, sight)
    return {"in_circle": graph.in_circle(key), "circle_size": graph.circle_size(key),
            "circle": circle, "cluster_size": len(graph.cluster_of(key)),
            "mutual_with": mutual, "given": given_shown, "received": received_shown,
            "guarantor_load": _num(load), "external_given": external, "net_assets": assets,
            "other_branches": {"circle": circle_others, "mutual_with": mutual_others,
                               "given": given_others, "received": received_others}}


def _equity_facts(state: GraphState, key: str, threshold: float, inclusive: bool, top: int, sight: Sight) -> dict:
    equity = state.snapshot.equity
    if key not in equity:
        return {"ultimate_controller": None, "controlling_party": [], "control_chain": [], "control_path": [],
                "in_mutual_control": False, "beneficial_owners": [], "threshold": threshold,
                "comparison": ">=" if inclusive else ">", "shareholders": [], "top_holdings": [],
                "other_branches": {"shareholders": {"firms": 0, "share": 0.0}, "holdings": 0}}
    chain = equity.control_chain(key)
    holders = equity.shareholders(key)
    held = equity.effective_holdings(key)
    hidden_holders = [s for h, s in holders.items() if not sight.shows(state, h)]
    return {
        "ultimate_controller": party(state, equity.ultimate_controller(key), sight),
        "controlling_party": masked(state, equity.controlling_party(key), sight),
        "control_chain": [edge_dict(e, state, sight) for e in chain],
        "control_path": masked(state, chain_path(chain), sight),
        "in_mutual_control": equity.in_mutual_control(key),
        # a firm's beneficial owners are persons seen through the firm itself
        "beneficial_owners": [{"person": p, "share": s}
                              for p, s in equity.beneficial_owners(key, threshold, inclusive)],
        "threshold": threshold, "comparison": ">=" if inclusive else ">",
        "shareholders": [{**party(state, h), "share": s}
                         for h, s in _by_size(holders.items()) if sight.shows(state, h)],
        "top_holdings": [{**party(state, f), "share": s}
                         for f, s in _by_size(held.items()) if sight.shows(state, f)][:top],
        "other_branches": {"shareholders": {"firms": len(hidden_holders), "share": float(sum(hidden_holders))},
                           "holdings": sum(1 for f in held if not sight.shows(state, f))},
    }


def all_circles(state: GraphState) -> list[tuple[str, ...]]:
    """Every guarantee circle, largest first (cached with the state)."""
    found = state.cache.get("circles")
    if found is None:
        found = state.cache["circles"] = state.snapshot.guarantees.circles()
    return found


def circle_dict(state: GraphState, members: tuple[str, ...], sight: Sight = BANK_WIDE) -> dict:
    """One circle: its size, the members shown with their names (`others`: how many are not), the groups of
    the members shown (a group the asker may not read counts under "(other groups)") and
    whether the circle spans several groups."""
    group_of = state.snapshot.group_of
    shown = [m for m in members if sight.shows(state, m)]
    counts: dict[str, int] = {}
    for m in shown:
        g = group_of.get(m)
        g = "(no group)" if g is None else (g if sight.sees_group(g) else "(other groups)")
        counts[g] = counts.get(g, 0) + 1
    return {"size": len(members), "members": shown, "names": {m: state.names.get(m) for m in shown},
            "others": len(members) - len(shown),
            "groups": dict(sorted(counts.items())), "spans_groups": len({group_of.get(m) for m in members}) > 1}


def circles(state: GraphState, min_size: int = 2, sight: Sight = BANK_WIDE) -> list[dict]:
    """Every guarantee circle (strongly connected, two firms or more) with at least one firm the
    asker may read, largest first, with the groups it spans."""
    return [circle_dict(state, members, sight) for members in all_circles(state)
            if len(members) >= min_size and (sight.bank_wide or any(sight.sees_firm(m) for m in members))]


def contagion_facts(state: GraphState, distressed: Mapping[str, float], *, guarantee_default: float,
                    control_rate: float, holding_rate: float, min_score: float, limit: int,
                    sight: Sight = BANK_WIDE) -> dict:
    """Affected firms the asker may read, named with their paths (`null` for a hidden step);
    `other_branches.affected` counts the others. A distressed firm the asker may not read is
    reported exactly like an unknown one."""
    missing = [(i, k) for i, k in enumerate(distressed) if k not in state.names or not sight.sees_firm(k)]
    if missing:
        raise NotFound("unknown firm(s): " + ", ".join(f"`{k}`" for _, k in missing),
                       [Problem(("body", "distressed", i), f"unknown firm `{k}`", "not_found") for i, k in missing])
    result = state.snapshot.contagion(dict(distressed), guarantee_default=guarantee_default,
                                      control_rate=control_rate, holding_rate=holding_rate, min_score=min_score)
    shown = [a for a in result.affected if sight.shows(state, a.firm)]
    return {"distressed": [{**party(state, k), "probability": p} for k, p in distressed.items()],
            "total_affected": len(result.affected),
            "affected": [{**party(state, a.firm), "score": a.score, "path": masked(state, a.path, sight),
                          "path_strength": a.path_strength} for a in shown[:limit]],
            "other_branches": {"affected": len(result.affected) - len(shown)}}


def _hidden(state: GraphState, sight: Sight):
    return frozenset() if sight.bank_wide else sight.hidden(state)


def equity_svg(state: GraphState, key: str, *, focus: bool = False, depth: int | None = None,
               children: int = 8, sight: Sight = BANK_WIDE) -> str:
    """The equity tree around `key`: from its ultimate controller down, the control chain in red
    (`focus`: from the firm itself down). Firms the asker may not read are anonymous boxes."""
    require_firm(state, key, sight=sight)
    equity = state.snapshot.equity
    if key not in equity:
        equity = EquityGraph((), nodes=[key])
    chain = equity.control_chain(key)
    path = chain_path(chain)
    root = key if focus or not path else path[0]
    depth = depth or max(4, len(path))
    return equity_tree_svg(equity, root, labels={**state.person_names, **state.names}, max_depth=depth,
                           max_children=children, highlight=[path] if path and not focus else (),
                           hidden=_hidden(state, sight),
                           title=f"Equity tree of {state.names.get(key, key)} ({key})")


def guarantee_svg(state: GraphState, key: str, *, depth: int = 2, max_nodes: int = 60,
                  sight: Sight = BANK_WIDE) -> str:
    """`key`'s guarantee circle (or cluster); beyond `max_nodes` firms, those within `depth` steps.
    Firms the asker may not read are anonymous."""
    require_firm(state, key, sight=sight)
    graph = state.snapshot.guarantees
    if key not in graph:
        graph = GuaranteeGraph((), nodes=[key])
    mutual = [[key, b] for b in sorted(set(graph.guarantees_given(key)) & set(graph.guarantees_received(key)))]
    return guarantee_circle_svg(graph, key, labels={**state.person_names, **state.names}, max_nodes=max_nodes,
                                radius=depth, highlight=mutual + [[b, a] for a, b in mutual],
                                hidden=_hidden(state, sight),
                                title=f"Guarantee circle of {state.names.get(key, key)} ({key})")


def status(state: GraphState, last_update: Mapping[str, Any]) -> dict:
    """Counts and timings of the cached graph: it names no firm, so every asker gets it."""
    snap = state.snapshot
    return {"deployment": state.version, "audit_seq": state.seq, "firms": len(state.names),
            "guarantees": len(state.edges), "equity_nodes": len(snap.equity.nodes),
            "built_seconds": state.built_seconds, "last_update": dict(last_update)}
