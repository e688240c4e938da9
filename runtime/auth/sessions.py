"""Server-side sessions: the signed cookie carries a random session id; the database keeps its
sha256 (someone reading the table cannot act as anyone), who it is, when it began and when it
was last used. A session is alive until it is ended — signed out, or by a password change,
disabling, an administrator's "sign out everywhere" — or it idles out (`idle_minutes`) or
reaches its absolute lifetime (`session_hours`). Every worker reads the same rows: ending a
session ends it everywhere at once (a copied cookie stops working)."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.auth.events import now as _now
from runtime.auth.events import utc
from runtime.auth.policy import SecurityPolicy
from runtime.auth.tables import sessions
from runtime.storage.prepared import Prepared

TOUCH_SECONDS = 30          # last_seen_at is written at most this often per session (idle time's grain)


def _key(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def open_session(conn: Connection, user: str, address: str | None) -> str:
    """A new session for `user`; returns the id for the cookie (only its hash is stored)."""
    sid, at = secrets.token_urlsafe(32), _now()
    conn.execute(sessions.insert().values(id=_key(sid), user_name=user, created_at=at, last_seen_at=at,
                                          address=(address or "")[:100] or None))
    return sid


_SESSION = Prepared(sa.select(sessions).where(sessions.c.id == sa.bindparam("k_id")))    # every request reads it


def verdict(conn: Connection, sid: object, policy: SecurityPolicy, at: datetime) -> tuple[str | None, str]:
    """(user, what to write) for session `sid` read on `conn`: ("name", "") alive, ("name", "touch")
    alive and due a last_seen_at, (None, "idle" / "expired") to be ended now, (None, "") nothing."""
    if not isinstance(sid, str) or not 20 <= len(sid) <= 100:
        return None, ""
    row = _SESSION.first(conn, {"k_id": _key(sid)})
    if row is None or row.ended_at is not None:
        return None, ""
    seen, began = utc(row.last_seen_at), utc(row.created_at)
    assert seen is not None and began is not None
    if at - seen > timedelta(minutes=policy.idle_minutes):
        return None, "idle"
    if at - began > timedelta(hours=policy.session_hours):
        return None, "expired"
    return row.user_name, "touch" if at - seen > timedelta(seconds=TOUCH_SECONDS) else ""


def settle(conn: Connection, sid: str, what: str, at: datetime) -> None:
    """Write what `verdict` asked for: mark the session used, or end it (idle, expired)."""
    if what == "touch":
        conn.execute(sessions.update().where(sessions.c.id == _key(sid)).values(last_seen_at=at))
    elif what:
        conn.execute(sessions.update().where(sessions.c.id == _key(sid), sessions.c.ended_at.is_(None))
                     .values(ended_at=at, ended_why=what))


def end_session(conn: Connection, sid: object, why: str = "signed_out") -> str | None:
    """End one session (signing out); returns its user, None when there was no live one."""
    if not isinstance(sid, str) or not sid:
        return None
    row = conn.execute(sa.select(sessions.c.user_name).where(sessions.c.id == _key(sid),
                                                             sessions.c.ended_at.is_(None))).first()
    if row is None:
        return None
    conn.execute(sessions.update().where(sessions.c.id == _key(sid)).values(ended_at=_now(), ended_why=why))
    return row.user_name


def end_all(conn: Connection, user: str, why: str) -> int:
    """End every live session of `user`; how many there were."""
    return conn.execute(sessions.update().where(sessions.c.user_name == user, sessions.c.ended_at.is_(None))
                        .values(ended_at=_now(), ended_why=why)).rowcount


def live_count(conn: Connection, user: str, policy: SecurityPolicy) -> int:
    """How many sessions of `user` could still be used (not ended, not idle, not past their lifetime)."""
    at = _now()
    rows = conn.execute(sa.select(sessions.c.created_at, sessions.c.last_seen_at)
                        .where(sessions.c.user_name == user, sessions.c.ended_at.is_(None))).all()
    return sum(1 for r in rows if at - utc(r.last_seen_at) <= timedelta(minutes=policy.idle_minutes)  # type: ignore[operator]
               and at - utc(r.created_at) <= timedelta(hours=policy.session_hours))  # type: ignore[operator]
