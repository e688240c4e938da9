"""An alert rule's page `/ui/alert-rules/{name}` (issue 14): what the rule watches and when, each
grade's condition and answer time, the business tests that exercise each grade (`banyan test
--record`) and its latest backtest (`banyan alerts backtest`: counts by month, no record named).
It shows the bank's configuration, not clients: any signed-in person may read it."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from dsl.bank_time import moment_text
from dsl.errors import words
from runtime.alerts.notify import grade_label
from runtime.alerts.reports import latest
from runtime.web.alert_service import service_of
from runtime.web.context import WebContext


def alert_rule_pages(web: WebContext) -> APIRouter:
    r = APIRouter()
    service = service_of(web)

    @r.get("/ui/alert-rules/{name}")
    def rule_page(request: Request, name: str = Path(max_length=100)) -> HTMLResponse:
        lang = web.lang(request)
        live = web.records.refresh()
        [rule] = service.rules(live, [name])                  # an unknown rule: 404 in words
        scope = live.bundle.entities.get(rule.scope)
        grades = [{"grade": g.name, "label": grade_label(g.name, rule.category)[lang], "when": g.when.text,
                   "respond": rule.respond_within[g.name].text if g.name in rule.respond_within else ""}
                  for g in reversed(rule.grades)]
        reports = latest(web.records.engine, name)
        coverage = None
        if "coverage" in reports:
            body = reports["coverage"]["body"]
            coverage = {"grades": [{**g, "cases": body["grades"].get(g["grade"], [])} for g in grades],
                        "recorded": _recorded(reports["coverage"], lang)}
        backtest = None
        if "backtest" in reports:
            body = reports["backtest"]["body"]
            backtest = {"span": words("alerts.rule.backtest_span", lang, start=body["from"], end=body["to"],
                                      months=body["months"], candidate=body["candidate"], total=body["total"]),
                        "months": [(m, ("，" if lang == "zh" else ", ").join(_change(k, n, rule.category, lang)
                                                                             for k, n in sorted(v.items())))
                                   for m, v in sorted(body["by_month"].items())],
                        "notes": [words("alerts.rule.backtest_note", lang)], "recorded": _recorded(reports["backtest"], lang)}
        facts = {
            "category": words(f"alerts.category.{rule.category}", lang),
            "watches": scope.meta.label.text(lang) if scope is not None else words("alerts.page.circle", lang),
            "hears": ", ".join(list(rule.events) + [s.text for s in rule.schedules]),
            "lift": rule.lift_after.text if rule.lift_after is not None else "",
            "roll_up": _roll_up(live, rule, lang),
        }
        return web.page(request, "alert_rule.html", title=rule.meta.label.text(lang) or name, rule=rule,
                        label=rule.meta.label.text(lang) or name, description=rule.meta.description or "",
                        facts=facts, grades=grades, coverage=coverage, backtest=backtest)

    return r


def _change(key: str, n: int, category: str, lang: str) -> str:
    """`opens orange` and a count, in words: 新增 橙色 17."""
    kind, _, grade = key.partition(" ")
    return f"{words(f'alerts.rule.kind.{kind}', lang)} {grade_label(grade, category)[lang]} {n}"


def _recorded(report: dict, lang: str) -> str:
    return words("alerts.rule.recorded", lang, who=report["actor"], when=moment_text(report["at"]))


def _roll_up(live: Any, rule: Any, lang: str) -> str:
    if rule.roll_up is None or not rule.roll_up.entity:
        return ""
    target = live.bundle.entities.get(rule.roll_up.entity)
    return target.meta.label.text(lang) if target is not None else rule.roll_up.entity
