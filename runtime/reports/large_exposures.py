"""The large-exposure report (大额风险暴露) within a reader's org scope, over the figures the
concentration functions read.

Set-based: the exposure book is made from the graph service's cached state under one read
(`report_book`: the loan balances, members, connected firms, rates and capital figures that
`connected_credit_ratio` reads, kept current from the audit log); besides it, one query for the
clients in scope, one for the groups in scope and one per 500 clients found large for their unused
committed sub-limits — never a query per company or per group.

Scope (runtime/auth/scope.py): part II lists the clients the reader may read; part III the groups
placed in the reader's scope (主办行: their lead branch is there), since a serving branch (协办行)
is not given a group's whole-group figures (runtime/graph/group.py); bank-wide roles see all.

The report date is the bank's today (`as_of`): balances as they stand, at the latest exchange
rates on or before it, against the latest `bank_capital` figure effective on or before it. None
is `NoCapitalFigure` (words: enter the quarter's figures in 本行资本 first).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from dsl.bank_time import bank_today
from engine.graph.concentration import ExposureBook, NoCapitalFigure
from engine.reports import LargeExposures, Party, large_exposures, with_potential
from runtime.auth.org import OrgTree
from runtime.auth.scope import Scope, placement_of
from runtime.graph.group import connected_firms
from runtime.graph.service import GraphService, graph_service
from runtime.records.service import Records

CLIENT, GROUP, FACILITY = "company", "group", "facility"


@dataclass(frozen=True)
class Report:
    """The computed report and what its title and notes say."""

    data: LargeExposures
    bank: str                          # the bank's name (the root of the org tree)
    scope_label: str | None            # the reader's units in words, None when bank-wide
    potential: bool                    # the model holds facilities (amount, used): the column is shown


def _key_field(live: Any, entity: str, default: str) -> str:
    ent = live.bundle.entities.get(entity)
    return getattr(ent, "key", None) or default


def _parties(records: Records, entity: str, scope: Scope | None, *, placed: bool) -> list[Party]:
    live = records.refresh()
    if entity not in live.bundle.entities:
        return []
    t = live.table(entity)
    key = _key_field(live, entity, "code")
    placement = placement_of(live)
    where = (placement.writable if placed else placement.readable)(live, entity, scope)
    name = t.c["name"] if "name" in t.c else t.c[key]
    with records.engine.connect() as conn:
        rows = conn.execute(sa.select(t.c[key], name).where(*where)).all()
    return [Party(str(k), str(n or k)) for k, n in rows if k is not None]


def holds_facilities(live: Any) -> bool:
    """The model keeps member sub-limits with an amount, what is used and a borrower."""
    ent = live.bundle.entities.get(FACILITY)
    if ent is None:
        return False
    return all(ent.field(n) is not None for n in ("amount", "used", "borrower", "level"))


def unused_limits(records: Records, firms: list[str]) -> dict[str, list[tuple[Decimal, str]]]:
    """Each firm's unused active member sub-limits (the model's own `available`, else amount − used,
    floor 0) as (amount, currency), in one query per 500 firms."""
    live = records.refresh()
    t, c = live.table(FACILITY), live.table(CLIENT)
    ent = live.bundle.entities[FACILITY]
    key = _key_field(live, CLIENT, "credit_code")
    has = set(t.c.keys())
    unused = t.c["available"] if "available" in has else sa.case((t.c.used < t.c.amount, t.c.amount - t.c.used),
                                                                   else_=0)
    amount_field = ent.field("amount")
    currency_field = getattr(amount_field, "currency_field", None)
    currency = t.c[currency_field] if currency_field in has else sa.literal(amount_field.currency or "CNY")
    conds = [t.c.level == "member_sub"]
    if "status" in has:
        conds.append(t.c.status == "active")
    out: dict[str, list[tuple[Decimal, str]]] = {}
    with records.engine.connect() as conn:
        for start in range(0, len(firms), 500):
            chunk = firms[start:start + 500]
            q = (sa.select(c.c[key], unused, currency).select_from(t.join(c, t.c.borrower == c.c.id))
                 .where(c.c[key].in_(chunk), *conds))
            for firm, value, cur in conn.execute(q):
                if value is not None and cur is not None:
                    out.setdefault(firm, []).append((Decimal(str(value)), cur))
    return out


def bank_name(live: Any, lang: str) -> str:
    tree = OrgTree(live.bundle)
    root = next((u for u in tree.units.values() if u.parent is None), None)
    return (root.label.text(lang) or root.name) if root is not None else ""


def _scope_label(live: Any, scope: Scope | None, lang: str) -> str | None:
    if scope is None or scope.units is None:
        return None
    tree = OrgTree(live.bundle)
    tops = sorted(u for u in scope.units if tree.units.get(u) is None or tree.units[u].parent not in scope.units)
    return "、".join(tree.label(u, lang) for u in tops) if lang == "zh" else ", ".join(tree.label(u, lang) for u in tops)


def report_book(service: GraphService, groups: list[str], group_key: str, day: date) -> ExposureBook:
    """The exposure book `connected_credit_ratio` reads (runtime/graph/context.py `exposure_book`:
    the same balances, rates, capital figures, members and connected firms), with the members and
    connected firms of `groups` worked out at once under one read of the graph — not one read (and
    one check of the audit head) per group, as a rule evaluating one group at a time does."""
    with service.reading() as state:
        members: dict[str, list[str]] = {}
        for firm, group in state.snapshot.group_of.items():
            members.setdefault(group, []).append(firm)
        wanted = set(groups)
        members = {g: sorted(firms) for g, firms in members.items() if g in wanted}
        connected = {g: connected_firms(state, g) for g in sorted(wanted)}
        return ExposureBook(balances=state.balances(), members=members, connected=connected,
                            rates=state.rate_table(), capital=state.capital_table(), as_of=day, group_key=group_key)


def large_exposure_report(records: Records, scope: Scope | None, *, lang: str = "zh",
                          as_of: date | None = None) -> Report:
    """The report for a reader with `scope` (None: the operator, bank-wide)."""
    live = records.refresh()
    day = as_of or bank_today()
    clients = _parties(records, CLIENT, scope, placed=False)
    groups = _parties(records, GROUP, scope, placed=True)
    service = graph_service(records.engine, records)
    book = report_book(service, [g.key for g in groups], _key_field(live, GROUP, "code"), day)
    if book.capital.on(day) is None:
        raise NoCapitalFigure(day)
    data = large_exposures(book, clients=clients, groups=groups, as_of=day)
    potential = holds_facilities(live)
    if potential:           # the sub-limits of the clients listed, and theirs alone
        data = with_potential(data, book, unused_limits(records, [r.key for r in data.clients]))
    return Report(data, bank_name(live, lang), _scope_label(live, scope, lang), potential)
