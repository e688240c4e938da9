"""`$graph` in the evaluation context: what `in_guarantee_circle(credit_code)`, `circle_size`,
`mutual_guarantee`, `controller` and `effective_share` read (engine/functions.py).

`provide` is declared under the `banyan.context` entry point (pyproject.toml), which the records
room's expression context consults (records/context.py) — the records room never imports this
one. The graph itself is loaded only when an expression asks for it, once per operation, from
this process's cached graph service. A stored computed field that reads the graph is as of its
record's last write; rules evaluated at read time (alerts, checks) see the current graph.

`$graph` also carries `exposure`, what the concentration functions (`group_credit_ratio`,
`single_borrower_ratio`, `connected_credit_ratio`) read: an `engine.graph.ExposureBook` of the
cached graph's loan balances, group members and connected firms (control), its exchange rates and
the bank's capital figures (`bank_capital`) — made on first use, once per operation (the records
loader keeps a context value for its operation: a flow's transaction, a record write), from what
the graph service already holds (set-based reads, kept current from the audit log); a group's
connected firms are worked out when a ratio first asks for that group. In a flow the context holds
only the subject and the form, so those functions reach `$graph` through the subject record.

`$fx` (`provide_fx`, the `fx` entry point) is the bank's exchange-rate table (`fx_rate` records) as an
`engine.fx.RateTable` as of today (the date `to_cny(amount, currency)` converts at when the
expression has no `$now`); read once per operation, empty when the
deployed bundle has no `fx_rate` entity (then only CNY amounts convert).
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from sqlalchemy.engine import Engine

from dsl.bank_time import bank_today
from engine.functions import GRAPH_KEY
from engine.fx import FX_KEY, RateTable
from engine.graph import ExposureBook
from runtime.graph.group import connected_firms
from runtime.graph.rates import read_rates
from runtime.graph.service import GraphService, Guarded, graph_service
from runtime.records.context import Loader
from runtime.records.service import Records


class _PerGroup(dict):
    """A group key → firms, each worked out when first asked for."""

    def __init__(self, find: Callable[[str], Iterable[str]]) -> None:
        super().__init__()
        self._find = find

    def __missing__(self, group: str) -> list[str]:
        found = self[group] = list(self._find(group))
        return found


def exposure_book(service: GraphService, group_key: str = "code") -> ExposureBook:
    """The concentration functions' figures, from the service's cached state as it is now."""
    def members(group: str) -> list[str]:
        with service.reading() as state:
            return state.members(group)

    def connected(group: str) -> list[str]:
        with service.reading() as state:
            return connected_firms(state, group)

    with service.reading() as state:
        balances, rates, capital = state.balances(), state.rate_table(), state.capital_table()
    return ExposureBook(balances=balances, members=_PerGroup(members), connected=_PerGroup(connected),
                        rates=rates, capital=capital, as_of=bank_today(), group_key=group_key)


class ExpressionGraph:
    """`$graph` for one operation: the cached snapshot's queries (each under the service's lock)
    and `exposure`, this operation's ExposureBook, made when a concentration function first asks."""

    def __init__(self, service: GraphService, group_key: str = "code") -> None:
        self._service, self._group_key = service, group_key
        self._graph: Guarded = service.expression_graph()
        self._book: ExposureBook | None = None

    @property
    def exposure(self) -> ExposureBook:
        if self._book is None:
            self._book = exposure_book(self._service, self._group_key)
        return self._book

    def __getattr__(self, name: str) -> Any:
        return getattr(self._graph, name)

    def __contains__(self, item: object) -> bool:
        return item in self._graph


def _group_key(live: Any) -> str:
    group = live.bundle.entities.get("group")
    return getattr(group, "key", None) or "code"


def graph_context(engine: Engine) -> dict[str, Any]:
    """The context entries graph and currency functions read, for evaluating an expression outside
    a record write."""
    service = graph_service(engine)
    live = service.records.refresh()
    with engine.connect() as conn:
        rates = RateTable(read_rates(conn, live).values(), as_of=bank_today())
    return {GRAPH_KEY: ExpressionGraph(service, _group_key(live)), FX_KEY: rates}


def provide(loader: Loader, name: str) -> Any:
    engine = loader.conn.engine
    return ExpressionGraph(graph_service(engine, Records(engine, loader.live)), _group_key(loader.live))


def provide_fx(loader: Loader, name: str) -> RateTable:
    return RateTable(read_rates(loader.conn, loader.live).values(), as_of=bank_today())
