"""My inbox: to do, to claim (my roles' unclaimed pool tasks), CC'd to me, overdue, done, and
the requests I started — each box a tab with its count, a page of 20 items with the amount (in
万/亿), subject, initiator and step by name, searched (subject, initiator or step text) and sorted
(due, received, amount) by the flow service (FlowService.inbox_page), the filters kept across
pages. Overdue items say by how long; `urge` is offered only where the engine allows it (the
initiator, on a running request with an open step that offers urge: FlowService.urgeable)."""
from __future__ import annotations

import math
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dsl.errors import words
from forms import FormSpec
from forms.i18n import in_wan_yi
from runtime.flows.queries import BOXES, INBOX_SORTS
from runtime.records.errors import RecordError
from runtime.records.listing import list_records
from runtime.web.alert_service import service_of
from runtime.web.flow import FlowPages
from runtime.web.flow_text import ftext, outcome_text
from runtime.web.text import when

TABS = BOXES + ("started",)
PAGE_SIZE = 20
SEARCH_MAX = 200          # people or subject records a search text may stand for


def short_time(text: str | None) -> str:
    """An ISO moment from the flow service on the bank's clock (runtime/web/text.py `when`)."""
    return when(text)


def amount_text(value: Any, lang: str) -> str:
    """An amount as a banker reads it: 6亿, 3,000万 (en: 600 million); small ones as they are."""
    if value in (None, ""):
        return ""
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return ""
    big = in_wan_yi(d, lang)
    if big:
        return big
    return f"{d.normalize():,f}"


def overdue_for(due: str | None, now: datetime, lang: str) -> str:
    """How long past its deadline: 2天3小时, 45分钟."""
    if not due:
        return ""
    at = datetime.fromisoformat(due)
    at = at if at.tzinfo else at.replace(tzinfo=timezone.utc)
    minutes = max(1, int((now - at).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = ([words("web.inbox.days", lang, n=days)] if days else []) + \
            ([words("web.inbox.hours", lang, n=hours)] if hours else [])
    if not parts:
        parts = [words("web.inbox.minutes", lang, n=mins)]
    return words("web.inbox.overdue_by", lang, time=("" if lang != "en" else " ").join(parts[:2]))


def amount_fields(fp: FlowPages, flows: dict[str, Any]) -> dict[str, str]:
    """{flow: its form's amount}: the money field named `amount`, else the form's first money field."""
    out = {}
    for name, flow in flows.items():
        doc = fp.web.live().bundle.get("Form", flow.form) if flow.form else None
        if doc is None:
            continue
        money = [f.name for f in FormSpec.of_form(doc).fields if f.field.type_name == "money"]
        if money:
            out[name] = "amount" if "amount" in money else money[0]
    return out


def search_match(fp: FlowPages, user: Any, q: str, flows: dict[str, Any]) -> dict:
    """What the text `q` stands for: steps and flows by label (zh or en), people by name, subject
    records by their search (in the person's scope) — the sets the service filters on."""
    needle = q.casefold()
    steps = [(name, n.id) for name, f in flows.items() for n in f.nodes
             if needle in (n.label.zh or "").casefold() or needle in (n.label.en or "").casefold()]
    matched_flows = [name for name, f in flows.items()
                     if needle in (f.meta.label.zh or "").casefold() or needle in (f.meta.label.en or "").casefold()]
    initiators = [name for name, _ in fp.directory.search(q, SEARCH_MAX)]
    subjects: list[str] = []
    web = fp.web
    for entity in sorted({f.subject for f in flows.values() if f.subject}):
        ent = web.live().entity(entity)
        try:
            found = list_records(web.records, entity, web.scope(user), search=q, limit=SEARCH_MAX)
        except RecordError:
            continue
        subjects += [str(it.get(ent.key) if ent.key else it["id"]) for it in found.items]
    return {"steps": steps, "flows": matched_flows, "initiators": initiators, "subjects": subjects}


def inbox_router(fp: FlowPages) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    web = fp.web

    @r.get("/ui/inbox")
    def inbox(request: Request, box: str = "mine", page: int = 1, q: str = "", sort: str = "due") -> HTMLResponse:
        lang, user = web.lang(request), web.user(request)
        if box not in TABS:
            box = "mine"
        if sort not in INBOX_SORTS:
            sort = "due"
        q = q.strip()[:100]
        page = max(1, min(page, 100000))
        offset = (page - 1) * PAGE_SIZE
        counts = dict(fp.service.inbox(user.name, "mine", limit=1)["counts"])
        fp.counted(user.name, counts)
        counts["started"] = fp.service.started(user.name, limit=0)["total"]
        flows = fp.current_flows()
        match = search_match(fp, user, q, flows) if q else None
        found = fp.service.inbox_page(user.name, box, limit=PAGE_SIZE, offset=offset, match=match, sort=sort,
                                      amount_fields=amount_fields(fp, flows))
        items = found["items"]
        entity_of = {n: f.subject for n, f in flows.items()}
        subjects: dict[str, dict[str, str]] = {}
        for it in items:
            entity = it.get("subject_entity") or entity_of.get(it["flow"])
            subjects.setdefault(entity or "", {})
            it["_entity"] = entity or ""
        for entity in list(subjects):
            subjects[entity] = fp.subject_labels(entity, [it.get("subject") for it in items if it["_entity"] == entity])
        names = fp.people([it.get("initiator") for it in items] + [it.get("by") for it in items])
        urgeable = fp.service.urgeable(user.name, [it["instance"] for it in items
                                                    if it.get("status") == "running"]) if box == "started" else set()
        now = fp.service.clock()
        rows = []
        for it in items:
            flow = flows.get(it["flow"])
            subject = it.get("subject")
            overdue = bool(it.get("overdue"))
            rows.append({
                "href": f"/ui/tasks/{it['task']}" if it.get("task") and box != "cc" else f"/ui/flow-instances/{it['instance']}",
                "instance": it["instance"], "version": it.get("instance_version"),
                "step": fp.node_label(flow, it.get("node"), lang) if it.get("node") else "",
                "flow": fp.flow_label(it["flow"], lang),
                "subject": subjects.get(it["_entity"], {}).get(str(subject), subject) if subject is not None else "—",
                "initiator": fp.who(it.get("initiator"), names, lang),
                "by": names.get(it.get("by") or "", it.get("by") or ""),
                "amount": amount_text(it.get("amount"), lang),
                "due": short_time(it.get("due_at")), "overdue": overdue,
                "overdue_for": overdue_for(it.get("due_at"), now, lang) if overdue else "",
                "at": short_time(it.get("created_at") or it.get("at")), "closed": short_time(it.get("closed_at")),
                "status": it.get("status"), "outcome": outcome_text(it["outcome"], lang) if it.get("outcome") else None,
                "pool": box == "pool", "urge": it["instance"] in urgeable,
            })
        total = found["total"]
        pages = max(1, math.ceil(total / PAGE_SIZE))
        keep = {k: v for k, v in (("q", q), ("sort", sort if sort != "due" else "")) if v}

        def link(**changes: Any) -> str:
            return "/ui/inbox?" + urlencode({"box": box, **keep, **changes})
        tabs = [(b, ftext("box_" + b, lang), counts[b], "/ui/inbox?" + urlencode({"box": b, **keep})) for b in TABS]
        sorts = [(s, words("web.inbox.sort_" + s, lang)) for s in INBOX_SORTS]
        alerts = service_of(web)
        scope = web.scope(user)
        open_alerts = alerts.open_counts(scope=scope, assigned_to=user.name)
        alert_note = {"mine": open_alerts["mine"], "overdue": open_alerts["overdue"]}
        return web.page(request, "flow_inbox.html", title=ftext("inbox", lang), box=box, tabs=tabs, rows=rows,
                        alert_note=alert_note,
                        page=page, pages=pages, total=total, first=offset + 1 if total else 0,
                        last=min(offset + PAGE_SIZE, total), ft=ftext, w=words, q=q, sort=sort, sorts=sorts,
                        prev_href=link(page=page - 1), next_href=link(page=page + 1), key=fp.new_key,
                        matched=words("web.inbox.matched", lang, q=q, n=total) if q else "")

    return r
