"""Sessions, CSRF tokens and the signing secret.

The session is Starlette's signed cookie (itsdangerous): HttpOnly, SameSite=Lax, eight hours.
`Secure` by default whenever the site is not reached as localhost (`cookie_secure`):
`BANYAN_SECURE_COOKIES=1` makes it always Secure, `=0` never (plain http on a trusted network).
It holds the user's name, the id of their server-side session (runtime/auth/sessions.py: signing
out, a password change, disabling and "sign out everywhere" end it in the database, so a copied
cookie stops working), their `session_epoch`, the CSRF token and the language; between a right
password and the one-time code, only who is half signed in (`pending`, five minutes).
The secret comes from `BANYAN_SECRET_KEY`, else a file generated once with mode 0600:
`BANYAN_SECRET_FILE`, else `.banyan-secret` in the data directory — beside a SQLite database
file, or the per-user data directory for a server database or an in-memory one
(`$XDG_DATA_HOME/banyan`, default `~/.local/share/banyan`). Never the working directory: a
secret made there ends up in a checkout (and in git). Several app servers on one database need
the same secret: give them `BANYAN_SECRET_KEY`.
"""
from __future__ import annotations

import hmac
import os
import secrets
import time
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
    # made whole beside it, then linked into place: of several processes starting at once (`serve
    # --workers N`), one secret wins and every one of them reads that one — never one of its own
    spare = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        try:
            os.link(spare, path)
        except FileExistsError:
            found = path.read_text(encoding="utf-8").strip()          # another process made it first
            if len(found) >= 32:
                text = found
            else:                                                      # too short to sign with: replaced
                os.replace(spare, path)
    except OSError as exc:
        raise ConfigError(f"cannot write the session secret {path} ({exc.strerror}); "
                          "set BANYAN_SECRET_FILE to a writable place or BANYAN_SECRET_KEY") from None
    finally:
        try:
            spare.unlink()
        except OSError:
            pass
    return text


def secure_cookies() -> bool:
    """`BANYAN_SECURE_COOKIES=1`: the cookie is Secure whatever the host."""
    return os.environ.get("BANYAN_SECURE_COOKIES", "") in ("1", "true", "yes")


LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]",
               "testserver")          # Starlette's TestClient calls the site this


def cookie_secure(host: str) -> bool:
    """Whether the session cookie is marked Secure for a site reached as `host` (the Host header):
    yes unless it is the local machine, or `BANYAN_SECURE_COOKIES` says otherwise."""
    setting = os.environ.get("BANYAN_SECURE_COOKIES", "").strip().lower()
    if setting in ("1", "true", "yes"):
        return True
    if setting in ("0", "false", "no"):
        return False
    name = host.strip().lower()
    name = name.rsplit(":", 1)[0] if name.count(":") == 1 or name.startswith("[") and "]:" in name else name
    return not (name in LOCAL_HOSTS or name.endswith(".localhost") or name.startswith("127."))


def csrf_token(session: MutableMapping[str, Any]) -> str:
    """The session's CSRF token (made on first use)."""
    token = session.get("csrf")
    if not isinstance(token, str) or len(token) < 20:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_ok(session: MutableMapping[str, Any], given: Any) -> bool:
    expected = session.get("csrf")
    return isinstance(expected, str) and isinstance(given, str) and hmac.compare_digest(expected, given)


def sign_in(session: MutableMapping[str, Any], user: Any, sid: str) -> None:
    """A fresh session for `user` whose server-side session is `sid` (a new CSRF token too: no
    fixation across sign-in)."""
    lang = session.get("lang")
    session.clear()
    session.update({"user": user.name, "epoch": user.epoch, "sid": sid, "csrf": secrets.token_urlsafe(32)})
    if lang:
        session["lang"] = lang


PENDING_SECONDS = 300


def await_second_factor(session: MutableMapping[str, Any], user: Any) -> None:
    """The password was right; the one-time code is still due (a fresh CSRF token, nobody signed in yet)."""
    lang = session.get("lang")
    session.clear()
    session.update({"pending": user.name, "pending_at": int(time.time()), "csrf": secrets.token_urlsafe(32)})
    if lang:
        session["lang"] = lang


def pending_user(session: MutableMapping[str, Any]) -> str | None:
    """Who gave the right password in the last five minutes and still owes the one-time code."""
    name, at = session.get("pending"), session.get("pending_at")
    if not isinstance(name, str) or not isinstance(at, int) or not 0 <= time.time() - at <= PENDING_SECONDS:
        return None
    return name


def sign_out(session: MutableMapping[str, Any]) -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
