"""The live relationship graph of one database, cached per process and kept current.

The first read builds a `GraphSnapshot` from the database (`graph_load`: one query per
entity). Every later read first asks the audit head for its sequence number (one indexed
row): if nothing was written since, the cached snapshot is current. Otherwise the audit
entries written since — by this process or any other, in commit order, since appends are
serialized by the head row — are replayed onto the cache (`graph_replay`):

* a guarantee created, updated or deleted becomes `GuaranteeGraph.add_edge` /
  `remove_edge`, which keep circles and clusters current locally;
* a company's group, net assets, name or loan balance is updated in place;
* an equity holding (or a person) changed marks the equity part stale; it is re-read and
  rebuilt (one query) when a read needs the snapshot;
* a deploy, a changed key, or more than `REPLAY_LIMIT` changed records rebuild everything.

So the audit log is the change feed: what a process sees is always a committed state, a
rolled-back write leaves no trace, and a stale cache in another process is detected by the
same one-row check. Reads and replays take the service's lock, so a request never sees a
snapshot half way through an edit.
"""
from __future__ import annotations

import threading
import time
import weakref
from contextlib import contextmanager
from typing import Any, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from runtime.deploy.live import LiveModel
from runtime.graph.load import GraphState, build_state, rebuild_equity
from runtime.graph.replay import replay
from runtime.records.service import Records
from runtime.storage.tables import audit_head

REPLAY_LIMIT = 5_000


class GraphService:
    def __init__(self, engine: Engine, records: Records | None = None) -> None:
        self.engine = engine
        self.records = records or Records(engine)
        self._state: GraphState | None = None
        self._lock = threading.RLock()
        self.last_update: dict[str, Any] = {}

    # -- reading ------------------------------------------------------------------------------
    @contextmanager
    def reading(self) -> Iterator[GraphState]:
        """The current state, held still for the duration of the block."""
        with self._lock:
            yield self._current()

    def snapshot(self):
        with self.reading() as state:
            return state.snapshot

    def invalidate(self) -> None:
        with self._lock:
            self._state = None

    def _head(self, conn) -> int:
        return conn.execute(sa.select(audit_head.c.seq).where(audit_head.c.id == 1)).scalar() or 0

    def _current(self) -> GraphState:
        with self.engine.connect() as conn:
            head = self._head(conn)
            state = self._state
            if state is not None and state.seq == head and not state.equity_stale:
                return state
            started = time.perf_counter()
            if state is None:
                self._state = state = self._build(conn, head)
                self.last_update = {"kind": "build", "seconds": state.built_seconds, "seq": head}
                return state
            try:
                applied = replay(conn, state, REPLAY_LIMIT) if state.seq < head else 0
            except (KeyError, ValueError):   # the cache disagrees with the log: never serve it half-edited
                applied = None
            if applied is None:
                self._state = state = self._build(conn, head)
                self.last_update = {"kind": "rebuild", "seconds": state.built_seconds, "seq": head}
                return state
            rebuilt_equity = state.equity_stale
            if rebuilt_equity:
                rebuild_equity(conn, self._live(), state)
            state.seq = max(state.seq, head)
            self.last_update = {"kind": "incremental", "records": applied, "equity_rebuilt": rebuilt_equity,
                                "seconds": time.perf_counter() - started, "seq": state.seq}
            return state

    def _live(self) -> LiveModel:
        return self.records.refresh()

    def _build(self, conn, head: int) -> GraphState:
        live = self._live()
        started = time.perf_counter()
        state = build_state(conn, live, head)
        state.built_seconds = time.perf_counter() - started
        return state

    # -- the expression language's view ---------------------------------------------------------
    def expression_graph(self) -> "Guarded":
        """The snapshot for `$graph`, each call made under the service's lock."""
        self.snapshot()
        return Guarded(self, "snapshot")


class Guarded:
    """A view of the cached snapshot (or a part of it) whose calls hold the service's lock, so an
    expression evaluated in one thread never reads a graph another thread is editing."""

    __slots__ = ("_service", "_path")

    def __init__(self, service: GraphService, path: str) -> None:
        self._service, self._path = service, path

    def _target(self) -> Any:
        state = self._service._state
        target = state.snapshot if state is not None else self._service.snapshot()
        for part in self._path.split(".")[1:]:
            target = getattr(target, part)
        return target

    def __getattr__(self, name: str) -> Any:
        if name in ("guarantees", "equity"):
            return Guarded(self._service, f"{self._path}.{name}")
        value = getattr(self._target(), name)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._service._lock:
                return getattr(self._target(), name)(*args, **kwargs)
        return call

    def __contains__(self, item: object) -> bool:
        with self._service._lock:
            return item in self._target()


_SERVICES: "weakref.WeakKeyDictionary[Engine, GraphService]" = weakref.WeakKeyDictionary()
_SERVICES_LOCK = threading.Lock()


def graph_service(engine: Engine, records: Records | None = None) -> GraphService:
    """This process's graph service for `engine` (one per engine, made on first use)."""
    with _SERVICES_LOCK:
        found = _SERVICES.get(engine)
        if found is None:
            found = _SERVICES[engine] = GraphService(engine, records)
        return found
