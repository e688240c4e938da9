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

Org scope (runtime/graph_scope.py): the caller answers 404 for a group the asker may not read.
`access` says how the asker sees the group: `bank_wide`, `lead_branch` (the group is placed in
their scope, 主办行) or `serving_branch` (they serve one of its members, 协办行). Exposure
(whole-group totals and ratios) is given to the first two and is `null` for a serving branch.
Members, suggestions and circles name only the firms the asker may read; `others` counts the
rest; `cut` is true when anything was left out (hidden members, or the exposure withheld).
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
from runtime.graph.facts import all_circles, circle_dict, edge_dict, masked, party, split
from runtime.graph.load import GraphState
from runtime.graph.scope import BANK_WIDE, Sight
from runtime.graph.settings import BankSettings

OTHER = "(client of another branch)"        # a hidden firm's place in an evidence text


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


def _suggestion(state: GraphState, s: Suggestion, sight: Sight = BANK_WIDE) -> dict:
    ev = s.evidence
    path = [ev.control[0].holder] + [e.firm for e in ev.control] if ev.control else list(ev.relation or ())
    if sight.bank_wide:
        text = ev.describe()
    elif ev.control:
        text = " -> ".join(x or OTHER for x in masked(state, path, sight))
    elif ev.relation:
        a, b = (x or OTHER for x in masked(state, ev.relation, sight))
        text = f"declared relation {a} ~ {b}"
    else:
        text = ev.describe()
    return {"kind": s.kind, **party(state, s.firm, sight), "reason": s.reason,
            "evidence": {"path": masked(state, path, sight),
                         "control": [edge_dict(e, state, sight) for e in ev.control],
                         "relation": masked(state, ev.relation, sight) if ev.relation else None, "text": text}}


def _targets(state: GraphState, code: str) -> tuple[list[str], list[Suggestion], set[str], Any]:
    """(declared members, this group's join/leave suggestions, the members control proposes,
    the proposed group matching them)."""
    declared = state.members(code)
    proposed, suggestions = _proposals(state)
    mine = [s for s in suggestions if s.group == code and s.kind in ("join", "leave")]
    joins = {s.firm for s in mine if s.kind == "join"}
    leaves = {s.firm for s in mine if s.kind == "leave"}
    target = (set(declared) - leaves) | joins
    match = next((p for p in proposed if set(p.members) == target), None)
    return declared, mine, target, match


def membership(state: GraphState, code: str, sight: Sight = BANK_WIDE) -> dict:
    declared, mine, target, match = _targets(state, code)
    shown_declared, hidden_declared = split(state, declared, sight)
    shown_target, hidden_target = split(state, target, sight)
    shown = [s for s in mine if sight.shows(state, s.firm)]
    return {"declared": shown_declared, "proposed": shown_target,
            "proposed_group": None if match is None else {"key": sight.mask(state, match.key),
                                                          "controller": masked(state, match.controller, sight),
                                                          "size": len(match.members)},
            "suggestions": [_suggestion(state, s, sight) for s in shown], "applied": False,
            "others": {"declared": hidden_declared, "proposed": hidden_target, "suggestions": len(mine) - len(shown)}}


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


def group_facts(state: GraphState, group: Mapping[str, Any], settings: BankSettings,
                sight: Sight = BANK_WIDE, lead: bool = True) -> dict:
    """The group's facts as `sight` sees them; `lead`: the group is placed in the asker's scope
    (always true bank-wide), so its exposure is shown."""
    code = group["code"]
    members = membership(state, code, sight)
    declared = set(state.members(code))
    touching = []
    for found in all_circles(state):
        if declared.intersection(found) and (sight.bank_wide or any(sight.sees_firm(m) for m in found)):
            c = circle_dict(state, found, sight)
            c["members_in_group"] = sum(1 for m in found if m in declared)
            touching.append(c)
    connected = sorted(declared | _targets(state, code)[2])
    parent = group.get("parent_company")
    controller = group.get("actual_controller")
    others = members["others"]
    return {
        "code": code, "name": group.get("name"),
        "parent_company": parent if parent is None else sight.mask(state, parent),
        "actual_controller": controller if controller is None else sight.mask(state, controller),
        "access": "bank_wide" if sight.bank_wide else ("lead_branch" if lead else "serving_branch"),
        "cut": not lead or any(others.values()) or any(c["others"] for c in touching),
        "members": members,
        "circles": touching,
        "cross_group_circles": [c for c in touching if c["spans_groups"]],
        "exposure": exposure(state, group, sorted(declared), connected, settings) if lead else None,
    }
