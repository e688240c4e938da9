"""Heartbeats: every process running the scheduler (`banyan worker`, `banyan serve` when it runs
the jobs) writes its row in `banyan_workers` every HEARTBEAT_SECONDS — host, pid, when it started,
when it was last seen, the jobs it runs — and `live(engine)` lists the ones seen lately, for
`banyan status`. A row not seen for a day is removed by the next beat of any worker; a worker that
stops cleanly removes its own (`gone`)."""
from __future__ import annotations

import json
import os
import socket
from datetime import datetime, timedelta
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from runtime.jobs.tables import db_now, workers
from runtime.storage.db import writing

HEARTBEAT_SECONDS = float(os.environ.get("BANYAN_HEARTBEAT_SECONDS", 15))
LIVE_WITHIN = timedelta(seconds=max(60.0, 4 * HEARTBEAT_SECONDS))     # missed beats before a worker counts as gone
FORGET_AFTER = timedelta(days=1)


def beat(engine: Engine, worker: str, jobs: Iterable[str]) -> int:
    """Say that `worker` is alive and runs `jobs`; forget workers not seen for a day. Returns 0
    (no work to drain)."""
    now = db_now()
    names = json.dumps(sorted(jobs))
    with writing(engine) as conn:
        done = conn.execute(sa.update(workers).where(workers.c.name == worker).values(seen_at=now, jobs=names))
        if not done.rowcount:
            conn.execute(sa.insert(workers).values(name=worker[:100], host=socket.gethostname()[:200], pid=os.getpid(),
                                                   started_at=now, seen_at=now, jobs=names))
        conn.execute(sa.delete(workers).where(workers.c.seen_at < now - FORGET_AFTER))
    return 0


def gone(engine: Engine, worker: str) -> None:
    """A worker stopping cleanly takes its row away."""
    with writing(engine) as conn:
        conn.execute(sa.delete(workers).where(workers.c.name == worker))


def live(engine: Engine, now: datetime | None = None) -> list[dict]:
    """The workers seen within LIVE_WITHIN, newest first: name, host, pid, started and seen (naive
    UTC), seconds since the last beat, and their jobs."""
    now = now or db_now()
    with engine.connect() as conn:
        rows = conn.execute(sa.select(workers).where(workers.c.seen_at >= now - LIVE_WITHIN)
                            .order_by(workers.c.seen_at.desc(), workers.c.name)).all()
    return [{"name": r.name, "host": r.host, "pid": r.pid, "started_at": r.started_at.isoformat(),
             "seen_at": r.seen_at.isoformat(), "seconds_ago": round(max((now - r.seen_at).total_seconds(), 0.0), 1),
             "jobs": json.loads(r.jobs)} for r in rows]
