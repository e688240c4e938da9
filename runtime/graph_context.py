"""`$graph` in the evaluation context: what `in_guarantee_circle(credit_code)`, `circle_size`,
`mutual_guarantee`, `controller` and `effective_share` read (engine/functions.py).

Registered with the records service's expression context (record_context.CONTEXT_PROVIDERS)
when the records service is imported; the graph itself is loaded only when an expression
asks for it, once per operation, from this process's cached graph service. A stored computed
field that reads the graph is as of its record's last write; rules evaluated at read time
(alerts, checks) see the current graph.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from engine.functions import GRAPH_KEY

from . import record_context


def graph_context(engine: Engine) -> dict[str, Any]:
    """The context entries graph functions read, for evaluating an expression outside a record write."""
    from .graph_service import graph_service
    return {GRAPH_KEY: graph_service(engine).expression_graph()}


def _provide(loader: record_context.Loader, name: str) -> Any:
    from .graph_service import graph_service
    from .records import Records
    engine = loader.conn.engine
    return graph_service(engine, Records(engine, loader.live)).expression_graph()


record_context.CONTEXT_PROVIDERS[GRAPH_KEY] = _provide
