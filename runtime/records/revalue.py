"""Stored CNY totals follow the exchange rates: the change feed's subscriber `revalue`.

A computed field that converts money (`sum(loans, l -> to_cny(l.balance, l.currency))`) is stored,
converted at the latest rate on or before the day it was computed. When `fx_rate` records change,
`on_changes` recomputes, in the feed's transaction, the records whose stored computed fields call
`to_cny` and that hold amounts in a changed currency — a company with USD loans after a USD rate —
and their parents up the collections (computed.propagate: the group's `total_credit_balance`).
Which records those are is read from the data model, per entity with such a field:
  - a collection the field reads whose records keep their currency in a field
    (`currency: {field: currency}` on a money field): the parents of the records in that currency;
  - the entity's own currency field: its records in that currency;
  - anything deeper (`flatten(members.loans)`): every record of the entity (rare; still batched).
A rate dated after today (the bank's day, dsl/bank_time) changes nothing yet: it is due work
(`fx-revalue`, runtime/jobs/leases) at the start of its date on the bank's clock, which runs the
same recompute then.

Idempotent: a record is written only when a computed value moves, so a batch handed on again, or
a rate entered twice, changes nothing more. Bounded: the changes of one feed batch are folded into
one pass per currency, records are recomputed `CHUNK` at a time with a fresh loader (its caches
stay small), and one transaction recomputes at most `BUDGET` of them: the rest goes on as due work
(`fx-revalue`, due at once, keyed by where it stopped), one transaction after another.
Not strict: a rate deleted since leaves the figure null (see the field's help)
rather than stalling the feed. Registered when imported; `banyan serve` and `banyan worker` import it.
"""
from __future__ import annotations

import logging
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dsl.bank_time import bank_day_starts, bank_today
from runtime.deploy.live import LiveModel
from runtime.jobs import feed, leases
from runtime.jobs.changes import Change
from runtime.jobs.tables import db_now
from runtime.records.computed import propagate, recompute
from runtime.records.context import Loader
from runtime.records.service import Records

log = logging.getLogger("banyan.records.revalue")
SUBSCRIBER = "revalue"
DUE_KIND = "fx-revalue"
RATES = "fx_rate"
CONVERT = "to_cny"
ACTOR = "system"
CHUNK = 500
BUDGET = 5000               # candidates recomputed in one transaction; the rest goes on as due work
REPORTING = "CNY"


@dataclass(frozen=True)
class Holder:
    """Where records of `entity` hold converted amounts: its own currency fields, the collections
    (collection entity, via field, its currency fields) read by a converting field, and whether a
    deeper read makes every record a candidate."""
    entity: str
    own: tuple[str, ...]
    children: tuple[tuple[str, str, tuple[str, ...]], ...]
    every: bool


def _calls_convert(expr: Any) -> bool:
    checked = getattr(expr, "checked", None)
    if checked is not None:
        return any(call.name == CONVERT for call in checked.calls)
    return f"{CONVERT}(" in expr.text


def _currency_fields(ent: Any) -> tuple[str, ...]:
    return tuple(sorted({f.currency_field for f in ent.fields
                         if f.type_name == "money" and getattr(f, "currency_field", None)}))


def holders(live: LiveModel) -> tuple[Holder, ...]:
    """The entities with a stored computed field that calls `to_cny`, and where their amounts are."""
    return live.cache(("revalue holders",), _holders, live.bundle)


def _holders(bundle: Any) -> tuple[Holder, ...]:
    out = []
    for name, ent in bundle.entities.items():
        converting = [f for f in ent.fields if f.compute is not None and _calls_convert(f.compute)]
        if not converting:
            continue
        own_currency = set(_currency_fields(ent))
        collections = {c.name: c for c in ent.collections}
        refs = {f.name for f in ent.fields if f.type_name == "ref"}
        own: set[str] = set()
        children: dict[str, tuple[str, str, tuple[str, ...]]] = {}
        every = False
        for f in converting:
            for path in f.compute.paths:
                root = path[0]
                if root in own_currency:
                    own.add(root)
                elif root in collections:
                    c = collections[root]
                    child = bundle.entities.get(c.entity)
                    fields = _currency_fields(child) if child is not None else ()
                    deeper = len(path) > 2 or (child is not None and len(path) == 2
                                               and path[1] in {x.name for x in child.collections})
                    if fields and not deeper:
                        children[root] = (c.entity, c.via, fields)
                    else:
                        every = True
                elif root in refs:
                    every = True
        if own or children or every:
            out.append(Holder(name, tuple(sorted(own)), tuple(children.values()), every))
    return tuple(out)


def _in(column: Any, currencies: frozenset[str] | None) -> Any:
    return column.in_(sorted(currencies)) if currencies is not None else sa.and_(column.is_not(None),
                                                                                 column != REPORTING)


def candidates(conn: Connection, live: LiveModel, holder: Holder, currencies: frozenset[str] | None) -> list[int]:
    """Ids of `holder.entity` records holding amounts in `currencies` (None: any but CNY)."""
    t = live.table(holder.entity)
    if holder.every:
        return list(conn.execute(sa.select(t.c.id).order_by(t.c.id)).scalars())
    ids: set[int] = set()
    if holder.own:
        ids.update(conn.execute(sa.select(t.c.id).where(sa.or_(*(_in(t.c[n], currencies) for n in holder.own))))
                   .scalars())
    for entity, via, fields in holder.children:
        c = live.table(entity)
        q = sa.select(c.c[via]).where(c.c[via].is_not(None), sa.or_(*(_in(c.c[n], currencies) for n in fields)))
        ids.update(conn.execute(q.distinct()).scalars())
    return sorted(ids)


def revalue(conn: Connection, records: Records, currencies: Iterable[str] | None, actor: str = ACTOR, *,
            start: tuple[int, int] = (0, 0), budget: int | None = None) -> tuple[int, tuple[int, int] | None]:
    """Recompute the stored converting fields of the records holding amounts in `currencies` (None:
    every foreign currency), and their parents. Returns (how many records changed, where to go on):
    with a `budget`, at most that many candidates are recomputed and the rest is left for later —
    `(holder index, last id done)` to pass back as `start` — else None when all is done."""
    live = records.live
    wanted = None if currencies is None else frozenset(currencies) - {REPORTING}
    if wanted is not None and not wanted:
        return 0, None
    changed, left = 0, budget
    every = holders(live)
    for index in range(start[0], len(every)):
        holder = every[index]
        if live.read_only(holder.entity) is not None:
            continue
        rules = records.rules(holder.entity)
        after = start[1] if index == start[0] else 0
        ids = [i for i in candidates(conn, live, holder, wanted) if i > after]
        for begin in range(0, len(ids), CHUNK):
            if left is not None and left <= 0:
                return changed, (index, ids[begin - 1] if begin else after)
            chunk = ids[begin:begin + CHUNK] if left is None else ids[begin:begin + min(CHUNK, left)]
            loader = Loader(conn, live)
            moved = recompute(conn, loader, holder.entity, chunk, rules, actor, strict=False)
            changed += len(moved) + propagate(conn, loader, holder.entity, moved, records.rules, actor, strict=False)
            if left is not None:
                left -= len(chunk)
                if left <= 0 and begin + len(chunk) < len(ids):
                    return changed, (index, chunk[-1])
    return changed, None


def _go_on(conn: Connection, currencies: Iterable[str] | None, resume: tuple[int, int] | None) -> None:
    """Leave the rest of a revaluation to due work, now, in the next transaction."""
    if resume is None:
        return
    wanted = None if currencies is None else sorted(currencies)
    key = f"{'+'.join(wanted) if wanted else 'all'}-from-{resume[0]}-{resume[1]}"
    leases.schedule(conn, DUE_KIND, key[:200], db_now(), {"currencies": wanted, "holder": resume[0], "after": resume[1]})


# -- the feed subscriber and the due work ------------------------------------------------------
_RECORDS: "weakref.WeakKeyDictionary[Engine, Records]" = weakref.WeakKeyDictionary()


def _records(engine: Engine) -> Records:
    found = _RECORDS.get(engine)
    if found is None:
        found = _RECORDS[engine] = Records(engine)
    found.refresh()
    return found


def _rate(conn: Connection, live: LiveModel, id_: int) -> tuple[str | None, date | None] | None:
    t = live.table(RATES)
    row = conn.execute(sa.select(t.c.currency, t.c.rate_date).where(t.c.id == id_)).first()
    return None if row is None else (row[0], row[1])


def on_changes(conn: Connection, changes: Sequence[Change]) -> int:
    """The feed handler: revalue after a batch of `fx_rate` changes; returns how many records changed."""
    records = _records(conn.engine)
    live = records.live
    if RATES not in live.model:
        return 0
    today = bank_today()
    currencies: set[str] | None = set()
    for change in changes:
        if change.entity != RATES:
            continue
        found = None if change.op == "delete" else _rate(conn, live, change.record_id)
        moved_currency = change.op == "update" and "currency" in (change.fields or ())
        if found is None or found[0] is None or moved_currency:
            currencies = None           # the currency it had is not known here: every foreign one
            continue
        currency, on = found
        if on is not None and on > today:   # effective on its date: revalue then
            leases.schedule(conn, DUE_KIND, f"{currency}-{on.isoformat()}", bank_day_starts(on),
                            {"currency": currency})
        elif currencies is not None:
            currencies.add(currency)
    if currencies is not None and not currencies:
        return 0
    changed, resume = revalue(conn, records, currencies, budget=BUDGET)
    _go_on(conn, currencies, resume)
    if changed:
        log.info("revalued %s record(s) after exchange-rate changes (%s)", changed,
                 ", ".join(sorted(currencies)) if currencies is not None else "every currency")
    return changed


def on_due(conn: Connection, item: leases.DueItem) -> int:
    """A rate's date has come (revalue the amounts in its currency), or a revaluation goes on where
    the last transaction left it."""
    payload = item.payload
    if "currencies" in payload:
        currencies = payload["currencies"]
        start = (int(payload.get("holder") or 0), int(payload.get("after") or 0))
    else:
        currency = payload.get("currency")
        currencies, start = (None if not currency else [currency]), (0, 0)
    changed, resume = revalue(conn, _records(conn.engine), currencies, start=start, budget=BUDGET)
    _go_on(conn, currencies, resume)
    return changed


feed.subscribe(SUBSCRIBER, on_changes, entities=[RATES], batch=50)
leases.handle(DUE_KIND, on_due)
