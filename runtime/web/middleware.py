"""Two ASGI middlewares around the whole app: who is asking (`AuthGate`) and the security
headers of every response (`SecurityHeaders`).

`AuthGate` admits a request with a valid session cookie or `Authorization: Bearer <token>`;
pages (`/ui/…`) without one are sent to the sign-in page, API calls get 401 JSON. It puts the
user in `request.state.user` and overwrites `X-Banyan-Actor` with the user's name, so the
audit log records who really acted. API calls riding on the session cookie (a page's script)
must carry the session's CSRF token in `X-CSRF-Token`; page forms are checked by their handler.
"""
from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

from runtime.auth.session import CSRF_HEADER, csrf_ok
from runtime.auth.users import UserStore

PUBLIC = ("/static/", "/ui/signin", "/ui/lang", "/health", "/openapi.json", "/docs", "/redoc", "/favicon.ico")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
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

    def _user(self, name: str) -> Any:
        hit = self._cache.get(name)
        now = time.monotonic()
        if hit is not None and now - hit[0] < self.cache_seconds:
            return hit[1]
        user = self.users.get(name)
        self._cache[name] = (now, user)
        return user

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == "/" or path.startswith(PUBLIC):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        user, by_cookie = None, False
        auth = headers.get(b"authorization", b"").decode("latin-1")
        session = scope.get("session") or {}
        if auth.lower().startswith("bearer "):
            user = self.users.token_user(auth[7:])
        elif isinstance(session.get("user"), str):
            found = self._user(session["user"])
            if found is not None and found.active and found.epoch == session.get("epoch"):
                user, by_cookie = found, True
        page = path.startswith("/ui/")
        if user is None:
            if page:
                target = quote(path + ("?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else ""))
                await send({"type": "http.response.start", "status": 303,
                            "headers": [(b"location", f"/ui/signin?next={target}".encode()), (b"content-length", b"0")]})
                await send({"type": "http.response.body", "body": b""})
            else:
                await _send_json(send, 401, {"error": "unauthorized", "detail": [],
                                             "message": "sign in, or send Authorization: Bearer <API token>"},
                                 [(b"www-authenticate", b"Bearer")])
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

        async def wrapped(message: dict) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                         (b"referrer-policy", b"same-origin"), (b"cross-origin-opener-policy", b"same-origin")]
                extra.append((b"content-security-policy", CSP.encode()))     # /docs too (runtime/http/docs.py)
                if path.startswith("/ui/"):
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)
        await self.app(scope, receive, wrapped)
