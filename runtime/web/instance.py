"""The instance page: where a request stands (status, outcome, the open tasks and who holds
them), the flow diagram with the current steps highlighted (an SVG of the deployment the
instance runs on, served under /ui with the page's own check), what was asked, the timeline,
and what may be done to the whole request — withdraw, urge, CC, comment, cancel — each a
small form with CSRF, an idempotency key and the version it was drawn from. An instance that
does not exist or is out of reach is a 404; any other flow error keeps the flow API's status and
is said in words."""
from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from dsl.bank_time import zone_name
from dsl.kinds.flow.ir import INITIATOR
from engine.flow.commands import SYSTEM
from forms import read_view
from runtime.flows.access import can_see
from runtime.flows.store import FlowError
from runtime.web.context import redirect
from runtime.web.flow import FlowPages
from runtime.web.flow_forms import read_tables, typed
from runtime.web.flow_text import WORDS, ftext, outcome_text, refusal, refusal_of
from runtime.web.forms import posted
from runtime.web.inbox import short_time
from runtime.web.lookup import pickable
from runtime.web.text import text

INSTANCE_ACTIONS = ("withdraw", "urge", "cc", "comment", "cancel")
USERS = re.compile(r"[\s,，、;；]+")
PEOPLE_KEYS = ("to", "by", "users", "user")          # the data of an event that names people
DETAIL_KEYS = ("why", "comment", "to", "by", "users", "user", "text", "message", "reason", "outcome", "verdict")


def instance_router(fp: FlowPages) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    web = fp.web

    def load(request: Request, instance_id: str) -> dict | None:
        """The instance, or None when it does not exist or is out of the person's reach (both a
        404); any other refusal is raised as the FlowError it is."""
        try:
            view = fp.service.instance(instance_id)
        except FlowError as exc:
            if exc.status == 404:
                return None
            raise
        return view if can_see(web, web.user(request), view) else None

    def page(request: Request, view: dict, *, status: int = 200, problem: str = "") -> HTMLResponse:
        lang, user = web.lang(request), web.user(request)
        flow = fp.flow(view["flow"], view["deployment_version"])
        named = [v for e in view["timeline"] for k, v in (e.get("data") or {}).items() if k in PEOPLE_KEYS]
        names = fp.people([view["initiator"]] + [e["actor"] for e in view["timeline"] if e["actor"] != SYSTEM] +
                          [t["assignee"] for t in view["tasks"]] + [c for t in view["tasks"] for c in t["candidates"]] +
                          [t["owner"] for t in view["tasks"] if t["owner"]] +
                          [u for v in named for u in (v if isinstance(v, list) else [v]) if isinstance(u, str)])
        tasks = [{"id": t["id"], "step": fp.node_label(flow, t["node"], lang),
                  "who": [names.get(t["assignee"], t["assignee"])] if t["assignee"]
                  else [names.get(c, c) for c in t["candidates"]],
                  "mine": t["assignee"] == user.name or (t["assignee"] is None and user.name in t["candidates"]),
                  "held": t["held"],
                  "for_owner": names.get(t["owner"], t["owner"]) if t["owner"] and t["owner"] != t["assignee"] else ""}
                 for t in view["tasks"]]
        timeline = []
        for e in view["timeline"]:
            detail = {k: v for k, v in (e.get("data") or {}).items() if k in DETAIL_KEYS and v not in (None, "", [])}
            for k, v in detail.items():         # a step by its label, a person by their name
                if k == "to" and isinstance(v, str) and (v in flow.by_id or v == INITIATOR):
                    detail[k] = fp.node_label(flow, v, lang)
                elif k in PEOPLE_KEYS:
                    detail[k] = [names.get(u, u) for u in v] if isinstance(v, list) else names.get(v, v)
                elif k == "outcome":
                    detail[k] = outcome_text(v, lang)
                elif k == "why":                # why a task was cancelled, in words
                    detail[k] = ftext(f"why_{v}", lang) if f"why_{v}" in WORDS else ftext("why_other", lang)
            who = ftext("actor_system", lang) if e["actor"] == SYSTEM else names.get(e["actor"], e["actor"])
            timeline.append({"at": short_time(e["at"]), "who": who,
                             "what": ftext("ev_" + e["kind"], lang) if "ev_" + e["kind"] in WORDS else e["kind"],
                             "kind": e["kind"], "step": fp.node_label(flow, e.get("node"), lang) if e.get("node") else "",
                             "detail": "；".join(f"{v if not isinstance(v, list) else '、'.join(map(str, v))}"
                                                for v in detail.values())})
        spec = fp.form_spec(view["deployment_version"], flow.form)
        values = typed(spec, view["form"]) if spec is not None else {}
        asked = web.names.sections(spec, read_view(spec, values, lang, tz=zone_name()), values, lang) \
            if spec is not None else []
        tables = read_tables(spec, values, lang, labels=web.names.record_labels(spec.fields, [values], lang)) \
            if spec is not None else []
        subject = view["subject"]
        subject_title = fp.subject_labels(subject.get("entity"), [subject.get("key")]).get(str(subject.get("key")), "") \
            if subject.get("key") is not None else ""
        where = "、".join(fp.node_label(flow, n, lang) for n in view["current_nodes"]) or ftext("ended", lang)
        running = view["status"] == "running"
        took_part = user.name == view["initiator"] or any(e["actor"] == user.name for e in view["timeline"])
        actions = []
        if running:
            if took_part:
                actions.append("withdraw")
            if user.name == view["initiator"]:
                actions += ["urge", "cc"]
            actions.append("comment")
            if user.name == view["initiator"]:
                actions.append("cancel")
        title = f"{flow.meta.label.text(lang) or flow.name} · {subject_title or subject.get('key') or view['id']}"
        return web.page(request, "flow_instance.html", status, title=title, ft=ftext, outcome_text=outcome_text,
                        view=view, tasks=tasks, timeline=timeline, asked=asked, tables=tables, where=where,
                        actions=actions, problem=problem,
                        people=pickable(web, user, lang) if "cc" in actions else [],
                        initiator=fp.who(view["initiator"], names, lang),
                        started=short_time(view["started_at"]), key=fp.new_key,
                        diagram_alt=ftext("diagram_alt", lang, flow=flow.meta.label.text(lang) or flow.name,
                                          where=where),
                        status_text=ftext("status_" + view["status"], lang)
                        if "status_" + view["status"] in WORDS else view["status"])

    @r.get("/ui/flow-instances/{instance_id}")
    def instance_page(request: Request, instance_id: str) -> HTMLResponse:
        try:
            view = load(request, instance_id)
            if view is None:
                return web.not_found(request, instance_id)
            return page(request, view)
        except FlowError as exc:
            return fp.refused(request, exc, "instance_unavailable")

    @r.get("/ui/flow-instances/{instance_id}/graph.svg")
    def graph(request: Request, instance_id: str) -> Response:
        from engine.flow.svg import flow_svg
        try:
            view = load(request, instance_id)
            if view is None:
                return Response("not found", status_code=404, media_type="text/plain")
            flow = fp.flow(view["flow"], view["deployment_version"])
        except FlowError as exc:
            return Response(refusal_of(exc, web.lang(request)), status_code=exc.status,
                            media_type="text/plain; charset=utf-8")
        return Response(flow_svg(flow, current=view["current_nodes"], lang=web.lang(request), events=view["timeline"]),
                        media_type="image/svg+xml")

    @r.post("/ui/flow-instances/{instance_id}")
    def act(request: Request, instance_id: str, form: FormData = Depends(posted)) -> Response:
        lang, user = web.lang(request), web.user(request)
        try:
            view = load(request, instance_id)
            if view is None:
                return web.not_found(request, instance_id)
            return _act(request, form, view, lang, user)
        except FlowError as exc:
            return fp.refused(request, exc, "instance_unavailable")

    def _act(request: Request, form: FormData, view: dict, lang: str, user: Any) -> Response:
        instance_id = view["id"]
        if not web.check_csrf(request, form):
            return web.denied(request, text("signin_csrf", lang))
        action = str(form.get("_action") or "")
        if action not in INSTANCE_ACTIONS:
            return page(request, view, status=422, problem=refusal("action_not_allowed", f"`{action}`", lang))
        params: dict[str, Any] = {}
        if action == "comment":
            params["text"] = str(form.get("text") or "").strip()[:4000]
        elif action == "urge":
            params["message"] = str(form.get("message") or "").strip()[:1000] or None
        elif action == "cancel":
            params["reason"] = str(form.get("reason") or "").strip()[:1000] or None
        elif action == "cc":
            users = [u for u in USERS.split(str(form.get("users") or "")) if u][:20]
            unknown = [u for u in users if web.users.get(u) is None]
            if unknown:
                return page(request, view, status=422, problem=ftext("not_a_user", lang, names="、".join(unknown)))
            params["users"] = users
        try:
            fp.service.act(instance_id, action, actor=user.name, request_id=fp.request_key(form),
                           expected_version=fp.version_of(form), **params)
        except FlowError as exc:
            fresh = load(request, instance_id) or view
            return page(request, fresh, status=exc.status, problem=refusal_of(exc, lang))
        request.session["flash"] = ftext("done_ok", lang)
        return redirect(f"/ui/flow-instances/{instance_id}")

    return r
