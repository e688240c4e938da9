"""The flow worker: fires due timers and delivers the outbox; any number may run at once.

Timers: due rows are claimed under a lease (runtime.jobs.leases.claim: `SELECT … FOR UPDATE
SKIP LOCKED` on PostgreSQL, a conditional UPDATE under SQLite's write lock), so a crashed
worker's rows come back after it. A timer fires in one transaction that deletes its row only
while this worker still holds it and applies TimerFired to the instance: each timer fires
exactly once. Messages: the jobs room's outbox (runtime/jobs/outbox.py) claims, commits the
claim, renders the Channel template in the recipient's language, sends, and marks sent —
in-app messages arrive exactly once, an external sender gets each message's stable id.

Both run as periodic jobs in the jobs scheduler (`flow-timers` here, `outbox` in the jobs room),
which `banyan serve` and `banyan worker` start."""
from __future__ import annotations

import logging
import os
import socket
import uuid
import weakref
from typing import Any, Mapping

from sqlalchemy.engine import Engine

from runtime.flows import events as record_events
from runtime.flows.service import FlowService
from runtime.flows.store import FlowError, db_time
from runtime.flows.tables import timers
from runtime.jobs import feed
from runtime.jobs.leases import LEASE, claim
from runtime.jobs.outbox import Outbox
from runtime.jobs.scheduler import register_job
from runtime.jobs.senders import Sender
from runtime.storage.db import writing

log = logging.getLogger("banyan.flows")
TIMER_INTERVAL_SECONDS = 5.0


class FlowWorker:
    """`senders` replace the registered sender of a channel type for this worker (tests)."""

    def __init__(self, service: Any, *, name: str | None = None, senders: Mapping[str, Sender] | None = None,
                 batch: int = 100):
        self.service, self.engine, self.batch = service, service.engine, batch
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.outbox = Outbox(self.engine, self.name, senders=senders, clock=service.clock, batch=batch)

    # -- timers ----------------------------------------------------------------------------------
    def claim_timers(self) -> list[tuple[str, str]]:
        now = db_time(self.service.clock())
        with writing(self.engine) as conn:
            rows = claim(conn, timers, [timers.c.due_at <= now], self.name, now, LEASE, limit=self.batch,
                         order_by=[timers.c.due_at])
        return [(r.instance_id, r.timer) for r in rows]

    def run_timers(self) -> int:
        fired = 0
        for instance_id, timer in self.claim_timers():
            try:
                if self.service.fire_timer(instance_id, timer, claimed_by=self.name) is not None:
                    fired += 1
            except FlowError as exc:          # the instance refused it (its step is over): drop the row
                log.warning("timer %s of %s not fired: %s", timer, instance_id, exc.message)
                with writing(self.engine) as conn:
                    conn.execute(timers.delete().where(timers.c.instance_id == instance_id,
                                                       timers.c.timer == timer, timers.c.claimed_by == self.name))
        return fired

    # -- messages --------------------------------------------------------------------------------
    def deliver(self) -> int:
        return self.outbox.deliver()

    def run_once(self) -> dict:
        return {"timers": self.run_timers(), "messages": self.deliver()}


_SERVICES: "weakref.WeakKeyDictionary[Engine, FlowService]" = weakref.WeakKeyDictionary()


def fire_due_timers(engine: Engine, worker_name: str) -> int:
    """The periodic job: one pass over the due flow timers by worker `worker_name`."""
    service = _SERVICES.get(engine)
    if service is None:
        service = _SERVICES[engine] = FlowService(engine)
    return FlowWorker(service, name=worker_name).run_timers()


register_job("flow-timers", TIMER_INTERVAL_SECONDS, fire_due_timers, drains=True)
feed.subscribe(record_events.SUBSCRIBER, record_events.on_changes)     # waits on record events (events.py)

