"""Spec + values + outcome → the HTML of a form (Jinja2, autoescaped), and a record's
read-only view. The page around it (layout, CSRF token, navigation) is the caller's."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Mapping

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from .client import program
from .display import amount_hint, display_text
from .i18n import lang_of, message, word
from .rules import Outcome, validate
from .spec import FormSpec, SectionSpec
from .values import Submitted
from .views import FieldView, RenderOptions, field_view, held_values, table_view


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=PackageLoader("forms", "templates"), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals["word"] = word
    return env


def json_for_html(data: Any) -> Markup:
    """JSON safe inside <script type="application/json">: no `</script>`, no `<!--`."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"))


@dataclass
class SectionView:
    spec: SectionSpec
    label: str
    hidden: bool
    fields: list[FieldView]


def _sections(spec: FormSpec, values: Mapping[str, Any], raw: Submitted | None, outcome: Outcome,
              opts: RenderOptions, extra_rows: Mapping[str, int], skip_computed: bool) -> dict[str, SectionView]:
    errors = outcome.by_key()
    by_name = spec.by_name
    out: dict[str, SectionView] = {}
    for s in spec.sections:
        views = []
        for name in s.fields:
            f = by_name[name]
            if skip_computed and f.computed:
                continue
            if f.is_table:
                rows = values.get(name) or []
                views.append(table_view(f, (name,), rows, raw, outcome, opts, errors, extra_rows.get(name, 0)))
            else:
                views.append(field_view(f, (name,), values.get(name), raw, outcome, opts, errors,
                                        record=held_values(values, raw)))
        if views:
            for v in views:
                v.span = min(v.span, s.columns) if not v.spec.is_table else s.columns
            out[s.id] = SectionView(s, s.label.text(opts.lang) or s.id, s.id in outcome.hidden_sections, views)
    return out


def render_form(spec: FormSpec, values: Mapping[str, Any] | None = None, *, raw: Submitted | None = None,
                outcome: Outcome | None = None, options: RenderOptions | None = None, action: str = "",
                hidden: Mapping[str, str] | None = None, submit_label: str = "", cancel_url: str = "",
                extra_rows: Mapping[str, int] | None = None, context: Mapping[str, Any] | None = None,
                new: bool = False, now: datetime | None = None) -> Markup:
    """The <form>. Without an `outcome` (first display) the rules run once to decide what is
    shown and required, and their messages are not shown yet."""
    opts = options or RenderOptions()
    lang = lang_of(opts.lang)
    values = dict(values or {})
    shown_errors = outcome is not None
    if new:
        for f in spec.fields:
            if f.editable and not f.is_table and values.get(f.name) is None and f.field.default is not None:
                values[f.name] = f.field.default
    if outcome is None:
        outcome = validate(spec, values, lang, context=context, now=now)
        outcome.errors = []
        values = outcome.values
    elif spec.kind == "form":
        values = {**values, **{n: outcome.values.get(n) for n in spec.compute_order}}
    sections = _sections(spec, values, raw, outcome, opts, extra_rows or {}, new)
    tabs = [(t, t.label.text(lang) or t.id, [sections[s] for s in t.sections if s in sections]) for t in spec.tabs]
    in_tabs = {s for t in spec.tabs for s in t.sections}
    loose = [sv for sid, sv in sections.items() if sid not in in_tabs]
    errors = outcome.errors if shown_errors else []
    summary = message("summary", lang, count=len(errors)) if errors else ""
    links = [(e.key, _label_of(spec, e.path, lang), e.message) for e in errors]
    multipart = any(f.type == "file" for f in spec.fields) or any(c.type == "file" for f in spec.fields for c in f.columns)
    return Markup(environment().get_template("form.html").render(
        spec=spec, lang=lang, tabs=tabs, loose=loose, action=action, hidden=dict(hidden or {}),
        submit_label=submit_label, cancel_url=cancel_url, summary=summary, links=links, multipart=multipart,
        program=json_for_html(program(spec, lang)), form_id="bf-" + spec.name))


def _label_of(spec: FormSpec, path: tuple, lang: str) -> str:
    if not path:
        return spec.title(lang)
    f = spec.field(str(path[0]))
    if f is None:
        return str(path[0])
    if len(path) >= 3:
        col = next((c for c in f.columns if c.name == path[2]), None)
        return f"{f.label(lang)} · {word('row', lang)} {int(path[1]) + 1} · {col.label(lang) if col else path[2]}"
    return f.label(lang)


@dataclass
class ReadView:
    label: str
    text: str
    hint: str
    type: str
    link: str


def read_view(spec: FormSpec, record: Mapping[str, Any], lang: str = "zh", *, tz: str = "Asia/Shanghai",
              ref_url: Any = None) -> list[tuple[str, list[ReadView]]]:
    """A record for reading: (section label, [label, text]) in the layout's order."""
    out = []
    for s in spec.sections:
        items = []
        for name in s.fields:
            f = spec.field(name)
            if f is None or f.is_table:
                continue
            v = record.get(name)
            link = ref_url(f.field.ref, v) if (ref_url and f.type == "ref" and v is not None) else ""
            items.append(ReadView(f.label(lang), display_text(f.field, v, lang, tz, record=record), amount_hint(f.field, v, lang),
                                  f.type, link or ""))
        out.append((s.label.text(lang) or s.id, items))
    return out
