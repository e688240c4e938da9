"""Prometheus metrics (prometheus-client): what the HTTP door counts per request, and gauges read
from the database when Prometheus scrapes.

Counted in the process (summed across `banyan serve --workers N` through prometheus-client's
multiprocess mode, `PROMETHEUS_MULTIPROC_DIR`):

| metric | labels |
|---|---|
| `banyan_http_requests_total` | method, route (the route's template, `/records/{entity}`, never the raw path), status |
| `banyan_http_request_duration_seconds` (histogram) | method, route, status |
| `banyan_flow_commands_total` | action (approve, reject, complete, …; `page`: a task or instance form), outcome (ok, refused) |

Read at scrape time (`DatabaseCollector`: a few indexed aggregates, nothing per row):

| metric | what |
|---|---|
| `banyan_flow_timer_lag_seconds` | how late the oldest due but unfired flow timer is (0: none due) |
| `banyan_due_work_lag_seconds` | the same for due work under leases (alert scans, schedules), failed-out items excluded |
| `banyan_outbox_depth` | messages not sent yet |
| `banyan_outbox_lag_seconds` | how late the oldest due unsent message is |
| `banyan_change_feed_lag_events{subscriber}` | changes a feed subscriber has not handled yet |
| `banyan_flow_tasks_open` | open tasks |
| `banyan_alert_evaluation_errors{rule}` | subjects whose rule conditions could not be evaluated |
| `banyan_deployment_version` | the active deployment (0: none) |
| `banyan_metrics_database_up` | 1 when those queries answered, else 0 (and the gauges above are missing) |

Only counts, ages and the names of routes, actions, rules and feed subscribers: no record, key,
person or amount."""
from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime

import sqlalchemy as sa
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine

from runtime.alerts.tables import alert_errors
from runtime.flows.tables import tasks, timers
from runtime.jobs import feed
from runtime.jobs.leases import MAX_ATTEMPTS
from runtime.jobs.outbox_tables import outbox
from runtime.jobs.tables import db_now, due
from runtime.storage.tables import deployments

log = logging.getLogger("banyan.ops.metrics")
CONTENT_TYPE = CONTENT_TYPE_LATEST
disable_created_metrics()        # no `_created` series beside every counter: half the series, nothing lost

REQUESTS = Counter("banyan_http_requests_total", "HTTP requests answered, by route template and status",
                   ["method", "route", "status"])
LATENCY = Histogram("banyan_http_request_duration_seconds", "Time to answer an HTTP request",
                    ["method", "route", "status"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
FLOW_COMMANDS = Counter("banyan_flow_commands_total", "Flow commands through the API and the task pages "
                        "(approve, reject and complete are task completions)", ["action", "outcome"])


def multiprocess() -> bool:
    """Whether this process's counters live in PROMETHEUS_MULTIPROC_DIR files (several server
    processes): what prometheus-client chose when it was imported, not what the environment says now."""
    return values.ValueClass is not values.MutexValue


_CHILDREN: dict[tuple[str, str, int], tuple] = {}     # (method, route, status) -> its counter and histogram


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    key = (method, route, status)
    found = _CHILDREN.get(key)
    if found is None:                  # `labels()` looks its child up under a lock: once per series, not per request
        labels = (method, route, str(status))
        found = _CHILDREN[key] = (REQUESTS.labels(*labels), LATENCY.labels(*labels))
    found[0].inc()
    found[1].observe(seconds)


def count_flow_command(action: str, status: int) -> None:
    FLOW_COMMANDS.labels(action, "ok" if status < 400 else "refused").inc()


def _age(now: datetime, oldest: datetime | None) -> float:
    return max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0


class DatabaseCollector(Collector):
    """The gauges that need the database, read when Prometheus scrapes (never cached: each scrape
    is one short read-only connection)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("banyan_metrics_database_up", "1 when the database answered the metrics' queries")
        try:
            found = list(self._read())
        except Exception as exc:  # noqa: BLE001 - a scrape must answer even when the database does not
            first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[:1]
            log.warning("metrics: the database did not answer: %s%s", type(exc).__name__,   # one line a scrape
                        f": {first[0]}" if first else "")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from found

    def _read(self) -> Iterable[Metric]:
        now = backlog(self.engine)
        yield _gauge("banyan_flow_timer_lag_seconds", "How late the oldest due but unfired flow timer is",
                     now["timer_lag_seconds"])
        yield _gauge("banyan_due_work_lag_seconds", "How late the oldest due item of work under leases is",
                     now["due_lag_seconds"])
        yield _gauge("banyan_outbox_depth", "Messages in the outbox not sent yet", now["outbox_depth"])
        yield _gauge("banyan_outbox_lag_seconds", "How late the oldest due unsent message is", now["outbox_lag_seconds"])
        yield _gauge("banyan_flow_tasks_open", "Open flow tasks", now["open_tasks"])
        feed_lag = GaugeMetricFamily("banyan_change_feed_lag_events", "Changes a feed subscriber has not handled yet",
                                     labels=["subscriber"])
        for subscriber, behind in now["feed_behind"].items():
            feed_lag.add_metric([subscriber], behind)
        yield feed_lag
        failing = GaugeMetricFamily("banyan_alert_evaluation_errors",
                                    "Subjects whose alert rule conditions could not be evaluated", labels=["rule"])
        for rule, n in now["evaluation_errors"].items():
            failing.add_metric([rule], n)
        yield failing
        yield _gauge("banyan_deployment_version", "The active deployment's version (0: nothing deployed)",
                     now["deployment_version"])


def backlog(engine: Engine) -> dict:
    """Where the background work stands now — what `/metrics` exposes as gauges and `banyan status`
    prints: how late the oldest due flow timer, due work and unsent message are (seconds), the
    outbox's depth, open tasks, each feed subscriber's changes not handled yet, the subjects each
    alert rule could not evaluate, the deployment version. A few short read-only queries."""
    now = db_now()
    with engine.connect() as conn:
        timer = conn.execute(sa.select(sa.func.min(timers.c.due_at)).where(timers.c.due_at <= now)).scalar()
        due_at = conn.execute(sa.select(sa.func.min(due.c.due_at)).where(
            due.c.due_at <= now, due.c.attempts < MAX_ATTEMPTS)).scalar()
        unsent = conn.execute(sa.select(sa.func.count(), sa.func.min(outbox.c.due_at))
                              .where(outbox.c.sent_at.is_(None))).one()
        open_tasks = conn.execute(sa.select(sa.func.count()).where(tasks.c.status == "open")).scalar()
        errors = conn.execute(sa.select(alert_errors.c.rule, sa.func.count()).group_by(alert_errors.c.rule)).all()
        version = conn.execute(sa.select(sa.func.max(deployments.c.version))).scalar()
    oldest = unsent[1] if unsent[1] is not None and unsent[1] <= now else None
    return {"timer_lag_seconds": _age(now, timer), "due_lag_seconds": _age(now, due_at),
            "outbox_depth": unsent[0] or 0, "outbox_lag_seconds": _age(now, oldest), "open_tasks": open_tasks or 0,
            "feed_behind": {c["subscriber"]: c["behind"] for c in feed.status(engine)},
            "evaluation_errors": {rule: n for rule, n in errors}, "deployment_version": version or 0}


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class _ThisProcess(Collector):
    """This process's own metrics (the default registry) when there is one server process."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def exposition(engine: Engine) -> bytes:
    """The text Prometheus scrapes: every server process's counters (summed in multiprocess mode)
    and the database gauges."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess():
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseCollector(engine))
    return generate_latest(registry)
