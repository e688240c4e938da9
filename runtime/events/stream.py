"""Events from a Redis stream, read by a consumer group (`banyan ingest redis STREAM`).

Each stream entry is one event: its fields are the event's field values (`event_no`, `company`,
`type` …), or one field `event` holding them as a JSON object. A batch read with XREADGROUP goes
through `EventIntake.take` (idempotent by event number, each event accepted or rejected on its
own) and is acknowledged (XACK) only after that transaction committed; a rejected entry is copied
with its problems to the dead-letter stream `<STREAM>:rejected` and acknowledged too, so a bad
event never blocks the others.

A consumer that dies between the commit and the XACK finds its entries again on start (it reads
its own pending entries first); they are duplicates by then and written once. Entries another
consumer of the group left pending longer than `claim_idle` are claimed (XAUTOCLAIM) and taken
the same way, so none is lost when a consumer never comes back."""
from __future__ import annotations

import json
import logging
import socket
from dataclasses import dataclass
from typing import Any, Callable

from runtime.events.intake import EventIntake, Outcome

log = logging.getLogger("banyan.events")
GROUP = "banyan"


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def entry_values(fields: dict) -> Any:
    """The event an entry carries: its fields, or the JSON object in its one field `event`
    (text that is not a JSON object is handed on as it is, and rejected by the intake)."""
    plain = {_text(k): _text(v) for k, v in fields.items()}
    if set(plain) == {"event"}:
        try:
            return json.loads(plain["event"])
        except ValueError:
            return plain["event"]
    return plain


@dataclass
class Pass:
    read: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0

    def add(self, outcome: Outcome, read: int) -> None:
        self.read += read
        self.accepted += len(outcome.accepted)
        self.duplicates += len(outcome.duplicates)
        self.rejected += len(outcome.rejected)


class StreamConsumer:
    def __init__(self, intake: EventIntake, client: Any, stream: str, *, group: str = GROUP,
                 consumer: str | None = None, entity: str | None = None, batch: int = 100,
                 claim_idle_ms: int = 60_000):
        self.intake, self.client, self.stream, self.group = intake, client, stream, group
        self.consumer = consumer or f"{socket.gethostname()}-banyan"
        self.entity, self.batch, self.claim_idle_ms = entity, batch, claim_idle_ms
        self.dead_letter = f"{stream}:rejected"

    def ensure_group(self) -> None:
        """The consumer group, made (from the stream's start) when it does not exist yet."""
        try:
            self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except Exception as exc:  # noqa: BLE001 - redis.ResponseError BUSYGROUP: it exists, as wanted
            if "BUSYGROUP" not in str(exc):
                raise

    def _entries(self, block_ms: int | None, own_pending: bool) -> list[tuple[str, dict]]:
        answer = self.client.xreadgroup(self.group, self.consumer, {self.stream: "0" if own_pending else ">"},
                                        count=self.batch, block=None if own_pending else block_ms)
        return [(_text(i), f) for _, entries in (answer or []) for i, f in entries if f is not None]

    def _claimed(self) -> list[tuple[str, dict]]:
        answer = self.client.xautoclaim(self.stream, self.group, self.consumer, self.claim_idle_ms, "0-0",
                                        count=self.batch)
        entries = answer[1] if isinstance(answer, (list, tuple)) and len(answer) > 1 else []
        return [(_text(i), f) for i, f in entries if f]

    def take(self, entries: list[tuple[str, dict]]) -> Outcome:
        """One batch: taken in one transaction, the rejected copied to the dead-letter stream, all acknowledged."""
        items = [entry_values(f) for _, f in entries]
        outcome = self.intake.take(items, entity=self.entity, actor=f"stream:{self.stream}",
                                   source=f"redis:{self.stream}")
        for r in outcome.rejected:
            self.client.xadd(self.dead_letter, {"id": entries[r.index][0], "event": json.dumps(items[r.index],
                                                                                                ensure_ascii=False,
                                                                                                default=str),
                                                "problems": json.dumps(r.to_dict("zh")["problems"], ensure_ascii=False)})
            log.warning("event %s from %s rejected: %s", entries[r.index][0], self.stream,
                        "; ".join(p.message for p in r.problems))
        self.client.xack(self.stream, self.group, *[i for i, _ in entries])
        return outcome

    def run_once(self, block_ms: int | None = None) -> Pass:
        """Own pending entries, then long-idle ones of other consumers, then new ones until none is waiting."""
        self.ensure_group()
        done = Pass()
        for source in (lambda: self._entries(None, True), self._claimed):
            while entries := source():
                done.add(self.take(entries), len(entries))
                if len(entries) < self.batch:
                    break
        while entries := self._entries(block_ms, False):
            done.add(self.take(entries), len(entries))
            block_ms = None
        return done

    def run(self, stop: Callable[[], bool], block_ms: int = 5000, on_pass: Callable[[Pass], None] | None = None) -> None:
        """Take events until `stop()`: each pass waits up to `block_ms` for new entries."""
        while not stop():
            done = self.run_once(block_ms)
            if on_pass is not None and done.read:
                on_pass(done)
