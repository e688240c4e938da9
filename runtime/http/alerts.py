"""HTTP endpoints of the alerts (`/alerts`), included by `runtime.http.app.create_app`: the list
and one alert with its timeline, both cut to the asker's org scope (an alert on a subject they may
not read is the 404 an unknown one gets). Read only for now (issue 13)."""
from __future__ import annotations

from typing import Callable, Literal

from fastapi import APIRouter, Query, Request

from runtime.alerts.service import AlertService
from runtime.auth.scope import Scope
from runtime.http.params import DbId


def alerts_router(service: AlertService, scope_of: Callable[[Request], Scope | None]) -> APIRouter:
    router = APIRouter(prefix="/alerts", tags=["alerts"])

    @router.get("")
    def list_alerts(request: Request, rule: str | None = Query(None, max_length=100),
                    status: Literal["open", "lifted", "closed", "all"] = "open",
                    grade: Literal["yellow", "orange", "red"] | None = None,
                    limit: int = Query(200, ge=1, le=5000)) -> list[dict]:
        return service.list(rule=rule, status=None if status == "all" else status, grade=grade, limit=limit,
                            scope=scope_of(request))

    @router.get("/{alert_id}")
    def one(alert_id: DbId, request: Request) -> dict:
        return service.get(alert_id, scope=scope_of(request))

    return router
