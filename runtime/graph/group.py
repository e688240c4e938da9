"""A group's graph facts: declared members against the members control proposes (reviewable
suggestions with their evidence, never applied), the guarantee circles touching the group,
and its exposure ratios against the bank's capital: the `bank_capital` figure effective on or before
the as-of date (`exposure.capital` says which); only without one, the deprecated `[bank]` figures of
banyan.toml (`settings.py`), said in `exposure.capital.note` and logged as a warning.

Exposure, as the figures the data model holds allow, every amount converted to CNY at the latest
rate on or before the as-of date (`exposure.currency` says at which rates; an amount without a rate
makes its figure null and is a problem there, never summed in as yuan):
* group credit = the members' loan balances, net of
  deductions — the data model records no margin deposits, pledged CDs or government bonds,
  so the deduction is 0 and says so — ÷ net capital (limit 15%);
* connected exposure = loan balances of the declared members and the firms control links to
  them ÷ tier-1 capital (limit 20%);
* used ÷ unified limit (its active group unified limits; null when it has none);
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

import logging
from datetime import date
from typing import Any, Mapping

from dsl.bank_time import bank_today
from dsl.errors import lang_of, words
from engine.fx import MissingRate
from engine.graph import (
    GroupMoney,
    Suggestion,
    connected_exposure_ratio,
    diff_membership,
    group_credit_ratio,
    group_money,
    limit_usage,
    propose_groups,
)
from runtime.graph.facts import all_circles, circle_dict, edge_dict, masked, party, split
from runtime.graph.load import GraphState
from runtime.graph.scope import BANK_WIDE, Sight
from runtime.graph.settings import BankSettings

OTHER = "(client of another branch)"        # a hidden firm's place in an evidence text
log = logging.getLogger(__name__)


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


def connected_firms(state: GraphState, code: str) -> list[str]:
    """The group's connected clients: its declared members and the firms control links to them."""
    return sorted(set(state.members(code)) | _targets(state, code)[2])


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


def _ratio(fn, amount: float | None, base: float) -> float | None:
    return None if amount is None else fn(amount, base)


def _over(ratio: float | None, limit: float) -> bool | None:
    return None if ratio is None else ratio > limit


def _add(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b


def currency_facts(money: GroupMoney, lang: str = "en") -> dict:
    """How the amounts were converted, in `lang`: the rates used, a sentence saying so (`note`),
    and a problem per figure and currency that had no rate (that figure is null, never a partial
    sum) — `type` and `key` stable, `message` in `lang`."""
    lang, day = lang_of(lang, "en"), money.as_of.isoformat()
    rates = [{"currency": c, "rate": float(r.value), "date": r.on.isoformat()} for c, r in money.rates.items()]
    older = [words("graph.fx_rate_of", lang, currency=c, date=r.on.isoformat())
             for c, r in money.rates.items() if r.on != money.as_of]
    reporting = "人民币" if lang == "zh" and money.reporting == "CNY" else money.reporting
    if money.rates or money.shortfalls:
        note = words("graph.fx_note", lang, reporting=reporting, date=day,
                     older=words("graph.fx_older", lang, rates="、".join(older) if lang == "zh" else ", ".join(older))
                     if older else "")
    else:
        note = words("graph.fx_all_reporting", lang, reporting=reporting)
    problems = []
    for s in money.shortfalls:
        error = MissingRate(s.currency, money.as_of, money.reporting)
        problems.append({"type": error.code, "key": error.message_key, "figure": s.figure, "currency": s.currency,
                         "as_of": day, "amount": float(s.amount), "count": s.count, "message": error.render(lang)})
    return {"reporting": money.reporting, "as_of": day, "rates": rates, "note": note,
            "complete": money.complete, "problems": problems}


def exposure(state: GraphState, group: Mapping[str, Any], members: list[str], connected: list[str],
             settings: BankSettings, as_of: date | None = None, lang: str = "en") -> dict:
    """The group's exposure, every amount converted to CNY as of `as_of` (default today); the
    currency note and problems in `lang`."""
    code = group["code"]
    day = as_of or bank_today()
    capital, capital_facts = _capital(state, settings, day, lang)
    money = group_money(balances=state.balances(), members=members, connected=connected,
                        unified_limits=[(a.value, a.currency) for a in state.unified.values() if a.owner == code],
                        guarantees=state.snapshot.guarantees, rates=state.rate_table(),
                        as_of=day)
    credit, unified = money.credit, money.unified_limit
    net_capital, tier1_capital = capital
    ratio = None if credit is None else group_credit_ratio(credit, 0.0, net_capital)
    conn_ratio = _ratio(connected_exposure_ratio, money.connected, tier1_capital)
    total = _add(credit, money.guaranteed_outside)
    usage = None if credit is None or unified is None or not unified > 0 else limit_usage(credit, unified)
    return {
        "net_capital": net_capital, "tier1_capital": tier1_capital, "settings": capital_facts["source"],
        "capital": capital_facts,
        "currency": currency_facts(money, lang),
        "group_credit": {"credit": credit, "deductions": 0.0,
                         "deductions_note": "no margin deposits, pledged CDs or government bonds are recorded",
                         "ratio": ratio, "limit": settings.group_credit_limit,
                         "over_limit": _over(ratio, settings.group_credit_limit)},
        "connected": {"firms": len(connected), "exposure": money.connected, "ratio": conn_ratio,
                      "limit": settings.connected_exposure_limit,
                      "over_limit": _over(conn_ratio, settings.connected_exposure_limit)},
        "limit_usage": {"used": credit, "unified_limit": None if unified is None else (unified or None),
                        "ratio": usage},
        "indirect": {"guaranteed_outside": money.guaranteed_outside, "total": total,
                     "ratio": None if total is None else group_credit_ratio(total, 0.0, net_capital)},
    }


def _capital(state: GraphState, settings: BankSettings, day: date, lang: str) -> tuple[tuple[float, float], dict]:
    """(net capital, tier-1 capital) of `day` and what people read of them: the `bank_capital`
    record effective then, else — deprecated — the figures of `settings` (banyan.toml `[bank]`)."""
    lang = lang_of(lang, "en")
    found = state.capital_table().on(day)
    if found is not None:
        note = words("graph.capital_of", lang, period=found.key or "—", date=found.effective_on.isoformat())
        return (float(found.net_capital), float(found.tier1_capital)), {
            "source": f"bank_capital {found.key}", "period": found.key,
            "effective_on": found.effective_on.isoformat(), "deprecated": False, "note": note}
    log.warning("no bank_capital record is effective on or before %s: the exposure uses %s (deprecated; "
                "enter the figures as bank_capital records)", day.isoformat(), settings.source)
    note = words("graph.capital_deprecated", lang, date=day.isoformat(), source=settings.source)
    return (settings.net_capital, settings.tier1_capital), {
        "source": settings.source, "period": None, "effective_on": None, "deprecated": True, "note": note}


def group_facts(state: GraphState, group: Mapping[str, Any], settings: BankSettings,
                sight: Sight = BANK_WIDE, lead: bool = True, as_of: date | None = None, lang: str = "en") -> dict:
    """The group's facts as `sight` sees them; `lead`: the group is placed in the asker's scope
    (always true bank-wide), so its exposure is shown, converted to CNY as of `as_of` (default today).
    What people read of the conversion (`exposure.currency` note and problems) is in `lang`."""
    code = group["code"]
    members = membership(state, code, sight)
    declared = set(state.members(code))
    touching = []
    for found in all_circles(state):
        if declared.intersection(found) and (sight.bank_wide or any(sight.sees_firm(m) for m in found)):
            c = circle_dict(state, found, sight)
            c["members_in_group"] = sum(1 for m in found if m in declared)
            touching.append(c)
    connected = connected_firms(state, code)
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
        "exposure": exposure(state, group, sorted(declared), connected, settings, as_of, lang) if lead else None,
    }
