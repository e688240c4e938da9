"""The tiered portfolio as a person's home page reads it, within their org scope: how many
subjects each tier holds, and "my clients" — the tiered subjects a person is named on (the
subject entity's first `ref(user)` field: a group's relationship manager), or, for someone named
on none (a branch head, a risk officer), the subjects in their scope."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from runtime.auth.scope import Scope
from runtime.records.service import Records


def tier_counts(records: Records, tiering: Any, scope: Scope | None, lang: str) -> list[dict]:
    """[{tier, label, count}] in the tiering's order, then the untiered (tier None)."""
    live = records.refresh()
    if not tiering.assign_to:
        return []
    t = live.table(tiering.subject)
    column = t.c[tiering.assign_to]
    with records.engine.connect() as conn:
        found = dict(conn.execute(sa.select(column, sa.func.count()).where(*records.readable(tiering.subject, scope))
                                  .group_by(column)).all())
    out = [{"tier": x.name, "label": x.label.text(lang) or x.name, "count": int(found.get(x.name, 0))}
           for x in tiering.tiers]
    if found.get(None):
        out.append({"tier": None, "label": None, "count": int(found[None])})
    return out


def owner_field(live: Any, entity: str) -> str | None:
    """The entity's first field that names a person (`ref(user)`): whose clients these are."""
    ent = live.bundle.entities.get(entity)
    return next((f.name for f in ent.fields if f.type_name == "ref" and f.ref == "user"), None) if ent else None


def my_subjects(records: Records, tiering: Any, user: str, scope: Scope | None, *, limit: int = 10) -> dict:
    """{"mine": whether these are the person's own, "total", "items": records as the records
    service outputs them (names, not codes), largest first by the entity's list order}."""
    live = records.refresh()
    owner = owner_field(live, tiering.subject)
    if owner is not None:
        page = records.query(tiering.subject, {owner: user}, limit=limit, scope=scope)
        if page.total:
            return {"mine": True, "total": page.total, "items": page.items}
    page = records.query(tiering.subject, limit=limit, scope=scope)
    return {"mine": False, "total": page.total, "items": page.items}


def tier_summary(service: Any, entity: str, key: Any, lang: str) -> dict | None:
    """The subject's current tier as its last run wrote it (no evaluation: a page that shows it
    stays fast), for the 360° page: the tier, the weighted score, each dimension's score and weight,
    the row that hit, the cap or override, and the link to the full explanation; None when no
    tiering is about `entity`."""
    live = service.records.refresh()
    tiering = next((t for t in service.tierings(live) if t.subject == entity), None)
    if tiering is None:
        return None
    _, rows = service.history(tiering.name, key, 1)
    out: dict[str, Any] = {"label": tiering.meta.label.text(lang) or tiering.name,
                           "href": f"/ui/tiering/{tiering.name}/{key}", "tier": None, "rank": None, "score": None,
                           "reason": None, "problem": None, "dimensions": []}
    if not rows:
        return out
    last = rows[0]
    details = last["details"]
    tier = tiering.tier(last["tier"]) if last["tier"] else None
    out.update(tier=(tier.label.text(lang) or tier.name) if tier else None, rank=tier.rank if tier else None,
               score=details.get("score"), at=last["at"], reason=last["reason"].get(lang) or last["reason"].get("zh"),
               problem=last["problem"],
               dimensions=[{"label": d.label.text(lang) or d.name,
                            "weight": None if d.weight is None else format(d.weight.normalize(), "f"),
                            "value": details.get("dimensions", {}).get(d.name)} for d in tiering.dimensions])
    return out


def exposure_field(live: Any, entity: str) -> Any:
    """The subject's first figure it works out in money (a group's credit balance): the exposure."""
    ent = live.bundle.entities[entity]
    return next((f for f in ent.fields if f.computed and f.type_name == "money"), None)


def categories(live: Any, tiering: Any) -> list[Any]:
    """What the portfolio is broken down by: the subject's broadest classification — the enum field
    with the most values that is not a tier (a group's industry) — and its first org-unit
    reference (the lead branch)."""
    ent = live.bundle.entities[tiering.subject]
    tier_fields = {tiering.assign_to, getattr(getattr(tiering, "override", None), "tier", None)}
    enums = [f for f in ent.fields if f.type_name == "enum" and f.name not in tier_fields and not f.computed]
    enum = max(enums, key=lambda f: len(f.values), default=None)
    unit = next((f for f in ent.fields if f.type_name == "ref" and f.ref == "org_unit"), None)
    return [f for f in (enum, unit) if f is not None]


def breakdown(records: Records, tiering: Any, field: Any, scope: Scope | None) -> list[dict]:
    """[{value, count, exposure}] of the subjects in `scope` by `field`, largest exposure first."""
    live = records.refresh()
    t = live.table(tiering.subject)
    money = exposure_field(live, tiering.subject)
    total = sa.func.coalesce(sa.func.sum(t.c[money.name]), 0) if money is not None else sa.literal(0)
    with records.engine.connect() as conn:
        rows = conn.execute(sa.select(t.c[field.name], sa.func.count(), total)
                            .where(*records.readable(tiering.subject, scope)).group_by(t.c[field.name])).all()
    return sorted(({"value": v, "count": int(n), "exposure": s} for v, n, s in rows),
                  key=lambda r: (-(r["exposure"] or 0), str(r["value"])))
