"""A group's graph facts: declared members against the members control proposes (reviewable
suggestions with their evidence, never applied), the guarantee circles touching the group,
and its exposure ratios against the bank's capital (`graph_settings`).

Exposure, as the figures the data model holds allow:
* group credit = the group's `total_credit_balance` (members' loan balances), net of
  deductions — the data model records no margin deposits, pledged CDs or government bonds,
  so the deduction is 0 and says so — ÷ net capital (limit 15%);
* connected exposure = loan balances of the declared members and the firms control links to
  them ÷ tier-1 capital (limit 20%);
* used ÷ unified limit (the group's `unified_limit`; null when it has none);
* indirect = what members guarantee for borrowers outside the group, each capped by the
  bank's exposure to that borrower (engine.graph.indirect_exposure), added to the credit.
"""
from __future__ import annotations

from typing import Any, Mapping

from engine.graph import (
    Suggestion,
    connected_exposure_ratio,
    diff_membership,
    group_credit_ratio,
    indirect_exposure,
    limit_usage,
    propose_groups,
)

from .graph_facts import circles, edge_dict, party
from .graph_load import GraphState
from .graph_settings import BankSettings


def _float(value: Any) -> float:
    return 0.0 if value is None else float(value)


def _proposals(state: GraphState) -> tuple[list, list[Suggestion]]:
    found = state.cache.get("proposals")
    if found is None:
        proposed = propose_groups(state.snapshot.equity)
        current: dict[str, list[str]] = {}
        for firm, group in state.snapshot.group_of.items():
            current.setdefault(group, []).append(firm)
        found = state.cache["proposals"] = (proposed, diff_membership(proposed, current))
    return found


def _suggestion(state: GraphState, s: Suggestion) -> dict:
    ev = s.evidence
    path = [ev.control[0].holder] + [e.firm for e in ev.control] if ev.control else list(ev.relation or ())
    return {"kind": s.kind, **party(state, s.firm), "reason": s.reason,
            "evidence": {"path": path, "control": [edge_dict(e) for e in ev.control],
                         "relation": list(ev.relation) if ev.relation else None, "text": ev.describe()}}


def membership(state: GraphState, code: str) -> dict:
    declared = state.members(code)
    proposed, suggestions = _proposals(state)
    mine = [s for s in suggestions if s.group == code and s.kind in ("join", "leave")]
    joins = {s.firm for s in mine if s.kind == "join"}
    leaves = {s.firm for s in mine if s.kind == "leave"}
    target = (set(declared) - leaves) | joins
    match = next((p for p in proposed if set(p.members) == target), None)
    return {"declared": declared, "proposed": sorted(target),
            "proposed_group": None if match is None else {"key": match.key, "controller": list(match.controller),
                                                          "size": len(match.members)},
            "suggestions": [_suggestion(state, s) for s in mine], "applied": False}


def exposure(state: GraphState, group: Mapping[str, Any], members: list[str], connected: list[str],
             settings: BankSettings) -> dict:
    balance = state.loan_balance
    credit = _float(group.get("total_credit_balance")) if group.get("total_credit_balance") is not None \
        else sum(balance.get(m, 0.0) for m in members)
    inside = set(members)
    outside = {f: v for f, v in balance.items() if f not in inside and v > 0}
    contingent_by_firm = indirect_exposure(state.snapshot.guarantees, outside)
    contingent = sum(contingent_by_firm.get(m, 0.0) for m in members)
    connected_credit = sum(balance.get(f, 0.0) for f in connected)
    unified = _float(group.get("unified_limit"))
    ratio = group_credit_ratio(credit, 0.0, settings.net_capital)
    conn_ratio = connected_exposure_ratio(connected_credit, settings.tier1_capital)
    return {
        "net_capital": settings.net_capital, "tier1_capital": settings.tier1_capital, "settings": settings.source,
        "group_credit": {"credit": credit, "deductions": 0.0,
                         "deductions_note": "no margin deposits, pledged CDs or government bonds are recorded",
                         "ratio": ratio, "limit": settings.group_credit_limit,
                         "over_limit": ratio > settings.group_credit_limit},
        "connected": {"firms": len(connected), "exposure": connected_credit, "ratio": conn_ratio,
                      "limit": settings.connected_exposure_limit,
                      "over_limit": conn_ratio > settings.connected_exposure_limit},
        "limit_usage": {"used": credit, "unified_limit": unified or None,
                        "ratio": limit_usage(credit, unified) if unified > 0 else None},
        "indirect": {"guaranteed_outside": contingent, "total": credit + contingent,
                     "ratio": group_credit_ratio(credit + contingent, 0.0, settings.net_capital)},
    }


def group_facts(state: GraphState, group: Mapping[str, Any], settings: BankSettings) -> dict:
    code = group["code"]
    members = membership(state, code)
    declared = set(members["declared"])
    touching = [c for c in circles(state) if declared.intersection(c["members"])]
    for c in touching:
        c["members_in_group"] = sum(1 for m in c["members"] if m in declared)
    connected = sorted(declared | set(members["proposed"]))
    return {
        "code": code, "name": group.get("name"), "parent_company": group.get("parent_company"),
        "actual_controller": group.get("actual_controller"),
        "members": members,
        "circles": touching,
        "cross_group_circles": [c for c in touching if c["spans_groups"]],
        "exposure": exposure(state, group, members["declared"], connected, settings),
    }
