"""The alert centre `/ui/alerts` and an alert's page `/ui/alerts/{id}` (issue 13): the alerts on
the records the reader may read (the alert service cuts them with the one scope decision), with
counts per grade, filters by grade, status and rule; names, not codes — the rule's label, the
client's or group's name, the grade and each step of the timeline in words. Another branch's
alert is the 404 an unknown one gets. The menu's badge counts the reader's open red alerts."""
from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from dsl.bank_time import moment_text
from dsl.errors import words
from dsl.link import CIRCLE, CIRCLE_FIRM
from forms.display import value_text
from runtime.alerts.explain import explain_subject, explanation_view
from runtime.alerts.notify import GRADE_LABELS, grade_label
from runtime.alerts.reading import ORDERS
from runtime.alerts.store import AlertError
from runtime.auth.people import PeopleDirectory
from runtime.auth.permissions import MissingPermission
from runtime.http.params import DbId
from runtime.records.listing import record_labels
from runtime.web.alert_service import service_of
from runtime.web.context import NavItem, WebContext, redirect, register_nav
from runtime.web.forms import posted
from runtime.web.lookup import pickable
from runtime.web.text import text

GRADES = ("red", "orange", "yellow")
OPPORTUNITY = "opportunity"              # the chip and CSS class of an `opportunity` rule's alerts
STATUSES = ("open", "lifted", "closed", "all")
LIMIT = 500


def record_alerts(web: WebContext, entity: str, record_id: int, lang: str) -> list[dict]:
    """The open alerts on one record, and on the guarantee circles a company is in (its detail page
    shows them; the page has checked its scope, and a circle's alert is seen by its members' readers)."""
    docs = {n: d for (k, n), d in web.records.refresh().bundle.documents.items() if k == "AlertRule"}
    rules = {n: d.meta.label.text(lang) or n for n, d in docs.items()}
    out = []
    service = service_of(web)
    found = service.list(status="open", subject=(entity, record_id), limit=50)
    if entity == CIRCLE_FIRM:
        found += service.list(status="open", member=record_id, limit=50)
    for a in found:
        category = getattr(docs.get(a["rule"]), "category", None)
        out.append({"id": a["id"], "grade": a["grade"], "grade_text": grade_label(a["grade"], category)[lang],
                    "kind": OPPORTUNITY if category == OPPORTUNITY else a["grade"],
                    "rule_text": rules.get(a["rule"], a["rule"]),
                    "text": a["message"].get(lang) or a["message"].get("zh") or "",
                    "due": moment_text(a["due_at"]) if a["due_at"] else ""})
    return out


def alert_pages(web: WebContext) -> APIRouter:
    r = APIRouter()
    service = service_of(web)

    def red_count(page_web: WebContext, user: Any) -> int | None:
        """Counted by the app that renders the page (NAV is shared by every app of the process)."""
        return service_of(page_web).count(status="open", grade="red", scope=page_web.scope(user)) or None

    register_nav(NavItem("alerts", {"zh": "预警中心", "en": "Alerts"}, "/ui/alerts", 20, None, red_count))

    def rule_labels(lang: str) -> dict[str, str]:
        live = web.records.refresh()
        return {n: d.meta.label.text(lang) or n for (k, n), d in live.bundle.documents.items() if k == "AlertRule"}

    def entity_label(entity: str, lang: str) -> str:
        if entity == CIRCLE:
            return words("alerts.page.circle", lang)
        ent = web.records.refresh().bundle.entities.get(entity)
        return ent.meta.label.text(lang) if ent is not None else entity

    def categories() -> dict[str, str]:
        live = web.records.refresh()
        return {n: d.category for (k, n), d in live.bundle.documents.items() if k == "AlertRule"}

    def view(a: dict, lang: str, names: dict, rules: dict) -> dict:
        subject = a["subject"]
        category = categories().get(a["rule"])
        return {**a, "grade_text": grade_label(a["grade"], category)[lang],
                "kind": OPPORTUNITY if category == OPPORTUNITY else a["grade"],
                "rule_text": rules.get(a["rule"], a["rule"]),
                "subject_text": names.get((subject["entity"], subject["key"]), subject["key"]),
                "entity_text": entity_label(subject["entity"], lang),
                "text": a["message"].get(lang) or a["message"].get("zh") or a["message"].get("en") or "",
                "opened": moment_text(a["opened_at"]), "due": moment_text(a["due_at"]) if a["due_at"] else "",
                "status_text": words(f"alerts.page.status.{a['status']}", lang)}

    def named(rows: list[dict]) -> dict:
        out: dict = {}
        for entity in {a["subject"]["entity"] for a in rows} - {CIRCLE}:     # a circle is named by its key
            labels = record_labels(web.records, entity, [a["subject"]["key"] for a in rows
                                                         if a["subject"]["entity"] == entity])
            out.update({(entity, k): v for k, v in labels.items()})
        return out

    @r.get("/ui/alerts")
    def centre(request: Request, grade: str = "", status: str = "open", rule: str = "", overdue: str = "",
               mine: str = "", order: str = "newest") -> HTMLResponse:
        user, lang = web.user(request), web.lang(request)
        scope = web.scope(user)
        chances = sorted(n for n, c in categories().items() if c == OPPORTUNITY)
        kinds = GRADES + ((OPPORTUNITY,) if chances else ())     # 商机 is a chip of its own, never counted as 黄色
        grade = grade if grade in kinds else ""
        status = status if status in STATUSES else "open"
        order = order if order in ORDERS else "newest"
        rules = rule_labels(lang)
        rule = rule if rule in rules else ""
        narrow = {"overdue": overdue == "1", "assigned_to": user.name if mine == "1" else None}
        picked = ({"among": chances} if grade == OPPORTUNITY else
                  {"grade": grade, "besides": chances} if grade else {})
        rows = service.list(rule=rule or None, status=None if status == "all" else status,
                            limit=LIMIT, scope=scope, order=order, **picked, **narrow)
        everything = service.list(rule=rule or None, status=None if status == "all" else status, limit=LIMIT,
                                  scope=scope, **narrow)
        counts = {k: sum(1 for a in everything
                         if (OPPORTUNITY if a["rule"] in chances else a["grade"]) == k) for k in kinds}
        names = named(rows)
        return web.page(request, "alerts.html", title=words("alerts.page.title", lang),
                        alerts=[view(a, lang, names, rules) for a in rows], counts=counts,
                        grades=[(k, grade_label(k, k)[lang])
                                for k in kinds],
                        statuses=[(s, words(f"alerts.page.status.{s}", lang)) for s in STATUSES],
                        rules=sorted(rules.items(), key=lambda kv: kv[1]),
                        orders=[(o, words(f"alerts.page.order.{o}", lang)) for o in ORDERS],
                        given={"grade": grade, "status": status, "rule": rule, "overdue": narrow["overdue"],
                               "mine": mine == "1", "order": order})

    def alert_page(request: Request, alert_id: int, problem: str = "", status: int = 200) -> HTMLResponse:
        user, lang = web.user(request), web.lang(request)
        a = service.get(alert_id, scope=web.scope(user))           # 404 alike for unknown and out of scope
        shown = view(a, lang, named([a]), rule_labels(lang))
        evidence = [{"label": e["label"].get(lang) or e["label"].get("zh") or "",
                     "value": _value(e["value"], lang, e.get("type"))} for e in a["evidence"]]
        people = PeopleDirectory(web.records.engine).display_names(
            [t["actor"] for t in a["timeline"]] + [a["acknowledged_by"] or "", a["assigned_to"] or ""]
            + [(t["data"] or {}).get("to", "") for t in a["timeline"] if isinstance(t["data"], dict)])
        timeline = [{"when": moment_text(t["at"]), "kind": words(f"alerts.page.step.{t['kind']}", lang),
                     "grade": grade_label(t["grade"], categories().get(a["rule"]))[lang] if t["grade"] else "",
                     "who": "" if t["actor"] == "system" else people.get(t["actor"], t["actor"]),
                     "text": _step_text(t, people, lang)}
                    for t in a["timeline"]]
        disposal = [_disposal(d, lang, web) for d in a["actions"]]
        acknowledged = words("alerts.page.acknowledged", lang, who=people.get(a["acknowledged_by"], a["acknowledged_by"]),
                             when=moment_text(a["acknowledged_at"])) if a["acknowledged_at"] else ""
        ent = web.records.refresh().bundle.entities.get(a["subject"]["entity"])
        link = ""
        if ent is not None and a["subject"]["key"]:
            link = f"/ui/e/{a['subject']['entity']}/key/{a['subject']['key']}"
        circle = None
        if "circle" in a:                   # the members this reader may read, named; the others counted
            circle = {"members": [{**m, "link": f"/ui/e/{CIRCLE_FIRM}/key/{m['key']}",
                                   "grade_text": grade_label(m["grade"])[lang] if m["grade"] else ""}
                                  for m in a["circle"]["members"]],
                      "others": words("alerts.page.circle_others", lang, n=a["circle"]["others"])
                      if a["circle"]["others"] else ""}
        trace = None
        rule_doc = web.records.refresh().bundle.documents.get(("AlertRule", a["rule"]))
        if rule_doc is not None and rule_doc.scope == a["subject"]["entity"] and a["subject"]["key"]:
            try:                            # why, on today's data (a roll-up on a group has no condition of its own)
                exp, about = explain_subject(service, a["rule"], a["subject"]["key"], scope=web.scope(user))
                trace = explanation_view(exp, about, lang)
                grades = trace["grades"]                # highest first
                held = next((i for i, g in enumerate(grades) if g["grade"] == trace["grade"]), len(grades))
                for i, g in enumerate(grades):
                    g["label"] = grade_label(g["grade"], rule_doc.category)[lang]
                    g["open"] = i in (held, held - 1)  # the grade that holds, and how far the next one is
            except AlertError:
                trace = None
        return web.page(request, "alert.html", status, title=f"{shown['grade_text']} · {shown['rule_text']}", a=shown,
                        circle=circle, trace=trace,
                        evidence=evidence, timeline=timeline, subject_link=link, acknowledged=acknowledged,
                        may_close=user.can("alerts.close"), problem=problem, disposal=disposal,
                        pick=[(p["name"], f"{p['label']} · {p['unit_label']}") for p in pickable(web, user, lang)]
                        if user.can("alerts.close") and a["status"] == "open" else [],
                        assigned=words("alerts.page.assigned", lang, who=people.get(a["assigned_to"], a["assigned_to"]))
                        if a["assigned_to"] else "")

    @r.get("/ui/alerts/{alert_id}")
    def one(request: Request, alert_id: DbId) -> HTMLResponse:
        return alert_page(request, alert_id)

    @r.post("/ui/alerts/{alert_id}")
    def act(request: Request, alert_id: DbId, form: FormData = Depends(posted)) -> Response:
        user, lang = web.user(request), web.lang(request)
        service.get(alert_id, scope=web.scope(user))                # out of scope: the unknown alert's 404 first
        if not web.check_csrf(request, form):
            return alert_page(request, alert_id, text("signin_csrf", lang), 400)
        action = str(form.get("_action") or "")
        if action in ("close", "assign") and not user.can("alerts.close"):
            raise MissingPermission("alerts.close")                  # the door's 403 in words
        try:
            service.act(alert_id, action, actor=user.name, text=form.get("to" if action == "assign" else "text"),
                        scope=web.scope(user))
        except AlertError as exc:
            if exc.status == 404:
                raise
            return alert_page(request, alert_id, exc.render(lang), exc.status)
        return redirect(f"/ui/alerts/{alert_id}")

    return r


def _step_text(t: dict, people: dict, lang: str) -> str:
    """What a timeline step says beside its kind: a comment's text, who it was assigned to, why an action failed."""
    data = t["data"] if isinstance(t["data"], dict) else {}
    if t["kind"] == "assign":
        return people.get(data.get("to", ""), data.get("to", ""))
    if t["kind"] == "action_failed":
        return str(data.get("reason", ""))
    return str(data.get("text", ""))


def _disposal(d: dict, lang: str, web: WebContext) -> dict:
    """One automatic action as the alert page shows it: the disposal flow (a link), or the records changed."""
    if d["kind"] == "start_flow":
        flow = web.records.refresh().bundle.documents.get(("Flow", d.get("flow", "")))
        label = flow.meta.label.text(lang) if flow is not None else d.get("flow", "")
        return {"label": words("alerts.page.flow", lang), "text": label, "ok": d["ok"],
                "link": f"/ui/flow-instances/{d['instance']}" if d["ok"] and d.get("instance") else "",
                "reason": d.get("reason", "")}
    ent = web.records.refresh().bundle.entities.get(d.get("entity", ""))
    name = ent.meta.label.text(lang) if ent is not None else d.get("entity", "")
    changes = []
    for field_name, value in (d.get("values") or {}).items():       # status → 冻结, in the reader's words
        f = ent.field(field_name) if ent is not None else None
        shown = next((v.label.text(lang) for v in getattr(f, "values", ()) or () if v.value == value), value)
        changes.append(f"{f.label.text(lang) if f is not None else field_name} → {shown}")
    return {"label": words("alerts.page.disposal", lang), "ok": d["ok"], "link": "", "reason": d.get("reason", ""),
            "text": words("alerts.page.frozen", lang, entity=name, changes="，".join(changes) if lang == "zh"
                          else ", ".join(changes), records="、".join(d.get("records") or []) or "—")}


def _value(value: Any, lang: str, kind: str | None = None) -> str:
    """An evidence value as people read it: a percent as 106.0014% (to 4 places: 15.5%, not
    15.4999999997666…%), money as 6,234万 (the value
    model's writer and the pages' amounts), members per grade in words, lists joined."""
    if kind in ("percent", "money") and value is not None:
        return value_text(value, kind, lang)
    if isinstance(value, dict) and set(value) <= set(GRADES):
        return "，".join(f"{GRADE_LABELS[g][lang]} {n}" for g, n in value.items()) if lang == "zh" else \
            ", ".join(f"{GRADE_LABELS[g][lang]} {n}" for g, n in value.items())
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if value is None:
        return "—"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
