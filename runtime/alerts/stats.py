"""Alert counts for the portfolio dashboard: the alerts opened in each of the last months, by
grade, on subjects the reader's scope may read (the alert service's one scope condition)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import sqlalchemy as sa

from dsl.bank_time import bank_timezone
from runtime.alerts.tables import alerts
from runtime.auth.scope import Scope
from runtime.jobs.tables import db_time

GRADES = ("red", "orange", "yellow")


def month_starts(today: date, months: int) -> list[date]:
    """The first day of each of the last `months` months, oldest first (this month last)."""
    out, y, m = [], today.year, today.month
    for _ in range(months):
        out.append(date(y, m, 1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def opened_by_month(service: Any, scope: Scope | None, now: datetime, months: int = 12) -> list[dict]:
    """[{month: 'YYYY-MM', red, orange, yellow}] for the last `months` months (bank's calendar)."""
    tz = bank_timezone()
    starts = month_starts(now.astimezone(tz).date(), months)
    since = db_time(datetime.combine(starts[0], datetime.min.time(), tz))
    q = sa.select(alerts.c.opened_at, alerts.c.grade).where(alerts.c.opened_at >= since,
                                                            *service.scope_conditions(scope))
    counts: dict[str, dict[str, int]] = {s.isoformat()[:7]: dict.fromkeys(GRADES, 0) for s in starts}
    with service.engine.connect() as conn:
        for opened, grade in conn.execute(q):
            aware = opened if opened.tzinfo else opened.replace(tzinfo=timezone.utc)      # stored as naive UTC
            month = aware.astimezone(tz).date().isoformat()[:7]
            if month in counts and grade in GRADES:
                counts[month][grade] += 1
    return [{"month": m, **c} for m, c in counts.items()]
