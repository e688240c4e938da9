"""The flow worker: fires due timers and delivers the outbox; any number may run at once.

Claiming: due rows are taken with `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL (workers
never wait on each other's rows) and by a conditional UPDATE under SQLite's write lock; a claim
is a lease (`claimed_by`, `claimed_until`), so a crashed worker's rows come back after it.
A timer fires in one transaction that deletes its row only while this worker still holds it
and applies TimerFired to the instance: each timer fires exactly once. A message is delivered
in one transaction that writes the send record (unique per outbox row), the in-app message or
the sender's call, and `delivered_at`: in-app messages arrive exactly once; an external sender
(e-mail, SMS, webhook) is called at most once per committed delivery."""
from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any, Mapping, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.storage.db import writing
from runtime.flows.store import FlowError, db_time
from runtime.flows.tables import deliveries, instances, messages, outbox, timers

log = logging.getLogger("banyan.flows")
LEASE = timedelta(minutes=5)
RETRY_AFTER = timedelta(minutes=1)
MAX_ATTEMPTS = 10


class Sender(Protocol):
    name: str

    def send(self, channel: str, recipient: str | None, template: str, text: str, payload: Mapping[str, Any]) -> None:
        """Deliver one message; raise to have it retried later."""


class LoggingSender:
    """The default for e-mail, SMS and webhooks: writes the message to the log."""
    name = "log"

    def send(self, channel: str, recipient: str | None, template: str, text: str, payload: Mapping[str, Any]) -> None:
        log.info("%s → %s: %s", channel, recipient or "-", text)


def render(flow: str, template: str, payload: Mapping[str, Any]) -> str:
    where = f"{flow} · {payload['node']}" if payload.get("node") else flow
    words = {"reminder": "提醒 reminder", "overdue": "已超时 overdue", "escalation": "升级 escalation",
             "urge": "催办 urge", "cc": "抄送 cc", "flow_finished": "流程结束 finished"}.get(template, template)
    text = f"[{words}] {where}"
    return text + (f" — {payload['message']}" if payload.get("message") else "")


class FlowWorker:
    def __init__(self, service: Any, *, name: str | None = None, senders: Mapping[str, Sender] | None = None,
                 batch: int = 100):
        self.service, self.engine, self.batch = service, service.engine, batch
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.senders = dict(senders or {})
        self.fallback = LoggingSender()

    # -- claiming --------------------------------------------------------------------------------
    def _claim(self, conn: Connection, table: sa.Table, keys: tuple[str, ...], due: Any, now: datetime) -> list:
        free = sa.or_(table.c.claimed_until.is_(None), table.c.claimed_until < db_time(now))
        cols = [table.c[k] for k in keys]
        q = sa.select(*cols).where(due, free).limit(self.batch)
        if conn.dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        rows = [tuple(r) for r in conn.execute(q)]
        until = db_time(now + LEASE)
        for r in rows:
            conn.execute(table.update().where(*(c == v for c, v in zip(cols, r)), free)
                         .values(claimed_by=self.name, claimed_until=until))
        return rows

    def claim_timers(self) -> list[tuple[str, str]]:
        now = self.service.clock()
        with writing(self.engine) as conn:
            return self._claim(conn, timers, ("instance_id", "timer"), timers.c.due_at <= db_time(now), now)

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

    # -- the outbox ------------------------------------------------------------------------------
    def deliver(self) -> int:
        now = self.service.clock()
        with writing(self.engine) as conn:
            ids = [r[0] for r in self._claim(conn, outbox, ("id",), sa.and_(
                outbox.c.delivered_at.is_(None), outbox.c.attempts < MAX_ATTEMPTS), now)]
        return sum(1 for i in ids if self._deliver_one(i))

    def _deliver_one(self, outbox_id: int) -> bool:
        now = db_time(self.service.clock())
        try:
            with writing(self.engine) as conn:
                q = (sa.select(outbox, instances.c.flow).join(instances, instances.c.id == outbox.c.instance_id)
                     .where(outbox.c.id == outbox_id, outbox.c.claimed_by == self.name, outbox.c.delivered_at.is_(None)))
                row = conn.execute(q.with_for_update(of=outbox) if conn.dialect.name == "postgresql" else q).first()
                if row is None:
                    return False
                payload = json.loads(row.payload)
                text = render(row.flow, row.template, payload)
                sender = self.senders.get(row.channel, self.fallback)
                conn.execute(deliveries.insert().values(outbox_id=row.id, channel=row.channel,
                                                        sender="in_app" if row.channel == "in_app" else sender.name,
                                                        at=now))
                if row.channel == "in_app":
                    conn.execute(messages.insert().values(outbox_id=row.id, user_name=row.recipient or "",
                                                          instance_id=row.instance_id, template=row.template,
                                                          text=text, created_at=now))
                else:
                    sender.send(row.channel, row.recipient, row.template, text, payload)
                conn.execute(outbox.update().where(outbox.c.id == row.id).values(delivered_at=now))
            return True
        except Exception as exc:  # noqa: BLE001 - a sender's failure: count it, retry after a while
            log.warning("outbox %s not delivered: %s", outbox_id, exc)
            with writing(self.engine) as conn:
                conn.execute(outbox.update().where(outbox.c.id == outbox_id, outbox.c.claimed_by == self.name)
                             .values(attempts=outbox.c.attempts + 1, error=str(exc)[:2000],
                                     claimed_until=db_time(self.service.clock() + RETRY_AFTER)))
            return False

    def run_once(self) -> dict:
        return {"timers": self.run_timers(), "messages": self.deliver()}


def start_scheduler(worker: FlowWorker, interval: float = 5.0) -> Any:
    """An APScheduler BackgroundScheduler running `worker.run_once` every `interval` seconds."""
    from apscheduler.schedulers.background import BackgroundScheduler
    scheduler = BackgroundScheduler(daemon=True)
    scheduler.add_job(_safe(worker), "interval", seconds=interval, id="banyan-flow-worker", max_instances=1,
                      coalesce=True, next_run_time=datetime.now())
    scheduler.start()
    return scheduler


def _safe(worker: FlowWorker):
    def run() -> None:
        try:
            done = worker.run_once()
            if done["timers"] or done["messages"]:
                log.info("flow worker %s: %s timer(s), %s message(s)", worker.name, done["timers"], done["messages"])
        except Exception:  # noqa: BLE001 - the scheduler keeps going; the next run retries
            log.exception("flow worker run failed")
    return run
