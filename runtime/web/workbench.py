"""The home page's workbench sections: "my clients" with their tier (the tiered subjects a person
is named on, or those in their scope), open alerts by grade, and how the portfolio in their scope
spreads over the tiers — each from its room (runtime/tiering/portfolio.py, the alert service),
within the reader's org scope."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from dsl.errors import words
from forms.display import value_text
from runtime.tiering.portfolio import my_subjects, tier_counts
from runtime.web.alert_service import service_of, tiering_of
from runtime.web.context import WebContext
from runtime.web.records import cell, list_columns

GRADES = ("red", "orange", "yellow")
SHOWN = 10


def _figure(value: Any, kind: str, lang: str) -> str:
    """Money in 万/亿 as every page shows it; a share to one decimal (64.0%), as a list reads."""
    if kind == "percent" and value is not None:
        return f"{(Decimal(str(value)) * 100).quantize(Decimal('0.1'))}%"
    return value_text(value, kind, lang)


def figures(entity: Any, skip: str | None) -> list:
    """The columns of "my clients": the name and code, then the first two amounts and the first
    share the entity works out (a group's credit balance, overdue balance and limit usage)."""
    first = [f for f in list_columns(entity)[:2]]
    worked = [f for f in entity.fields if f.computed and f.name != skip]
    money = [f for f in worked if f.type_name == "money"][:2]
    share = [f for f in worked if f.type_name == "percent"][:1]
    return first + money + share


def workbench(web: WebContext, user: Any, lang: str) -> dict:
    scope = web.scope(user)
    live = web.live()
    out: dict[str, Any] = {"alerts": None, "clients": None, "tiers": None}
    alerts = service_of(web)
    if alerts.rules(live):
        counts = alerts.open_counts(scope=scope)                 # one query for every figure
        out["alerts"] = {"counts": [{"grade": g, "label": words(f"web.workbench.grade.{g}", lang), "count": counts[g],
                                     "href": f"/ui/alerts?grade={g}"} for g in GRADES],
                         "overdue": counts["overdue"], "total": sum(counts[g] for g in GRADES)}
    tierings = tiering_of(web).tierings(live)
    if not tierings:
        return out
    tiering = tierings[0]
    entity = live.bundle.entities[tiering.subject]
    mine = my_subjects(web.records, tiering, user.name, scope, limit=SHOWN)
    columns = figures(entity, tiering.assign_to)
    tier_field = next((f for f in entity.fields if f.name == tiering.assign_to), None)
    shown = columns + ([tier_field] if tier_field is not None else [])
    labels = web.names.record_labels(shown, mine["items"], lang)          # one query per referenced entity
    rows = []
    for item in mine["items"]:
        key = item.get(entity.key) if entity.key else item["id"]
        rows.append({"href": f"/ui/e/{tiering.subject}/{item['id']}",
                     "cells": [{"text": _figure(item.get(f.name), f.type_name, lang), "num": True}
                               if f.type_name in ("money", "percent") else
                               cell(f, item, labels, lang, own_code=f.name == entity.key) for f in columns],
                     "tier": cell(tier_field, item, labels, lang)["text"] if tier_field is not None else "",
                     "explain": f"/ui/tiering/{tiering.name}/{key}"})
    out["clients"] = {"mine": mine["mine"], "total": mine["total"], "rows": rows,
                      "label": entity.meta.label.text(lang) or tiering.subject,
                      "columns": [{"label": f.label.text(lang) or f.name, "num": f.type_name in ("money", "percent")}
                                  for f in columns],
                      "more": f"/ui/e/{tiering.subject}"}
    spread = tier_counts(web.records, tiering, scope, lang)
    top = max((t["count"] for t in spread), default=0) or 1
    out["tiers"] = {"label": tiering.meta.label.text(lang) or tiering.name,
                    "rows": [dict(t, label=t["label"] or words("web.workbench.untiered", lang),
                                  share=round(100 * t["count"] / top)) for t in spread]}
    return out
