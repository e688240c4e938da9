"""`$graph` in the evaluation context: what `in_guarantee_circle(credit_code)`, `circle_size`,
`mutual_guarantee`, `controller` and `effective_share` read (engine/functions.py).

`provide` is declared under the `banyan.context` entry point (pyproject.toml), which the records
room's expression context consults (records/context.py) — the records room never imports this
one. The graph itself is loaded only when an expression asks for it, once per operation, from
this process's cached graph service. A stored computed field that reads the graph is as of its
record's last write; rules evaluated at read time (alerts, checks) see the current graph.

`$fx` (`provide_fx`, the `fx` entry point) is the bank's exchange-rate table (`fx_rate` records) as an
`engine.fx.RateTable` as of today (the date `to_cny(amount, currency)` converts at when the
expression has no `$now`); read once per operation, empty when the
deployed bundle has no `fx_rate` entity (then only CNY amounts convert).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from dsl.bank_time import bank_today
from engine.functions import GRAPH_KEY
from engine.fx import FX_KEY, RateTable
from runtime.graph.rates import read_rates
from runtime.graph.service import graph_service
from runtime.records.context import Loader
from runtime.records.service import Records


def graph_context(engine: Engine) -> dict[str, Any]:
    """The context entries graph and currency functions read, for evaluating an expression outside
    a record write."""
    service = graph_service(engine)
    with engine.connect() as conn:
        rates = RateTable(read_rates(conn, service.records.refresh()).values(), as_of=bank_today())
    return {GRAPH_KEY: service.expression_graph(), FX_KEY: rates}


def provide(loader: Loader, name: str) -> Any:
    engine = loader.conn.engine
    return graph_service(engine, Records(engine, loader.live)).expression_graph()


def provide_fx(loader: Loader, name: str) -> RateTable:
    return RateTable(read_rates(loader.conn, loader.live).values(), as_of=bank_today())
