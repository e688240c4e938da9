"""The Channel kind: where notifications go (in-app inbox, e-mail, SMS, a webhook) and the
message templates for it, in Chinese and English.

Templates are Jinja2 text (`{{ subject.name }}`, `{{ alert.grade_label }}`, `{% if message %}…`),
rendered by runtime/jobs/templates.py in a sandbox, in the recipient's language; a value the
message does not carry is an error, never an empty gap. A template is named after the message
kind it carries (`alert_default`, `reminder`, `flow_finished`, …): `banyan validate` reports a
template that is not valid Jinja2 (BNY410) and a message kind that a flow or an alert rule sends
through a channel that has no template for it (BNY409). Variables start from the roots below.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from jinja2 import TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

from dsl.diagnostics import did_you_mean
from dsl.ir import Label, Metadata
from dsl.kinds.common import NAME, envelope
from dsl.kinds.meta import metadata_of
from dsl.kinds.parts import as_dict, spec_of
from dsl.kinds.registry import KindDef, register
from dsl.link import LinkContext
from dsl.loader import Document
from dsl.source import Span

CHANNEL_TYPES = ["in_app", "email", "sms", "webhook"]
TEMPLATE_ROOTS = {
    "subject": "the record the message is about (a company, a group)",
    "alert": "the alert: rule, label, grade, grade_label, opened_at, evidence",
    "task": "the task: label, node, deadline, assignee, url",
    "flow": "the flow instance: name, label, initiator, outcome, started_at",
    "tier": "a tiering result: tier, tier_label, previous, score",
    "recipient": "the person receiving the message: display_name, email, mobile",
    "link": "a link that opens the item in Banyan",
    "message": "a note the sender added (an urge's message), empty when none",
    "by": "who caused the message (the user name)",
}
DEFAULT_CHANNEL = "in_app"       # where a flow's own messages go when the flow names no channels
_OLD_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_JINJA = SandboxedEnvironment()

TEXT = {"description": "Jinja2 text in Chinese and English, e.g. `{{ subject.name }} 触发{{ alert.grade_label }}预警`.",
        "oneOf": [{"type": "string", "minLength": 1},
                  {"type": "object", "additionalProperties": False, "minProperties": 1,
                   "properties": {"zh": {"type": "string", "minLength": 1}, "en": {"type": "string", "minLength": 1}}}]}

TEMPLATE = {"type": "object", "required": ["body"], "additionalProperties": False,
            "properties": {"subject": {**TEXT, "description": "The title (e-mail subject, in-app headline)."},
                           "body": {**TEXT, "description": "The message (Jinja2). Variables: " +
                                    "; ".join(f"{{{{ {k}… }}}} {v}" for k, v in TEMPLATE_ROOTS.items())}}}

CHANNEL_SPEC = {
    "type": "object",
    "required": ["type", "templates"],
    "additionalProperties": False,
    "properties": {
        "type": {"enum": CHANNEL_TYPES, "description": "in_app (Banyan's inbox), email, sms, or webhook (an HTTP POST)."},
        "sender": {"type": "string", "minLength": 1,
                   "description": "E-mail: the From address. SMS: the signature shown, e.g. 【某某银行】."},
        "url": {"type": "string", "pattern": "^https?://", "description": "Webhook: where to POST the message (JSON).",
                "x-hint": "write a full URL starting with https://"},
        "secret_env": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$",
                       "description": "Webhook: the environment variable holding the signing secret (never the secret itself)."},
        "max_length": {"type": "integer", "minimum": 1, "description": "SMS: the longest body sent, in characters (default 70)."},
        "quiet_hours": {"type": "object", "required": ["from", "to"], "additionalProperties": False,
                        "description": "Hold messages in these hours (local time), e.g. {from: '22:00', to: '07:00'}; "
                                       "red alerts are never held.",
                        "properties": {"from": {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$"},
                                       "to": {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$"}}},
        "templates": {"type": "object", "minProperties": 1, "propertyNames": NAME,
                      "additionalProperties": TEMPLATE,
                      "description": "Named message templates; alerts and flows pick one by name."},
    },
}


@dataclass(frozen=True)
class Template:
    name: str
    subject: Label
    body: Label
    placeholders: tuple[str, ...]   # the variables' roots used, e.g. subject, link
    span: Span


@dataclass(frozen=True)
class Channel:
    meta: Metadata
    type: str
    sender: str | None
    url: str | None
    secret_env: str | None
    max_length: int | None
    quiet_hours: tuple[str, str] | None
    templates: Mapping[str, Template]

    @property
    def name(self) -> str:
        return self.meta.name


def placeholders(ctx: LinkContext, doc: Document, path, text: str) -> list[str]:
    """The variable roots a template text uses; a text that is not valid Jinja2 (BNY410), an old
    `${…}` placeholder (BNY410) and an unknown root (BNY302) are reported at their YAML line."""
    base = doc.span(path)
    old = _OLD_PLACEHOLDER.search(text)
    if old:
        ctx.diags.add("BNY410", f"`{old.group(0)}` is the old placeholder form; templates are Jinja2 now",
                      _at(base, text, old.start()), f"write {{{{ {old.group(1).strip() or 'subject.name'} }}}}")
        return []
    try:
        tree = _JINJA.parse(text)
    except TemplateSyntaxError as exc:
        ctx.diags.add("BNY410", f"the template is not valid Jinja2: {exc.message}", _line(base, text, exc.lineno),
                      "write variables as {{ subject.name }} and blocks as {% if message %}…{% endif %}; "
                      "quote the whole text in YAML")
        return []
    found = []
    for root in sorted(meta.find_undeclared_variables(tree), key=lambda r: (text.find(r), r)):
        if root not in TEMPLATE_ROOTS:
            ctx.diags.add("BNY302", f"unknown template variable `{root}`", _at(base, text, max(text.find(root), 0)),
                          did_you_mean(root, TEMPLATE_ROOTS) or f"start from one of: {', '.join(TEMPLATE_ROOTS)}")
            continue
        found.append(root)
    return found


def _at(base: Span, text: str, offset: int) -> Span:
    """Where character `offset` of a one-line template is (the value's start for a multi-line one)."""
    return base.shifted(0, offset + 1) if "\n" not in text else base


def _line(base: Span, text: str, lineno: int | None) -> Span:
    """The YAML line of a template's line `lineno` (a multi-line text is a block scalar, `|`,
    whose span starts at its first line)."""
    if "\n" not in text or not lineno:
        return base
    return Span(base.file, base.line + lineno - 1, base.col)


def _texts(value) -> list[tuple[tuple, str]]:
    if isinstance(value, str):
        return [((), value)]
    return [((lang,), t) for lang, t in as_dict(value).items() if isinstance(t, str)]


def _build(doc: Document, ctx: LinkContext) -> Channel:
    spec = spec_of(doc)
    kind = spec["type"]
    if kind == "webhook" and "url" not in spec:
        ctx.diags.add("BNY204", "a webhook channel is missing the required key `url`", doc.key_span(("spec", "type")),
                      "add `url: https://…`")
    for key, fits in (("url", {"webhook"}), ("secret_env", {"webhook"}), ("max_length", {"sms"}),
                      ("sender", {"email", "sms"})):
        if key in spec and kind not in fits:
            ctx.diags.add("BNY407", f"`{key}` does not apply to a {kind} channel", doc.key_span(("spec", key)),
                          f"`{key}` fits {' and '.join(sorted(fits))} channels; remove it")
    templates = {}
    for name, t in as_dict(spec.get("templates")).items():
        path = ("spec", "templates", name)
        if kind == "email" and "subject" not in t:
            ctx.diags.add("BNY204", f"e-mail template `{name}` is missing the required key `subject`",
                          doc.key_span(path), "add `subject: {zh: …, en: …}`")
        if kind == "sms" and "subject" in t:
            ctx.diags.add("BNY407", "an SMS has no subject", doc.key_span(path + ("subject",)), "remove `subject`")
        used: list[str] = []
        for part in ("subject", "body"):
            for sub, text in _texts(t.get(part)):
                used += placeholders(ctx, doc, path + (part,) + sub, text)
        templates[name] = Template(name, Label.of(t.get("subject")), Label.of(t.get("body")),
                                   tuple(dict.fromkeys(used)), doc.span(path))
    quiet = spec.get("quiet_hours")
    return Channel(metadata_of(doc), kind, spec.get("sender"), spec.get("url"), spec.get("secret_env"),
                   spec.get("max_length", 70 if kind == "sms" else None),
                   (quiet["from"], quiet["to"]) if quiet else None, MappingProxyType(templates))


def check_template(ctx: LinkContext, doc: Document, path, channel: str, template: str,
                   seen: set | None = None) -> None:
    """Report (BNY409) when the named channel exists but has no template for message kind
    `template`: the message could not be rendered. `seen` reports each (channel, kind) once."""
    other = ctx.decls.documents.get(("Channel", channel))
    if other is None or (seen is not None and (channel, template) in seen):
        return
    names = list(as_dict(spec_of(other).get("templates")))
    if template not in names:
        if seen is not None:
            seen.add((channel, template))
        ctx.diags.add("BNY409", f"channel `{channel}` has no template `{template}` for the message sent here",
                      doc.span(path), did_you_mean(template, names) or
                      f"add a `{template}` template to channel `{channel}` ({other.file})")


def check_flow_messages(ctx: LinkContext, doc: Document, nodes: Any) -> None:
    """The messages a flow's steps send on their own — reminder, overdue, escalation, urge and cc —
    each need a template in every channel they go through (the flow's `channels`, else in_app)."""
    seen: set = set()
    built = {n.id: n for n in nodes}
    for i, raw in enumerate(doc.data["spec"]["nodes"]):
        node = built.get(raw.get("id"))
        timing = getattr(node, "timing", None)
        if timing is None:
            continue
        at = ("spec", "nodes", i)
        is_task = isinstance(getattr(node, "actions", None), tuple) and hasattr(node, "assignees")
        for kind, channels, path in _step_messages(node, timing, is_task):
            for j, ch in enumerate(channels or (DEFAULT_CHANNEL,)):
                check_template(ctx, doc, at + path + ((j,) if channels else ()), ch, kind, seen)
    check_template(ctx, doc, ("spec", "start"), DEFAULT_CHANNEL, "cc", seen)   # the initiator may copy anyone


def _step_messages(node: Any, timing: Any, is_task: bool):
    """(kind, channels, path under the node) of the messages one step can send."""
    if is_task:
        r = timing.reminders
        if r is not None or timing.on_timeout == "remind":
            yield "reminder", r.channels if r else (), ("reminders", "channels") if r and r.channels else ("reminders",)
        if timing.deadline is not None and timing.on_timeout not in ("auto_approve", "auto_reject", "goto"):
            yield "overdue", (), ("deadline",)
        if "urge" in node.actions:
            yield "urge", (), ("actions",)
        if "cc" in node.actions or timing.cc is not None:
            yield "cc", (), ("cc",) if timing.cc is not None else ("actions",)
    for j, level in enumerate(timing.escalation):
        yield "escalation", level.channels, ("escalation", j, "channels") if level.channels else ("escalation", j)


CHANNEL = register(KindDef(
    kind="Channel", schema=envelope("Channel", CHANNEL_SPEC, "A notification channel and its message templates."),
    build=_build, order=13,
    summary="A notification channel (in_app, email, sms, webhook) and its zh/en Jinja2 templates, one per message kind.",
    scaffold="""\
spec:
  type: in_app
  templates:
    default:
      subject: {zh: '{{ subject.name }} 有新消息', en: 'News about {{ subject.name }}'}
      body: {zh: '请查看：{{ link }}', en: 'Open: {{ link }}'}
""",
))
