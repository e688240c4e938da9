"""The one scheduler: one APScheduler BackgroundScheduler per process running every registered
periodic job — the change feed's subscribers, the due work, and whatever the rooms register
(the outbox's delivery, …) with `register_job(name, every_seconds, fn)`, `fn(engine, worker)`.

`banyan serve` and `banyan worker` start it (`start(engine)`); no feature router does. Any number
of processes may run it at once: every job claims its work under leases (leases.py). A job that
raises is logged and runs again at its next turn; a run still going when its next turn comes is
not doubled (`max_instances=1`, `coalesce`). `run_once(engine)` runs every job once, in
registration order (tests, `banyan worker --once`)."""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from runtime.jobs import feed, heartbeat, leases

log = logging.getLogger("banyan.jobs")
JobFn = Callable[[Engine, str], Any]


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    fn: JobFn
    drains: bool = False       # its result is how much work it did (0: none left), so a whole pass repeats it


_jobs: dict[str, Job] = {}
_lock = threading.Lock()
_running: Handle | None = None


def register_job(name: str, every_seconds: float, fn: JobFn, *, drains: bool = False) -> Job:
    """Run `fn(engine, worker_name)` every `every_seconds` in each process's scheduler (registering
    a name again replaces the job; a scheduler already running picks it up at its next start).
    `drains`: `fn` returns how much work it did, one batch at a time (the change feed, due work,
    the outbox, flow timers), so `run_once(whole=True)` runs it again until it does nothing."""
    if not name:
        raise ValueError("a job needs a name")
    if not every_seconds > 0:
        raise ValueError(f"job `{name}`: every_seconds must be more than 0")
    job = _jobs[name] = Job(name, float(every_seconds), fn, drains)
    return job


def unregister_job(name: str) -> None:
    _jobs.pop(name, None)


def jobs() -> dict[str, Job]:
    return dict(_jobs)


def worker_name() -> str:
    """A name for this process's worker, unique across hosts and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"[:100]


class Handle:
    """A running scheduler: `shutdown()` stops it (and lets another `start` begin)."""

    def __init__(self, scheduler: Any, engine: Engine, worker: str):
        self.scheduler, self.engine, self.worker = scheduler, engine, worker

    @property
    def running(self) -> bool:
        return bool(self.scheduler.running)

    def shutdown(self, wait: bool = True) -> None:
        global _running
        with _lock:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=wait)
            if _running is self:
                _running = None
        try:
            heartbeat.gone(self.engine, self.worker)       # no longer alive: off `banyan status`
        except Exception as exc:  # noqa: BLE001 - stopping must not fail on a database gone first
            log.warning("scheduler %s: could not remove its heartbeat: %s", self.worker, type(exc).__name__)


def start(engine: Engine, *, interval: float | None = None, worker: str | None = None) -> Handle:
    """Start this process's scheduler with every registered job (`interval`, if given, replaces
    every job's own period). A second call while one runs for the same engine returns it."""
    from apscheduler.schedulers.background import BackgroundScheduler

    global _running
    with _lock:
        if _running is not None and _running.running:
            if _running.engine is not engine:
                raise RuntimeError("this process already runs the scheduler for another database")
            return _running
        name = worker or worker_name()
        scheduler = BackgroundScheduler(daemon=True, timezone=UTC)
        first = datetime.now(UTC)
        for job in _jobs.values():
            scheduler.add_job(_safe(job, engine, name), "interval", seconds=interval or job.every_seconds,
                              id=f"banyan:{job.name}", name=job.name, max_instances=1, coalesce=True,
                              next_run_time=first)
        scheduler.start()
        _running = Handle(scheduler, engine, name)
        log.info("scheduler %s started: %s", name, ", ".join(_jobs) or "no jobs")
        return _running


def enabled() -> bool:
    """Whether `banyan serve` runs the jobs: not with `BANYAN_SCHEDULER=0` (nor the older
    `BANYAN_FLOW_WORKER=0`), e.g. when separate `banyan worker` processes do."""
    return "0" not in (os.environ.get("BANYAN_SCHEDULER", "").strip(), os.environ.get("BANYAN_FLOW_WORKER", "").strip())


def summary(results: dict[str, Any]) -> str:
    """One line for what `run_once` did: `feed 0, due 2, outbox 1`."""
    return ", ".join(f"{name} {'failed' if r is None else r}" for name, r in results.items()) or "no jobs"


def running() -> Handle | None:
    return _running if _running is not None and _running.running else None


MAX_PASSES = 10_000


def run_once(engine: Engine, worker: str | None = None, *, whole: bool = False) -> dict[str, Any]:
    """Run every registered job once; {job name: what it returned}. A failing job is logged and
    its result is None — the others still run. `whole` (`banyan worker --once`): then run the
    draining jobs again, in order, until none has anything left (what one hands another — a
    change that opens an alert whose mail the outbox sends — is done in the same call); their
    results are summed; the pass's heartbeat is taken away at its end."""
    name = worker or worker_name()
    out = {job.name: _safe(job, engine, name)() for job in list(_jobs.values())}
    if not whole:
        return out
    draining = [job for job in _jobs.values() if job.drains]
    for _ in range(MAX_PASSES):
        done = {job.name: _safe(job, engine, name)() for job in draining}
        for k, v in done.items():
            if isinstance(v, int) and v:
                out[k] = (out.get(k) or 0) + v
        if not any(isinstance(v, int) and v > 0 for v in done.values()):
            break
    _safe(Job("heartbeat", 1, lambda e, w: heartbeat.gone(e, w)), engine, name)()   # the pass is over: not alive
    return out


def _safe(job: Job, engine: Engine, worker: str) -> Callable[[], Any]:
    def run() -> Any:
        try:
            result = job.fn(engine, worker)
            if result:
                log.info("job %s: %s", job.name, result)
            return result
        except Exception:
            log.exception("job %s failed", job.name)
            return None
    return run


def _feed(engine: Engine, worker: str) -> int:
    return feed.run_once(engine, worker)


def _due(engine: Engine, worker: str) -> int:
    return leases.run_once(engine, worker)


def _seconds(variable: str, default: float) -> float:
    text = os.environ.get(variable, "").strip()
    try:
        value = float(text) if text else default
    except ValueError:
        value = -1
    if not 0 < value < 86400:
        log.warning("%s=%r is not a number of seconds (0 < n < 86400); using %s", variable, text, default)
        return default
    return value


FEED_EVERY = _seconds("BANYAN_FEED_EVERY", 2.0)
DUE_EVERY = _seconds("BANYAN_DUE_EVERY", 5.0)
register_job("heartbeat", heartbeat.HEARTBEAT_SECONDS, lambda engine, worker: heartbeat.beat(engine, worker, list(_jobs)))
register_job("feed", FEED_EVERY, _feed, drains=True)
register_job("due", DUE_EVERY, _due, drains=True)
