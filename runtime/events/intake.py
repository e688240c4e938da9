"""Events from outside (issue 13): court filings, 失信被执行人 listings, equity freezes, bond
defaults, rating changes and negative news, taken as records of an events entity (`events: true`
in its Entity document, e.g. `external_event`).

Every door — `POST /events`, `banyan events import FILE` (CSV/XLSX), `banyan ingest redis
STREAM` — calls `EventIntake.take`, which:
- is idempotent by the event number (the entity's key): an event whose number is already stored,
  or comes twice in one batch, is a duplicate, reported and not written again;
- accepts or rejects each event on its own: a bad event (a field rule, an unknown company, no
  event number) is rejected with its problems and never blocks the others;
- writes the accepted ones through the records service in one transaction (field rules, audit,
  the change feed: the alert rules that hear `events.created` evaluate their subjects).

A batch is written whole when every event in it is good; when the records service refuses some
rows, those are set aside with their problems and the rest is written in a new transaction, so
the common case costs one transaction."""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dsl.errors import BanyanError, problem_dict
from runtime.jobs import changes
from runtime.records.errors import InvalidRecord
from runtime.records.service import Records
from runtime.records.store import keys_to_ids
from runtime.records.tabular import read_rows
from runtime.records.validation import Problem
from runtime.records.writes import RowError
from runtime.storage.db import RACE_BACKOFF, lost_a_race, writing

MAX_BATCH = 5000
TRIES = 6                   # a concurrent writer of the same event numbers (or a deadlock) is met again at most this often


class EventError(BanyanError):
    """The batch as a whole cannot be taken (no events entity, too many events, not a list); its
    words are the catalogue's `events.<code>`."""
    code, status, namespace = "invalid", 422, "events"


@dataclass
class Rejected:
    index: int                     # the event's place in the batch (0-based); a file's row number at the file door
    key: Any
    problems: list[Problem]

    def to_dict(self, lang: str = "en") -> dict:
        return {"index": self.index, "event": self.key, "problems": [problem_dict(p, lang=lang) for p in self.problems]}


@dataclass
class Outcome:
    entity: str
    accepted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    def to_dict(self, lang: str = "en") -> dict:
        return {"entity": self.entity, "accepted": len(self.accepted), "duplicates": self.duplicates,
                "rejected": [r.to_dict(lang) for r in self.rejected], "accepted_events": self.accepted}


def event_entities(live: Any) -> list[str]:
    """The deployed entities whose records are events (`events: true`)."""
    return sorted(n for n, e in live.bundle.entities.items() if getattr(e, "events", False))


class EventIntake:
    def __init__(self, engine: Engine, *, records: Records | None = None):
        self.engine = engine
        self.records = records or Records(engine)

    def entity(self, name: str | None = None) -> str:
        """The events entity `name`, or the one deployed when there is one."""
        live = self.records.refresh()
        known = event_entities(live)
        if name is None:
            if len(known) == 1:
                return known[0]
            if not known:
                raise EventError("no deployed entity takes events: mark one with `events: true` in its Entity "
                                 "document", code="no_events_entity", status=404)
            raise EventError(f"more than one entity takes events ({', '.join(known)}): name one with `entity`",
                             code="entity_required")
        if name not in known:
            hint = f"entities that take events: {', '.join(known)}" if known else "none is marked `events: true`"
            raise EventError(f"`{name}` does not take events ({hint})", code="not_an_events_entity", status=404)
        return name

    def take_file(self, path: Any, *, entity: str | None = None, actor: str, scope: Any = None) -> Outcome:
        """Every event of a CSV/XLSX file (the records import's header matching and cell reading);
        a rejected event is named by its line."""
        name = self.entity(entity)
        items, labels, early = [], [], []
        for row in read_rows(self.records, name, path):
            if isinstance(row, RowError):
                early.append(Rejected(row.line, None, [Problem((), row.message, "cells")]))
            else:
                items.append(dict(row))
                labels.append(row.line)
        out = Outcome(name)
        for start in range(0, len(items), MAX_BATCH):
            part = self.take(items[start:start + MAX_BATCH], entity=name, actor=actor, source="import", scope=scope,
                             labels=labels[start:start + MAX_BATCH])
            out.accepted += part.accepted
            out.duplicates += part.duplicates
            out.rejected += part.rejected
        out.rejected = sorted(early + out.rejected, key=lambda r: r.index)
        return out

    def take(self, items: Sequence[Any], *, entity: str | None = None, actor: str, source: str = "events",
             scope: Any = None, labels: Sequence[int] | None = None) -> Outcome:
        """Take a batch of events (each a mapping of field values); see the module docstring. A
        rejected event is named by its place in `items` (from 0), or by its label in `labels`."""
        if not isinstance(items, Sequence) or isinstance(items, (str, bytes)):
            raise EventError("the events must be a list of objects")
        if len(items) > MAX_BATCH:
            raise EventError(f"{len(items)} events in one batch; send at most {MAX_BATCH}", code="batch_too_large",
                             status=413)
        name = self.entity(entity)
        live = self.records.live
        key = live.entity(name).key
        out = Outcome(name)
        todo: list[tuple[int, Any, dict]] = []
        seen: set[Any] = set()
        for i, item in enumerate(items):
            if labels is not None:
                i = labels[i]
            if not isinstance(item, Mapping):
                out.rejected.append(Rejected(i, None, [Problem((), "an event is an object of field values",
                                                               "type")]))
                continue
            k = self.records.normal_key(name, item.get(key))
            if k is None or k == "":
                out.rejected.append(Rejected(i, item.get(key), [Problem((key,), f"every event needs its event number "
                                                                                f"`{key}`", "required")]))
                continue
            if k in seen:
                out.duplicates.append(str(k))
                continue
            seen.add(k)
            todo.append((i, k, dict(item)))
        for attempt in range(TRIES):
            if not todo:
                break
            try:
                with writing(self.engine) as conn, changes.source(source):
                    stored = keys_to_ids(conn, live, name, [k for _, k, _ in todo])
                    fresh = [t for t in todo if t[1] not in stored]
                    out.duplicates += [str(k) for _, k, _ in todo if k in stored]
                    todo = fresh
                    if fresh:
                        self.records.bulk_create(name, [v for _, _, v in fresh], actor=actor, first_row=1, conn=conn,
                                                 scope=scope)
                out.accepted += [str(k) for _, k, _ in todo]
                todo = []
            except InvalidRecord as exc:
                bad: dict[int, list[Problem]] = {}
                for p in exc.problems:
                    if p.path and isinstance(p.path[0], int) and 1 <= p.path[0] <= len(todo):
                        bad.setdefault(p.path[0] - 1, []).append(replace(p, path=tuple(p.path[1:])))
                if not bad:                       # a problem of the batch as a whole: every event carries it
                    bad = {j: list(exc.problems) for j in range(len(todo))}
                out.rejected += [Rejected(todo[j][0], todo[j][1], probs) for j, probs in sorted(bad.items())]
                todo = [t for j, t in enumerate(todo) if j not in bad]
            except sa.exc.IntegrityError:
                continue                          # another writer stored some of these numbers: look again
            except sa.exc.OperationalError as exc:
                if not lost_a_race(exc):
                    raise
                time.sleep(random.uniform(0, RACE_BACKOFF * 2 ** attempt))    # undone in a deadlock: again
        out.rejected += [Rejected(i, k, [Problem((), "not written: other writers kept changing what this event "
                                                     "needs; send it again", "conflict")]) for i, k, _ in todo]
        out.rejected.sort(key=lambda r: r.index)
        return out

