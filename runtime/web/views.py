"""The 360° view pages (`/ui/views/{view}/{key}`): a View document rendered for the signed-in
person from the views room's answer (runtime/views/service.py) — the same data the API sends at
`GET /views/{view}/{key}` — in their language, cut to their org scope. A subject they may not read
is the page an unknown one gets (404). The pictures (equity tree, guarantee network) are drawn by
static/view.js with the vendored ECharts (static/vendor/echarts, no CDN) from the data embedded in
the page, each with a table saying the same beside it."""
from __future__ import annotations

import json
from typing import Any, Mapping

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dsl.errors import words
from runtime.records.errors import NotFound
from runtime.tiering.portfolio import tier_summary
from runtime.views.service import ViewService
from runtime.views.words import vtext
from runtime.web.alert_service import tiering_of
from runtime.web.context import WebContext
from runtime.web.text import text

WORDS = ("other_clients", "more_firms",
         "equity_focus", "equity_focus_none", "equity_expand", "equity_collapse", "focused", "chart_hint",
         "legend_member", "legend_outside", "legend_hidden", "legend_circle", "legend_person", "other_client",
         "guarantee_hint", "share", "amount", "table_behind")


def pages_of(request: Request) -> dict[str, int]:
    """`?page=members:2&page=loans:3` → {"members": 2, "loans": 3} (a bad value is page 1)."""
    out: dict[str, int] = {}
    for item in request.query_params.getlist("page"):
        sid, _, number = item.partition(":")
        if sid and number.isdigit():
            out[sid[:100]] = max(1, min(int(number), 100_000))
    return out


def roles_of(user: Any) -> frozenset[str] | None:
    """The roles whose sections the person sees (None: every section — an administrator)."""
    return None if user.is_admin else frozenset(r for r, _ in user.roles)


def pictures(answer: Mapping[str, Any], lang: str) -> str:
    """The pictures' data for static/view.js (JSON in a non-executed script element)."""
    data = {s["id"]: {"graph": s.get("graph"), "tree": s.get("tree"), "network": s.get("network")}
            for s in answer["sections"] if s["type"] == "graph" and not s.get("unavailable")}
    words = {k: vtext(k, lang) for k in WORDS}
    return json.dumps({"charts": data, "words": words, "lang": lang}, ensure_ascii=False).replace("</", "<\\/")


def view_pages(web: WebContext, service: ViewService | None = None) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    views = service or ViewService(web.engine, web.records)

    @r.get("/ui/views/{view}/{key}")
    def view_page(request: Request, view: str, key: str) -> HTMLResponse:
        lang, user = web.lang(request), web.user(request)
        try:
            answer = views.page(view, key, scope=web.scope(user), lang=lang, roles=roles_of(user),
                                pages=pages_of(request))
        except NotFound:
            return web.not_found(request, text("no_such_record", lang))
        subject = answer.get("subject") or {}
        tier = tier_summary(tiering_of(web), subject.get("entity", ""),
                            subject.get("key") or key, lang) if subject.get("entity") else None
        return web.page(request, "view.html", title=answer["title"], view=answer, vt=vtext,
                        pictures=pictures(answer, lang), tier=tier, w=words)

    return r


def view_links(web: WebContext, entity: str, record: Mapping[str, Any], key_field: str | None,
               lang: str) -> list[tuple[str, str]]:
    """(label, url) of the deployed views about `entity`, for its record page."""
    key = record.get(key_field) if key_field else record.get("id")
    found = []
    for (kind, name), doc in sorted(web.live().bundle.documents.items()):
        if kind == "View" and getattr(doc, "subject", None) == entity and key is not None:
            found.append((doc.meta.label.text(lang) or name, f"/ui/views/{name}/{key}"))
    return found
