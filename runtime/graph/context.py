"""`$graph` in the evaluation context: what `in_guarantee_circle(credit_code)`, `circle_size`,
`mutual_guarantee`, `controller` and `effective_share` read (engine/functions.py).

`provide` is declared under the `banyan.context` entry point (pyproject.toml), which the records
room's expression context consults (records/context.py) — the records room never imports this
one. The graph itself is loaded only when an expression asks for it, once per operation, from
this process's cached graph service. A stored computed field that reads the graph is as of its
record's last write; rules evaluated at read time (alerts, checks) see the current graph.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from engine.functions import GRAPH_KEY
from runtime.graph.service import graph_service
from runtime.records.context import Loader
from runtime.records.service import Records


def graph_context(engine: Engine) -> dict[str, Any]:
    """The context entries graph functions read, for evaluating an expression outside a record write."""
    return {GRAPH_KEY: graph_service(engine).expression_graph()}


def provide(loader: Loader, name: str) -> Any:
    engine = loader.conn.engine
    return graph_service(engine, Records(engine, loader.live)).expression_graph()
