"""A client's tier, explained: `/ui/tiering/{tiering}/{key}` — each dimension's score and weight,
the row of the decision table that hit and why each other did not (its condition traced, the
near misses), the caps, the tier's service package and the tier's history. Out of the reader's
org scope it is a 404, as the record is."""
from __future__ import annotations

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from dsl.errors import words
from runtime.tiering.explain import explain_subject, explanation_view
from runtime.web.alert_service import tiering_of
from runtime.web.context import WebContext
from runtime.web.text import when

HISTORY_SHOWN = 12


def tiering_pages(web: WebContext) -> APIRouter:
    r = APIRouter()

    @r.get("/ui/tiering/{name}/{key}")
    def tier_page(request: Request, name: str = Path(max_length=100), key: str = Path(max_length=200)) -> HTMLResponse:
        lang, user = web.lang(request), web.user(request)
        service = tiering_of(web)
        scope = web.scope(user)
        tiering, exp, about = explain_subject(service, key, name=name, scope=scope)     # out of scope: 404 in words
        view = explanation_view(tiering, exp, about, lang)
        _, rows = service.history(name, key, HISTORY_SHOWN)

        def label(t: str | None) -> str:
            found = tiering.tier(t) if t else None
            return (found.label.text(lang) or found.name) if found is not None else "—"
        history = [{"at": when(r["at"]), "from": label(r["previous"]), "to": label(r["tier"]),
                    "problem": words(f"tiering.problem.{r['problem']}", lang, rules="", dimensions="")
                    if r["problem"] else "", "reason": r["reason"].get(lang) or r["reason"].get("zh") or "",
                    "score": r["details"].get("score") or "—", "by": r["actor"]} for r in rows]
        subject = view["subject"]
        return web.page(request, "tier_explain.html", title=f"{subject['name'] or subject['key']} · {view['label']}",
                        view=view, history=history, record=f"/ui/e/{about['entity']}/{about['id']}", w=words)

    return r
