"""One outbox for every feature: a message is written in the caller's transaction and delivered
later, at least once, by any number of workers.

`enqueue(conn, channel, recipient, kind, payload, source=…)` writes one row inside the caller's
transaction (a rolled-back command sends nothing). Delivery (`Outbox.deliver`) claims a batch
under a lease (`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL, a conditional UPDATE under
SQLite's write lock) and COMMITS the claim; only then it renders each message (the Channel
document's template, in the recipient's language) and hands it to the channel type's sender,
and marks it sent in a new transaction that checks the lease is still this worker's. A failure
is recorded (`attempts`, `last_error`) and retried later with a growing back-off, up to
`MAX_ATTEMPTS`. Every message keeps one `message_id` that every sender passes on, so a
receiver drops the duplicate a crash between sending and marking can cause."""
from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from runtime.auth.tables import people
from runtime.deploy.live import NothingDeployed, load_live
from runtime.jobs.leases import claim, lease_time
from runtime.jobs.outbox_tables import outbox
from runtime.jobs.scheduler import register_job
from runtime.jobs.senders import Outgoing, Recipient, Sender, SendFailed, Undeliverable, sender_for
from runtime.jobs.tables import db_time
from runtime.jobs.templates import TemplateProblem, language_of, render
from runtime.storage import faults
from runtime.storage.db import writing

log = logging.getLogger("banyan.jobs")
LEASE = timedelta(minutes=5)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
MAX_ATTEMPTS = 10
INTERVAL_SECONDS = 5.0
Channels = Callable[[Engine], Mapping[str, Any]]


def message_row(channel: str, recipient: str | None, kind: str, payload: Mapping[str, Any], at: datetime,
                source: str | None = None, language: str | None = None, *, message_id: str | None = None) -> dict:
    """The outbox row of one message, with a fresh stable id (for writing many at once), or the
    `message_id` given (a message that must exist once: its id says what it is about)."""
    now = db_time(at)
    return {"message_id": message_id or uuid.uuid4().hex, "channel": channel, "recipient": recipient, "kind": kind,
            "language": language, "payload": json.dumps(payload, ensure_ascii=False, default=str),
            "source": source, "created_at": now, "due_at": now, "attempts": 0}


def enqueue(conn: Connection, channel: str, recipient: str | None, kind: str, payload: Mapping[str, Any],
            source: str | None = None, *, language: str | None = None, at: datetime | None = None) -> str:
    """Write one message inside the caller's transaction; returns its message id."""
    row = message_row(channel, recipient, kind, payload, at or datetime.now(timezone.utc), source, language)
    conn.execute(outbox.insert().values(**row))
    return row["message_id"]


def deployed_channels(engine: Engine) -> Mapping[str, Any]:
    """The compiled Channel documents of the current deployment, by name."""
    try:
        bundle = load_live(engine).bundle
    except NothingDeployed:
        return {}
    return {name: doc for (kind, name), doc in bundle.documents.items() if kind == "Channel"}


def retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


class Outbox:
    """A delivery worker named `name`; `senders` override the registry per channel type."""

    def __init__(self, engine: Engine, name: str, *, senders: Mapping[str, Sender] | None = None,
                 channels: Channels = deployed_channels, clock: Callable[[], datetime] | None = None,
                 batch: int = 100):
        self.engine, self.name, self.senders, self.channels, self.batch = engine, name, dict(senders or {}), channels, batch
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    def now(self) -> datetime:
        return db_time(self.clock())

    def claim(self) -> list[int]:
        """Take up to `batch` due messages under a lease and commit the claim; their ids."""
        now = self.now()
        with writing(self.engine) as conn:
            rows = claim(conn, outbox, [outbox.c.sent_at.is_(None), outbox.c.attempts < MAX_ATTEMPTS,
                                        outbox.c.due_at <= now],
                         self.name, now, lease_time(LEASE), limit=self.batch, order_by=[outbox.c.due_at, outbox.c.id])
        return [r.id for r in rows]

    def deliver(self) -> int:
        """Claim, then send each claimed message; how many went out."""
        ids = self.claim()
        if not ids:
            return 0
        faults.point("outbox.after_claim")
        channels = self.channels(self.engine)
        return sum(1 for i in ids if self._deliver_one(i, channels))

    def _deliver_one(self, outbox_id: int, channels: Mapping[str, Any]) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(outbox).where(outbox.c.id == outbox_id, outbox.c.claimed_by == self.name,
                                                       outbox.c.sent_at.is_(None))).first()
            if row is None:
                return False
            person = conn.execute(sa.select(people).where(people.c.name == row.recipient)).first() \
                if row.recipient else None
        try:
            message = self._message(row, person, channels)
            sender_for(message.channel.type, self.senders).send(message, self.engine)
        except Undeliverable as exc:
            return self._failed(row, str(exc), give_up=True)
        except (SendFailed, TemplateProblem) as exc:
            return self._failed(row, str(exc), give_up=False)
        except Exception as exc:  # noqa: BLE001 - a sender's own bug: recorded and retried, the batch goes on
            log.exception("outbox message %s: the sender failed", row.message_id)
            return self._failed(row, f"the {row.channel} sender failed ({type(exc).__name__}: {exc})"[:2000], give_up=False)
        faults.point("outbox.after_send")
        with writing(self.engine) as conn:
            done = conn.execute(outbox.update().where(outbox.c.id == row.id, outbox.c.claimed_by == self.name,
                                                      outbox.c.sent_at.is_(None))
                                .values(sent_at=self.now(), claimed_by=None, claimed_until=None, last_error=None))
        if done.rowcount != 1:
            log.warning("outbox message %s was sent, but another worker had taken it over", row.message_id)
        return done.rowcount == 1

    def _message(self, row: Any, person: Any, channels: Mapping[str, Any]) -> Outgoing:
        channel = channels.get(row.channel)
        if channel is None:
            raise SendFailed(f"channel `{row.channel}` is not in the deployed bundle; deploy a Channel document "
                             "of that name")
        recipient = None
        if row.recipient:
            recipient = Recipient(row.recipient, (person.display_name if person else None) or row.recipient,
                                  person.email if person else None, person.phone if person else None,
                                  language_of(getattr(person, "language", None)))
        lang = language_of(row.language or (recipient.language if recipient else None))
        payload = json.loads(row.payload)
        if recipient is not None:
            payload.setdefault("recipient", {"name": recipient.name, "display_name": recipient.display_name,
                                             "email": recipient.email, "mobile": recipient.phone})
        text = render(channel, row.kind, payload, lang)
        link = payload.get("link") if isinstance(payload.get("link"), str) else None
        return Outgoing(row.message_id, channel, row.kind, recipient, text.title, text.body, link, row.source,
                        lang, payload, self.now())

    def _failed(self, row: Any, error: str, *, give_up: bool) -> bool:
        attempts = MAX_ATTEMPTS if give_up else row.attempts + 1
        log.warning("outbox message %s (%s → %s) not sent: %s", row.message_id, row.channel, row.recipient, error)
        with writing(self.engine) as conn:
            conn.execute(outbox.update().where(outbox.c.id == row.id, outbox.c.claimed_by == self.name)
                         .values(attempts=attempts, last_error=("gave up: " if give_up else "") + error[:2000],
                                 due_at=self.now() + retry_delay(attempts), claimed_by=None, claimed_until=None))
        return False


def deliver_due(engine: Engine, worker_name: str) -> int:
    """The periodic job: one delivery pass by worker `worker_name`."""
    return Outbox(engine, worker_name).deliver()


register_job("outbox", INTERVAL_SECONDS, deliver_due, drains=True)
