"""The HTTP API: health, deployments, entities, records (CRUD and query), with one error shape.

Every error is JSON: `{"error": code, "message": text, "detail": [{"loc": [...], "msg": ..., "type": ...}]}`
with a 4xx status — 404 unknown entity or record, 409 version conflict or nothing deployed,
422 invalid values (each with its field path). Decimals are sent as strings, so no cent is
lost to floating point. Who acts comes from `X-Banyan-Actor` until authentication lands;
`Idempotency-Key` makes a create/update/delete safe to retry; `If-Match: <version>` guards
updates and deletes against lost updates.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from fastapi import Body, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.engine import Engine

from runtime.deploy.deployments import DeploymentRegistry
from runtime.records.errors import RecordError
from runtime.http.flows import install_flows
from runtime.http.graph import graph_router
from runtime.deploy.live import NothingDeployed, UnknownEntity
from runtime.records.store import json_value
from runtime.records.service import Records
from runtime.http.params import DbId, Offset
from runtime.auth.scope import Scope
from runtime.deploy.deployments import UnknownVersion

RESERVED = {"limit", "offset", "order"}


class BanyanJSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(content, default=json_value, ensure_ascii=False, separators=(",", ":")).encode()


def _error(status: int, code: str, message: str, detail: list | None = None) -> JSONResponse:
    return BanyanJSON({"error": code, "message": message, "detail": detail or []}, status_code=status)


def _version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    text = if_match.strip().strip('"').removeprefix("W/").strip('"')
    if not text.isdigit():
        raise RecordError("If-Match must be the record's version number")
    return int(text)


def create_app(engine: Engine, *, extend: Callable[[FastAPI, Engine], Any] | None = None) -> FastAPI:
    """The API alone (tests drive it with the actor in a header). `extend(app, engine)` adds more
    around it: `runtime.web.app.create_app` (what `banyan serve` runs) adds the pages, sign-in in
    front of every endpoint and the security headers."""
    app = FastAPI(title="Banyan", version="0.1.0", default_response_class=BanyanJSON,
                  description="Records and deployments of a Banyan system.")
    registry = DeploymentRegistry(engine)
    records = Records(engine)

    @app.exception_handler(RecordError)
    async def _record_error(_req: Request, exc: RecordError) -> JSONResponse:
        return BanyanJSON(exc.to_dict(), status_code=exc.status)

    @app.exception_handler(UnknownEntity)
    async def _unknown(_req: Request, exc: UnknownEntity) -> JSONResponse:
        return _error(404, "unknown_entity", str(exc), [{"loc": ["path", "entity"], "msg": str(exc), "type": "unknown"}])

    @app.exception_handler(NothingDeployed)
    async def _nothing(_req: Request, exc: NothingDeployed) -> JSONResponse:
        return _error(409, "nothing_deployed", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        return _error(422, "invalid", "the request is not valid", detail)

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

    @app.get("/health", tags=["system"])
    def health() -> dict:
        head = registry.current()
        return {"status": "ok", "database": engine.dialect.name,
                "deployment": None if head is None else {"version": head.version, "hash": head.hash}}

    @app.get("/deployments", tags=["deployments"])
    def deployments(request: Request) -> list[dict]:
        permit(request, "deployments.read")
        return [{"version": d.version, "hash": d.hash, "action": d.action, "based_on": d.based_on,
                 "author": d.author, "message": d.message, "created_at": d.created_at} for d in registry.history()]

    @app.get("/deployments/{version}", tags=["deployments"])
    def deployment(version: DbId, request: Request) -> dict:
        permit(request, "deployments.read")
        try:
            d = registry.get(version)
        except UnknownVersion as exc:
            return _error(404, "not_found", str(exc))
        return {"version": d.version, "hash": d.hash, "action": d.action, "based_on": d.based_on, "author": d.author,
                "message": d.message, "created_at": d.created_at,
                "documents": [{"kind": k, "name": n} for k, n in sorted(d.release.sources)]}

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
            return _error(422, "invalid", "limit must be 1–1000 and offset ≥ 0",
                          [{"loc": ["query", "limit"], "msg": "out of range", "type": "range"}])
        where = {k: v for k, v in request.query_params.items() if k not in RESERVED}
        page = live_records().query(entity, where, order_by=order, limit=limit, offset=offset, scope=scope(request))
        return {"items": page.items, "total": page.total, "limit": page.limit, "offset": page.offset}

    @app.post("/records/{entity}", status_code=201, tags=["records"])
    def create(entity: str, request: Request, values: dict[str, Any] = Body(...),
               x_banyan_actor: str = Header("api"), idempotency_key: str | None = Header(None)) -> dict:
        permit(request, "records.write")
        return live_records().create(entity, values, actor=x_banyan_actor, request_id=idempotency_key,
                                     scope=scope(request))

    @app.get("/records/{entity}/{record_id}", tags=["records"])
    def read(entity: str, record_id: DbId, request: Request) -> dict:
        return live_records().get(entity, record_id, scope=scope(request))

    @app.patch("/records/{entity}/{record_id}", tags=["records"])
    def update(entity: str, record_id: DbId, request: Request, values: dict[str, Any] = Body(...),
               x_banyan_actor: str = Header("api"), if_match: str | None = Header(None),
               idempotency_key: str | None = Header(None)) -> dict:
        permit(request, "records.write")
        return live_records().update(entity, record_id, values, actor=x_banyan_actor,
                                     expected_version=_version(if_match), request_id=idempotency_key,
                                     scope=scope(request))

    @app.delete("/records/{entity}/{record_id}", status_code=204, tags=["records"])
    def delete(entity: str, record_id: DbId, request: Request, x_banyan_actor: str = Header("api"),
               if_match: str | None = Header(None), idempotency_key: str | None = Header(None)) -> Response:
        permit(request, "records.delete")
        live_records().delete(entity, record_id, actor=x_banyan_actor, expected_version=_version(if_match),
                              request_id=idempotency_key, scope=scope(request))
        return Response(status_code=204)

    app.include_router(graph_router(engine, records, scope))
    install_flows(app, engine)
    if extend is not None:
        extend(app, engine)
    return app
