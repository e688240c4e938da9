"""A server process's long-lived heap: loaded before the first request, then kept out of the way of
Python's cyclic garbage collector.

A server holds some 270,000 objects that live as long as it does: the modules, the live model, the
relationship graph (about 60,000 at the demo bank's scale 1). CPython's full collection walks every
one of them, and a page that reads thousands of rows (the 360° view of a 629-member group reads
about 8,000) leaves enough survivors to set one off every third page: a pause of about 150 ms
on this machine, the tail of the page's timings. `preload(engine, records)` loads what the
requests would load first anyway — the live model and the graph — collects once, and moves
everything alive into the permanent generation (`gc.freeze()`, the standard library's tool for
this): later collections walk only what was made since (about 6 ms, measured the same way).
Reference counting still frees a frozen object when its last reference goes; only a reference
cycle among them would stay.

What is built later (a new deployment's model, a graph rebuilt after more than the replay limit of
changes) is not frozen: the collector walks it as before. Nothing here changes an answer; a preload
that cannot load (nothing deployed yet, the database not answering) is skipped with a log line, and
the server starts as it would have.
"""
from __future__ import annotations

import gc
import logging

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from dsl.errors import BanyanError
from runtime.graph.service import graph_service
from runtime.records.service import Records

log = logging.getLogger("banyan.ops")


def preload(engine: Engine, records: Records) -> bool:
    """Load the live model and the relationship graph through `records` (the app's own, so the
    requests find them loaded), then freeze the heap; False when nothing could be loaded (the heap
    is frozen all the same: the modules and the app are most of it)."""
    loaded = True
    try:
        records.refresh()
        with graph_service(engine, records).reading():
            pass
    except (BanyanError, SQLAlchemyError) as exc:
        log.info("preload skipped: %s", type(exc).__name__)
        loaded = False
    gc.collect()
    gc.freeze()
    return loaded
