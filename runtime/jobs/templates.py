"""Channel templates rendered with Jinja2, in the recipient's language.

A Channel document (dsl/kinds/channel.py) names its templates after the message kinds it
carries (`alert_default`, `reminder`, `flow_finished`, …); each has a `body` and maybe a
`subject`, in Chinese and English, written as Jinja2 text (`{{ subject.name }}`). Templates run
in a `SandboxedEnvironment` with `StrictUndefined`: a variable the message does not carry is a
`TemplateProblem` with a clear sentence (the outbox records it as the row's `last_error`), never
a half-filled message. Plain text only (no HTML), so nothing is escaped here; the pages escape
what they show.

Payload values written as `{zh: …, en: …}` are picked in the recipient's language before
rendering (a flow's or a step's label), and a missing value (None) renders as nothing."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Mapping

from jinja2 import StrictUndefined, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
_UNDEFINED = re.compile(r"'([^']+)' is undefined|has no attribute '([^']+)'")


class TemplateProblem(Exception):
    """A message that cannot be rendered: no such template, or a value the template needs is missing."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Rendered:
    title: str          # the e-mail subject, the in-app headline ("" where the template has none)
    body: str
    language: str


def language_of(value: str | None) -> str:
    """A supported language for a person's setting (`zh-CN` → zh, unknown → the default)."""
    code = (value or "").strip().lower()[:2]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def localize(value: Any, lang: str) -> Any:
    """The payload with `{zh, en}` texts picked in `lang` (falling back to the other one)."""
    if isinstance(value, Mapping):
        keys = set(value)
        if keys and keys <= set(LANGUAGES):
            other = next((value[k] for k in LANGUAGES if value.get(k)), "")
            return value.get(lang) or other
        return {str(k): localize(v, lang) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [localize(v, lang) for v in value]
    return "" if value is None else value


@functools.lru_cache(maxsize=512)
def _compiled(text: str):
    return _ENV.from_string(text)


def render(channel: Any, kind: str, payload: Mapping[str, Any], lang: str) -> Rendered:
    """Render `channel`'s template `kind` (a compiled Channel) in `lang` with `payload`'s values."""
    template = channel.templates.get(kind)
    if template is None:
        known = ", ".join(sorted(channel.templates)) or "none"
        raise TemplateProblem(f"channel `{channel.name}` has no template `{kind}` (its templates: {known}); "
                              "add one to the Channel document and redeploy")
    lang = language_of(lang)
    values = localize(dict(payload), lang)
    where = f"template `{kind}` of channel `{channel.name}` ({lang})"
    title = _render(template.subject.text(lang), values, where + " subject")
    body = _render(template.body.text(lang), values, where)
    return Rendered(title, body, lang)


def render_text(text: str, values: Mapping[str, Any], where: str) -> str:
    """One text of a message (an alert rule's `message`) rendered in the same sandbox; a value it
    lacks or a refusal is a TemplateProblem that says `where`."""
    return _render(text, values, where)


def _render(text: str, values: Mapping[str, Any], where: str) -> str:
    if not text:
        return ""
    try:
        return _compiled(text).render(values).strip()
    except UndefinedError as exc:
        m = _UNDEFINED.search(str(exc))
        name = (m.group(1) or m.group(2)) if m else None
        what = f"value for `{name}`" if name else "value the template uses"
        raise TemplateProblem(f"{where}: the message carries no {what}; "
                              "send it with that value or change the template") from None
    except TemplateError as exc:           # a syntax error or a sandbox refusal: validate catches most
        raise TemplateProblem(f"{where} cannot be rendered: {exc.message or 'invalid template'}") from None
