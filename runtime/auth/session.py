"""Sessions, CSRF tokens and the signing secret.

The session is Starlette's signed cookie (itsdangerous): HttpOnly, SameSite=Lax, Secure when
`BANYAN_SECURE_COOKIES=1`, eight hours. It holds the user's name, their `session_epoch` (a
password change or deactivation bumps it, ending every older session), the CSRF token and
the language. The secret comes from `BANYAN_SECRET_KEY`, else a file generated once with mode
0600: `BANYAN_SECRET_FILE`, else `.banyan-secret` in the data directory — beside a SQLite
database file, or the per-user data directory for a server database or an in-memory one
(`$XDG_DATA_HOME/banyan`, default `~/.local/share/banyan`). Never the working directory: a
secret made there ends up in a checkout (and in git). Several app servers on one database need
the same secret: give them `BANYAN_SECRET_KEY`.
"""
from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from typing import Any, MutableMapping

import sqlalchemy as sa

from runtime.storage.db import ConfigError
from runtime.storage.paths import data_dir

SESSION_COOKIE = "banyan_session"
SESSION_SECONDS = 8 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def secret_file(database_url: str | sa.URL | None = None) -> Path:
    """The session secret's file: `BANYAN_SECRET_FILE`, else `.banyan-secret` in the data directory."""
    chosen = os.environ.get("BANYAN_SECRET_FILE")
    return Path(chosen).expanduser() if chosen else data_dir(database_url) / ".banyan-secret"


def secret_key(database_url: str | sa.URL | None = None) -> str:
    """The key that signs session cookies for the database at `database_url` (made on first use)."""
    env = os.environ.get("BANYAN_SECRET_KEY")
    if env:
        return env
    path = secret_file(database_url)
    try:
        text = path.read_text(encoding="utf-8").strip()
        if len(text) >= 32:
            return text
    except (FileNotFoundError, NotADirectoryError):
        pass                                            # made below (or said why it cannot be)
    except OSError as exc:
        raise ConfigError(f"cannot read the session secret {path} ({exc.strerror}); "
                          "set BANYAN_SECRET_FILE or BANYAN_SECRET_KEY") from None
    text = secrets.token_urlsafe(48)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    except OSError as exc:
        raise ConfigError(f"cannot write the session secret {path} ({exc.strerror}); "
                          "set BANYAN_SECRET_FILE to a writable place or BANYAN_SECRET_KEY") from None
    return text


def secure_cookies() -> bool:
    return os.environ.get("BANYAN_SECURE_COOKIES", "") in ("1", "true", "yes")


def csrf_token(session: MutableMapping[str, Any]) -> str:
    """The session's CSRF token (made on first use)."""
    token = session.get("csrf")
    if not isinstance(token, str) or len(token) < 20:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_ok(session: MutableMapping[str, Any], given: Any) -> bool:
    expected = session.get("csrf")
    return isinstance(expected, str) and isinstance(given, str) and hmac.compare_digest(expected, given)


def sign_in(session: MutableMapping[str, Any], user: Any) -> None:
    """A fresh session for `user` (a new CSRF token too: no fixation across sign-in)."""
    lang = session.get("lang")
    session.clear()
    session.update({"user": user.name, "epoch": user.epoch, "csrf": secrets.token_urlsafe(32)})
    if lang:
        session["lang"] = lang


def sign_out(session: MutableMapping[str, Any]) -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
