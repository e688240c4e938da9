"""The task page: the subject record, the flow's form under the step's field permissions
(editable / read-only / hidden), and exactly the actions the step allows. The step's primary
actions are buttons under the form — the decision (approve, reject, complete; resubmit and
withdraw at the initiator's edit step) with its comment, or claim for a pool task; the others
(return to only the legal steps, transfer, delegate, add or remove a signer, CC, comment) sit behind
one "更多操作" disclosure, each its own small form, one open at a time (exclusive <details>;
static/task.js closes the others where a browser does not). Transfer, delegate, add a signer and CC pick
people with the people picker (static/picker.js over /ui/people, runtime/web/lookup.py); without
JavaScript they are text inputs with a datalist of the people one may pick, and the forms post
user names either way. A flow that checks concentration limits shows the ratios
(runtime/web/ratios.py).

Every action form carries the CSRF token, a fresh idempotency key and the instance version
it was drawn from: a double click acts once; a page drawn before someone else acted gets
"someone acted first" and the fresh state. The person acts as themselves — the engine
refuses a task that is not theirs — and a task of an instance they may not see is a 404, the
same as an unknown one. Any other refusal gets the status the flow API gives it (`FlowError.status`,
runtime/flows/store.py) and its words on the page; the form it came from is open again."""
from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from dsl.bank_time import zone_name
from dsl.kinds.flow.ir import INITIATOR
from engine.flow.plan import plan_for
from forms import read_view, render_form
from runtime.deploy.live import UnknownEntity
from runtime.flows.access import can_see, may_act
from runtime.flows.form_check import InvalidForm
from runtime.flows.store import FlowError
from runtime.records.errors import RecordError
from runtime.web.context import redirect
from runtime.web.flow import FlowPages
from runtime.web.flow_forms import check_step, read_tables, start_spec, step_fields, step_spec, typed, with_problems
from runtime.web.flow_text import ftext, refusal, refusal_of
from runtime.web.forms import options_for, posted, submitted
from runtime.web.inbox import short_time
from runtime.web.lookup import pickable
from runtime.web.ratios import panel as concentration_panel
from runtime.web.text import text

DECISIONS = ("approve", "complete", "reject", "resubmit")
TASK_ACTIONS = ("claim", "return", "transfer", "delegate", "add_signer", "remove_signer", "cc", "comment", "withdraw")
PRIMARY = ("claim",)                         # beside the decisions, never behind "more"
PICKED = {"transfer": "single", "delegate": "single", "add_signer": "multi", "cc": "multi", "remove_signer": "single"}


def _form_spec(spec: Any, flow: Any, step: dict) -> Any:
    """The form at the task's step; at the initiator's edit step, the form as the initiator fills it."""
    return start_spec(spec, flow) if step["node"] == INITIATOR else step_spec(spec, step)
NEEDS_USER = {"transfer", "delegate", "remove_signer"}
USERS = re.compile(r"[\s,，、;；]+")


def task_router(fp: FlowPages) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    web = fp.web

    def load(request: Request, task_id: str) -> dict | None:
        """The task, its instance and step, or None when it does not exist or is out of the person's
        reach (both a 404); any other refusal (nothing deployed …) is raised as the FlowError it is."""
        user = web.user(request)
        try:
            data = fp.service.task(task_id)
        except FlowError as exc:
            if exc.status == 404:
                return None
            raise
        view = data["instance"]
        live = next((t for t in view["tasks"] if t["id"] == task_id), None)
        data["candidates"] = list(live["candidates"]) if live else []
        data["held"] = bool(live and live["held"])
        mine = user.name in (data["assignee"], data["owner"]) or user.name in data["candidates"]
        if not mine and not can_see(web, user, view):
            return None
        try:
            data["flow"] = fp.flow(view["flow"], view["deployment_version"])
        except FlowError as exc:
            if exc.status == 404:
                return None
            raise
        return data

    def page(request: Request, data: dict, *, raw=None, outcome=None, status: int = 200, problem: str = "",
             comment: str = "", extra_rows: dict | None = None, opened: str = "", posted: Any = None) -> HTMLResponse:
        lang, user = web.lang(request), web.user(request)
        view, step, flow = data["instance"], data["step"], data["flow"]
        task_id = data["task"]
        actionable = may_act(user, {"status": data["status"], "assignee": data["assignee"],
                                    "candidates": data["candidates"]}) and not data["held"]
        spec = fp.form_spec(view["deployment_version"], flow.form)
        base = {"csrf_token": request.session.get("csrf", ""), "_version": str(view["version"])}
        form_html, form_id, tables = "", "bf-task", []
        if spec is not None:
            narrowed = _form_spec(spec, flow, step) if actionable else step_spec(spec, {"fields": None})
            current = typed(spec, view["form"])
            if outcome is None:
                outcome = check_step(narrowed, current, None, step, lang, deciding=False)
                outcome.errors = []
            form_id = "bf-" + narrowed.name
            form_html = render_form(narrowed, outcome.values, raw=raw, outcome=outcome,
                                    options=options_for(web, user, lang, web.names.record_labels(spec.fields, [current], lang)),
                                    action=f"/ui/tasks/{task_id}",
                                    hidden={**base, "_request": fp.new_key()}, submit_label=ftext("act_comment", lang),
                                    extra_rows=extra_rows)
            access = (step.get("fields") or {}) if actionable else {}
            editable = set(access.get("editable", ()))
            if actionable and step["node"] == INITIATOR:        # the initiator edits the tables in the form itself
                editable |= {f.name for f in narrowed.fields if f.is_table}
            tables = read_tables(spec, current, lang, access.get("hidden", ()), editable,
                                 labels=web.names.record_labels(spec.fields, [current], lang))
        allowed = list(step["actions"])
        decisions = [a for a in DECISIONS if a in allowed] if actionable else []
        pool = data["assignee"] is None and user.name in data["candidates"] and data["status"] == "open"
        others = [a for a in TASK_ACTIONS if (a in allowed and actionable) or (a == "claim" and pool)]
        at_initiator = step["node"] == INITIATOR
        primary = [a for a in others if a in PRIMARY or (a == "withdraw" and at_initiator)]
        more = [a for a in others if a not in primary]
        people = pickable(web, user, lang) if any(a in PICKED for a in more) else []
        ratios = None
        if spec is not None and view.get("status") == "running":
            ratios = concentration_panel(web, flow, view, typed(spec, view["form"]), lang,
                                         lambda keys: fp.subject_labels("company", keys))
        subject = view["subject"]
        subject_sections, subject_title = [], subject.get("key") or ""
        if subject.get("entity") and subject.get("key") is not None:
            try:
                record = web.records.find(subject["entity"], subject["key"])
                ent = web.live().entity(subject["entity"])
                subject_spec = web.spec(subject["entity"])
                subject_sections = web.names.sections(subject_spec, read_view(subject_spec, record, lang, tz=zone_name()),
                                                      record, lang)
                subject_title = str(record.get(ent.display) or subject["key"]) if ent.display else subject["key"]
            except (RecordError, UnknownEntity):
                pass
        node = flow.by_id.get(step["node"])
        cs = step.get("countersign")
        signers = [t for t in view["tasks"] if t["node"] == step["node"]]
        names = fp.people([data["assignee"], data["owner"], view["initiator"]] + data["candidates"] +
                          [t["assignee"] for t in signers])
        notice = ""
        if data["status"] != "open":
            notice = ftext("task_closed", lang)
        elif data["held"]:
            notice = ftext("held", lang)
        elif not actionable:
            notice = ftext("not_yours", lang)
        title = f"{fp.node_label(flow, step['node'], lang)} · {subject_title}"
        return web.page(
            request, "flow_task.html", status, title=title, ft=ftext, task_id=task_id, data=data, view=view,
            step=step, flow_label=flow.meta.label.text(lang) or flow.name, node=node, form_html=form_html,
            form_id=form_id, base=base, decisions=decisions, primary=primary, more=more, problem=problem,
            comment=comment, opened=opened if opened in more else "", posted=posted or {}, picked=PICKED,
            people=people, ratios=ratios,
            notice=notice, subject_sections=subject_sections, subject_title=subject_title, cs=cs,
            signers=[(names.get(t["assignee"] or "", t["assignee"] or "—"), t["id"] == task_id) for t in signers],
            targets=[(n, ftext("to_initiator", lang) if n == INITIATOR else fp.node_label(flow, n, lang))
                     for n in plan_for(flow).return_targets(step["node"])],
            returned=_returned(data.get("returned"), fp, flow, lang),
            names=names, key=fp.new_key, has_form=spec is not None, tables=tables,
            due=short_time(data["due_at"]) if data.get("due_at") else "")

    @r.get("/ui/tasks/{instance_id}/{n}")
    def task_page(request: Request, instance_id: str, n: str) -> HTMLResponse:
        try:
            data = load(request, f"{instance_id}/{n}")
        except FlowError as exc:
            return fp.refused(request, exc, "task_unavailable")
        if data is None:
            return web.not_found(request, ftext("task_closed", web.lang(request)))
        return page(request, data)

    @r.post("/ui/tasks/{instance_id}/{n}")
    def act(request: Request, instance_id: str, n: str, form: FormData = Depends(posted)) -> Response:
        lang, user = web.lang(request), web.user(request)
        task_id = f"{instance_id}/{n}"
        try:
            data = load(request, task_id)
        except FlowError as exc:
            return fp.refused(request, exc, "task_unavailable")
        if data is None:
            return web.not_found(request, ftext("task_closed", lang))
        if not web.check_csrf(request, form):
            return web.denied(request, text("signin_csrf", lang))
        action = str(form.get("_action") or "")
        comment = str(form.get("comment") or "").strip()[:4000]
        step, view = data["step"], data["instance"]
        spec = fp.form_spec(view["deployment_version"], data["flow"].form)
        raw = outcome = None
        if spec is not None and (action in DECISIONS or action in ("save", "refresh") or action.startswith("add_row:")):
            narrowed = _form_spec(spec, data["flow"], step)
            raw = submitted(form)
            outcome = check_step(narrowed, typed(spec, view["form"]), raw, step, lang,
                                 deciding=action in ("approve", "complete"))
        if action not in DECISIONS + TASK_ACTIONS:     # Enter in a field, "update the form", "add a row": redraw
            if outcome is not None:
                outcome.errors = []
            extra = {action.split(":", 1)[1]: 1} if action.startswith("add_row:") else None
            return page(request, data, raw=raw, outcome=outcome, comment=comment, extra_rows=extra)
        allowed = set(step["actions"]) | ({"claim"} if data["assignee"] is None else set())
        if action not in allowed:
            return page(request, data, raw=raw, outcome=outcome, status=422, comment=comment, opened=action, posted=form,
                        problem=refusal("action_not_allowed", f"`{action}`", lang))
        if outcome is not None and action in DECISIONS and outcome.unread:     # what the page could not read
            with_problems(outcome, [], lang, outcome.unread)
            return page(request, data, raw=raw, outcome=outcome, status=422, comment=comment, opened=action, posted=form,
                        problem=ftext("form_has_errors", lang))
        params: dict[str, Any] = {"task": task_id} if action != "withdraw" else {}
        if action in DECISIONS:
            params.update(comment=comment or None, fields=step_fields(step, outcome) if outcome is not None else None)
        if action == "resubmit" and outcome is not None:    # every field of the initiator's, as edited
            params["form"] = {f.name: outcome.values.get(f.name) for f in narrowed.fields if f.editable}
        elif action in ("return", "transfer", "delegate", "add_signer"):
            params["comment"] = comment or None
        if action == "return":
            params["to"] = str(form.get("to") or "")
        elif action in ("transfer", "delegate"):
            params["to"] = str(form.get("to") or "").strip()
        elif action == "remove_signer":
            params["user"] = str(form.get("user") or "").strip()
        elif action in ("add_signer", "cc"):
            params["users"] = [u for u in USERS.split(str(form.get("users") or "")) if u][:20]
            if action == "add_signer":
                params["position"] = str(form.get("position") or "parallel")
        elif action == "comment":
            params["text"] = str(form.get("text") or comment).strip()[:4000]
        unknown = _unknown_people(fp, params.get("to") if action in NEEDS_USER else None,
                                  params.get("user"), *(params.get("users") or []))
        if unknown:
            return page(request, data, raw=raw, outcome=outcome, status=422, comment=comment, opened=action, posted=form,
                        problem=ftext("not_a_user", lang, names="、".join(unknown)))
        try:
            fp.service.act(instance_id, action, actor=user.name, request_id=fp.request_key(form),
                           expected_version=fp.version_of(form), **params)
        except InvalidForm as exc:      # the flow service's problems, by path: the same at every door
            if outcome is not None:
                with_problems(outcome, exc.problems, lang)
            return page(request, data, raw=raw, outcome=outcome, status=422, comment=comment, opened=action, posted=form,
                        problem=ftext("form_has_errors", lang) if outcome is not None else exc.render(lang))
        except FlowError as exc:
            try:
                fresh = load(request, task_id) or data
            except FlowError:
                fresh = data
            return page(request, fresh, raw=raw if exc.code not in ("stale_version", "conflict") else None,
                        outcome=outcome if exc.code not in ("stale_version", "conflict") else None,
                        status=exc.status, comment=comment, opened=action, posted=form,
                        problem=refusal_of(exc, lang))
        request.session["flash"] = ftext("done_ok", lang)
        if action == "claim":
            return redirect(f"/ui/tasks/{task_id}")
        return redirect(f"/ui/flow-instances/{instance_id}")

    return r


def _returned(returned: dict | None, fp: FlowPages, flow: Any, lang: str) -> str:
    """The note on the initiator's edit form: who returned the application, from where, why."""
    if not returned:
        return ""
    who = fp.people([returned["by"]]).get(returned["by"], returned["by"])
    return ftext("returned_note", lang, who=who, at=short_time(returned["at"]) if returned.get("at") else "",
               step=fp.node_label(flow, returned["node"], lang), comment=returned.get("comment") or "")


def _unknown_people(fp: FlowPages, *names: str | None) -> list[str]:
    wanted = [n for n in names if n]
    if not wanted:
        return []
    known = {n for n in wanted if fp.web.users.get(n) is not None}
    return [n for n in wanted if n not in known]
