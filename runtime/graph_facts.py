"""A firm's graph facts, contagion, the list of circles and the pictures, as plain JSON-ready
data: the API and the CLI show the same thing. Every figure comes from engine/graph; this
module only looks things up in the cached state and shapes the answer.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

from engine.graph import ControlEdge, EquityGraph, GuaranteeGraph, equity_tree_svg, guarantee_circle_svg

from .errors import NotFound
from .graph_load import GraphState
from .validation import Problem


def _num(value: float | None) -> float | None:
    return None if value is None or math.isinf(value) or math.isnan(value) else float(value)


def require_firm(state: GraphState, key: str, loc: tuple = ("path", "key")) -> None:
    if key not in state.names:
        raise NotFound(f"no firm `{key}` (firms are named by their credit code)",
                       [Problem(loc, f"unknown firm `{key}`", "not_found")])


def party(state: GraphState, key: str | None) -> dict | None:
    if key is None:
        return None
    return {"key": key, "name": state.names.get(key), "group": state.snapshot.group_of.get(key)}


def edge_dict(e: ControlEdge) -> dict:
    return {"holder": e.holder, "firm": e.firm, "share": e.share, "bloc_share": _num(e.bloc_share),
            "agreement": e.agreement}


def chain_path(chain: tuple[ControlEdge, ...]) -> list[str]:
    return [chain[0].holder] + [e.firm for e in chain] if chain else []


def _amounts(state: GraphState, amounts: Mapping[str, float]) -> list[dict]:
    return [{**party(state, f), "amount": a} for f, a in sorted(amounts.items(), key=lambda kv: (-kv[1], kv[0]))]


def firm_facts(state: GraphState, key: str, *, threshold: float = 0.25, inclusive: bool = True,
               top: int = 10) -> dict:
    require_firm(state, key)
    return {**party(state, key), "guarantees": _guarantee_facts(state, key),
            "equity": _equity_facts(state, key, threshold, inclusive, top)}


def _guarantee_facts(state: GraphState, key: str) -> dict:
    snap, graph = state.snapshot, state.snapshot.guarantees
    if key not in graph:
        return {"in_circle": False, "circle_size": 0, "circle": [], "cluster_size": 0, "mutual_with": [],
                "given": [], "received": [], "guarantor_load": None, "external_given": 0.0,
                "net_assets": snap.net_assets.get(key)}
    given, received = graph.guarantees_given(key), graph.guarantees_received(key)
    assets = snap.net_assets.get(key)
    mine = snap.group_of.get(key)
    external = sum(a for b, a in given.items() if mine is None or snap.group_of.get(b) != mine)
    load = graph.guarantor_load({key: assets}, snap.group_of).get(key) if assets is not None else None
    return {"in_circle": graph.in_circle(key), "circle_size": graph.circle_size(key),
            "circle": sorted(graph.circle_of(key)), "cluster_size": len(graph.cluster_of(key)),
            "mutual_with": sorted(set(given) & set(received)),
            "given": _amounts(state, given), "received": _amounts(state, received),
            "guarantor_load": _num(load), "external_given": external, "net_assets": assets}


def _equity_facts(state: GraphState, key: str, threshold: float, inclusive: bool, top: int) -> dict:
    equity = state.snapshot.equity
    if key not in equity:
        return {"ultimate_controller": None, "controlling_party": [], "control_chain": [], "control_path": [],
                "in_mutual_control": False, "beneficial_owners": [], "threshold": threshold,
                "comparison": ">=" if inclusive else ">", "shareholders": [], "top_holdings": []}
    chain = equity.control_chain(key)
    holdings = sorted(equity.effective_holdings(key).items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return {
        "ultimate_controller": party(state, equity.ultimate_controller(key)),
        "controlling_party": list(equity.controlling_party(key)),
        "control_chain": [edge_dict(e) for e in chain], "control_path": chain_path(chain),
        "in_mutual_control": equity.in_mutual_control(key),
        "beneficial_owners": [{"person": p, "share": s} for p, s in equity.beneficial_owners(key, threshold, inclusive)],
        "threshold": threshold, "comparison": ">=" if inclusive else ">",
        "shareholders": [{**party(state, h), "share": s}
                         for h, s in sorted(equity.shareholders(key).items(), key=lambda kv: (-kv[1], kv[0]))],
        "top_holdings": [{**party(state, f), "share": s} for f, s in holdings],
    }


def circles(state: GraphState, min_size: int = 2) -> list[dict]:
    """Every guarantee circle (strongly connected, two firms or more), largest first, with the groups it spans."""
    found = state.cache.get("circles")
    if found is None:
        found = state.cache["circles"] = state.snapshot.guarantees.circles()
    group_of = state.snapshot.group_of
    out = []
    for members in found:
        if len(members) < min_size:
            continue
        counts: dict[str, int] = {}
        for m in members:
            g = group_of.get(m) or "(no group)"
            counts[g] = counts.get(g, 0) + 1
        out.append({"size": len(members), "members": list(members), "groups": dict(sorted(counts.items())),
                    "spans_groups": len(counts) > 1})
    return out


def contagion_facts(state: GraphState, distressed: Mapping[str, float], *, guarantee_default: float,
                    control_rate: float, holding_rate: float, min_score: float, limit: int) -> dict:
    missing = [(i, k) for i, k in enumerate(distressed) if k not in state.names]
    if missing:
        raise NotFound("unknown firm(s): " + ", ".join(f"`{k}`" for _, k in missing),
                       [Problem(("body", "distressed", i), f"unknown firm `{k}`", "not_found") for i, k in missing])
    result = state.snapshot.contagion(dict(distressed), guarantee_default=guarantee_default,
                                      control_rate=control_rate, holding_rate=holding_rate, min_score=min_score)
    return {"distressed": [{**party(state, k), "probability": p} for k, p in distressed.items()],
            "total_affected": len(result.affected),
            "affected": [{**party(state, a.firm), "score": a.score, "path": list(a.path),
                          "path_strength": a.path_strength} for a in result.affected[:limit]]}


def equity_svg(state: GraphState, key: str, *, focus: bool = False, depth: int | None = None,
               children: int = 8) -> str:
    """The equity tree around `key`: from its ultimate controller down, the control chain in red
    (`focus`: from the firm itself down)."""
    require_firm(state, key)
    equity = state.snapshot.equity
    if key not in equity:
        equity = EquityGraph((), nodes=[key])
    chain = equity.control_chain(key)
    path = chain_path(chain)
    root = key if focus or not path else path[0]
    depth = depth or max(4, len(path))
    return equity_tree_svg(equity, root, labels={**state.person_names, **state.names}, max_depth=depth, max_children=children,
                           highlight=[path] if path and not focus else (),
                           title=f"Equity tree of {state.names.get(key, key)} ({key})")


def guarantee_svg(state: GraphState, key: str, *, depth: int = 2, max_nodes: int = 60) -> str:
    """`key`'s guarantee circle (or cluster); beyond `max_nodes` firms, those within `depth` steps."""
    require_firm(state, key)
    graph = state.snapshot.guarantees
    if key not in graph:
        graph = GuaranteeGraph((), nodes=[key])
    mutual = [[key, b] for b in sorted(set(graph.guarantees_given(key)) & set(graph.guarantees_received(key)))]
    return guarantee_circle_svg(graph, key, labels={**state.person_names, **state.names}, max_nodes=max_nodes, radius=depth,
                                highlight=mutual + [[b, a] for a, b in mutual],
                                title=f"Guarantee circle of {state.names.get(key, key)} ({key})")


def status(state: GraphState, last_update: Mapping[str, Any]) -> dict:
    snap = state.snapshot
    return {"deployment": state.version, "audit_seq": state.seq, "firms": len(state.names),
            "guarantees": len(state.edges), "equity_nodes": len(snap.equity.nodes),
            "built_seconds": state.built_seconds, "last_update": dict(last_update)}
