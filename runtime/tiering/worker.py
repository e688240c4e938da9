"""The tiering room's part in the worker (imported by `banyan worker` and `banyan serve`, as the
alerts' worker is):
- the change feed's subscriber `tiering`: each committed record change a tiering's `on:` list
  hears (`facilities.updated`) re-tiers the group it reaches, in the transaction that moves the
  subscriber's cursor;
- the periodic job `tier-schedules` (every minute): one due item `tier-run` per deployed
  tiering's `schedule:` (`monthly 1 06:00`) at its next time on the bank's clock; items of
  schedules no longer deployed are taken back;
- the due work `tier-run`: a run of the tiering over every subject (idempotent, so at least once
  is enough);
- the periodic job `tier-reviews` (hourly): the service packages' reviews that are due, started
  (runtime/tiering/reviews.py; a review already running about a subject is not started twice)."""
from __future__ import annotations

import weakref
from datetime import timedelta
from typing import Any, Sequence

from sqlalchemy.engine import Connection, Engine

from runtime.flows.calendar import LiveCalendar
from runtime.jobs import feed, leases
from runtime.jobs.changes import Change
from runtime.jobs.scheduler import register_job
from runtime.jobs.schedules import next_time
from runtime.tiering.reviews import start_due_reviews
from runtime.tiering.service import SUBSCRIBER, TieringService

RUN = "tier-run"
CHECK_SECONDS = 60
REVIEW_SECONDS = 3600
_SERVICES: "weakref.WeakKeyDictionary[Engine, TieringService]" = weakref.WeakKeyDictionary()


def use(service: TieringService) -> None:
    """Tier through `service` (its clock) for `service.engine`."""
    _SERVICES[service.engine] = service


def _service(engine: Engine) -> TieringService:
    service = _SERVICES.get(engine)
    if service is None:
        service = _SERVICES[engine] = TieringService(engine)
    return service


def on_changes(conn: Connection, changes: Sequence[Change]) -> int:
    return _service(conn.engine).on_changes(conn, changes).subjects


def keep_schedules(engine: Engine, worker: str = "") -> int:
    """One due `tier-run` item per schedule of the deployed tierings; returns how many."""
    service = _service(engine)
    live = service.records.refresh()
    now = service.clock()
    calendar = LiveCalendar(service.records.refresh).current()
    wanted: dict[str, tuple[Any, dict]] = {}
    for tiering in service.tierings(live):
        if tiering.schedule is not None:
            wanted[f"{tiering.name}|{tiering.schedule.text}"] = (
                next_time(tiering.schedule, now, calendar=calendar),
                {"tiering": tiering.name, "schedule": tiering.schedule.text})
    leases.keep_items(engine, RUN, wanted)             # an idle check writes nothing
    return len(wanted)


def run_tiering(engine: Engine, item: Any) -> None:
    """A scheduled run of one tiering (nothing when it is no longer deployed)."""
    service = _service(engine)
    live = service.records.refresh()
    name = item.payload.get("tiering")
    if name in {t.name for t in service.tierings(live)}:
        service.run(name)


def start_reviews(engine: Engine, worker: str = "") -> int:
    return start_due_reviews(_service(engine))["started"]


feed.subscribe(SUBSCRIBER, on_changes, batch=500)
register_job("tier-reviews", REVIEW_SECONDS, start_reviews)
register_job("tier-schedules", CHECK_SECONDS, keep_schedules)
leases.handle(RUN, run_tiering, transactional=False, lease=timedelta(hours=1), batch=10)
