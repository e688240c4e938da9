"""HTTP endpoints of the alerts (`/alerts`), included by `runtime.http.app.create_app`: the list
and one alert with its timeline, both cut to the asker's org scope (an alert on a subject they may
not read is the 404 an unknown one gets), and a person's actions on an open alert:
`POST /alerts/{id}/acknowledge`, `/comment` (`{"text": …}`), `/assign` (`{"to": a user name}`) and
`/close` (`{"text": the reason}`), the last two with the `alerts.close` permission. An alert's view
lists what its automatic actions did (`actions`: the disposal flow started, the records changed);
`GET /alerts/{id}/explain` says why its subject has its grade (engine/alerts/explain)."""
from __future__ import annotations

from typing import Callable, Literal

from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from runtime.alerts.explain import explain_subject, explanation_view
from runtime.alerts.service import AlertService
from runtime.auth.scope import Scope
from runtime.http.errors import request_lang
from runtime.http.params import DbId
from runtime.http.routes import JsonRoute


class ActionBody(BaseModel):
    """A comment's text, why the alert is closed, or (`to`) who it is assigned to."""

    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(None, max_length=2000)
    to: str | None = Field(None, max_length=200)


def alerts_router(service: AlertService, scope_of: Callable[[Request], Scope | None],
                  permit: Callable[[Request, str], None]) -> APIRouter:
    router = APIRouter(prefix="/alerts", tags=["alerts"], route_class=JsonRoute)

    @router.get("")
    def list_alerts(request: Request, rule: str | None = Query(None, max_length=100),
                    status: Literal["open", "lifted", "closed", "all"] = "open",
                    grade: Literal["yellow", "orange", "red"] | None = None,
                    limit: int = Query(200, ge=1, le=5000), overdue: bool = False,
                    assigned_to: str | None = Query(None, max_length=200),
                    order: Literal["newest", "due", "grade"] = "newest") -> list[dict]:
        return service.list(rule=rule, status=None if status == "all" else status, grade=grade, limit=limit,
                            scope=scope_of(request), overdue=overdue, assigned_to=assigned_to, order=order)

    @router.get("/{alert_id}")
    def one(alert_id: DbId, request: Request) -> dict:
        return service.get(alert_id, scope=scope_of(request))

    @router.get("/{alert_id}/explain")
    def explained(alert_id: DbId, request: Request) -> dict:
        """Why the alert's subject has its grade on today's data: each grade's condition with the
        value of every part, the evidence and the near misses (`banyan alerts explain`). A roll-up
        on a group has no condition of its own: 404 with the words that say to explain a member."""
        scope = scope_of(request)
        a = service.get(alert_id, scope=scope)          # out of scope: the unknown alert's 404
        exp, about = explain_subject(service, a["rule"], a["subject"]["key"], scope=scope)
        return explanation_view(exp, about, request_lang(request))

    @router.post("/{alert_id}/{action}")
    def act(alert_id: DbId, action: Literal["acknowledge", "comment", "assign", "close"], request: Request,
            body: ActionBody | None = None, x_banyan_actor: str = Header("api")) -> dict:
        scope = scope_of(request)
        service.get(alert_id, scope=scope)          # out of scope: the unknown alert's 404, before any permission
        if action in ("close", "assign"):
            permit(request, "alerts.close")
        given = (body.to if action == "assign" else body.text) if body else None
        return service.act(alert_id, action, actor=x_banyan_actor, text=given, scope=scope)

    return router
