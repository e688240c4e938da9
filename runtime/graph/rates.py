"""The money the graph's exposure adds up, read with its currency, and the bank's exchange rates.

Amounts stay in their own currency here: a loan's balance (`loan.balance`), a group unified limit
(`facility.amount`, active `group_unified` ones) and the rates (`fx_rate`: currency, rate to CNY,
rate date). Which field holds a record's currency is the data model's to say
(`currency: {field: currency}` on the money field, `EntityField.currency_field`), else the field's
fixed currency (CNY by default). Conversion happens when a figure is asked for, as of its date
(engine/fx.py), so a new rate changes the figures at once. The readers here serve both the full
read (load.py) and the replay of audit entries (replay.py).

The bank's capital (`bank_capital`: period, effective date, net capital, tier-1 capital, in CNY) is
read the same way: the concentration ratios divide by the figure effective on the day asked about
(engine/graph/concentration.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.fx import REPORTING
from engine.graph.concentration import Capital
from runtime.deploy.live import LiveModel

MONEY_ENTITIES = ("loan", "facility", "fx_rate", "bank_capital")       # read when the bundle has them
CAPITAL = "bank_capital"


@dataclass(frozen=True)
class MoneyField:
    """Where an entity keeps an amount and its currency."""

    amount: str
    currency_field: str | None
    fixed: str

    def currency_of(self, record: Mapping[str, Any]) -> str | None:
        return record.get(self.currency_field) if self.currency_field else self.fixed


@dataclass(frozen=True)
class Amount:
    owner: str          # the firm (a loan's borrower) or the group (a unified limit) it counts for
    currency: str
    value: Decimal


def money_field(live: LiveModel, entity: str, name: str) -> MoneyField | None:
    ent = live.bundle.entities.get(entity)
    f = ent.field(name) if ent is not None else None
    if f is None or f.type_name != "money":
        return None
    currency_field = getattr(f, "currency_field", None)
    if currency_field is not None and ent.field(currency_field) is None:
        currency_field = None
    return MoneyField(name, currency_field, f.currency or REPORTING)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else (value if isinstance(value, Decimal) else Decimal(str(value)))


def loan_amount(row: Mapping[str, Any], field: MoneyField, company_code: Mapping[int, str]) -> Amount | None:
    """A loan's balance for its borrower; None for a loan without a known borrower, balance or currency."""
    firm, value, currency = company_code.get(row.get("borrower")), _decimal(row.get(field.amount)), field.currency_of(row)
    if firm is None or value is None or currency is None:
        return None
    return Amount(firm, currency, value)


def unified_amount(row: Mapping[str, Any], field: MoneyField, group_code: Mapping[int, str]) -> Amount | None:
    """An active group unified limit for its group; None for any other facility."""
    if row.get("level") != "group_unified" or row.get("status") not in ("active", None):
        return None
    group, value, currency = group_code.get(row.get("group")), _decimal(row.get(field.amount)), field.currency_of(row)
    if group is None or value is None or currency is None:
        return None
    return Amount(group, currency, value)


def rate_row(row: Mapping[str, Any]) -> tuple[str, date, Decimal] | None:
    currency, on, rate = row.get("currency"), row.get("rate_date"), _decimal(row.get("rate"))
    if isinstance(on, str):
        on = date.fromisoformat(on[:10])
    if not currency or not isinstance(on, date) or rate is None or not rate > 0:
        return None
    return currency, on, rate


def capital_row(row: Mapping[str, Any]) -> Capital | None:
    """A `bank_capital` record as an engine figure; None when a figure is missing or not positive."""
    on, net, tier1 = row.get("effective_on"), _decimal(row.get("net_capital")), _decimal(row.get("tier1_capital"))
    if isinstance(on, str):
        on = date.fromisoformat(on[:10])
    if not isinstance(on, date) or net is None or tier1 is None or not net > 0 or not tier1 > 0:
        return None
    return Capital(on, net, tier1, row.get("period"))


def read_capital(conn: Connection, live: LiveModel) -> dict[int, Capital]:
    """Every usable capital figure by record id ({} when the bundle has no `bank_capital`): one query."""
    if CAPITAL not in live.bundle.entities:
        return {}
    t = live.table(CAPITAL)
    out = {}
    for r in conn.execute(sa.select(*_columns(t, "id", "period", "effective_on", "net_capital",
                                               "tier1_capital"))).mappings():
        found = capital_row(r)
        if found is not None:
            out[r["id"]] = found
    return out


def _columns(table: sa.Table, *names: str | None) -> list:
    return [table.c[n] for n in dict.fromkeys(n for n in names if n)]


def read_rates(conn: Connection, live: LiveModel) -> dict[int, tuple[str, date, Decimal]]:
    """Every usable exchange rate by record id ({} when the bundle has no `fx_rate`)."""
    if "fx_rate" not in live.bundle.entities:
        return {}
    t = live.table("fx_rate")
    out = {}
    for r in conn.execute(sa.select(t.c.id, t.c.currency, t.c.rate, t.c.rate_date)).mappings():
        found = rate_row(r)
        if found is not None:
            out[r["id"]] = found
    return out


def read_loans(conn: Connection, live: LiveModel, company_code: Mapping[int, str]
               ) -> tuple[MoneyField | None, dict[int, Amount]]:
    field = money_field(live, "loan", "balance")
    if field is None:
        return None, {}
    t = live.table("loan")
    out = {}
    for r in conn.execute(sa.select(*_columns(t, "id", "borrower", field.amount, field.currency_field))).mappings():
        found = loan_amount(r, field, company_code)
        if found is not None:
            out[r["id"]] = found
    return field, out


def read_unified_limits(conn: Connection, live: LiveModel, group_code: Mapping[int, str]
                        ) -> tuple[MoneyField | None, dict[int, Amount]]:
    field = money_field(live, "facility", "amount")
    ent = live.bundle.entities.get("facility")
    if field is None or ent is None or any(ent.field(n) is None for n in ("level", "group", "status")):
        return None, {}
    t = live.table("facility")
    out = {}
    q = sa.select(*_columns(t, "id", "level", "group", "status", field.amount, field.currency_field))
    for r in conn.execute(q).mappings():
        found = unified_amount(r, field, group_code)
        if found is not None:
            out[r["id"]] = found
    return field, out
