"""`POST /events`: a batch of events from outside (court filings, 失信被执行人 listings, rating
changes …), each idempotent by its event number and accepted or rejected on its own
(runtime/events/intake.py). The body is the list of events, or `{"entity": …, "events": [...]}`
when more than one entity takes events. The answer lists what was accepted, the duplicates, and
each rejected event with its problems in the asker's language; the batch itself is 200 unless it
cannot be read at all. Needs the `records.import` permission; each event is checked against the
asker's org scope like any write."""
from __future__ import annotations

from typing import Any, Callable

from fastapi import APIRouter, Body, Header, Request

from runtime.auth.scope import Scope
from runtime.events.intake import EventError, EventIntake
from runtime.http.errors import request_lang
from runtime.http.routes import JsonRoute


def events_router(intake: EventIntake, scope_of: Callable[[Request], Scope | None],
                  permit: Callable[[Request, str], None]) -> APIRouter:
    router = APIRouter(tags=["events"], route_class=JsonRoute)

    @router.post("/events")
    def take_events(request: Request, body: Any = Body(...), x_banyan_actor: str = Header("api")) -> dict:
        permit(request, "records.import")
        entity = None
        if isinstance(body, dict):
            entity, body = body.get("entity"), body.get("events")
            if entity is not None and not isinstance(entity, str):
                raise EventError("`entity` names the events entity, as text")
        if not isinstance(body, list):
            raise EventError("send a list of events, or {\"entity\": …, \"events\": [...]}")
        outcome = intake.take(body, entity=entity, actor=x_banyan_actor, source="api", scope=scope_of(request))
        return outcome.to_dict(request_lang(request))

    return router
