"""HTTP endpoints of the relationship graph (`/graph/...`), included by `runtime.http.app.create_app`.

Every endpoint answers for what the asker may read (their org scope, runtime/auth/scope.py,
turned into a `Sight` by runtime/graph_scope.py): a firm or group they may not read is a 404
with the very answer an unknown one gets; firms of other branches inside an answer are
counted, not named (graph_facts.py, graph_group.py); pictures draw them as anonymous boxes.
`/graph/status` names no firm and is the same for everyone.

Errors have the API's one shape (`{"error", "message", "detail": [{"loc", "msg", "type"}]}`):
404 for an unknown firm or group (the key in the message and at its `loc`), 422 for a bad
query parameter or body (FastAPI's validation, with field paths), 409 when the deployed
bundle has no graph entities or nothing is deployed.
"""
from __future__ import annotations

from typing import Annotated, Callable, Union

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Engine

from runtime.auth.scope import Scope
from runtime.graph.facts import circles, contagion_facts, equity_svg, firm_facts, guarantee_svg, status
from runtime.graph.group import group_facts
from runtime.graph.load import GraphUnavailable
from runtime.graph.scope import Sight, leads, sight_of
from runtime.graph.service import graph_service
from runtime.graph.settings import bank_settings
from runtime.http.errors import request_lang
from runtime.http.routes import JsonRoute
from runtime.records.errors import NotFound
from runtime.records.service import Records
from runtime.records.validation import Problem
from runtime.storage.db import ConfigError

SVG = "image/svg+xml"
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class ContagionRequest(BaseModel):
    """Distressed firms (credit codes, or {credit code: starting probability}) and the model's rates."""

    model_config = ConfigDict(extra="forbid")
    distressed: Union[list[str], dict[str, Probability]] = Field(min_length=1)
    guarantee_default: Probability = 0.5
    control_rate: Probability = 0.3
    holding_rate: Probability = 0.3
    min_score: Probability = 0.01
    limit: int = Field(100, ge=1, le=10_000)


def graph_router(engine: Engine, records: Records, scope_of: Callable[[Request], Scope | None]) -> APIRouter:
    """`scope_of(request)` is the asker's org scope (None: the whole bank) — see runtime/auth/scope.py."""
    router = APIRouter(prefix="/graph", tags=["graph"], route_class=JsonRoute)
    service = graph_service(engine, records)

    def sight(request: Request) -> Sight:
        return sight_of(records, scope_of(request))

    def find_group(code: str, scope: Scope | None) -> dict:
        """The group record; one 404 alike for an unknown code and a group `scope` may not read."""
        try:
            return records.find("group", code, scope=scope)
        except NotFound:
            raise NotFound(f"no group `{code}`", [Problem(("path", "code"), f"unknown group `{code}`", "not_found")]) \
                from None

    def settings():
        try:
            return bank_settings()
        except ConfigError as exc:
            raise GraphUnavailable(f"bank settings: {exc}") from exc

    @router.get("/status")
    def graph_status() -> dict:
        """What the cached graph holds and how it was last brought up to date (counts only: it names
        no firm, so it is the same for every asker)."""
        with service.reading() as state:
            return status(state, service.last_update)

    @router.get("/firms/{key}")
    def firm(request: Request, key: str,
             threshold: float = Query(0.25, ge=0.0, le=1.0, description="beneficial-owner threshold"),
             inclusive: bool = Query(True, description="true: share >= threshold (2024 rules); false: >"),
             top: int = Query(10, ge=1, le=1000, description="how many effective holdings to list")) -> dict:
        """Circle membership, mutual guarantees, guarantees given and received, guarantor load,
        ultimate controller with its control chain, beneficial owners, top effective holdings."""
        seen = sight(request)
        with service.reading() as state:
            return firm_facts(state, key, threshold=threshold, inclusive=inclusive, top=top, sight=seen)

    @router.get("/groups/{code}")
    def group(request: Request, code: str) -> dict:
        """Declared vs proposed members (suggestions with evidence, never applied), circles
        touching the group and those spanning several groups, exposure ratios. A group served
        but not led by the asker's branches (协办行) comes without exposure (`"exposure": null`,
        `"access": "serving_branch"`, `"cut": true`). `exposure.currency` says at which exchange
        rates the amounts were converted (`note`) and names each amount that had no rate
        (`problems`: a stable `type`/`key`, `currency`, `as_of`, and `message`), in the caller's
        language (the session's, else `Accept-Language`, else English)."""
        scope = scope_of(request)
        row = find_group(code, scope)
        lead = leads(records, scope, row["code"])
        seen = sight(request)
        bank = settings() if lead else None
        with service.reading() as state:
            return group_facts(state, row, bank, seen, lead, lang=request_lang(request))

    @router.get("/circles")
    def all_circles(request: Request, min_size: int = Query(2, ge=2)) -> list[dict]:
        """Every guarantee circle with a firm the asker may read, largest first, with the groups it
        spans; members of other branches are counted in `others`."""
        seen = sight(request)
        with service.reading() as state:
            return circles(state, min_size, seen)

    @router.post("/contagion")
    def contagion(request: Request, body: ContagionRequest) -> dict:
        """Firms reached from the distressed ones through guarantees and control, each with its
        score p(v) and the strongest path that explains it."""
        seeds = body.distressed if isinstance(body.distressed, dict) else dict.fromkeys(body.distressed, 1.0)
        seen = sight(request)
        with service.reading() as state:
            return contagion_facts(state, seeds, guarantee_default=body.guarantee_default,
                                   control_rate=body.control_rate, holding_rate=body.holding_rate,
                                   min_score=body.min_score, limit=body.limit, sight=seen)

    @router.get("/firms/{key}/equity.svg", response_class=Response, responses={200: {"content": {SVG: {}}}})
    def equity_picture(request: Request, key: str,
                       focus: bool = Query(False, description="root the tree at the firm itself"),
                       depth: int | None = Query(None, ge=1, le=12), children: int = Query(8, ge=1, le=100)):
        """The equity tree from the firm's ultimate controller down, its control chain in red."""
        seen = sight(request)
        with service.reading() as state:
            return Response(equity_svg(state, key, focus=focus, depth=depth, children=children, sight=seen),
                            media_type=SVG)

    @router.get("/firms/{key}/guarantee-circle.svg", response_class=Response,
                responses={200: {"content": {SVG: {}}}})
    def circle_picture(request: Request, key: str,
                       depth: int = Query(2, ge=1, le=10, description="guarantee steps around the firm"),
                       max_nodes: int = Query(60, ge=2, le=1000)):
        """The firm's guarantee circle (or cluster); large ones show the firm's neighbourhood."""
        seen = sight(request)
        with service.reading() as state:
            return Response(guarantee_svg(state, key, depth=depth, max_nodes=max_nodes, sight=seen), media_type=SVG)

    return router
