"""TestSuite link checks: given records name real entities and fields (values typed), and
every expectation names a rule, grade, tiering, tier, flow or node that exists (BNY605)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from dsl.diagnostics import did_you_mean
from dsl.expr.types import STRING, EnumType, RecordType, Type
from dsl.expr.values import Period
from dsl.kinds.events import event_entity
from dsl.kinds.parts import get, spec_of
from dsl.link import CIRCLE, CIRCLE_FIRM, LinkContext
from dsl.loader import Document, Path

_TEXTUAL = {"string", "record", "list"}


def check_case_names(doc: Document, ctx: LinkContext) -> None:
    seen: dict[str, int] = {}
    for i, c in enumerate(spec_of(doc)["cases"]):
        if c["name"] in seen:
            ctx.diags.add("BNY402", f"case `{c['name']}` is written twice", doc.span(("spec", "cases", i, "name")),
                          f"the first is case #{seen[c['name']] + 1}; give each case its own name")
        seen.setdefault(c["name"], i)


def check_defaults(doc: Document, ctx: LinkContext) -> dict[str, dict]:
    """The suite's `defaults`: each names an entity, each field one of its own (typed as a case's)."""
    out: dict[str, dict] = {}
    for entity, values in (spec_of(doc).get("defaults") or {}).items():
        path = ("spec", "defaults", entity)
        if not ctx.exists("Entity", entity):
            ctx.diags.add("BNY605", f"defaults for `{entity}`, which is not an entity", doc.key_span(path),
                          did_you_mean(entity, ctx.decls.names("Entity")) or "name an entity, e.g. company")
            continue
        _record(doc, ctx, path, values, entity)
        out[entity] = dict(values)
    return out


def check_after(doc: Document, ctx: LinkContext, path: Path) -> Any:
    """`after: 3 months` (a period) or `after: 2 days` (a duration): how far the clock moves."""
    text = get(doc.data, path)
    value = ctx.literal(doc, path, None) if isinstance(text, str) else None
    if not isinstance(value, (timedelta, Period)) or (isinstance(value, timedelta) and value <= timedelta(0)) \
            or (isinstance(value, Period) and value.months <= 0):
        ctx.diags.add("BNY308", f"`after: {text}` is not a length of time", doc.span(path),
                      "write a duration or a period, e.g. '2 days' or '3 months'")
        return None
    return value


def check_now(doc: Document, ctx: LinkContext, path: Path, case: dict) -> None:
    """`now: 2026-13-15` has the shape of a date but is none: an error at its line."""
    now = case.get("now")
    if not isinstance(now, str):
        return
    try:
        (datetime.fromisoformat if "T" in now else date.fromisoformat)(now)
    except ValueError:
        ctx.diags.add("BNY308", f"`now: {now}` is not a real date", doc.span(path + ("now",)),
                      "write a date that exists, e.g. '2026-03-31'")


def given_entity(ctx: LinkContext, key: str, entities: dict[str, str]) -> str | None:
    """The entity of a `given` key: an entity name, or a collection of an entity given before it."""
    if ctx.exists("Entity", key) or key in ("org_unit", "user"):
        return key
    for entity in entities.values():
        element = event_entity(ctx, entity, key)
        if element is not None and element != key:
            return element
    return None


def typed_records(doc: Document, ctx: LinkContext, path: Path, case: dict,
                  before: dict[str, str] | None = None) -> tuple[dict[str, tuple], dict[str, str]]:
    """The given records with typed values, and the entity of each `given` key (`before`: the
    keys given at an earlier moment of the case, whose collections a later one may add to)."""
    given: dict[str, str] = dict(before or {})
    out: dict[str, tuple] = {}
    for key, value in (case.get("given") or {}).items():
        gpath = path + ("given", key)
        entity = given_entity(ctx, key, given)
        if entity is None:
            known = ctx.decls.names("Entity") + [c for g in given.values() for c in ctx.decls.records.get(g, {})]
            ctx.diags.add("BNY605", f"`{key}` is neither an entity nor a collection of a given record",
                          doc.key_span(gpath), did_you_mean(key, known) or "name an entity, e.g. company")
            continue
        given[key] = entity
        records = value if isinstance(value, list) else [value]
        rpaths = [gpath + (j,) for j in range(len(records))] if isinstance(value, list) else [gpath]
        out[key] = tuple(_record(doc, ctx, p, r, entity) for p, r in zip(rpaths, records))
    return out, given


def _record(doc: Document, ctx: LinkContext, path: Path, rec: dict, entity: str) -> dict:
    fields = ctx.decls.records.get(entity, {})
    out: dict[str, Any] = {}
    for name, value in rec.items():
        fpath = path + (name,)
        info = fields.get(name)
        if info is None:
            ctx.diags.add("BNY404", f"`{entity}` has no field `{name}`", doc.key_span(fpath),
                          did_you_mean(name, fields) or f"fields of {entity}: {', '.join(sorted(fields)[:10])}")
            continue
        out[name] = _value(doc, ctx, fpath, value, info.type)
    return out


def _value(doc: Document, ctx: LinkContext, path: Path, value: Any, t: Type) -> Any:
    if isinstance(t, EnumType):
        if value is not None and value not in t.values:
            ctx.diags.add("BNY207", f"`{value}` is not one of the enum's values", doc.span(path),
                          did_you_mean(str(value), t.values) or f"use one of: {', '.join(t.values)}")
        return value
    if t.name in _TEXTUAL or isinstance(t, RecordType) or not isinstance(value, str):
        return value
    return ctx.literal(doc, path, t if t.name != "string" else STRING)


def check_expectations(doc: Document, ctx: LinkContext, path: Path, case: dict, entities: dict[str, str]) -> None:
    expect = case["expect"]
    epath = path + ("expect",)
    if not expect:
        ctx.diags.add("BNY605", "the case expects nothing, so it cannot fail", doc.key_span(epath),
                      "add alerts (`[]` for none), tier or flow")
    subjects = set(entities.values())
    for j, a in enumerate(expect.get("alerts") or []):
        apath = epath + ("alerts", j)
        rule = _named(doc, ctx, apath + ("rule",), "AlertRule", "alert rule")
        if rule is None:
            continue
        spec = spec_of(rule)
        grades = list(spec.get("grades") or {})
        if a["grade"] != "none" and a["grade"] not in grades:
            ctx.diags.add("BNY605", f"rule `{a['rule']}` has no {a['grade']} grade", doc.span(apath + ("grade",)),
                          f"its grades: {', '.join(grades)}")
        on = a.get("on")
        if on is not None:
            entity = on.partition("/")[0]
            if not ctx.exists("Entity", entity) and entity != "guarantee_circle":
                ctx.diags.add("BNY605", f"`on: {on}` names no entity `{entity}`", doc.span(apath + ("on",)),
                              did_you_mean(entity, ctx.decls.names("Entity")) or "write entity/key, e.g. company/9131…")
        else:
            _needs_subject(doc, ctx, apath + ("rule",), spec.get("scope"), subjects)
    for j, n in enumerate(expect.get("notified") or []):
        _named(doc, ctx, epath + ("notified", j, "role"), "Role", "role")
        if n.get("channel") is not None:
            _named(doc, ctx, epath + ("notified", j, "channel"), "Channel", "channel")
    for j, _ in enumerate(expect.get("started") or []):
        _named(doc, ctx, epath + ("started", j), "Flow", "flow")
    if "tier" in expect:
        tpath = epath + ("tier",)
        tiering = _named(doc, ctx, tpath + ("tiering",), "Tiering", "tiering")
        if tiering is not None:
            tiers = [t.get("name") for t in spec_of(tiering).get("tiers") or []]
            if expect["tier"]["tier"] not in tiers:
                ctx.diags.add("BNY605", f"tiering `{expect['tier']['tiering']}` has no tier `{expect['tier']['tier']}`",
                              doc.span(tpath + ("tier",)), did_you_mean(expect["tier"]["tier"], tiers) or
                              f"its tiers: {', '.join(tiers)}")
            _needs_subject(doc, ctx, tpath + ("tiering",), spec_of(tiering).get("subject"), subjects)
            dims = list(spec_of(tiering).get("dimensions") or {}) + ["score"]
            for name in expect["tier"].get("scores") or {}:
                if name not in dims:
                    ctx.diags.add("BNY605", f"tiering `{expect['tier']['tiering']}` has no dimension `{name}`",
                                  doc.key_span(tpath + ("scores", name)),
                                  did_you_mean(name, dims) or f"its dimensions: {', '.join(dims)}")
    _check_flow(doc, ctx, path, case, subjects)


def _check_flow(doc: Document, ctx: LinkContext, path: Path, case: dict, subjects: set) -> None:
    run, fexp = case.get("flow"), case["expect"].get("flow")
    if fexp is not None and run is None:
        ctx.diags.add("BNY605", "`expect.flow` needs a `flow:` to run", doc.key_span(path + ("expect", "flow")),
                      "add `flow: {name: …}` to the case")
    if run is None:
        return
    flow = _named(doc, ctx, path + ("flow", "name"), "Flow", "flow")
    if flow is None:
        return
    spec = spec_of(flow)
    ids = [n["id"] for n in spec.get("nodes") or [] if isinstance(n, dict) and isinstance(n.get("id"), str)]
    for node in run.get("decisions") or {}:
        if node not in ids:
            ctx.diags.add("BNY605", f"flow `{run['name']}` has no node `{node}`",
                          doc.key_span(path + ("flow", "decisions", node)), did_you_mean(node, ids))
    called = list(ids)                          # a step of a flow it calls may be filled in too
    for n in spec.get("nodes") or []:
        sub = ctx.decls.documents.get(("Flow", str(n.get("flow")))) \
            if isinstance(n, dict) and n.get("type") == "subflow" else None
        if sub is not None:
            called += [m["id"] for m in spec_of(sub).get("nodes") or [] if isinstance(m, dict) and isinstance(m.get("id"), str)]
    for node in run.get("fields") or {}:
        if node not in called:
            ctx.diags.add("BNY605", f"flow `{run['name']}` has no node `{node}`",
                          doc.key_span(path + ("flow", "fields", node)), did_you_mean(node, called))
    for j, node in enumerate((fexp or {}).get("path") or []):
        if node not in ids:
            ctx.diags.add("BNY605", f"flow `{run['name']}` has no node `{node}`",
                          doc.span(path + ("expect", "flow", "path", j)), did_you_mean(node, ids))
    outcome = (fexp or {}).get("outcome")
    outcomes = [n.get("outcome", "done") for n in spec.get("nodes") or [] if n.get("type") == "end"]
    outcomes += ["rejected"] if any(n.get("type") == "approval" and "on_reject" not in n for n in spec.get("nodes") or []) else []
    if outcome is not None and outcome not in outcomes:
        ctx.diags.add("BNY605", f"flow `{run['name']}` never ends with outcome `{outcome}`",
                      doc.span(path + ("expect", "flow", "outcome")),
                      did_you_mean(outcome, outcomes) or f"its outcomes: {', '.join(dict.fromkeys(outcomes))}")
    form = spec.get("form")
    if run.get("form") and isinstance(form, str):
        _record(doc, ctx, path + ("flow", "form"), run["form"], form)
    _needs_subject(doc, ctx, path + ("flow", "name"), spec.get("subject"), subjects)


def _named(doc: Document, ctx: LinkContext, path: Path, kind: str, what: str):
    name = get(doc.data, path)
    found = ctx.decls.documents.get((kind, name))
    if found is None:
        ctx.diags.add("BNY605", f"unknown {what} `{name}`", doc.span(path),
                      did_you_mean(str(name), ctx.decls.names(kind)) or f"define {what} `{name}` first")
    return found


def _needs_subject(doc: Document, ctx: LinkContext, path: Path, entity: Any, subjects: set) -> None:
    if entity == CIRCLE:            # a guarantee circle is found among the given companies' guarantees
        entity = CIRCLE_FIRM
    if isinstance(entity, str) and entity not in subjects:
        ctx.diags.add("BNY605", f"`{get(doc.data, path)}` works on a {entity}, but the case gives none",
                      doc.span(path), f"add `given: {{{entity}: {{…}}}}`")

