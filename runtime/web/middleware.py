"""Two ASGI middlewares around the whole app: who is asking (`AuthGate`) and the security
headers of every response (`SecurityHeaders`).

`AuthGate` admits a request with a live server-side session (the cookie's session id, checked
in the database on every request: signed out, ended by a password change, disabling or "sign
out everywhere", idle or past its lifetime is refused at once, in every worker) or
`Authorization: Bearer <token>` (unexpired, unrevoked; a read-only token may only GET). Pages
(`/ui/…`) without one are sent to the sign-in page, API calls get 401 JSON. An administrator
without a second factor, when the policy requires one, reaches only their own page to enrol.
It puts the user in `request.state.user` and overwrites `X-Banyan-Actor` with the user's name, so
the audit log records who really acted. API calls riding on the session cookie (a page's script)
must carry the session's CSRF token in `X-CSRF-Token`; page forms are checked by their handler.
The person behind a session is cached for a few seconds per worker, keyed by their session
epoch (which a password change, disabling and "sign out everywhere" bump) and dropped whenever
this worker's store changes anyone.

`SecurityHeaders` also marks the session cookie `Secure` for every site not reached as
localhost (runtime/auth/session.py `cookie_secure`).
"""
from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool

from dsl.errors import words
from runtime.auth.session import CSRF_HEADER, SESSION_COOKIE, cookie_secure, csrf_ok
from runtime.auth.users import UserStore
from runtime.http.errors import accepted_lang

PUBLIC = ("/static/", "/ui/signin", "/ui/lang", "/health", "/openapi.json", "/docs", "/redoc", "/favicon.ico")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
ENROL_PATHS = ("/ui/me", "/ui/signout", "/ui/lang")          # all an administrator owing TOTP may reach
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


async def _send_json(send: Any, status: int, body: dict, headers: list | None = None) -> None:
    data = json.dumps(body, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(data)).encode())] + (headers or [])})
    await send({"type": "http.response.body", "body": data})


class AuthGate:
    def __init__(self, app: Any, users: UserStore, cache_seconds: float = 5.0):
        self.app, self.users, self.cache_seconds = app, users, cache_seconds
        self._cache: dict[str, tuple[float, Any]] = {}
        self._generation = users.generation
        self.local = users.engine.dialect.name == "sqlite"

    def _user(self, name: str, epoch: object) -> Any:
        """`name` as stored, from this worker's cache when fresh and of the cookie's epoch."""
        if self.users.generation != self._generation:          # someone was changed through this store
            self._cache.clear()
            self._generation = self.users.generation
        hit = self._cache.get(name)
        now = time.monotonic()
        if hit is not None and now - hit[0] < self.cache_seconds and hit[1] is not None and hit[1].epoch == epoch:
            return hit[1]
        user = self.users.get(name)
        self._cache[name] = (now, user)
        return user

    def _identify(self, headers: dict, session: dict) -> tuple[Any, bool, str | None, bool]:
        """(the user, signed in by the session cookie?, the API token's scope, a session that ended)."""
        user, by_cookie, token_scope, ended = None, False, None, False
        auth = headers.get(b"authorization", b"").decode("latin-1")
        if auth.lower().startswith("bearer "):
            found_token = self.users.token_access(auth[7:])
            if found_token is not None:
                user, token_scope = found_token
        elif isinstance(session.get("user"), str):
            owner = self.users.session_user(session.get("sid"))
            user, by_cookie, ended = self._of_session(session, owner)
        return user, by_cookie, token_scope, ended

    def _read_session(self, headers: dict, session: dict) -> tuple[Any, bool, str | None, bool] | None:
        """`_identify` of a request riding on a session cookie (or on nothing), reading only; None
        when the session is due a write first (a touch every half minute, or its end), or when the
        request carries an API token (whose use is written): then `_identify` answers."""
        if b"authorization" in headers:
            return None
        if not isinstance(session.get("user"), str):
            return None, False, None, False
        owner, due = self.users.session_read(session.get("sid"))
        if due:
            return None
        user, by_cookie, ended = self._of_session(session, owner)
        return user, by_cookie, None, ended

    def _of_session(self, session: dict, owner: str | None) -> tuple[Any, bool, bool]:
        """(the user, signed in by the session?, a session that ended) for a cookie whose session
        `owner` holds (None: no live session)."""
        found = self._user(session["user"], session.get("epoch")) if owner == session["user"] else None
        if found is not None and found.active and found.epoch == session.get("epoch"):
            return found, True, False
        lang = session.get("lang")                  # ended: the cookie is emptied and signs in nobody again
        session.clear()
        if lang:
            session["lang"] = lang
        return None, False, True

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == "/" or path.startswith(PUBLIC):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        session = scope.get("session") or {}
        # The lookups query the database. A session's row on SQLite is a read of a local file, quicker
        # than the trip to the threadpool: read here. Anything else — a network round trip to
        # PostgreSQL, a write (a session due a touch or its end, an API token's use) — goes to the
        # threadpool, so the event loop serves others meanwhile.
        found = self._read_session(headers, session) if self.local else None
        if found is None:
            found = await run_in_threadpool(self._identify, headers, session)
        user, by_cookie, token_scope, ended = found
        needs_second = by_cookie and self.users.totp_needed(user)
        page = path.startswith("/ui/")
        lang = session.get("lang") or accepted_lang(headers.get(b"accept-language", b"").decode("latin-1")) or "en"
        if user is None:
            if page:
                target = quote(path + ("?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else ""))
                await send({"type": "http.response.start", "status": 303,
                            "headers": [(b"location", f"/ui/signin?next={target}{'&ended=1' if ended else ''}".encode()),
                                        (b"content-length", b"0")]})
                await send({"type": "http.response.body", "body": b""})
            else:
                await _send_json(send, 401, {"error": "unauthorized", "detail": [],
                                             "message": "sign in, or send Authorization: Bearer <API token>"},
                                 [(b"www-authenticate", b"Bearer")])
            return
        if token_scope == "read" and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            await _send_json(send, 403, {"error": "read_only_token", "detail": [],
                                         "message": words("auth.read_only_token", lang)})
            return
        if needs_second and not path.startswith(ENROL_PATHS):
            if page:
                await send({"type": "http.response.start", "status": 303,
                            "headers": [(b"location", b"/ui/me#totp"), (b"content-length", b"0")]})
                await send({"type": "http.response.body", "body": b""})
            else:
                await _send_json(send, 403, {"error": "second_factor_required", "detail": [],
                                             "message": words("auth.second_factor_required", lang)})
            return
        if by_cookie and not page and scope["method"] in UNSAFE and \
                not csrf_ok(session, headers.get(CSRF_HEADER.encode(), b"").decode("latin-1")):
            await _send_json(send, 403, {"error": "csrf", "detail": [],
                                         "message": "a request riding on the session cookie needs X-CSRF-Token"})
            return
        scope.setdefault("state", {})["user"] = user
        scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"x-banyan-actor"] + \
            [(b"x-banyan-actor", user.name.encode())]
        await self.app(scope, receive, send)


class SecurityHeaders:
    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
        secure = cookie_secure(host)

        async def wrapped(message: dict) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                         (b"referrer-policy", b"same-origin"), (b"cross-origin-opener-policy", b"same-origin")]
                extra.append((b"content-security-policy", CSP.encode()))     # /docs too (runtime/http/docs.py)
                if path.startswith("/ui/"):
                    extra.append((b"cache-control", b"no-store"))
                given = list(message.get("headers", []))
                if secure:
                    given = [(k, _secure(v)) if k.lower() == b"set-cookie" else (k, v) for k, v in given]
                message = {**message, "headers": given + extra}
            await send(message)
        await self.app(scope, receive, wrapped)


def _secure(cookie: bytes) -> bytes:
    """The session cookie's Set-Cookie marked Secure (once)."""
    if not cookie.startswith(SESSION_COOKIE.encode() + b"=") or b"; secure" in cookie.lower():
        return cookie
    return cookie + b"; secure"
