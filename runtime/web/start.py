"""Start a flow: choose a flow you may start, find its subject record (a search in your org
scope — a plain GET form, so it works without JavaScript), fill the flow's form, see the route
preview ("who approves this if I submit now", refreshed with a button from what is typed so
far), submit. A refused start comes back as the page with the reason; a double click on
Submit starts one instance (the form carries an idempotency key)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from dsl.bank_time import zone_name
from dsl.errors import words
from forms import read_view, render_form
from forms.i18n import in_wan_yi
from runtime.deploy.live import UnknownEntity
from runtime.flows.access import subject_in_scope
from runtime.flows.form_check import InvalidForm
from runtime.flows.store import FlowError
from runtime.records.errors import RecordError
from runtime.records.listing import list_records
from runtime.web.context import redirect
from runtime.web.flow import FlowPages
from runtime.web.flow_forms import check_start, start_spec, start_values, with_problems
from runtime.web.flow_text import ftext, outcome_text, refusal, refusal_of
from runtime.web.forms import options_for, posted, submitted
from runtime.web.inbox import short_time
from runtime.web.text import text

SEARCH_LIMIT = 20


def may_start(user: Any, flow: Any) -> bool:
    """Flows whose start rule names a role the person holds (or that have no rule): the list to
    choose from. The engine decides for the chosen subject when the request is submitted."""
    if user.is_admin or flow.start_who is None:
        return True
    rule = flow.start_who.text
    return any(f"'{role}'" in rule or f'"{role}"' in rule for role, _ in user.roles)


def start_router(fp: FlowPages) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    web = fp.web

    @r.get("/ui/start")
    def choose(request: Request) -> HTMLResponse:
        lang, user = web.lang(request), web.user(request)
        flows = [(n, f.meta.label.text(lang) or n, f.meta.description or "",
                  web.live().entity(f.subject).meta.label.text(lang) if f.subject else "")
                 for n, f in sorted(fp.current_flows().items()) if may_start(user, f)]
        return web.page(request, "flow_start.html", title=ftext("start_flow", lang), flows=flows, flow=None, ft=ftext,
                        problem="")

    def subject_view(flow: Any, key: str, lang: str) -> tuple[dict, list] | None:
        try:
            record = web.records.find(flow.subject, key)
        except (RecordError, UnknownEntity):
            return None
        spec = web.spec(flow.subject)
        return record, web.names.sections(spec, read_view(spec, record, lang, tz=zone_name()), record, lang)

    def page(request: Request, name: str, flow: Any, *, subject: str = "", q: str = "", values=None, raw=None,
             outcome=None, status: int = 200, problem: str = "", preview: dict | None = None,
             extra_rows: dict | None = None) -> HTMLResponse:
        lang, user = web.lang(request), web.user(request)
        ctx: dict[str, Any] = {"flow": flow, "name": name, "q": q, "found": None, "subject": subject,
                               "subject_sections": None, "subject_title": "", "form_html": "", "preview": None,
                               "problem": problem, "entity_label": ""}
        if flow.subject:
            ent = web.live().entity(flow.subject)
            ctx["entity_label"] = ent.meta.label.text(lang) or flow.subject
            if not subject:
                ctx["found"] = _search(fp, user, flow.subject, q) if q else None
                return web.page(request, "flow_start.html", status, title=flow.meta.label.text(lang) or name, ft=ftext,
                                **ctx)
            seen = subject_view(flow, subject, lang)
            if seen is None or not subject_in_scope(web, user, flow.subject, subject, own=True):
                ctx["subject"], ctx["problem"] = "", ftext("subject_unknown", lang)
                return web.page(request, "flow_start.html", 404, title=flow.meta.label.text(lang) or name, ft=ftext,
                                **ctx)
            record, ctx["subject_sections"] = seen
            ctx["subject_title"] = str(record.get(ent.display) or subject) if ent.display else subject
        spec = _current_spec(fp, flow)
        hidden = {"csrf_token": request.session.get("csrf", ""), "subject": subject, "_request": fp.new_key()}
        if spec is not None:
            narrowed = start_spec(spec, flow)
            ctx["form_html"] = render_form(
                narrowed, values or {}, raw=raw, outcome=outcome, options=options_for(web, user, lang),
                action=f"/ui/start/{name}", hidden=hidden, submit_label=ftext("submit_request", lang),
                cancel_url="/ui/start", new=values is None,
                extra_rows=extra_rows if values is not None else {f.name: f.min_rows or 1 for f in narrowed.fields
                                                                   if f.is_table})
            ctx["form_id"] = "bf-" + narrowed.name
            if preview is None:
                first = check_start(narrowed, _defaults(narrowed), lang) if values is None else outcome
                preview = _preview(fp, name, user.name, subject, start_values(narrowed, first))
        else:
            ctx["form_id"] = "bf-start"
            ctx["hidden"] = hidden
            if preview is None:
                preview = _preview(fp, name, user.name, subject, {})
        ctx["preview"] = _shown_preview(fp, flow, preview, lang)
        return web.page(request, "flow_start.html", status, title=flow.meta.label.text(lang) or name, ft=ftext, **ctx)

    def flow_or_none(name: str) -> Any:
        return fp.current_flows().get(name)

    @r.get("/ui/start/{name}")
    def start_page(request: Request, name: str, subject: str = "", q: str = "") -> HTMLResponse:
        flow = flow_or_none(name)
        if flow is None:
            return web.not_found(request, name)
        return page(request, name, flow, subject=subject.strip()[:200], q=q.strip()[:100])

    @r.post("/ui/start/{name}")
    def start(request: Request, name: str, form: FormData = Depends(posted)) -> Response:
        lang, user = web.lang(request), web.user(request)
        flow = flow_or_none(name)
        if flow is None:
            return web.not_found(request, name)
        if not web.check_csrf(request, form):
            return web.denied(request, web_text_expired(lang))
        subject = str(form.get("subject") or "").strip()[:200]
        if flow.subject and not subject:
            return page(request, name, flow, status=422, problem=ftext("subject_unknown", lang))
        spec = _current_spec(fp, flow)
        action = str(form.get("_action") or "save")
        if spec is None:
            values, outcome, raw = {}, None, None
        else:
            narrowed = start_spec(spec, flow)
            raw = submitted(form)
            outcome = check_start(narrowed, raw, lang)
            values = start_values(narrowed, outcome)
        if action != "save":       # the preview button, "update the form", "add a row": nothing is started
            if outcome is not None:
                outcome.errors = []
            extra = {action.split(":", 1)[1]: 1} if action.startswith("add_row:") else None
            return page(request, name, flow, subject=subject, values=outcome.values if outcome else {}, raw=raw,
                        outcome=outcome, preview=_preview(fp, name, user.name, subject, values), extra_rows=extra)
        if flow.subject and not subject_in_scope(web, user, flow.subject, subject, own=True):
            return page(request, name, flow, status=404, problem=ftext("subject_unknown", lang))
        unread = outcome.unread if outcome is not None else []
        try:
            if unread:      # what the page could not read, with every other problem the service finds
                fp.service.check_start(name, form=values)
                raise InvalidForm([])
            view = fp.service.start(name, actor=user.name, subject=subject or None, form=values,
                                    request_id=fp.request_key(form))
        except InvalidForm as exc:      # the flow service's problems, by path: the same at every door
            if outcome is not None:
                with_problems(outcome, exc.problems, lang, unread)
            return page(request, name, flow, subject=subject, values=outcome.values if outcome else {}, raw=raw,
                        outcome=outcome, status=422, problem=ftext("form_has_errors", lang),
                        preview=_preview(fp, name, user.name, subject, values))
        except FlowError as exc:
            return page(request, name, flow, subject=subject, values=outcome.values if outcome else {}, raw=raw,
                        outcome=outcome, status=exc.status, problem=refusal_of(exc, lang),
                        preview=_preview(fp, name, user.name, subject, values))
        request.session["flash"] = ftext("started", lang)
        return redirect(f"/ui/flow-instances/{view['id']}")

    return r


def web_text_expired(lang: str) -> str:
    return text("signin_csrf", lang)


def _current_spec(fp: FlowPages, flow: Any):
    if flow.form is None:
        return None
    from forms import FormSpec
    doc = fp.web.live().bundle.get("Form", flow.form)
    return FormSpec.of_form(doc) if doc is not None else None


def _defaults(spec: Any):
    from forms import Submitted
    pairs = []
    for f in spec.fields:
        if f.editable and not f.is_table and f.field.default is not None:
            d = f.field.default
            if isinstance(d, bool):
                if d:
                    pairs.append((f.name, "true"))
            elif isinstance(d, (list, tuple)):
                pairs += [(f.name, str(v)) for v in d]
            else:
                pairs.append((f.name, str(d)))
    return Submitted.of(pairs)


def _search(fp: FlowPages, user: Any, entity: str, q: str) -> list[dict]:
    web = fp.web
    ent = web.live().entity(entity)
    try:
        found = list_records(web.records, entity, web.scope(user), search=q, limit=SEARCH_LIMIT, own=True)
    except RecordError:
        return []
    out = []
    for item in found.items:
        key = item.get(ent.key) if ent.key else item["id"]
        out.append({"key": str(key), "label": str(item.get(ent.display) or key) if ent.display else str(key)})
    return out


def _preview(fp: FlowPages, name: str, actor: str, subject: str, values: dict) -> dict:
    try:
        return fp.service.preview(name, actor=actor, subject=subject or None, form=values)
    except FlowError as exc:
        return {"steps": [], "outcome": None, "stopped": {"code": exc.code, "message": exc.message, "node": None}}


def _shown_preview(fp: FlowPages, flow: Any, preview: dict, lang: str) -> dict:
    names = fp.people(u for s in preview.get("steps", ()) for u in s.get("assignees", ()))
    steps = []
    for s in preview.get("steps", ()):
        mode = s.get("mode")
        if mode == "ratio":
            cs = getattr(flow.by_id.get(s["node"]), "countersign", None)
            ratio = str(cs.pass_ratio) if cs is not None and cs.pass_ratio is not None else ""
            mode_text = ftext("mode_ratio", lang, ratio=ratio)
        elif mode:
            mode_text = ftext("mode_" + mode, lang) if ("mode_" + mode) in _MODES else mode
        else:
            mode_text = ftext("subflow", lang, flow=fp.flow_label(s.get("flow", ""), lang)) if s.get("type") == "subflow" else ""
        steps.append({"round": s["round"], "label": s["label"].get(lang) or s["node"], "mode": mode_text,
                      "who": [names.get(u, u) for u in s.get("assignees", ())], "due": short_time(s.get("due"))})
    shown_ratios = _ratios(preview.get("concentration"), lang)
    stopped = preview.get("stopped")
    if stopped and stopped["code"] == "evaluation_failed":
        # a draft: the route beyond this point depends on what is not filled in yet (the start itself
        # checks the whole form and names each problem)
        return {"steps": steps, "outcome": None, "stopped": "", "pending": ftext("preview_pending", lang),
                "concentration": shown_ratios}
    outcome = outcome_text(preview["outcome"], lang) if preview.get("outcome") else None
    return {"steps": steps, "outcome": outcome, "concentration": shown_ratios,
            "stopped": refusal(stopped["code"], stopped["message"], lang) if stopped else ""}


def _pct(text: str) -> str:
    return f"{(Decimal(text) * 100).quantize(Decimal('0.01'))}%"


def _ratios(found: dict | None, lang: str) -> dict | None:
    """The concentration block of the preview (runtime/flows/preview.py) in words: each ratio against
    the YAML's limit, over-limit marked, and the capital figure used."""
    if not found:
        return None
    rows = [{"label": words("web.start.ratio_" + r["kind"], lang),
             "ratio": _pct(r["ratio"]) if r["ratio"] is not None else words("web.start.ratio_pending", lang),
             "limit": words("web.start.ratio_limit", lang, limit=_pct(r["limit"])), "over": r["over"],
             "verdict": words("web.start.over_limit" if r["over"] else "web.start.within_limit", lang)
             if r["ratio"] is not None else ""} for r in found["ratios"]]
    cap = found.get("capital")
    capital = words("web.start.capital_used", lang, period=cap["key"] or "", date=cap["effective_on"],
                    net=in_wan_yi(Decimal(cap["net_capital"]), lang), tier1=in_wan_yi(Decimal(cap["tier1_capital"]), lang)) \
        if cap else words("web.start.no_capital", lang)
    return {"title": words("web.start.concentration", lang), "rows": rows, "capital": capital}


_MODES = {"mode_single", "mode_any", "mode_all", "mode_sequential"}
