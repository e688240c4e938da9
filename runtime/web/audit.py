"""The auditor's page `/ui/audit`, read only: who did what, when (bank time), to which record —
filtered by actor, action, record type, record (a key or a record number) and a range of days,
in pages, exported as CSV or XLSX (the export helpers of runtime/records/tabular_export.py, which
write a cell a spreadsheet would run as a formula as text). People by name, actions in words.

And a record's change history (修改记录) on its detail page: its latest entries, with the fields
that changed from → to (`history`, used by runtime/web/records.py).

The permission is `audit.read` (the `auditor` role, configs/roles/auditor.yaml; an administrator
holds every permission); anyone else gets the door's 403 in words. The query is
runtime/audit/search.py's, the filters and the wording runtime/http/audit.py's (shared with
`GET /audit`)."""
from __future__ import annotations

import io
import math
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from dsl.errors import words
from runtime.audit.search import AuditQuery, distinct, iter_search, search
from runtime.auth.permissions import MissingPermission
from runtime.http.audit import PERMISSION, BadAuditFilter, audit_query
from runtime.http.transfer import XLSX, _download
from runtime.records.audit_text import AuditView, action_text
from runtime.records.tabular_export import csv_chunks, write_xlsx
from runtime.web.context import NavItem, WebContext, register_nav

PAGE_SIZE = 50
HISTORY_SIZE = 10
FILTERS = ("actor", "action", "entity", "record", "from", "to")


def history(web: WebContext, user: Any, entity: str, record_id: int, lang: str) -> list[dict]:
    """The latest entries about one record (its change history), as people read them, with
    personal fields masked for a reader who may not see them."""
    recs = web.records
    who = web.scope(user)
    found = search(recs.engine, AuditQuery(entity=entity, record_id=record_id), limit=HISTORY_SIZE,
                   personal=recs.masked_personal(who))
    return AuditView(recs, lang, who).rows(found.entries)


def audit_pages(web: WebContext) -> APIRouter:
    r = APIRouter()
    register_nav(NavItem("audit", {"zh": "审计日志", "en": "Audit log"}, "/ui/audit", 85, PERMISSION))

    def allowed(request: Request) -> Any:
        user = web.user(request)
        if not user.can(PERMISSION):
            raise MissingPermission(PERMISSION)         # a 403 that says the action in words
        return user

    def filters_of(request: Request) -> dict[str, str]:
        return {k: (request.query_params.get(k) or "").strip()[:200] for k in FILTERS}

    @r.get("/ui/audit")
    def audit_page(request: Request, page: int = 1) -> HTMLResponse:
        user, lang = allowed(request), web.lang(request)
        recs = web.records
        recs.refresh()
        given = filters_of(request)
        who = web.scope(user)
        view = AuditView(recs, lang, who)
        problem, rows, total = "", [], 0
        page = max(1, min(page, 10**6))
        try:
            q = audit_query(recs, given, who)
            found = search(recs.engine, q, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
                           personal=recs.masked_personal(who))
            rows, total = view.rows(found.entries), found.total
        except BadAuditFilter as exc:
            problem = exc.render(lang)
        actions, entities, actors = (distinct(recs.engine, c) for c in ("action", "entity", "actor"))
        names = view.people.display_names(actors)
        keep = "&".join(f"{k}={quote(v, safe='')}" for k, v in given.items() if v)
        return web.page(request, "audit.html", title=words("audit.page.title", lang), rows=rows, total=total,
                        page=page, pages=max(1, math.ceil(total / PAGE_SIZE)), given=given, problem=problem,
                        actions=[(a, action_text(a, lang)) for a in actions],
                        entities=[(e, view.entity_label(e)) for e in entities],
                        actors=[(a, names.get(a, a)) for a in actors], keep=keep + "&" if keep else "")

    @r.get("/ui/audit/export")
    def audit_export(request: Request, format: str = "xlsx") -> Response:
        user, lang = allowed(request), web.lang(request)
        recs = web.records
        recs.refresh()
        who = web.scope(user)
        q = audit_query(recs, filters_of(request), who)       # a bad filter: the door's 422 in words
        view = AuditView(recs, lang, who)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M")
        name = f"{words('audit.page.title', lang)}-{stamp}"

        names, header, rows = view.table(iter_search(recs.engine, q, personal=recs.masked_personal(who)))
        if format == "csv":
            return StreamingResponse(csv_chunks(names, rows, bom=True, header=header), media_type="text/csv; charset=utf-8",
                                     headers=_download(f"{name}.csv"))
        buf = io.BytesIO()
        write_xlsx(buf, words("audit.page.title", lang), names, rows, header=header,
                   widths={"seq": 8, "when": 20, "actor_name": 14, "actor": 14, "action_text": 18,
                           "entity_label": 16, "record": 18, "changes": 80})
        return Response(buf.getvalue(), media_type=XLSX, headers=_download(f"{name}.xlsx"))

    return r
