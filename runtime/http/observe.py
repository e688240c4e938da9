"""What an operator sees of the HTTP door, in one outermost ASGI middleware (`install_observe`):

- a request id on every request: a valid `X-Request-ID` from the caller is kept (1–128 of letters,
  digits and `._:-`), anything else is replaced by a new one; it goes back in the response's
  `X-Request-ID` and onto every log line written while the request runs (runtime/ops/logs.py);
- one log line per request (logger `banyan.http`): method, route template, status, milliseconds,
  request id and the signed-in person's user name — never the raw path, query or body, which may
  carry keys and personal data. The probes (`/health`, `/ready`, `/metrics`) log at DEBUG;
- the request counters and latencies for Prometheus by route template (runtime/ops/metrics.py),
  and the flow commands by action;
- `GET /ready` (runtime/ops/ready.py: 200, or 503 with the reason in JSON) and `GET /metrics`
  (Prometheus text), answered here, before sessions and sign-in: a probe carries no cookie.
  `/metrics` holds counts only; `BANYAN_METRICS_TOKEN`, when set, makes it ask for
  `Authorization: Bearer <token>` (401 otherwise).

Being outermost, it times everything below it (sessions, sign-in, the app)."""
from __future__ import annotations

import hmac
import json
import logging
import os
import time
from typing import Any

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from runtime.deploy.live import one_look
from runtime.ops import metrics
from runtime.ops.logs import given_or_new_id, request_id
from runtime.ops.ready import check

log = logging.getLogger("banyan.http")
PROBES = {"/health", "/ready", "/metrics"}
FLOW_ACTION_ROUTE = "/flow-instances/{instance_id}/{action}"
FLOW_PAGE_ROUTES = {"/ui/tasks/{instance_id}/{n}", "/ui/flow-instances/{instance_id}"}
FLOW_ACTIONS = {"approve", "reject", "complete", "claim", "return", "resubmit", "transfer", "delegate", "add_signer",
                "remove_signer", "withdraw", "urge", "cc", "comment", "cancel", "event"}


def install_observe(app: FastAPI, engine: Engine) -> None:
    """Add the middleware last, so that it is the outermost."""
    app.add_middleware(Observe, engine=engine)


def _route_of(scope: dict) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str) and path:
        return path
    return "<unmatched>"          # a 404 of no route: its path would make a label per typo


async def _answer(send: Any, status: int, body: bytes, content_type: str, headers: list | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store")] + (headers or [])})
    await send({"type": "http.response.body", "body": body})


class Observe:
    def __init__(self, app: Any, engine: Engine):
        self.app, self.engine = app, engine

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), None)
        rid = given_or_new_id(given)
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500
        rid_header = (b"x-request-id", rid.encode())

        async def sending(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), rid_header]}
            await send(message)

        path, method = scope["path"], scope["method"]
        ours = method == "GET" and path in ("/ready", "/metrics")       # answered here, not by a route
        try:
            if not ours:
                with one_look():            # which deployment is live: asked once a request
                    await self.app(scope, receive, sending)
            elif path == "/ready":
                await self._ready(sending)
            else:
                await self._metrics(scope, sending)
        finally:
            self._record(scope, method, path if ours else _route_of(scope), status, time.perf_counter() - started)
            request_id.reset(token)

    def _record(self, scope: dict, method: str, route: str, status: int, seconds: float) -> None:
        metrics.observe_request(method, route, status, seconds)
        if method == "POST" and route == FLOW_ACTION_ROUTE:
            action = (scope.get("path_params") or {}).get("action")
            metrics.count_flow_command(action if action in FLOW_ACTIONS else "other", status)
        elif method == "POST" and route in FLOW_PAGE_ROUTES and status in (303, 422, 403, 404, 409):
            # a page's form: 303 when the command landed (a redraw of the form is a 200, not a command)
            metrics.count_flow_command("page", 200 if status == 303 else status)
        user = (scope.get("state") or {}).get("user")
        name = getattr(user, "name", None)
        ms = round(seconds * 1000, 1)
        log.log(logging.DEBUG if route in PROBES else logging.INFO, "%s %s %s %.1fms%s", method, route, status, ms,
                f" by {name}" if name else "",
                extra={"method": method, "route": route, "status": status, "ms": ms, "user": name})

    async def _ready(self, send: Any) -> None:
        try:
            found = await run_in_threadpool(check, self.engine)
            body, status = found.body(), 200 if found.ready else 503
        except Exception:  # noqa: BLE001 - a probe answers, whatever broke
            log.exception("the readiness check failed")
            body = {"status": "not_ready", "error": "not_ready", "message": "the readiness check failed", "checks": {}}
            status = 503
        await _answer(send, status, json.dumps(body).encode(), "application/json")

    async def _metrics(self, scope: dict, send: Any) -> None:
        wanted = os.environ.get("BANYAN_METRICS_TOKEN", "")
        if wanted:
            auth = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), "")
            if not (auth.lower().startswith("bearer ") and hmac.compare_digest(auth[7:].strip(), wanted)):
                await _answer(send, 401, json.dumps({"error": "unauthorized", "detail": [], "message":
                                                     "send Authorization: Bearer <BANYAN_METRICS_TOKEN>"}).encode(),
                              "application/json", [(b"www-authenticate", b"Bearer")])
                return
        body = await run_in_threadpool(metrics.exposition, self.engine)
        await _answer(send, 200, body, metrics.CONTENT_TYPE)
