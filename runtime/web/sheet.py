"""The printable approval sheet of one request (/ui/flow-instances/{id}/print): the application's
fields by name, the route it took, the 审批意见 block (FlowService's instance view `opinions`: step,
person, decision, opinion, time) and the signatures (name and time of every decision), on an A4
page of its own — no navigation; static/print.css, a print button (static/print.js).

Who may open it is who may open the instance page (runtime/flows/access.py `can_see`): an instance
that does not exist or is out of reach is the same 404 as there; any other flow error keeps the
flow API's status, said in words."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dsl.bank_time import zone_name
from forms import read_view
from runtime.flows.access import can_see
from runtime.flows.store import FlowError
from runtime.web.flow import FlowPages
from runtime.web.flow_forms import read_tables, typed
from runtime.web.flow_text import WORDS, ftext, outcome_text
from runtime.web.inbox import short_time

SIGNED = ("approve", "reject", "complete", "return", "resubmit")     # decisions a person signs for


def sword(key: str, lang: str, **slots: Any) -> str:
    return ftext("sheet_" + key, lang, **slots)


def sheet_router(fp: FlowPages) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    web = fp.web

    @r.get("/ui/flow-instances/{instance_id}/print")
    def print_sheet(request: Request, instance_id: str) -> HTMLResponse:
        try:
            view = fp.service.instance(instance_id)
        except FlowError as exc:
            if exc.status == 404:
                return web.not_found(request, instance_id)
            return fp.refused(request, exc, "instance_unavailable")
        if not can_see(web, web.user(request), view):
            return web.not_found(request, instance_id)          # the very answer an unknown one gets
        try:
            return _sheet(request, fp, view)
        except FlowError as exc:
            return fp.refused(request, exc, "instance_unavailable")

    return r


def _sheet(request: Request, fp: FlowPages, view: dict) -> HTMLResponse:
    web = fp.web
    lang = web.lang(request)
    flow = fp.flow(view["flow"], view["deployment_version"])
    opinions = view.get("opinions") or []
    names = fp.people([view["initiator"]] + [o["person"] for o in opinions] + [o.get("for") for o in opinions]
                      + [o.get("to") for o in opinions if o.get("decision") in ("transfer", "delegate")])
    system = ftext("actor_system", lang)

    def person(name: str | None) -> str:
        return system if name == "system" else names.get(name or "", name or "")

    def step_label(o: dict) -> str:
        label = o.get("step_label")
        if label:
            return (label.get("en") if lang == "en" else label.get("zh")) or label.get("zh") or o["step"]
        return fp.node_label(flow, o.get("step"), lang)

    rows, signatures = [], []
    for o in opinions:
        decision = o.get("decision") or ""
        words = sword("dec_" + decision, lang) if "sheet_dec_" + decision in WORDS else decision
        if o.get("to") and decision == "return":
            target = sword("to", lang, step=fp.node_label(flow, o["to"], lang))
            words += f" ({target})" if lang == "en" else f"（{target}）"
        elif o.get("to") and decision in ("transfer", "delegate"):      # to whom the step went
            target = sword("to_person", lang, who=person(o["to"]))
            words += f" ({target})" if lang == "en" else f"（{target}）"
        who = person(o.get("person"))
        if o.get("for"):
            who += sword("for", lang, who=person(o["for"]))
        row = {"step": step_label(o), "person": who, "decision": words, "decision_code": decision,
               "opinion": o.get("opinion") or "", "at": short_time(o.get("at")) if o.get("at") else ""}
        rows.append(row)
        if decision in SIGNED:
            signatures.append(row)
    route = []
    for e in view.get("timeline") or ():
        if e["kind"] == "step_opened" and e.get("node"):
            label = fp.node_label(flow, e["node"], lang)
            if not route or route[-1] != label:
                route.append(label)
    if view["status"] != "running" and view.get("outcome"):
        route.append(sword("ended", lang, outcome=outcome_text(view["outcome"], lang)))
    spec = fp.form_spec(view["deployment_version"], flow.form)
    values = typed(spec, view["form"]) if spec is not None else {}
    labels = web.names.record_labels(spec.fields, [values], lang) if spec is not None else {}
    asked = web.names.sections(spec, read_view(spec, values, lang, tz=zone_name()), values, lang) \
        if spec is not None else []
    tables = read_tables(spec, values, lang, labels=labels) if spec is not None else []
    if spec is not None:                     # each sub-table under its own section's heading
        placed = {f: i for i, sec in enumerate(spec.sections) for f in sec.fields}
        asked = [(label, items, [t for t in tables if placed.get(t["name"]) == i])
                 for i, (label, items) in enumerate(asked)]
        tables = [t for t in tables if t["name"] not in placed]
    subject = view["subject"]
    key = subject.get("key")
    subject_title = fp.subject_labels(subject.get("entity"), [key]).get(str(key), "") if key is not None else ""
    flow_label = flow.meta.label.text(lang) or flow.name
    heading = (flow_label + "单" if flow_label.endswith("审批") else flow_label + sword("sheet", lang)) \
        if lang != "en" else f"{flow_label}: {sword('sheet', lang)}"
    status_text = ftext("status_" + view["status"], lang) if "status_" + view["status"] in WORDS else view["status"]
    where = "、".join(fp.node_label(flow, n, lang) for n in view["current_nodes"])
    html = web.env.get_template("flow_print.html").render(
        request=request, lang=lang, sw=sword, ft=ftext, view=view, flow_label=flow_label,
        title=heading, heading=heading, subject_title=subject_title, subject_key=key,
        initiator=names.get(view["initiator"], view["initiator"]), started=short_time(view["started_at"]),
        status_text=status_text, outcome=outcome_text(view["outcome"], lang) if view.get("outcome") else "",
        where=where, route=route, rows=rows, signatures=signatures, asked=asked, tables=tables,
        printed=short_time(datetime.now(timezone.utc).isoformat()))
    return HTMLResponse(html, media_type="text/html; charset=utf-8")
