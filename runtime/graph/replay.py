"""Replaying audit entries onto a cached graph state, instead of re-reading the bank.

Each entry holds the record before and after (a bulk create: every created record). A
guarantee becomes a local edit of the guarantee graph; company and group facts are patched
in the maps; equity changes mark the equity part stale. Replaying an entry the state already
reflects changes nothing (the state may have been read a little after its audit head), so
the replay is safe to overlap with the build.
"""
from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.graph.load import GRAPH_ENTITIES, GraphState, edge_of
from runtime.graph.rates import MONEY_ENTITIES, capital_row, loan_amount, rate_row, unified_amount
from runtime.storage.tables import audit_log

RECORD_ACTIONS = ("create", "update", "delete")


class _Rebuild(Exception):
    """Internal: the change cannot be applied locally; rebuild the whole state."""


def replay(conn: Connection, state: GraphState, limit: int) -> int | None:
    """Apply the graph-relevant audit entries after `state.seq`; the number of records applied,
    or None when a full rebuild is needed (a deploy, a changed key, more than `limit` records)."""
    a = audit_log.c
    q = (sa.select(a.seq, a.action, a.entity, a.before, a.after)
         .where(a.seq > state.seq, sa.or_(a.entity.in_(GRAPH_ENTITIES + MONEY_ENTITIES), a.entity.is_(None)))
         .order_by(a.seq).limit(limit + 1))
    entries = conn.execute(q).all()
    if len(entries) > limit:
        return None
    changes: list[tuple[str, dict | None, dict | None]] = []
    for e in entries:
        if e.action not in RECORD_ACTIONS or e.entity is None:
            return None
        before = json.loads(e.before) if e.before else None
        after = json.loads(e.after) if e.after else None
        if isinstance(after, list):        # a bulk batch: every created record
            changes.extend((e.entity, None, rec) for rec in after)
        else:
            changes.append((e.entity, before, after))
        if len(changes) > limit:
            return None
    try:
        for entity, old, new in changes:
            _APPLY[entity](state, old, new)
    except _Rebuild:
        return None
    if changes:
        state.cache.clear()
    return len(changes)


def _guarantee(state: GraphState, old: dict | None, new: dict | None) -> None:
    graph = state.snapshot.guarantees
    rid = (new or old)["id"]
    gone = state.edges.pop(rid, None)
    if gone is not None:
        pair = (gone.guarantor, gone.borrower)
        ids = state.by_pair.get(pair, set())
        ids.discard(rid)
        graph.remove_edge(*pair)
        rest = sum(state.edges[i].amount for i in ids)
        if rest > 0:
            graph.add_edge(*pair, rest)
        else:
            state.by_pair.pop(pair, None)
    edge = edge_of(new, state.company_code) if new is not None else None
    if edge is not None:
        state.edges[rid] = edge
        state.by_pair.setdefault((edge.guarantor, edge.borrower), set()).add(rid)
        graph.add_edge(edge.guarantor, edge.borrower, edge.amount)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _company(state: GraphState, old: dict | None, new: dict | None) -> None:
    snap = state.snapshot
    if new is None:
        code = state.company_code.pop(old["id"], None)
        for table in (snap.group_of, snap.net_assets, state.names):
            table.pop(code, None)
        return
    code = new["credit_code"]
    known = state.company_code.get(new["id"])
    if known is not None and known != code:
        raise _Rebuild                        # a corrected key: every edge names the firm by it
    state.company_code[new["id"]] = code
    state.names[code] = new.get("name") or code
    group = new.get("group")
    if group is None:
        snap.group_of.pop(code, None)
    elif group in state.group_code:
        snap.group_of[code] = state.group_code[group]
    else:
        raise _Rebuild
    assets = _number(new.get("net_assets"))
    if assets is None:
        snap.net_assets.pop(code, None)
    else:
        snap.net_assets[code] = assets


def _group(state: GraphState, old: dict | None, new: dict | None) -> None:
    if new is None:
        state.group_code.pop(old["id"], None)
        return
    known = state.group_code.get(new["id"])
    if known is not None and known != new["code"]:
        raise _Rebuild
    state.group_code[new["id"]] = new["code"]


def _equity(state: GraphState, old: dict | None, new: dict | None) -> None:
    state.equity_stale = True


def _person(state: GraphState, old: dict | None, new: dict | None) -> None:
    if old is not None and (new is None or new.get("person_no") != old.get("person_no")):
        state.equity_stale = True


def _loan(state: GraphState, old: dict | None, new: dict | None) -> None:
    rid = (new or old)["id"]
    state.loans.pop(rid, None)
    if new is None or state.loan_field is None:
        return
    if new.get("borrower") is not None and new["borrower"] not in state.company_code:
        raise _Rebuild
    found = loan_amount(new, state.loan_field, state.company_code)
    if found is not None:
        state.loans[rid] = found


def _facility(state: GraphState, old: dict | None, new: dict | None) -> None:
    rid = (new or old)["id"]
    state.unified.pop(rid, None)
    if new is None or state.facility_field is None:
        return
    if new.get("group") is not None and new["group"] not in state.group_code:
        raise _Rebuild
    found = unified_amount(new, state.facility_field, state.group_code)
    if found is not None:
        state.unified[rid] = found


def _fx_rate(state: GraphState, old: dict | None, new: dict | None) -> None:
    rid = (new or old)["id"]
    state.rates.pop(rid, None)
    found = rate_row(new) if new is not None else None
    if found is not None:
        state.rates[rid] = found


def _capital(state: GraphState, old: dict | None, new: dict | None) -> None:
    rid = (new or old)["id"]
    state.capital.pop(rid, None)
    found = capital_row(new) if new is not None else None
    if found is not None:
        state.capital[rid] = found


_APPLY = {"guarantee": _guarantee, "company": _company, "group": _group, "equity_holding": _equity,
          "person": _person, "loan": _loan, "facility": _facility, "fx_rate": _fx_rate, "bank_capital": _capital}
