"""In-app notifications: what the in_app channel delivers, read on the pages and `GET /messages`.

Each outbox message becomes at most one notification (`message_id` is unique): `deliver` writes
it in its own transaction and finds it already there when a crash between sending and marking
the message sent makes the outbox try again."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.jobs.outbox_tables import notifications


def deliver(conn: Connection, *, message_id: str, user: str, kind: str, title: str, body: str,
            link: str | None, source: str | None, at: datetime) -> bool:
    """Write the notification unless it exists; True when this call wrote it."""
    exists = sa.select(notifications.c.id).where(notifications.c.message_id == message_id)
    if conn.execute(exists).first() is not None:
        return False
    try:
        with conn.begin_nested():
            conn.execute(notifications.insert().values(
                message_id=message_id, user_name=user, kind=kind, title=title, body=body,
                link=(link or None) and link[:500], source=source, created_at=at))
    except sa.exc.IntegrityError:          # another worker wrote it a moment ago
        return False
    return True


def unread_count(conn: Connection, user: str) -> int:
    q = sa.select(sa.func.count()).select_from(notifications).where(
        notifications.c.user_name == user, notifications.c.read_at.is_(None))
    return int(conn.execute(q).scalar() or 0)


def listing(conn: Connection, user: str, *, unread_only: bool = False, limit: int = 50) -> list[Any]:
    """`user`'s notifications, newest first (rows with id, message_id, kind, title, body, link,
    source, created_at, read_at)."""
    q = sa.select(notifications).where(notifications.c.user_name == user)
    if unread_only:
        q = q.where(notifications.c.read_at.is_(None))
    return list(conn.execute(q.order_by(notifications.c.id.desc()).limit(max(1, min(limit, 500)))))


def mark_read(conn: Connection, user: str, ids: list[int] | None, at: datetime) -> int:
    """Mark `user`'s notifications read (`ids` None: all of them); returns how many changed.
    Another person's ids are ignored, never marked."""
    q = notifications.update().where(notifications.c.user_name == user, notifications.c.read_at.is_(None))
    if ids is not None:
        q = q.where(notifications.c.id.in_([int(i) for i in ids]))
    return conn.execute(q.values(read_at=at)).rowcount
