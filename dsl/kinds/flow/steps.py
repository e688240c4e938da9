"""Building a Flow's subflow and wait steps: calls into another flow, and waiting for an
event, a moment or a while."""
from __future__ import annotations

from typing import TYPE_CHECKING

from dsl.diagnostics import did_you_mean
from dsl.expr.types import BOOL, STRING, FieldInfo, RecordType, record
from dsl.ir import Label
from dsl.kinds.events import check_event
from dsl.kinds.flow.ir import SubflowNode, Timing, WaitNode
from dsl.kinds.parts import as_dict, duration_at, spec_of
from dsl.loader import Path

if TYPE_CHECKING:
    from dsl.kinds.flow.nodes import FlowScope

def build_subflow(fs: "FlowScope", n: dict, path: Path, next_id: str | None, timing: Timing) -> SubflowNode:
    doc, ctx = fs.doc, fs.ctx
    name = n["flow"]
    called_form: dict = {}
    subject_expr = None
    if name == doc.name:
        ctx.diags.add("BNY405", f"flow `{name}` calls itself", doc.span(path + ("flow",)),
                      "a subflow step calls another flow")
    elif ctx.resolve("Flow", name, doc, path + ("flow",)):
        target = spec_of(ctx.decls.documents[("Flow", name)])
        wanted = target.get("subject")
        form = target.get("form")
        called_form = dict(ctx.decls.records.get(form, {})) if isinstance(form, str) else {}
        if "subject" in n:
            subject_expr = ctx.expr(doc, path + ("subject",), fs.scope, None)
            t = subject_expr.type if subject_expr is not None else None
            if wanted and t is not None and t.name != "any" and not (isinstance(t, RecordType) and t.entity == wanted):
                ctx.diags.add("BNY405", f"flow `{name}` is about a {wanted}, but this subject is {t}",
                              doc.span(path + ("subject",)), f"give a record of {wanted}")
        elif wanted and fs.subject and wanted != fs.subject:
            ctx.diags.add("BNY405", f"flow `{name}` is about a {wanted}, not a {fs.subject}", doc.span(path + ("flow",)),
                          f"add `subject:` giving the {wanted} to call it for")
    inputs = []
    for key in as_dict(n.get("input")):
        ipath = path + ("input", key)
        if key not in called_form:
            ctx.diags.add("BNY404", f"the called flow's form has no field `{key}`", doc.key_span(ipath),
                          did_you_mean(key, called_form))
            continue
        inputs.append((key, ctx.expr(doc, ipath, fs.scope, called_form[key].type)))
    outputs = []
    out_scope = {**fs.scope, "outcome": FieldInfo(STRING, nullable=False)}
    called = ctx.decls.documents.get(("Flow", name))
    form = spec_of(called).get("form") if called is not None else None
    if isinstance(form, str):
        out_scope["result"] = FieldInfo(record(form), nullable=False)
    for key in as_dict(n.get("output")):
        opath = path + ("output", key)
        if key not in fs.form_fields:
            ctx.diags.add("BNY404", f"this flow's form has no field `{key}`", doc.key_span(opath),
                          did_you_mean(key, fs.form_fields))
            continue
        outputs.append((key, ctx.expr(doc, opath, out_scope, fs.form_fields[key].type)))
    return SubflowNode(n["id"], "subflow", Label.of(n.get("label")), next_id, doc.span(path), timing, name,
                       subject_expr, tuple(inputs), tuple(outputs))


def build_wait(fs: "FlowScope", n: dict, path: Path, next_id: str | None, timing: Timing) -> WaitNode:
    doc, ctx = fs.doc, fs.ctx
    given = [k for k in ("event", "until", "for") if k in n]
    if not given:
        ctx.diags.add("BNY204", "a wait step needs one of `event`, `until` or `for`", doc.key_span(path + ("type",)),
                      "e.g. `event: financials.updated`, `for: 3d`")
    elif len(given) > 1:
        ctx.diags.add("BNY407", f"a wait step takes one of event, until, for; this one has {', '.join(given)}",
                      doc.key_span(path + (given[1],)), "keep one; use `deadline` with `on_timeout` to bound an event wait")
    where = None
    if "event" in n:
        scope = _event_scope(fs, path + ("event",), n["event"])
        where = ctx.expr(doc, path + ("where",), scope, BOOL) if "where" in n and scope is not None else None
    elif "where" in n:
        ctx.diags.add("BNY407", "`where` filters an event; this step waits for none", doc.key_span(path + ("where",)),
                      "remove `where`, or add `event:`")
    until = ctx.expr(doc, path + ("until",), fs.scope, None) if "until" in n else None
    if until is not None and until.type.name not in ("date", "datetime", "any", "null"):
        ctx.diags.add("BNY311", f"`until` must give a date or time, not {until.type}", doc.span(path + ("until",)),
                      "e.g. \"form.due_date\"")
        until = None
    return WaitNode(n["id"], "wait", Label.of(n.get("label")), next_id, doc.span(path), timing, n.get("event"), where,
                    until, duration_at(doc, path + ("for",)))


def _event_scope(fs: "FlowScope", path: Path, event: str):
    """The scope of a `where` on `RECORD.VERB`: the flow's scope plus `event` (the changed record)."""
    entity = check_event(fs.ctx, fs.doc, path, fs.subject, event)
    return {**fs.scope, "event": FieldInfo(record(entity), nullable=False)} if entity else None
