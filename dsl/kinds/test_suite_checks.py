"""TestSuite link checks: given records name real entities and fields (values typed), and
every expectation names a rule, grade, tiering, tier, flow or node that exists (BNY605)."""
from __future__ import annotations

from typing import Any

from dsl.diagnostics import did_you_mean
from dsl.expr.types import STRING, EnumType, RecordType, Type
from dsl.kinds.events import event_entity
from dsl.kinds.parts import get, spec_of
from dsl.link import LinkContext
from dsl.loader import Document, Path

_TEXTUAL = {"string", "record", "list"}


def check_case_names(doc: Document, ctx: LinkContext) -> None:
    seen: dict[str, int] = {}
    for i, c in enumerate(spec_of(doc)["cases"]):
        if c["name"] in seen:
            ctx.diags.add("BNY402", f"case `{c['name']}` is written twice", doc.span(("spec", "cases", i, "name")),
                          f"the first is case #{seen[c['name']] + 1}; give each case its own name")
        seen.setdefault(c["name"], i)


def given_entity(ctx: LinkContext, key: str, entities: dict[str, str]) -> str | None:
    """The entity of a `given` key: an entity name, or a collection of an entity given before it."""
    if ctx.exists("Entity", key) or key in ("org_unit", "user"):
        return key
    for entity in entities.values():
        element = event_entity(ctx, entity, key)
        if element is not None and element != key:
            return element
    return None


def typed_records(doc: Document, ctx: LinkContext, path: Path, case: dict) -> tuple[dict[str, tuple], dict[str, str]]:
    """The given records with typed values, and the entity of each `given` key."""
    given: dict[str, str] = {}
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
        _needs_subject(doc, ctx, apath + ("rule",), spec.get("scope"), subjects)
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
    if isinstance(entity, str) and entity not in subjects:
        ctx.diags.add("BNY605", f"`{get(doc.data, path)}` works on a {entity}, but the case gives none",
                      doc.span(path), f"add `given: {{{entity}: {{…}}}}`")

