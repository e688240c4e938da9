"""The alert room's part in the worker: the change feed's subscriber `alerts` (each committed
record change once, evaluated in the transaction that moves the subscriber's cursor).
Imported by `banyan worker` and `banyan serve`, as the flows' worker is."""
from __future__ import annotations

import weakref
from typing import Sequence

from sqlalchemy.engine import Connection, Engine

from runtime.alerts.service import SUBSCRIBER, AlertService
from runtime.jobs import feed
from runtime.jobs.changes import Change

_SERVICES: "weakref.WeakKeyDictionary[Engine, AlertService]" = weakref.WeakKeyDictionary()


def use(service: AlertService) -> None:
    """Evaluate changes of `service.engine` through `service` (its clock and calendar)."""
    _SERVICES[service.engine] = service


def on_changes(conn: Connection, changes: Sequence[Change]) -> int:
    service = _SERVICES.get(conn.engine)
    if service is None:
        service = _SERVICES[conn.engine] = AlertService(conn.engine)
    return service.on_changes(conn, changes).evaluations


feed.subscribe(SUBSCRIBER, on_changes)
