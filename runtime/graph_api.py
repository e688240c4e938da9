"""HTTP endpoints of the relationship graph (`/graph/...`), included by `runtime.api.create_app`.

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

from .auth.scope import Scope
from .db import ConfigError
from .graph_facts import circles, contagion_facts, equity_svg, firm_facts, guarantee_svg, status
from .graph_group import group_facts
from .graph_load import GraphUnavailable
from .graph_service import graph_service
from .graph_settings import bank_settings
from .records import Records

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
    router = APIRouter(prefix="/graph", tags=["graph"])
    service = graph_service(engine, records)

    def settings():
        try:
            return bank_settings()
        except ConfigError as exc:
            raise GraphUnavailable(f"bank settings: {exc}") from exc

    @router.get("/status")
    def graph_status() -> dict:
        """What the cached graph holds and how it was last brought up to date."""
        with service.reading() as state:
            return status(state, service.last_update)

    @router.get("/firms/{key}")
    def firm(key: str, threshold: float = Query(0.25, ge=0.0, le=1.0, description="beneficial-owner threshold"),
             inclusive: bool = Query(True, description="true: share >= threshold (2024 rules); false: >"),
             top: int = Query(10, ge=1, le=1000, description="how many effective holdings to list")) -> dict:
        """Circle membership, mutual guarantees, guarantees given and received, guarantor load,
        ultimate controller with its control chain, beneficial owners, top effective holdings."""
        with service.reading() as state:
            return firm_facts(state, key, threshold=threshold, inclusive=inclusive, top=top)

    @router.get("/groups/{code}")
    def group(code: str) -> dict:
        """Declared vs proposed members (suggestions with evidence, never applied), circles
        touching the group and those spanning several groups, exposure ratios."""
        row = records.find("group", code)
        bank = settings()
        with service.reading() as state:
            return group_facts(state, row, bank)

    @router.get("/circles")
    def all_circles(min_size: int = Query(2, ge=2)) -> list[dict]:
        """Every guarantee circle, largest first, with the groups it spans."""
        with service.reading() as state:
            return circles(state, min_size)

    @router.post("/contagion")
    def contagion(body: ContagionRequest) -> dict:
        """Firms reached from the distressed ones through guarantees and control, each with its
        score p(v) and the strongest path that explains it."""
        seeds = body.distressed if isinstance(body.distressed, dict) else dict.fromkeys(body.distressed, 1.0)
        with service.reading() as state:
            return contagion_facts(state, seeds, guarantee_default=body.guarantee_default,
                                   control_rate=body.control_rate, holding_rate=body.holding_rate,
                                   min_score=body.min_score, limit=body.limit)

    @router.get("/firms/{key}/equity.svg", response_class=Response, responses={200: {"content": {SVG: {}}}})
    def equity_picture(key: str, focus: bool = Query(False, description="root the tree at the firm itself"),
                       depth: int | None = Query(None, ge=1, le=12), children: int = Query(8, ge=1, le=100)):
        """The equity tree from the firm's ultimate controller down, its control chain in red."""
        with service.reading() as state:
            return Response(equity_svg(state, key, focus=focus, depth=depth, children=children), media_type=SVG)

    @router.get("/firms/{key}/guarantee-circle.svg", response_class=Response,
                responses={200: {"content": {SVG: {}}}})
    def circle_picture(key: str, depth: int = Query(2, ge=1, le=10, description="guarantee steps around the firm"),
                       max_nodes: int = Query(60, ge=2, le=1000)):
        """The firm's guarantee circle (or cluster); large ones show the firm's neighbourhood."""
        with service.reading() as state:
            return Response(guarantee_svg(state, key, depth=depth, max_nodes=max_nodes), media_type=SVG)

    return router
