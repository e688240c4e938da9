"""Actions: what a flow's action step or an alert rule does. One list item is one action,
named by its key (set, notify, start_flow, webhook, record, update), optionally guarded by `when`.

`update` (alert rules) changes every record of an entity whose fields equal `match` — a red
alert freezing the subject's unused facilities — through the records service; none matching is
nothing to do, so an update that has run matches nothing the next time."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from dsl.diagnostics import did_you_mean
from dsl.expr.types import BOOL, FieldInfo, RecordType
from dsl.kinds.channel import check_template
from dsl.kinds.common import EXPRESSION, NAME, ROLE_LIST
from dsl.kinds.parts import ASSIGNEES, CONDITION, NAME_LIST, as_dict, compile_assignees, get, spec_of
from dsl.kinds.record_action import RECORD, UPDATE, WriteRecord, build_record
from dsl.link import LinkContext
from dsl.loader import Document, Path
from dsl.source import Span

NOTIFY = {"type": "object", "required": ["channels", "template"], "additionalProperties": False,
          "description": "Send a message: to the holders of `roles` and/or the users of `to`, through each channel.",
          "properties": {"roles": {**ROLE_LIST, "description": "Roles to notify (holders in the subject's org units)."},
                         "to": ASSIGNEES,
                         "channels": {**NAME_LIST, "minItems": 1, "description": "Channel names (in_app, email, sms …)."},
                         "template": {**NAME, "description": "A template every listed channel defines."}}}

START_FLOW = {"description": "Start another flow: its name, or {flow, subject, input}.",
              "oneOf": [NAME, {"type": "object", "required": ["flow"], "additionalProperties": False,
                               "properties": {"flow": NAME,
                                              "subject": {**EXPRESSION, "description": "The new flow's subject record "
                                                          "(default: this subject, when the flow's subject type matches)."},
                                              "input": {"type": "object", "propertyNames": NAME,
                                                        "additionalProperties": EXPRESSION,
                                                        "description": "Initial values of the new flow's form fields."}}}]}

WEBHOOK = {"type": "object", "required": ["channel", "template"], "additionalProperties": False,
           "description": "POST a message through a webhook channel.",
           "properties": {"channel": NAME, "template": NAME}}

SET = {"type": "object", "minProperties": 1, "propertyNames": NAME, "additionalProperties": EXPRESSION,
       "description": "Set form fields: {field: expression}."}


def action_schema(kinds: tuple[str, ...]) -> dict:
    """The schema of one action item allowing the given action keys."""
    pieces = {"set": SET, "notify": NOTIFY, "start_flow": START_FLOW, "webhook": WEBHOOK, "record": RECORD,
              "update": UPDATE}
    return {"type": "object", "additionalProperties": False, "minProperties": 1,
            "description": "One action: " + ", ".join(kinds) + "; `when` guards it.",
            "properties": {"when": CONDITION, **{k: pieces[k] for k in kinds}},
            "oneOf": [{"required": [k]} for k in kinds],
            "x-hint": "each item holds exactly one of: " + ", ".join(kinds)}


@dataclass(frozen=True)
class Notify:
    roles: tuple[str, ...]
    to: Any                  # CompiledExpr | None
    channels: tuple[str, ...]
    template: str


@dataclass(frozen=True)
class StartFlow:
    flow: str
    subject: Any             # CompiledExpr | None: None means "this subject"
    input: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Webhook:
    channel: str
    template: str


@dataclass(frozen=True)
class SetFields:
    values: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Action:
    kind: str                # set | notify | start_flow | webhook | record | update
    when: Any                # CompiledExpr | None
    effect: Any              # SetFields | Notify | StartFlow | Webhook | WriteRecord (record, update)
    span: Span


def build_actions(doc: Document, ctx: LinkContext, path: Path, scope: Mapping[str, FieldInfo],
                  subject: str | None, set_target: Mapping[str, FieldInfo] | None = None) -> tuple[Action, ...]:
    out = []
    for i, item in enumerate(get(doc.data, path) or []):
        ipath = path + (i,)
        kind = next(k for k in ("set", "notify", "start_flow", "webhook", "record", "update") if k in item)
        when = ctx.expr(doc, ipath + ("when",), scope, BOOL) if "when" in item else None
        effect: SetFields | Notify | StartFlow | Webhook | WriteRecord
        if kind in ("record", "update"):         # dsl/kinds/record_action.py
            effect = build_record(doc, ctx, ipath + (kind,), scope, update=kind == "update")
        elif kind == "notify":
            effect = _notify(doc, ctx, ipath + ("notify",), scope)
        elif kind == "start_flow":
            effect = _start_flow(doc, ctx, ipath + ("start_flow",), scope, subject)
        elif kind == "webhook":
            w = item["webhook"]
            if ctx.resolve("Channel", w["channel"], doc, ipath + ("webhook", "channel")):
                check_template(ctx, doc, ipath + ("webhook", "template"), w["channel"], w["template"])
            effect = Webhook(w["channel"], w["template"])
        else:
            effect = SetFields(tuple(_set(doc, ctx, ipath + ("set",), scope, set_target or {})))
        out.append(Action(kind, when, effect, doc.span(ipath)))
    return tuple(out)


def _notify(doc: Document, ctx: LinkContext, path: Path, scope) -> Notify:
    n = get(doc.data, path)
    roles = tuple(r for j, r in enumerate(n.get("roles") or []) if ctx.resolve("Role", r, doc, path + ("roles", j)))
    for j, ch in enumerate(n["channels"]):
        if ctx.resolve("Channel", ch, doc, path + ("channels", j)):
            check_template(ctx, doc, path + ("template",), ch, n["template"])
    to = compile_assignees(ctx, doc, path + ("to",), scope) if "to" in n else None
    if not n.get("roles") and "to" not in n:
        ctx.diags.add("BNY204", "`notify` names no one: add `roles` or `to`", doc.key_span(path), None)
    return Notify(roles, to, tuple(n["channels"]), n["template"])


def _start_flow(doc: Document, ctx: LinkContext, path: Path, scope, subject: str | None) -> StartFlow:
    value = get(doc.data, path)
    name_path = path if isinstance(value, str) else path + ("flow",)
    name = get(doc.data, name_path)
    if not ctx.resolve("Flow", name, doc, name_path):
        return StartFlow(name, None, ())
    target = ctx.decls.documents[("Flow", name)]
    target_spec = spec_of(target)
    wanted = target_spec.get("subject")
    compiled = None
    if isinstance(value, dict) and "subject" in value:
        compiled = ctx.expr(doc, path + ("subject",), scope, None)
        t = compiled.type if compiled is not None else None
        if wanted and t is not None and not (isinstance(t, RecordType) and t.entity == wanted) and t.name != "any":
            ctx.diags.add("BNY405", f"flow `{name}` is about a {wanted}, but this subject is {t}",
                          doc.span(path + ("subject",)), f"give a record of {wanted}")
    elif wanted and subject and wanted != subject:
        ctx.diags.add("BNY405", f"flow `{name}` is about a {wanted}, not a {subject}", doc.span(name_path),
                      f"write `start_flow: {{flow: {name}, subject: \"<the {wanted}>\"}}`")
    inputs = []
    form = target_spec.get("form")
    form_fields = ctx.decls.records.get(form, {}) if isinstance(form, str) else {}
    for key, _text in as_dict(value.get("input") if isinstance(value, dict) else None).items():
        ipath = path + ("input", key)
        if key not in form_fields:
            ctx.diags.add("BNY404", f"flow `{name}`'s form has no field `{key}`", doc.key_span(ipath),
                          did_you_mean(key, form_fields) or (f"its form is `{form}`" if form else "that flow has no form"))
            continue
        inputs.append((key, ctx.expr(doc, ipath, scope, form_fields[key].type)))
    return StartFlow(name, compiled, tuple(inputs))


def _set(doc: Document, ctx: LinkContext, path: Path, scope, target: Mapping[str, FieldInfo]):
    for key in as_dict(get(doc.data, path)):
        if key not in target:
            ctx.diags.add("BNY404", f"there is no field `{key}` to set", doc.key_span(path + (key,)),
                          did_you_mean(key, target) or "`set` writes the flow's form fields")
            continue
        yield key, ctx.expr(doc, path + (key,), scope, target[key].type)
