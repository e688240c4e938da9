"""My inbox: to do, to claim (my roles' unclaimed pool tasks), CC'd to me, overdue, done, and
the requests I started — each box a tab with its count, a page of items, the oldest deadline
first."""
from __future__ import annotations

import math

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from runtime.flows.queries import BOXES
from runtime.web.flow import PAGE_SIZE, FlowPages
from runtime.web.flow_text import ftext, outcome_text
from runtime.web.text import when

TABS = BOXES + ("started",)


def short_time(text: str | None) -> str:
    """An ISO moment from the flow service on the bank's clock (runtime/web/text.py `when`)."""
    return when(text)


def inbox_router(fp: FlowPages) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    web = fp.web

    @r.get("/ui/inbox")
    def inbox(request: Request, box: str = "mine", page: int = 1) -> HTMLResponse:
        lang, user = web.lang(request), web.user(request)
        if box not in TABS:
            box = "mine"
        page = max(1, min(page, 100000))
        offset = (page - 1) * PAGE_SIZE
        started = fp.service.started(user.name, limit=PAGE_SIZE if box == "started" else 0, offset=offset)
        found = fp.service.inbox(user.name, "mine" if box == "started" else box,    # the counts, and a box's page
                                 limit=1 if box == "started" else PAGE_SIZE, offset=0 if box == "started" else offset)
        counts = {**found["counts"], "started": started["total"]}
        fp.counted(user.name, found["counts"])
        items = started["items"] if box == "started" else found["items"]
        flows = fp.current_flows()
        entity_of = {n: f.subject for n, f in flows.items()}
        subjects: dict[str, dict[str, str]] = {}
        for it in items:
            entity = it.get("subject_entity") or entity_of.get(it["flow"])
            subjects.setdefault(entity or "", {})
            it["_entity"] = entity or ""
        for entity in list(subjects):
            subjects[entity] = fp.subject_labels(entity, [it.get("subject") for it in items if it["_entity"] == entity])
        names = fp.people([it.get("initiator") for it in items] + [it.get("by") for it in items])
        rows = []
        for it in items:
            flow = flows.get(it["flow"])
            subject = it.get("subject")
            rows.append({
                "href": f"/ui/tasks/{it['task']}" if it.get("task") and box != "cc" else f"/ui/flow-instances/{it['instance']}",
                "step": fp.node_label(flow, it.get("node"), lang) if it.get("node") else "",
                "flow": fp.flow_label(it["flow"], lang),
                "subject": subjects.get(it["_entity"], {}).get(str(subject), subject) if subject is not None else "—",
                "initiator": names.get(it.get("initiator") or "", it.get("initiator") or ""),
                "by": names.get(it.get("by") or "", it.get("by") or ""),
                "due": short_time(it.get("due_at")), "overdue": bool(it.get("overdue")),
                "at": short_time(it.get("created_at") or it.get("at")), "closed": short_time(it.get("closed_at")),
                "status": it.get("status"), "outcome": outcome_text(it["outcome"], lang) if it.get("outcome") else None,
                "pool": box == "pool",
            })
        total = counts[box]
        pages = max(1, math.ceil(total / PAGE_SIZE))
        tabs = [(b, ftext("box_" + b, lang), counts[b]) for b in TABS]
        return web.page(request, "flow_inbox.html", title=ftext("inbox", lang), box=box, tabs=tabs, rows=rows,
                        page=page, pages=pages, total=total, first=offset + 1 if total else 0,
                        last=min(offset + PAGE_SIZE, total), ft=ftext)

    return r
