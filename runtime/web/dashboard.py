"""The portfolio dashboard `/ui/dashboard` (issue 15, part 5): within the reader's org scope, how
the tiered portfolio spreads over the tiers, its exposure by category (a group's industry and its
lead branch), and the alerts opened in each of the last twelve months by grade. Every chart is a
table (a bar beside each figure); amounts in 万元 or 亿元 (`?unit=`), with thousands separators."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from dsl.errors import words
from runtime.alerts.stats import GRADES, opened_by_month
from runtime.reports.large_exposures import large_exposure_report
from runtime.reports.large_exposures_xlsx import report_bytes
from runtime.tiering.portfolio import breakdown, categories, exposure_field, tier_counts
from runtime.web.alert_service import service_of, tiering_of
from runtime.web.context import NavItem, WebContext, register_nav
from runtime.web.transfer import XLSX, attachment

REPORT_LINK = {False: {"href": "/ui/dashboard/large-exposures.xlsx", "label": "下载大额风险暴露报表（XLSX）",
                       "hint": "单一客户与集团客户风险暴露不低于一级资本净额 10% 者，监管报表格式，金额单位万元"},
               True: {"href": "/ui/dashboard/large-exposures.xlsx", "label": "Download the large exposures report (XLSX)",
                      "hint": "Clients and groups with exposure of at least 10% of tier-1 capital, "
                              "in the regulator's layout, in 10k CNY"}}
UNITS = {"wan": Decimal(10) ** 4, "yi": Decimal(10) ** 8}


def amount(value: Any, unit: str) -> str:
    """`value` (元) in the unit asked for, two decimals, thousands separated: 1,477.07."""
    if value is None:
        return "—"
    return f"{(Decimal(str(value)) / UNITS[unit]).quantize(Decimal('0.01')):,}"


def _bars(rows: list[dict], key: str) -> None:
    top = max((abs(r[key] or 0) for r in rows), default=0) or 1
    for r in rows:
        r["share"] = round(100 * abs(r[key] or 0) / top)


def dashboard_pages(web: WebContext) -> APIRouter:
    r = APIRouter()
    register_nav(NavItem("dashboard", {"zh": "组合看板", "en": "Portfolio"}, "/ui/dashboard", 15))

    @r.get("/ui/dashboard")
    def dashboard(request: Request, unit: str = Query("yi", max_length=10)) -> HTMLResponse:
        lang, user = web.lang(request), web.user(request)
        unit = unit if unit in UNITS else "yi"                 # a unit it does not know: 亿元, as by default
        scope = web.scope(user)
        live = web.live()
        tierings = tiering_of(web).tierings(live)
        alerts = service_of(web)
        months = opened_by_month(alerts, scope, alerts.clock()) if alerts.rules(live) else []
        for m in months:
            m["total"] = sum(m[g] for g in GRADES)
        _bars(months, "total")
        ctx: dict[str, Any] = {"unit": unit, "months": months, "grades": GRADES, "tiers": None, "parts": [],
                               "report": REPORT_LINK[lang == "en"]}
        if tierings:
            tiering = tierings[0]
            spread = tier_counts(web.records, tiering, scope, lang)
            _bars(spread, "count")
            ctx["tiers"] = {"label": tiering.meta.label.text(lang) or tiering.name, "rows": spread}
            money = exposure_field(live, tiering.subject)
            ctx["exposure"] = money.label.text(lang) if money is not None else ""
            tree = web.tree()
            for f in categories(live, tiering):
                rows = breakdown(web.records, tiering, f, scope)
                choices = {c.value: c.label.text(lang) for c in f.values}
                for row in rows:
                    v = row["value"]
                    row["label"] = (words("web.workbench.untiered", lang) if v is None and f.name == tiering.assign_to
                                    else "—" if v is None else tree.label(v, lang) if f.type_name == "ref"
                                    else choices.get(v, str(v)))
                    row["amount"] = amount(row["exposure"], unit)
                _bars(rows, "exposure")
                ctx["parts"].append({"label": f.label.text(lang) or f.name, "rows": rows})
        return web.page(request, "dashboard.html", title=words("web.dashboard.title", lang), w=words, **ctx)

    @r.get("/ui/dashboard/large-exposures.xlsx")
    def large_exposures(request: Request, lang: str | None = Query(None, max_length=5)) -> Response:
        """The large-exposure report (大额风险暴露) within the reader's scope, as the CLI's
        `banyan report large-exposures` writes it; headers in the page's language (`?lang=`)."""
        user = web.user(request)
        lang = lang if lang in ("zh", "en") else web.lang(request)
        lang = "en" if lang == "en" else "zh"
        found = large_exposure_report(web.records, web.scope(user), lang=lang)
        name = ("大额风险暴露" if lang == "zh" else "large-exposures") + f"-{found.data.as_of.isoformat()}.xlsx"
        return Response(report_bytes(found, lang), media_type=XLSX, headers=attachment(name))

    return r
