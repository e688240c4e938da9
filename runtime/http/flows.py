"""HTTP endpoints of the flows, installed by `runtime.http.app.create_app` (`install_flows`).

Who acts comes from `X-Banyan-Actor` (until sign-in lands); `Idempotency-Key` makes a start or
a command safe to retry; `If-Match: <version>` refuses a command on a changed instance (409).
Form values go out as the API reads them back: a percent field as its points (`"70"` for 70%,
see runtime/http/app.py), so a client may send a value it was shown unchanged.
Errors have the API's one shape, `{"error": code, "message": text, "detail": []}`: the engine's
refusal codes (`not_assignee` 403, `already_acted` 409, `illegal_target` 422 …), 404 for an
unknown instance, task or flow. An `event` is posted only by the system or a holder of the flow's
roles (runtime/flows/senders.py, run by FlowService.act for every door): anyone else who may not see the instance gets
that 404, one who may a 403. Timers and notifications are run by the jobs room's one scheduler,
which `banyan serve` and `banyan worker` start (runtime/jobs/scheduler.py), not by this router."""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Optional

from fastapi import APIRouter, Body, FastAPI, Header, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Engine

from runtime.flows.queries import form_percents, wire_form
from runtime.flows.service import FlowService
from runtime.flows.store import FlowError
from runtime.http.params import MAX_ID, Limit, Offset
from runtime.http.routes import JsonRoute


class StartBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: Optional[str] = Field(None, description="key of the subject record (e.g. a group code)")
    form: dict[str, Any] = Field(default_factory=dict)


class MigrationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_version: int = Field(ge=1, le=MAX_ID, description="the deployment version to move the instances to")
    mapping: dict[str, str] = Field(default_factory=dict, description="{old node: new node}")
    dry_run: bool = True
    instances: Optional[list[str]] = None


def _if_match(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or int(text) > MAX_ID:
        raise FlowError("invalid", "If-Match must be the instance's version number")
    return int(text)


def flow_router(service: FlowService) -> APIRouter:
    r = APIRouter(tags=["flows"], route_class=JsonRoute)

    @lru_cache(maxsize=256)
    def percents(flow: str, version: int) -> Any:
        """The percent fields of `flow`'s Form at deployment `version` (a deployed version never changes)."""
        compiled = service.flow(flow, version)
        return form_percents(service.form(compiled.form, version) if compiled.form else None)

    def wire(view: dict) -> dict:
        """An instance view as the API sends it: form percents as their points ("70" for 70%), as
        the API reads them back (runtime/http/app.py, dsl/values `write_value`)."""
        if isinstance(view.get("form"), dict) and view.get("flow") and view.get("deployment_version"):
            view = {**view, "form": wire_form(percents(view["flow"], view["deployment_version"]), view["form"])}
        return view

    @r.get("/flows")
    def flows() -> list[dict]:
        return service.flows()

    @r.post("/flows/{name}/instances", status_code=201)
    def start(name: str, body: StartBody, x_banyan_actor: str = Header(...),
              idempotency_key: str | None = Header(None)) -> dict:
        return wire(service.start(name, actor=x_banyan_actor, subject=body.subject, form=body.form,
                                  request_id=idempotency_key))

    @r.post("/flows/{name}/preview")
    def preview(name: str, body: StartBody, x_banyan_actor: str = Header(...)) -> dict:
        """Who would hold each step if this draft were submitted now (nothing is written)."""
        return service.preview(name, actor=x_banyan_actor, subject=body.subject, form=body.form)

    @r.get("/flows/{name}/graph.svg")
    def graph(name: str, instance: str | None = None, lang: str = Query("zh", pattern="^(zh|en)$")) -> Response:
        from engine.flow.svg import flow_svg
        current: list[str] = []
        if instance is not None:
            view = service.instance(instance, with_timeline=False)
            if view["flow"] != name:
                raise FlowError("not_found", f"instance {instance} runs `{view['flow']}`, not `{name}`")
            flow, current = service.flow(name, view["deployment_version"]), view["current_nodes"]
        else:
            flow = service.flow(name)
        return Response(flow_svg(flow, current=current, lang=lang), media_type="image/svg+xml")

    @r.post("/flows/{name}/migrations")
    def migrate(name: str, body: MigrationBody, x_banyan_actor: str = Header(...)) -> dict:
        return service.migrate(name, body.to_version, body.mapping, actor=x_banyan_actor, dry_run=body.dry_run,
                               only=body.instances)

    @r.get("/flow-instances/{instance_id}")
    def instance(instance_id: str) -> dict:
        return wire(service.instance(instance_id))

    @r.post("/flow-instances/{instance_id}/{action}")
    def command(instance_id: str, action: str, request: Request, body: dict[str, Any] = Body(default_factory=dict),
                x_banyan_actor: str = Header(...), if_match: str | None = Header(None),
                idempotency_key: str | None = Header(None)) -> dict:
        """approve, reject, complete, claim, return, transfer, delegate, add_signer, remove_signer,
        withdraw, urge, cc, comment, cancel, event — the body holds the action's parameters."""
        seen = getattr(request.state, "flow_command_check", None)
        if seen is not None:        # the web app's guard (runtime/http/flow_guard.py), run in this thread
            seen()
        reserved = sorted(set(body) & {"actor", "request_id", "expected_version"})
        if reserved:
            raise FlowError("invalid", f"{', '.join(reserved)} come from the headers (X-Banyan-Actor, "
                                       "Idempotency-Key, If-Match), not the body")
        return wire(service.act(instance_id, action, actor=x_banyan_actor, request_id=idempotency_key,
                                expected_version=_if_match(if_match), **body))

    @r.get("/inbox")
    def inbox(x_banyan_actor: str = Header(...), box: str = "mine", limit: Limit = 50, offset: Offset = 0) -> dict:
        return service.inbox(x_banyan_actor, box, limit=limit, offset=offset)

    @r.get("/flow-tasks/{task_id:path}")
    def task(task_id: str) -> dict:
        found = service.task(task_id)
        return {**found, "instance": wire(found["instance"])}

    @r.get("/messages")
    def messages(x_banyan_actor: str = Header(...), unread: bool = False) -> list[dict]:
        return service.messages(x_banyan_actor, unread_only=unread)

    return r


def install_flows(app: FastAPI, engine: Engine, service: FlowService | None = None) -> FlowService:
    """Add the flow endpoints to `app` (a FlowError is a BanyanError: runtime/http/errors.py answers it)."""
    service = service or FlowService(engine)
    app.include_router(flow_router(service))
    return service
