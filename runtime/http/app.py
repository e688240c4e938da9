"""The HTTP API: health, deployments, entities, records (CRUD and query), with one error shape.

Every error is JSON: `{"error": code, "message": text, "detail": [{"loc": [...], "msg": ..., "type": ...}]}`
with a 4xx status — 404 unknown entity or record, 409 version conflict or nothing deployed,
422 invalid values (each with its field path). One handler does it for every `BanyanError`
(runtime/http/errors.py), the message in the caller's language.

Values on the wire are what the API reads back (dsl/values: `read_value` in, `write_value` out), so a
record fetched and sent back unchanged stays unchanged: decimals (money, numbers) are strings, so no
cent is lost to floating point; dates and date-times ISO 8601; a PERCENT is its percent points as a
string — a debt ratio of 70% is `"70"` (12.5% is `"12.5"`), and the API reads `70`, `"70"` and
`"70%"` alike as 70% (never the fraction: `0.7` would be 0.7%). References go out as the target's key.
Who acts comes from `X-Banyan-Actor` until authentication lands;
`Idempotency-Key` makes a create/update/delete safe to retry; `If-Match: <version>` guards
updates and deletes against lost updates.
"""
from __future__ import annotations

from typing import Any, Callable

from fastapi import Body, FastAPI, Header, Request
from fastapi.responses import Response
from sqlalchemy.engine import Engine

from dsl.values import percent_fields, write_record
from runtime.alerts.service import AlertService
from runtime.auth.scope import Scope
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.live import live_status
from runtime.events.intake import EventIntake
from runtime.http.alerts import alerts_router
from runtime.http.audit import audit_router
from runtime.http.docs import install_docs
from runtime.http.errors import BanyanJSON, install_errors
from runtime.http.events import events_router
from runtime.http.flows import install_flows
from runtime.http.graph import graph_router
from runtime.http.observe import install_observe
from runtime.http.params import DbId, Offset
from runtime.http.routes import JsonRoute
from runtime.http.transfer import transfer_router
from runtime.http.views import views_router
from runtime.records.errors import InvalidRecord, RecordError
from runtime.records.service import Records
from runtime.records.validation import Problem
from runtime.views.service import ViewService

RESERVED = {"limit", "offset", "order"}


def _version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    text = if_match.strip().strip('"').removeprefix("W/").strip('"')
    if not text.isdigit():
        raise RecordError("If-Match must be the record's version number")
    return int(text)


# The order /docs shows the sections in (else the order of the routes, which puts the flows first).
DOC_ORDER = ("records", "system", "deployments", "graph", "alerts", "events", "audit", "views", "flows")


def create_app(engine: Engine, *, extend: Callable[[FastAPI, Engine], Any] | None = None) -> FastAPI:
    """The API alone (tests drive it with the actor in a header). `extend(app, engine)` adds more
    around it: `runtime.web.app.create_app` (what `banyan serve` runs) adds the pages, sign-in in
    front of every endpoint and the security headers."""
    app = FastAPI(title="Banyan", version="0.1.0", default_response_class=BanyanJSON,
                  description="Records and deployments of a Banyan system.", docs_url=None, redoc_url=None,
                  openapi_tags=[{"name": t} for t in DOC_ORDER])
    app.router.route_class = JsonRoute    # a `def` endpoint's data leaves as JSON from its thread (runtime/http/routes.py)
    install_docs(app)                     # /docs from the app's own copy of Swagger UI (runtime/http/docs.py)
    registry = DeploymentRegistry(engine)
    records = Records(engine)

    install_errors(app)

    def scope(request: Request) -> Scope | None:
        """The asker's org scope when the web app is on (runtime/http/guard.py); else None."""
        guard = getattr(app.state, "guard", None)
        return None if guard is None else guard.scope(request)

    def permit(request: Request, permission: str) -> None:
        guard = getattr(app.state, "guard", None)
        if guard is not None:
            guard.permit(request, permission)

    def live_records() -> Records:
        records.refresh()
        return records

    def wire(recs: Records, entity: str, items: list[dict]) -> list[dict]:
        """Records as the API sends them: percents as their points (`write_value`), read back alike."""
        percents = percent_fields(recs.live.entity(entity).fields)
        return [write_record(percents, item) for item in items]

    # The flows first: a route is found by trying each in turn, and their commands are the busiest
    # writes (every approver's every action); no other path begins like theirs.
    install_flows(app, engine)
    # spreadsheets (runtime/http/transfer.py) before `/records/{entity}/{record_id}`, which would take `export`
    app.include_router(transfer_router(live_records, scope, permit))

    @app.get("/health", tags=["system"])
    def health() -> dict:
        """Liveness: the process answers (and what is deployed). Readiness — the database answers, its
        tables are at the newest revision, a deployment is active — is `GET /ready` (200, or 503 with
        the reason), answered with `GET /metrics` by runtime/http/observe.py before sign-in."""
        now = live_status(engine)           # documents this Banyan cannot run are listed with why
        return {"status": "ok" if now.healthy else "degraded", "database": engine.dialect.name,
                "deployment": None if now.version is None else {"version": now.version, "hash": now.hash},
                "unavailable": dict(now.unavailable)}

    @app.get("/deployments", tags=["deployments"])
    def deployments(request: Request) -> list[dict]:
        permit(request, "deployments.read")
        return [{"version": d.version, "hash": d.hash, "action": d.action, "based_on": d.based_on,
                 "author": d.author, "message": d.message, "created_at": d.created_at} for d in registry.history()]

    @app.get("/deployments/{version}", tags=["deployments"])
    def deployment(version: DbId, request: Request) -> dict:
        permit(request, "deployments.read")
        d = registry.get(version)                 # UnknownVersion: a 404 through the one handler
        return {"version": d.version, "hash": d.hash, "action": d.action, "based_on": d.based_on, "author": d.author,
                "message": d.message, "created_at": d.created_at,
                "documents": [{"kind": k, "name": n, "file": f} for (k, n), (f, _h) in sorted(d.release.documents.items())]}

    @app.get("/entities", tags=["records"])
    def entities() -> list[dict]:
        recs = live_records()
        return [{"name": name, "label": {"zh": e.meta.label.zh, "en": e.meta.label.en}, "key": e.key,
                 "fields": [{"name": f.name, "type": f.type_name, "ref": f.ref, "required": f.required,
                             "computed": f.computed, "unique": f.unique,
                             "values": [v.value for v in f.values] or None,
                             "label": {"zh": f.label.zh, "en": f.label.en}} for f in e.fields]}
                for name, e in recs.live.bundle.entities.items()]

    @app.get("/records/{entity}", tags=["records"])
    def query(entity: str, request: Request, limit: int = 50, offset: Offset = 0, order: str | None = None) -> dict:
        if not 1 <= limit <= 1000 or offset < 0:
            raise InvalidRecord("limit must be 1–1000 and offset ≥ 0",
                                [Problem(("query", "limit" if not 1 <= limit <= 1000 else "offset"), "out of range",
                                         "range")])
        where = {k: v for k, v in request.query_params.items() if k not in RESERVED}
        recs = live_records()
        page = recs.query(entity, where, order_by=order, limit=limit, offset=offset, scope=scope(request))
        return {"items": wire(recs, entity, page.items), "total": page.total, "limit": page.limit,
                "offset": page.offset}

    @app.post("/records/{entity}", status_code=201, tags=["records"])
    def create(entity: str, request: Request, values: dict[str, Any] = Body(...),
               x_banyan_actor: str = Header("api"), idempotency_key: str | None = Header(None)) -> dict:
        permit(request, "records.write")
        recs = live_records()
        return wire(recs, entity, [recs.create(entity, values, actor=x_banyan_actor, request_id=idempotency_key,
                                               scope=scope(request))])[0]

    @app.get("/records/{entity}/{record_id}", tags=["records"])
    def read(entity: str, record_id: DbId, request: Request) -> dict:
        recs = live_records()
        return wire(recs, entity, [recs.get(entity, record_id, scope=scope(request))])[0]

    @app.patch("/records/{entity}/{record_id}", tags=["records"])
    def update(entity: str, record_id: DbId, request: Request, values: dict[str, Any] = Body(...),
               x_banyan_actor: str = Header("api"), if_match: str | None = Header(None),
               idempotency_key: str | None = Header(None)) -> dict:
        permit(request, "records.write")
        recs = live_records()
        return wire(recs, entity, [recs.update(entity, record_id, values, actor=x_banyan_actor,
                                               expected_version=_version(if_match), request_id=idempotency_key,
                                               scope=scope(request))])[0]

    @app.delete("/records/{entity}/{record_id}", status_code=204, tags=["records"])
    def delete(entity: str, record_id: DbId, request: Request, x_banyan_actor: str = Header("api"),
               if_match: str | None = Header(None), idempotency_key: str | None = Header(None)) -> Response:
        permit(request, "records.delete")
        live_records().delete(entity, record_id, actor=x_banyan_actor, expected_version=_version(if_match),
                              request_id=idempotency_key, scope=scope(request))
        return Response(status_code=204)

    app.include_router(graph_router(engine, records, scope))
    app.include_router(alerts_router(AlertService(engine, records=records), scope, permit))   # runtime/http/alerts.py
    app.include_router(events_router(EventIntake(engine, records=records), scope, permit))   # runtime/http/events.py
    app.include_router(audit_router(live_records, scope, permit))     # the audit log, read only (runtime/http/audit.py)
    app.include_router(views_router(ViewService(engine, records), scope))   # the 360° views (runtime/http/views.py)
    if extend is not None:
        extend(app, engine)
    install_observe(app, engine)          # last, so outermost: request ids, the request log, /ready, /metrics
    return app
