"""A security event as an audit entry (entity `user`): who (`by`; None is the operator), what,
about whom, from which address when known; the details as JSON. Written in the transaction of
the change it records (runtime/audit)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from runtime.audit import log as audit


def security_event(by: str | None, action: str, user: str | None, address: str | None, before: dict | None = None,
                   **after) -> audit.AuditEntry:
    detail = {"user": user, **({"address": address} if address else {}), **after}
    return audit.AuditEntry(by or audit.operator(), action, "user", None,
                            json.dumps(before, ensure_ascii=False, sort_keys=True) if before is not None else None,
                            json.dumps(detail, ensure_ascii=False, sort_keys=True))


def now() -> datetime:
    return datetime.now(timezone.utc)


def utc(value: datetime | None) -> datetime | None:
    """A stored time as aware UTC (SQLite hands back naive UTC, PostgreSQL aware)."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
