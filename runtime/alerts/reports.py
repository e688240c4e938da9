"""What is known of an alert rule beyond its YAML, for its page: the latest backtest of a
candidate against it, and the business tests that exercise its grades (`banyan test --record`)."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from runtime.alerts.tables import rule_reports
from runtime.jobs.tables import db_time
from runtime.storage.db import writing

KINDS = ("backtest", "coverage")


def keep(engine: Engine, kind: str, bodies: Mapping[str, Any], actor: str) -> None:
    """Keep a report per rule (`bodies`: rule → JSON-ready body), in one transaction."""
    if kind not in KINDS:
        raise ValueError(f"a rule report is one of {KINDS}")
    at = db_time(datetime.now(timezone.utc))
    rows = [{"rule": rule, "kind": kind, "at": at, "actor": actor, "body": json.dumps(body, ensure_ascii=False)}
            for rule, body in bodies.items()]
    if rows:
        with writing(engine) as conn:
            conn.execute(rule_reports.insert(), rows)


def latest(engine: Engine, rule: str) -> dict[str, dict]:
    """The newest report of each kind for `rule`: {kind: {"at", "actor", "body"}}."""
    out: dict[str, dict] = {}
    with engine.connect() as conn:
        for kind in KINDS:
            r = conn.execute(sa.select(rule_reports).where(rule_reports.c.rule == rule, rule_reports.c.kind == kind)
                             .order_by(rule_reports.c.id.desc()).limit(1)).mappings().first()
            if r is not None:
                out[kind] = {"at": r["at"], "actor": r["actor"], "body": json.loads(r["body"])}
    return out


def backtest_bodies(done: Any, start: str, end: str, candidate: str) -> dict[str, dict]:
    """Per rule, what its page shows of a backtest: the span, the candidate and the counts by month,
    kind and grade (no subjects: the page names no record)."""
    out: dict[str, dict] = {}
    for rule in done.rules:
        counts: dict[str, dict[str, int]] = {}
        for c in done.changes:
            if c.rule == rule:
                key = f"{c.kind} {c.grade}"
                month = c.month.isoformat()[:7]
                counts.setdefault(month, {})[key] = counts.get(month, {}).get(key, 0) + 1
        out[rule] = {"from": start, "to": end, "months": len(done.months), "candidate": candidate,
                     "total": sum(sum(v.values()) for v in counts.values()), "by_month": counts, "notes": done.notes}
    return out


def coverage_bodies(rules: Iterable[Any], graded: Mapping[tuple[str, str], set[str]], runs: int) -> dict[str, dict]:
    """Per rule, each grade with the cases that raised it (none: not exercised)."""
    return {r.name: {"cases_run": runs, "grades": {g.name: sorted(graded.get((r.name, g.name), ())) for g in r.grades}}
            for r in rules}
