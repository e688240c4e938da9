"""`banyan tier explain` and the group page's tier section: one subject read as a run reads it,
handed to engine/tiering/explain (the semantics are there), and shown as people read it — each
dimension's score with its weight and how it was worked out, the row that hit, why each other
row did not (its condition traced, the near misses), the caps, and the tier's service package."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Mapping

from dsl.errors import words
from engine.tiering.explain import TierExplanation, explain
from forms.display import value_text
from runtime.alerts.explain import near_view, shown, steps_view, verdict
from runtime.auth.scope import Scope
from runtime.records.context import RecordContext
from runtime.records.errors import NotFound
from runtime.tiering.service import TierError, TieringService, alert_grades, prime, reads_of


def explain_subject(service: TieringService, key: Any, *, name: str | None = None, at: datetime | None = None,
                    scope: Scope | None = None) -> tuple[Any, TierExplanation, dict]:
    """(the tiering, why the subject `key` has its tier at `at` — default now —, {entity, id, key,
    name, at, labels}). Out of the reader's scope reads as unknown. Nothing is written."""
    live = service.records.refresh()
    tiering = service.tiering(live, name)
    now = service.clock()
    as_of = at is not None and at < now
    at = at or now
    (id_,) = service.subject_ids(live, tiering, [key])
    if scope is not None:
        try:
            service.records.get(tiering.subject, id_, scope=scope)
        except NotFound:
            raise TierError(f"no {tiering.subject} `{key}`", code="unknown_subject", status=404,
                            params={"key": str(key)}) from None
    with service.engine.connect() as conn:
        loader = service.loader(conn, live, at, as_of=as_of)
        rows = loader.rows(tiering.subject, [id_])
        prime(loader, tiering.subject, list(rows), reads_of(tiering))
        row = rows[id_]
        grade = alert_grades(conn, tiering.subject, [id_], at if as_of else None).get(id_)
        exp = explain(tiering, RecordContext(tiering.subject, row, loader, id_), grade)
    ent = live.bundle.entities.get(tiering.subject)
    labels = {f.name: f.label for f in ent.fields} if ent is not None else {}
    k = live.model[tiering.subject].key
    return tiering, exp, {"entity": tiering.subject, "id": id_, "key": row.get(k) if k else id_,
                          "name": row.get("name"), "at": at, "labels": labels,
                          "stored": row.get(tiering.assign_to) if tiering.assign_to else None,
                          "roles": {n: d for (k, n), d in live.bundle.documents.items() if k == "Role"}}


def _number(value: Decimal | None, lang: str) -> str:
    return "null" if value is None else value_text(value.quantize(Decimal("0.01")).normalize(), "number", lang)


def _tier(tiering: Any, name: str | None, lang: str, roles: Mapping[str, Any] | None = None) -> dict | None:
    t = tiering.tier(name) if name else None
    if t is None:
        return None
    p = t.service_package

    def role(name: str) -> str:
        found = (roles or {}).get(name)
        return (found.meta.label.text(lang) or name) if found is not None else name
    package = None if p is None else {
        "label": p.label.text(lang), "lead_role": role(p.lead_role) if p.lead_role else None,
        "team_roles": [role(r) for r in p.team_roles],
        "review_every": p.review_every.text if p.review_every is not None else None,
        "response_within": p.response_within.text if p.response_within is not None else None,
        "benefits": [b.text(lang) for b in p.benefits]}
    return {"name": t.name, "label": t.label.text(lang) or t.name, "rank": t.rank, "package": package}


def explanation_view(tiering: Any, exp: TierExplanation, about: Mapping[str, Any], lang: str) -> dict:
    """The explanation as the API sends it and the pages and the CLI show it, in `lang`."""
    r = exp.result
    labels = about.get("labels") or {}
    dims = []
    for d, trace, decl in zip(r.dimensions, exp.dimensions, tiering.dimensions):
        dims.append({"name": d.name, "label": d.label.text(lang) or d.name,
                     "weight": None if d.weight is None else format(d.weight.normalize(), "f"),
                     "value": _number(d.value, lang), "null": d.value is None, "error": d.error,
                     "bar": 0 if d.value is None else max(0, min(100, int(d.value))),
                     "text": getattr(decl.score, "text", ""),
                     "steps": steps_view(trace, labels, lang) if trace is not None else []})

    def checks(found: Any, traces: Any, written: Any) -> list[dict]:
        out = []
        for c, t, w in zip(found, traces, written):
            tier = _tier(tiering, c.tier, lang)
            out.append({"index": c.index + 1, "tier": c.tier, "tier_label": tier["label"] if tier else c.tier,
                        "label": c.label.text(lang), "held": c.held, "verdict": verdict(c.held, lang),
                        "decisive": c.decisive, "when": getattr(w.when, "text", None),
                        "steps": steps_view(t.trace, labels, lang) if t.trace is not None else [],
                        "near": near_view(t.near, lang)})
        return out

    problem = None
    if r.problem:
        problem = words(f"tiering.problem.{r.problem}", lang,
                        rules=", ".join(str(i + 1) for i in r.problem_rules),
                        dimensions=", ".join(d.label.text(lang) or d.name for d in r.dimensions if d.value is None))
    at = about.get("at")
    return {"tiering": tiering.name, "label": tiering.meta.label.text(lang) or tiering.name,
            "subject": {"entity": about["entity"], "key": about["key"], "name": about.get("name"),
                        "at": at.isoformat() if hasattr(at, "isoformat") else at},
            "tier": _tier(tiering, r.tier, lang, about.get("roles")), "table_tier": _tier(tiering, r.table_tier, lang),
            "stored": _tier(tiering, about.get("stored"), lang),
            "score": None if r.score is None else _number(r.score, lang), "weighted": tiering.weighted,
            "alert_grade": r.alert_grade, "alert_grade_shown": shown(r.alert_grade, "enum", lang),
            "hit_policy": tiering.hit_policy, "reason": r.reason.text(lang), "problem": problem,
            "dimensions": dims, "rules": checks(r.rules, exp.rules, tiering.rules),
            "caps": checks(r.caps, exp.caps, tiering.caps)}
