"""The Channel kind: where notifications go (in-app inbox, e-mail, SMS, a webhook) and the
message templates for it, in Chinese and English.

Templates are plain text with `${path}` placeholders (`${subject.name}`, `${alert.grade_label}`,
`${task.deadline}`), never `{{ }}` and never code: the renderer looks each path up in the
message's context and escapes it for the channel (HTML for e-mail and in-app). `$$` writes a
literal `$`. A placeholder starts from one of the context roots below.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from dsl.diagnostics import did_you_mean
from dsl.ir import Label, Metadata
from dsl.link import LinkContext
from dsl.loader import Document
from dsl.source import Span
from dsl.kinds.common import NAME, envelope
from dsl.kinds.meta import metadata_of
from dsl.kinds.parts import as_dict, spec_of
from dsl.kinds.registry import KindDef, register

CHANNEL_TYPES = ["in_app", "email", "sms", "webhook"]
TEMPLATE_ROOTS = {
    "subject": "the record the message is about (a company, a group)",
    "alert": "the alert: rule, label, grade, grade_label, opened_at, evidence",
    "task": "the task: label, node, deadline, assignee, url",
    "flow": "the flow instance: name, label, initiator, outcome, started_at",
    "tier": "a tiering result: tier, tier_label, previous, score",
    "recipient": "the person receiving the message: display_name, email, mobile",
    "link": "a link that opens the item in Banyan",
}
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_PATH = re.compile(r"^\s*([a-z][a-z0-9_]*)(\.[a-z][a-z0-9_]*)*\s*$")

TEXT = {"description": "Text in Chinese and English with ${path} placeholders, e.g. `${subject.name} 触发${alert.grade_label}预警`.",
        "oneOf": [{"type": "string", "minLength": 1},
                  {"type": "object", "additionalProperties": False, "minProperties": 1,
                   "properties": {"zh": {"type": "string", "minLength": 1}, "en": {"type": "string", "minLength": 1}}}]}

TEMPLATE = {"type": "object", "required": ["body"], "additionalProperties": False,
            "properties": {"subject": {**TEXT, "description": "The title (e-mail subject, in-app headline)."},
                           "body": {**TEXT, "description": "The message. Placeholders: " +
                                    "; ".join(f"${{{k}.…}} {v}" for k, v in TEMPLATE_ROOTS.items())}}}

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
                        "description": "Hold messages in these hours (local time), e.g. {from: '22:00', to: '07:00'}; red alerts are never held.",
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
    placeholders: tuple[str, ...]   # the paths used, e.g. subject.name
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
    """The placeholder paths of a template text; malformed ones are reported."""
    found = []
    base = doc.span(path)
    stripped = text.replace("$$", "\0\0")

    def at(offset: int):
        return base.shifted(0, offset + 1) if "\n" not in text[:offset] else base

    closed = {m.start() for m in _PLACEHOLDER.finditer(stripped)}
    for i in range(len(stripped) - 1):
        if stripped.startswith("${", i) and i not in closed:
            ctx.diags.add("BNY301", "a `${` placeholder is not closed with `}`", at(i), "write ${subject.name}")
    for m in _PLACEHOLDER.finditer(stripped):
        inner, span = m.group(1), at(m.start())
        if not _PATH.match(inner):
            ctx.diags.add("BNY301", f"`${{{inner}}}` is not a placeholder path", span,
                          "a placeholder is a dotted path such as ${subject.name}; templates hold no code")
            continue
        root = inner.strip().split(".")[0]
        if root not in TEMPLATE_ROOTS:
            ctx.diags.add("BNY302", f"unknown placeholder root `{root}` in `${{{inner.strip()}}}`", span,
                          did_you_mean(root, TEMPLATE_ROOTS) or f"start from one of: {', '.join(TEMPLATE_ROOTS)}")
            continue
        found.append(inner.strip())
    return found


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


def check_template(ctx: LinkContext, doc: Document, path, channel: str, template: str) -> None:
    """Report (BNY401) when the named channel exists but has no template of that name."""
    other = ctx.decls.documents.get(("Channel", channel))
    if other is None:
        return
    names = list(as_dict(spec_of(other).get("templates")))
    if template not in names:
        ctx.diags.add("BNY401", f"channel `{channel}` has no template `{template}`", doc.span(path),
                      did_you_mean(template, names) or f"its templates: {', '.join(names)}")


CHANNEL = register(KindDef(
    kind="Channel", schema=envelope("Channel", CHANNEL_SPEC, "A notification channel and its message templates."),
    build=_build, order=13,
    summary="A notification channel (in_app, email, sms, webhook) and its zh/en templates with ${path} placeholders.",
    scaffold="""\
spec:
  type: in_app
  templates:
    default:
      subject: {zh: '${subject.name} 有新消息', en: 'News about ${subject.name}'}
      body: {zh: '请查看：${link}', en: 'Open: ${link}'}
""",
))
