"""The alert room's part in the worker (imported by `banyan worker` and `banyan serve`, as the
flows' worker is):
- the change feed's subscriber `alerts`: each committed record change once, evaluated in the
  transaction that moves the subscriber's cursor;
- the periodic job `alert-schedules` (every minute): one due item `alert-scan` per schedule of a
  deployed rule (`on: [{schedule: daily 06:00}]`) at its next time on the bank's clock (business
  days on the bank's calendar); items of schedules no longer deployed are taken back;
- the due work `alert-scan`: a scan of the rule's subjects (at least once: a scan is idempotent).
  Once done the item goes, and the next check puts the following time; a worker that was down
  at 06:00 runs the scan once when it comes back."""
from __future__ import annotations

import weakref
from datetime import timedelta
from typing import Any, Sequence

from sqlalchemy.engine import Connection, Engine

from runtime.alerts.service import SUBSCRIBER, AlertService
from runtime.jobs import feed, leases
from runtime.jobs.changes import Change
from runtime.jobs.scheduler import register_job
from runtime.jobs.schedules import next_time
from runtime.storage import faults

SCAN = "alert-scan"
CHECK_SECONDS = 60
_SERVICES: "weakref.WeakKeyDictionary[Engine, AlertService]" = weakref.WeakKeyDictionary()


def use(service: AlertService) -> None:
    """Evaluate through `service` (its clock and calendar) for `service.engine`."""
    _SERVICES[service.engine] = service


def _service(engine: Engine) -> AlertService:
    service = _SERVICES.get(engine)
    if service is None:
        service = _SERVICES[engine] = AlertService(engine)
    return service


def on_changes(conn: Connection, changes: Sequence[Change]) -> int:
    evaluations = _service(conn.engine).on_changes(conn, changes).evaluations
    faults.point("alerts.after_evaluate")      # the feed moves the cursor after this, in the same transaction
    return evaluations


def keep_schedules(engine: Engine, worker: str = "") -> int:
    """One due `alert-scan` item per schedule of the deployed rules; returns how many schedules."""
    service = _service(engine)
    live = service.records.refresh()
    now = service.clock()
    calendar = service.calendar_now()
    wanted: dict[str, tuple[Any, dict]] = {}
    for rule in service.rules(live):
        for s in rule.schedules:
            wanted[f"{rule.name}|{s.text}"] = (next_time(s, now, calendar=calendar),
                                               {"rule": rule.name, "schedule": s.text})
    leases.keep_items(engine, SCAN, wanted)             # an idle check writes nothing
    return len(wanted)


def run_scan(engine: Engine, item: Any) -> None:
    """A scheduled scan of one rule (nothing when the rule is no longer deployed)."""
    service = _service(engine)
    live = service.records.refresh()
    name = item.payload.get("rule")
    if name in {r.name for r in service.rules(live)}:
        service.scan([name])


feed.subscribe(SUBSCRIBER, on_changes, batch=500)        # a batch's subjects are read together: larger is cheaper
register_job("alert-schedules", CHECK_SECONDS, keep_schedules)
leases.handle(SCAN, run_scan, transactional=False, lease=timedelta(hours=1), batch=10)
