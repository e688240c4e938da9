"""The service packages' recurring reviews, started: for each tiered subject whose tier's package
has a `review_every`, the tiering's `reviews.flow` is started about it when the last one began
that long ago (engine/tiering/reviews.py decides), in batches, each start with its own savepoint
(a form the flow refuses is logged and skipped, the others start). The lead role named in the
form is who the shipped flow assigns; its deadline and escalation are the flow's own, so an
overdue review is escalated like any flow task and shows as overdue in the lead's to-do list."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from dsl.errors import BanyanError
from engine.tiering.reviews import review_due, review_form
from runtime.flows.calendar import LiveCalendar
from runtime.flows.service import FlowService
from runtime.flows.store import FlowError, from_db
from runtime.flows.tables import instances
from runtime.storage.db import writing
from runtime.tiering.service import TieringService

log = logging.getLogger("banyan.tiering")
BATCH = 100


def last_started(conn: Any, flow: str, entity: str) -> dict[str, datetime]:
    """{subject key: when the newest instance of `flow` about it started}."""
    q = (sa.select(instances.c.subject_key, sa.func.max(instances.c.started_at))
         .where(instances.c.flow == flow, instances.c.subject_entity == entity).group_by(instances.c.subject_key))
    return {str(k): from_db(at) for k, at in conn.execute(q) if k is not None}


def start_due_reviews(service: TieringService, flows: FlowService | None = None, *,
                      at: datetime | None = None) -> dict[str, int]:
    """Start every review due at `at` (default now); {"started", "running" (one was still open),
    "failed", "subjects"}."""
    live = service.records.refresh()
    at = at or service.clock()
    flows = flows or FlowService(service.engine, clock=service.clock)
    calendar = LiveCalendar(service.records.refresh).current()
    out = {"started": 0, "running": 0, "failed": 0, "subjects": 0}
    for tiering in service.tierings(live):
        if not tiering.review_flow or not tiering.assign_to:
            continue
        t = live.table(tiering.subject)
        key = live.model[tiering.subject].key
        with service.engine.connect() as conn:
            last = last_started(conn, tiering.review_flow, tiering.subject)
            rows = conn.execute(sa.select(t.c[key], t.c[tiering.assign_to]).where(t.c[tiering.assign_to].is_not(None))
                                .order_by(t.c.id)).all()
        due = []
        for subject_key, tier_name in rows:
            out["subjects"] += 1
            tier = tiering.tier(tier_name)
            if tier is not None and review_due(tier.service_package, last.get(str(subject_key)), at, calendar):
                due.append((str(subject_key), review_form(tier)))
        for start in range(0, len(due), BATCH):
            with writing(service.engine) as conn:
                for subject_key, form in due[start:start + BATCH]:
                    try:
                        with conn.begin_nested():
                            _, joined = flows.start_within(conn, tiering.review_flow, actor=f"tiering:{tiering.name}",
                                                           subject=subject_key, form=form, now=at, join_running=True)
                        out["running" if joined else "started"] += 1
                    except (FlowError, BanyanError) as exc:
                        out["failed"] += 1
                        log.warning("review of %s not started: %s", subject_key,
                                    getattr(exc, "message", exc.__class__.__name__))
    return out
