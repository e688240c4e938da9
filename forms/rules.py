"""Server-side rules on typed values: show/hide, clearing hidden values, required and
required-when, lengths, patterns, ranges, checks, computed fields, cross-field validations.

The same compiled expressions decide here and (translated by `client.py`) in the browser.
A hidden field is never required and never checked; its value is cleared unless the field
says `on_hidden: keep`. Every problem is collected, one per field, with the message the
browser would show.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

from dsl.expr import EvaluationError
from dsl.patterns import compile_pattern

from .display import display_text
from .i18n import lang_of, message
from .spec import FieldSpec, FormSpec
from .values import FieldError


@dataclass
class Outcome:
    values: dict[str, Any]
    errors: list[FieldError] = field(default_factory=list)
    hidden: set[str] = field(default_factory=set)       # keys of hidden fields ("amount", "rows.0.guarantor")
    required: set[str] = field(default_factory=set)     # keys of fields required right now
    hidden_sections: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.errors

    def by_key(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for e in self.errors:
            out.setdefault(e.key, e.message)
        return out


def _test(expr: Any, ctx: Mapping[str, Any]) -> bool | None:
    """True/False/None (null or failed): a condition that is null does not fire."""
    try:
        verdict = expr(ctx)
    except EvaluationError:
        return None
    return verdict if isinstance(verdict, bool) else None


def _empty(value: Any) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def check_value(f: Any, v: Any, lang: str) -> FieldError | None:
    """Length, pattern and range of one non-empty value (the first problem only)."""
    def err(code: str, **slots: Any) -> FieldError:
        return FieldError((f.name,), message(code, lang, **slots), code)
    if isinstance(v, str):
        if f.min_length is not None and len(v) < f.min_length:
            return err("min_length", limit=f.min_length)
        if f.max_length is not None and len(v) > f.max_length:
            return err("max_length", limit=f.max_length)
        if f.pattern and not compile_pattern(f.pattern).search(v):
            return err("pattern")
    try:
        if f.min is not None and not isinstance(v, (str, list)) and v < f.min:
            return err("min", limit=display_text(f, f.min, lang))
        if f.max is not None and not isinstance(v, (str, list)) and v > f.max:
            return err("max", limit=display_text(f, f.max, lang))
    except TypeError:
        return err("number")
    return None


class _Checker:
    def __init__(self, spec: FormSpec, lang: str, now: datetime, base: Mapping[str, Any]):
        self.spec, self.lang, self.now, self.base = spec, lang_of(lang), now, base
        self.out = Outcome({})

    def error(self, path: tuple, code: str, text: str | None = None, **slots: Any) -> None:
        self.out.errors.append(FieldError(path, text or message(code, self.lang, **slots), code))

    def visible(self, f: FieldSpec, ctx: Mapping[str, Any]) -> bool:
        return f.visible_when is None or _test(f.visible_when, ctx) is True

    def fields(self, fields: tuple[FieldSpec, ...], values: dict[str, Any], ctx: dict[str, Any], prefix: tuple,
               hidden_names: set[str]) -> None:
        """Visibility first (clearing), then every rule of each visible field."""
        shown: list[FieldSpec] = []
        for f in fields:
            key = ".".join(map(str, prefix + (f.name,)))
            if f.name in hidden_names or not self.visible(f, ctx):
                self.out.hidden.add(key)
                if f.field.on_hidden != "keep" and f.editable:
                    values[f.name] = [] if f.is_table else None
                    ctx[f.name] = values[f.name]
            else:
                shown.append(f)
        for f in shown:
            if not f.editable:
                continue
            path = prefix + (f.name,)
            v = values.get(f.name)
            rule = f.field
            required = rule.required or (rule.required_when is not None and _test(rule.required_when, ctx) is True)
            if required:
                self.out.required.add(".".join(map(str, path)))
            if f.is_table:
                if required and not v:
                    self.error(path, "required")
                self.table(f, v or [], ctx, path)
                continue
            if _empty(v):
                if required:
                    self.error(path, "required")
                continue
            problem = check_value(rule, v, self.lang)
            if problem is not None:
                self.error(path, problem.code, problem.message)
                continue
            if rule.check is not None and _test(rule.check, ctx) is False:
                text = rule.check_message.text(self.lang) if rule.check_message else None
                self.error(path, "check", text, rule=rule.check.text)

    def table(self, f: FieldSpec, rows: list[dict], form_ctx: Mapping[str, Any], path: tuple) -> None:
        if f.min_rows is not None and len(rows) < f.min_rows:
            self.error(path, "min_rows", limit=f.min_rows)
        if f.max_rows is not None and len(rows) > f.max_rows:
            self.error(path, "max_rows", limit=f.max_rows)
        for i, row in enumerate(rows):
            ctx = {**self.base, **row, "form": form_ctx}
            self.fields(f.columns, row, ctx, path + (i,), set())

    def compute(self, values: dict[str, Any], ctx: dict[str, Any]) -> None:
        for name in self.spec.compute_order:
            f = self.spec.field(name)
            if f is None or f.field.compute is None:
                continue
            try:
                values[name] = ctx[name] = f.field.compute(ctx)
            except EvaluationError:
                values[name] = ctx[name] = None

    def validations(self, ctx: Mapping[str, Any]) -> None:
        for v in self.spec.validations:
            if _test(v.rule, ctx) is False:
                fields = [n for n in v.fields if ".".join(map(str, (n,))) not in self.out.hidden]
                self.error((fields[0],) if fields else (), "check", v.message.text(self.lang) or None, rule=v.rule.text)


def hidden_sections(spec: FormSpec, ctx: Mapping[str, Any]) -> set[str]:
    return {s.id for s in spec.sections if s.visible_when is not None and _test(s.visible_when, ctx) is not True}


def validate(spec: FormSpec, values: Mapping[str, Any], lang: str = "zh", *, now: datetime | None = None,
             context: Mapping[str, Any] | None = None, compute: bool | None = None) -> Outcome:
    """Check typed `values` against every rule of `spec`. `context` adds names the expressions
    may read beyond the form's own fields (a stored record's computed values, `$graph` …).
    Computed fields are evaluated for a Form (entities compute on save: `compute=False`)."""
    now = now or datetime.now(timezone.utc)
    base = {**(context or {}), "$now": now}
    checker = _Checker(spec, lang, now, base)
    out_values = {k: ([dict(r) for r in v] if isinstance(v, list) and v and isinstance(v[0], dict) else v)
                  for k, v in values.items()}
    ctx: dict[str, Any] = {**base, **out_values}
    do_compute = spec.kind == "form" if compute is None else compute
    if do_compute:
        checker.compute(out_values, ctx)
    sections = hidden_sections(spec, ctx)
    checker.out.hidden_sections = sections
    in_hidden = {n for s in spec.sections if s.id in sections for n in s.fields}
    checker.fields(spec.fields, out_values, ctx, (), in_hidden)
    if do_compute:
        checker.compute(out_values, ctx)
    checker.validations(ctx)
    checker.out.values = out_values
    return checker.out
