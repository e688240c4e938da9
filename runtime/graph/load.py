"""Reading the relationship graph's rows from the database: one query per entity, no records
service in between (the graph needs every edge, not a page of records).

The shipped data model (configs/entities): `company` (key `credit_code`, `group`, computed
`net_assets` and `loan_balance`), `group` (key `code`), `person` (key `person_no`),
`equity_holding` (holder company or person → investee, share, control agreement) and
`guarantee` (guarantor → borrower, amount, status); for the exposure, when the bundle has them,
`loan` balances, active group unified limits (`facility`) and exchange rates (`fx_rate`), each
amount in its own currency (runtime/graph/rates.py). References are stored as surrogate ids;
the maps here turn them into keys, and are kept for replaying audit entries later.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.fx import RateTable
from engine.graph import Capital, CapitalTable, GraphSnapshot
from engine.graph_from_records import ACTIVE, snapshot_from_records
from runtime.deploy.live import LiveModel
from runtime.graph.rates import Amount, MoneyField, read_capital, read_loans, read_rates, read_unified_limits
from runtime.records.errors import RecordError

GRAPH_ENTITIES = ("company", "group", "person", "equity_holding", "guarantee")


class GraphUnavailable(RecordError):
    status, code, key = 409, "graph_unavailable", "graph.unavailable"


@dataclass
class Edge:
    guarantor: str
    borrower: str
    amount: float


@dataclass
class GraphState:
    """The snapshot plus what keeps it current: id → key maps and the live guarantee edges."""

    snapshot: GraphSnapshot
    version: int                                   # the deployment it was read under
    seq: int                                       # the last audit entry it reflects
    company_code: dict[int, str] = field(default_factory=dict)
    group_code: dict[int, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)           # firm key → name (the firms the graph knows)
    person_names: dict[str, str] = field(default_factory=dict)    # person key → name (for pictures)
    loans: dict[int, Amount] = field(default_factory=dict)         # loan id → borrower, currency, balance
    unified: dict[int, Amount] = field(default_factory=dict)       # facility id → group, currency, amount
    rates: dict[int, tuple[str, date, Decimal]] = field(default_factory=dict)   # fx_rate id → row
    capital: dict[int, Capital] = field(default_factory=dict)     # bank_capital id → figure
    loan_field: MoneyField | None = None                           # where a loan keeps balance and currency
    facility_field: MoneyField | None = None
    edges: dict[int, Edge] = field(default_factory=dict)          # guarantee id → active edge
    by_pair: dict[tuple[str, str], set[int]] = field(default_factory=dict)   # (guarantor, borrower) → ids
    equity_stale: bool = False
    built_seconds: float = 0.0
    cache: dict[str, Any] = field(default_factory=dict)          # derived results; cleared on change

    def members(self, group: str) -> list[str]:
        return sorted(f for f, g in self.snapshot.group_of.items() if g == group)

    def rate_table(self) -> RateTable:
        found = self.cache.get("rate_table")
        if found is None:
            found = self.cache["rate_table"] = RateTable(self.rates.values())
        return found

    def capital_table(self) -> CapitalTable:
        """The bank's capital figures by effective date (cached with the state)."""
        found = self.cache.get("capital_table")
        if found is None:
            found = self.cache["capital_table"] = CapitalTable(self.capital.values())
        return found

    def balances(self) -> dict[str, dict[str, Decimal]]:
        """Loan balances per firm and currency, in their own currencies (cached with the state)."""
        found = self.cache.get("balances")
        if found is None:
            found = {}
            for a in self.loans.values():
                mine = found.setdefault(a.owner, {})
                mine[a.currency] = mine.get(a.currency, Decimal(0)) + a.value
            self.cache["balances"] = found
        return found


def check_model(live: LiveModel) -> None:
    missing = [e for e in GRAPH_ENTITIES if e not in live.bundle.entities]
    if missing:
        raise GraphUnavailable(f"the deployed bundle lacks {', '.join(missing)}; the relationship graph reads "
                               "the shipped data model (deploy configs/)")


def _float(value: Any) -> float:
    return 0.0 if value is None else float(value)


def edge_of(row: Mapping[str, Any], company_code: Mapping[int, str]) -> Edge | None:
    """The guarantee edge a row stands for: active, both firms known, a positive amount."""
    if row.get("status") not in ACTIVE:
        return None
    g, b = company_code.get(row.get("guarantor")), company_code.get(row.get("borrower"))
    amount = _float(row.get("amount"))
    if g is None or b is None or g == b or not amount > 0:
        return None
    return Edge(g, b, amount)


def read_companies(conn: Connection, live: LiveModel, state: GraphState) -> list[dict]:
    c, g = live.table("company"), live.table("group")
    state.group_code = dict(conn.execute(sa.select(g.c.id, g.c.code)).all())
    rows = conn.execute(sa.select(c.c.id, c.c.credit_code, c.c.name, c.c.group, c.c.net_assets)).all()
    out = []
    for r in rows:
        state.company_code[r.id] = r.credit_code
        state.names[r.credit_code] = r.name
        out.append({"credit_code": r.credit_code, "group": state.group_code.get(r.group)})
        if r.net_assets is not None:
            state.snapshot.net_assets[r.credit_code] = float(r.net_assets)
    return out


def read_holdings(conn: Connection, live: LiveModel, state: GraphState) -> list[dict]:
    h, p = live.table("equity_holding"), live.table("person")
    q = (sa.select(h.c.holder_company, p.c.person_no, p.c.name, h.c.investee, h.c.share, h.c.control_agreement)
         .select_from(h.outerjoin(p, h.c.holder_person == p.c.id)))
    out = []
    for r in conn.execute(q):
        if r.person_no is not None and r.name:
            state.person_names[r.person_no] = r.name
        out.append({"holder_company": state.company_code.get(r.holder_company), "holder_person": r.person_no,
                    "investee": state.company_code.get(r.investee), "share": r.share,
                    "control_agreement": r.control_agreement})
    return out


def read_guarantees(conn: Connection, live: LiveModel, state: GraphState) -> list[dict]:
    t = live.table("guarantee")
    out = []
    for r in conn.execute(sa.select(t.c.id, t.c.guarantor, t.c.borrower, t.c.amount, t.c.status)).mappings():
        edge = edge_of(r, state.company_code)
        if edge is not None:
            state.edges[r["id"]] = edge
            state.by_pair.setdefault((edge.guarantor, edge.borrower), set()).add(r["id"])
            out.append({"guarantor": edge.guarantor, "borrower": edge.borrower, "amount": edge.amount,
                        "status": "active"})
    return out


def build_state(conn: Connection, live: LiveModel, seq: int) -> GraphState:
    """Every graph row read once, in one transaction, into a fresh state at audit entry `seq`."""
    check_model(live)
    state = GraphState(GraphSnapshot(), live.version, seq)
    companies = read_companies(conn, live, state)
    net_assets = state.snapshot.net_assets
    holdings = read_holdings(conn, live, state)
    guarantees = read_guarantees(conn, live, state)
    state.loan_field, state.loans = read_loans(conn, live, state.company_code)
    state.facility_field, state.unified = read_unified_limits(conn, live, state.group_code)
    state.rates = read_rates(conn, live)
    state.capital = read_capital(conn, live)
    try:
        snapshot = snapshot_from_records({"company": companies, "equity_holding": holdings, "guarantee": guarantees})
    except ValueError as exc:   # the engine refuses data it cannot compute on (e.g. 100% mutual holdings)
        raise GraphUnavailable(f"the relationship graph cannot be built from the stored records: {exc}") from exc
    snapshot.net_assets = net_assets
    state.snapshot = snapshot
    return state


def rebuild_equity(conn: Connection, live: LiveModel, state: GraphState) -> None:
    """Re-read the equity holdings alone and replace the snapshot's equity graph."""
    records = {"equity_holding": read_holdings(conn, live, state)}
    try:
        fresh = snapshot_from_records(records)
    except ValueError as exc:
        raise GraphUnavailable(f"the equity graph cannot be built from the stored holdings: {exc}") from exc
    state.snapshot.equity = fresh.equity
    state.equity_stale = False
