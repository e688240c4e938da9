"""One set of field rules, compiled once per field list and run by every door: the records
service (runtime/records/validation.py), the form renderer's server check (forms/rules.py) and
the flow service (runtime/flows/form_check.py).

The rules: show/hide (`visible_when`; a hidden field is never required nor checked and its value
is cleared unless `on_hidden: keep`), `required` and `required_when`, lengths, patterns, ranges,
`check`, sub-table rows (`min_rows`/`max_rows`, each row's columns seeing the row and `form`),
computed fields and cross-field validations. One problem per field (the first it breaks).

Semantics written down once:
- empty is null, blank text or an empty list;
- a condition that is null does not fire (`required_when`, `visible_when`; a `check` or a
  validation must be *false* to complain);
- an expression that cannot be evaluated on the data is a problem (code `evaluation`) at the
  field it guards; a failed `visible_when` hides, a failed `compute` gives null and a problem.

A `Problem` carries a path (`("sub_limits", 0, "amount")`), a stable code, and its words by
catalogue key (dsl/messages.yaml) or by the author's label, so each door renders it in its
caller's language (`text(lang)`, `to_dict(lang)`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping, MutableMapping

from dsl.errors import catalog, in_lang, lang_of
from dsl.expr import EvaluationError
from dsl.patterns import pattern_test

CURRENCY_SIGNS = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$", "GBP": "£", "JPY": "JP¥"}


# -- problems ---------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Problem:
    """One field problem. `message` is the English text (what developers and logs see); `key` and
    `params` give the catalogue's words in every language, `words` (a Label) the author's own."""
    path: tuple
    message: str
    code: str = "invalid"
    key: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    words: Any = None

    @staticmethod
    def of(path: tuple, code: str, *, key: str | None = None, words: Any = None, **params: Any) -> "Problem":
        """A problem worded by the catalogue entry `key` (default `forms.<code>`)."""
        key = key or f"forms.{code}"
        problem = Problem(tuple(path), "", code, key, params, words)
        object.__setattr__(problem, "message", problem.text("en"))
        return problem

    @staticmethod
    def of_error(path: tuple, error: Any) -> "Problem":
        """A problem from a BanyanError about one value (a converter's BadValue …)."""
        key = error.message_key if error.message_key in catalog() else None
        return Problem(tuple(path), error.render("en"), error.code, key, dict(error.params))

    def at(self, *prefix: Any) -> "Problem":
        """The same problem under `prefix` (a row number, a table name)."""
        return Problem(tuple(prefix) + self.path, self.message, self.code, self.key, self.params, self.words)

    def text(self, lang: str = "en") -> str:
        lang = lang_of(lang, "en")
        if self.words is not None:
            own = self.words.text(lang)
            if own:
                return own
        if self.key is not None:
            entry = catalog().get(self.key)
            if entry is not None and lang in entry:
                try:
                    return entry[lang].format_map({k: in_lang(v, lang) for k, v in self.params.items()})
                except (KeyError, IndexError, ValueError):
                    pass
        return self.message

    def to_dict(self, lang: str = "en") -> dict:
        return {"loc": list(self.path), "msg": self.text(lang), "type": self.code}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Problem) and (self.path, self.code, self.message) == \
            (other.path, other.code, other.message)

    def __hash__(self) -> int:
        return hash((self.path, self.code, self.message))




def limit_text(f: Any, value: Any) -> str:
    """A min or max as people read it: `¥10,000,000.00`, `70%`, `1,000`, `2024-01-01`."""
    t = f.type_name
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        d = Decimal(value)
        if t == "money":
            sign = CURRENCY_SIGNS.get(f.currency or "CNY", (f.currency or "") + " ")
            scale = f.scale if f.scale is not None else 2
            return sign + f"{d.quantize(Decimal(1).scaleb(-scale)):,}"
        if t == "percent":
            return f"{(d * 100).quantize(Decimal('0.01')).normalize():f}%"
        if t == "integer":
            return f"{int(d):,}"
        if f.scale is not None:
            return f"{d.quantize(Decimal(1).scaleb(-f.scale)):,}"
        return f"{d.normalize():,f}" if d == d.to_integral_value() or abs(d) >= 1 else f"{d:f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return value == []


def verdict(expr: Callable[[Any], Any], ctx: Any) -> bool | None:
    """A condition's value: True, False, or None (null, or not a bool). Raises EvaluationError."""
    v = expr(ctx)
    return v if isinstance(v, bool) else None


# -- one field's rules, compiled ------------------------------------------------------------------
class FieldRule:
    """The rules of one field, prepared once: its null rule (required / required_when), its value
    rule (lengths, pattern, range), its check, and, for a sub-table, its columns' rules."""

    def __init__(self, f: Any, visible_when: Any = None, editable: bool = True, columns: Iterable[Any] = (),
                 min_rows: int | None = None, max_rows: int | None = None):
        self.field, self.name = f, f.name
        self.path = (f.name,)                  # its path at the top of a form (made once, not per row)
        self.visible_when = visible_when.evaluate if visible_when is not None else None
        self.editable = editable and f.compute is None
        self.keep_hidden = f.on_hidden == "keep"
        self.is_table = f.type_name == "table"
        self.columns = FieldRules(columns) if self.is_table else None
        self.min_rows, self.max_rows = min_rows, max_rows
        self.required = bool(f.required)
        self.required_when = f.required_when.evaluate if f.required_when is not None else None
        self.required_text = f.required_when.text if f.required_when is not None else ""
        self.value_rule = _value_rule(f)
        self.check = f.check.evaluate if f.check is not None else None
        self.check_text = f.check.text if f.check is not None else ""
        self.check_words = f.check_message if f.check is not None and f.check_message else None

    def is_required(self, ctx: Any, path: tuple, problems: list[Problem]) -> bool:
        if self.required:
            return True
        if self.required_when is None:
            return False
        try:
            return verdict(self.required_when, ctx) is True
        except EvaluationError:
            problems.append(Problem.of(path, "evaluation", rule=self.required_text))
            return False

    def run_check(self, ctx: Any, path: tuple, problems: list[Problem]) -> None:
        try:
            ok = verdict(self.check, ctx)           # type: ignore[arg-type]
        except EvaluationError:
            problems.append(Problem.of(path, "evaluation", rule=self.check_text))
            return
        if ok is False:
            problems.append(Problem.of(path, "check", words=self.check_words, rule=self.check_text))


def _value_rule(f: Any) -> Callable[[Any, tuple], Problem | None] | None:
    """Lengths and pattern (of text), then the range, of a non-empty value: the first problem."""
    lo_len, hi_len, lo, hi = f.min_length, f.max_length, f.min, f.max
    search = pattern_test(f.pattern) if f.pattern else None
    if lo_len is None and hi_len is None and search is None and lo is None and hi is None:
        return None
    lo_text = limit_text(f, lo) if lo is not None else ""
    hi_text = limit_text(f, hi) if hi is not None else ""

    def rule(v: Any, path: tuple) -> Problem | None:
        if isinstance(v, str):
            if lo_len is not None and len(v) < lo_len:
                return Problem.of(path, "min_length", limit=lo_len)
            if hi_len is not None and len(v) > hi_len:
                return Problem.of(path, "max_length", limit=hi_len)
            if search is not None and not search(v):
                return Problem.of(path, "pattern", pattern=f.pattern)
            if lo is None and hi is None:
                return None
        elif isinstance(v, (list, dict)):
            return None
        try:
            if lo is not None and v < lo:
                return Problem.of(path, "min", limit=lo_text)
            if hi is not None and v > hi:
                return Problem.of(path, "max", limit=hi_text)
        except TypeError:
            return Problem.of(path, "number")
        return None
    return rule


# -- a list of fields ---------------------------------------------------------------------------------
@dataclass
class Verdict:
    """What a run of the rules found: the problems, and for a page which fields are hidden and
    which are required right now (keys like `amount`, `sub_limits.0.guarantor`)."""
    problems: list[Problem] = field(default_factory=list)
    hidden: set[str] = field(default_factory=set)
    required: set[str] = field(default_factory=set)


def _key(path: tuple) -> str:
    return ".".join(map(str, path))


class Validation:
    """A cross-field rule, prepared."""

    def __init__(self, v: Any):
        self.rule, self.text, self.names = v.rule.evaluate, v.rule.text, frozenset(v.rule.names)
        self.fields, self.words = tuple(v.fields), v.message if v.message else None


class FieldRules:
    """The rules of a list of fields — an Entity's, a Form's, a sub-table's columns — compiled once.

    `fields` are EntityFields, or objects with `.field` (an EntityField) and optionally
    `visible_when`, `editable`, `columns`, `min_rows`, `max_rows` (forms.spec.FieldSpec, the IR's
    FormField). `validations` and `compute_order` are the entity's or form's."""

    def __init__(self, fields: Iterable[Any], validations: Iterable[Any] = (), compute_order: Iterable[str] = ()):
        self.rules: list[FieldRule] = []
        for item in fields:
            f = getattr(item, "field", item)
            editable = getattr(item, "editable", not getattr(item, "readonly", False))
            self.rules.append(FieldRule(f, getattr(item, "visible_when", None), editable,
                                        getattr(item, "columns", ()), getattr(item, "min_rows", None),
                                        getattr(item, "max_rows", None)))
        self.by_name = {r.name: r for r in self.rules}
        self.validations = [Validation(v) for v in validations]
        self.computed = [self.by_name[n] for n in compute_order if n in self.by_name]
        self.has_visibility = any(r.visible_when is not None for r in self.rules)
        self._checked = [r for r in self.rules if r.editable and (
            r.required or r.required_when is not None or r.value_rule is not None or r.check is not None
            or r.is_table)]
        # what `check` reads of each rule, unpacked once (it runs for every row of an import)
        self._plan = [(r, r.name, r.path, r.required, r.required_when is not None, r.is_table, r.value_rule,
                       r.check is not None) for r in self._checked]

    # -- computed fields ----------------------------------------------------------------------------
    def compute_one(self, rule: FieldRule, ctx: Any, problems: list[Problem], prefix: tuple = ()) -> Any:
        try:
            return rule.field.compute(ctx)
        except EvaluationError:
            problems.append(Problem.of(prefix + (rule.name,), "evaluation", rule=rule.field.compute.text))
            return None

    def compute(self, values: MutableMapping[str, Any], ctx: MutableMapping[str, Any], problems: list[Problem],
                prefix: tuple = ()) -> None:
        """Computed fields in dependency order, into `values` and `ctx` alike (`ctx` may be `values`)."""
        for rule in self.computed:
            values[rule.name] = ctx[rule.name] = self.compute_one(rule, ctx, problems, prefix)

    # -- visibility ------------------------------------------------------------------------------------
    def hide(self, values: MutableMapping[str, Any], ctx: MutableMapping[str, Any], out: Verdict,
             prefix: tuple = (), hidden_names: Iterable[str] = ()) -> set[str]:
        """Names of the hidden fields (by `visible_when`, or listed in `hidden_names`); an editable
        hidden field's value is cleared unless it says `on_hidden: keep`."""
        gone = set(hidden_names)
        if not self.has_visibility and not gone:
            return gone
        for rule in self.rules:
            hidden = rule.name in gone
            if not hidden and rule.visible_when is not None:
                try:
                    hidden = verdict(rule.visible_when, ctx) is not True
                except EvaluationError:
                    hidden = True
            if hidden:
                gone.add(rule.name)
                out.hidden.add(_key(prefix + (rule.name,)))
                if rule.editable and not rule.keep_hidden:
                    values[rule.name] = ctx[rule.name] = [] if rule.is_table else None
        return gone

    # -- the check ------------------------------------------------------------------------------------
    def check(self, values: Mapping[str, Any], ctx: Any, out: Verdict, *, prefix: tuple = (),
              hidden: set[str] | frozenset[str] = frozenset(), skip: Iterable[str] = (),
              base: Mapping[str, Any] | None = None, validations: bool = True) -> None:
        """Every rule of the visible, editable fields (those in `skip` already have a problem),
        then the validations. `base` is what a sub-table row's expressions see beyond the row."""
        problems = out.problems
        skip = skip if isinstance(skip, (set, frozenset)) else set(skip)
        left_out = (hidden | skip) if hidden or skip else ()
        get = values.get
        now_required = out.required
        for rule, name, top_path, always, sometimes, is_table, value_rule, checked in self._plan:
            if name in left_out:
                continue
            path = prefix + (name,) if prefix else top_path
            v = get(name)
            required = always or (sometimes and rule.is_required(ctx, path, problems))
            if required:
                now_required.add(_key(path) if prefix else name)
            if is_table:
                self._table(rule, v, ctx, path, out, required, base)
                continue
            if v is None or (isinstance(v, str) and (not v or v.isspace())) or (    # is_empty, inline
                    isinstance(v, list) and not v):
                if required:
                    problems.append(Problem.of(path, "required"))
                continue
            if value_rule is not None:
                problem = value_rule(v, path)
                if problem is not None:
                    problems.append(problem)
                    continue
            if checked:
                rule.run_check(ctx, path, problems)
        if validations and self.validations:
            self.check_validations(ctx, out, prefix, hidden, skip)

    def _table(self, rule: FieldRule, rows: Any, form_ctx: Any, path: tuple, out: Verdict, required: bool,
               base: Mapping[str, Any] | None) -> None:
        rows = rows if isinstance(rows, list) else []
        if required and not rows:
            out.problems.append(Problem.of(path, "required"))
        elif rule.min_rows is not None and rows and len(rows) < rule.min_rows:
            out.problems.append(Problem.of(path, "min_rows", limit=rule.min_rows))
        if rule.max_rows is not None and len(rows) > rule.max_rows:
            out.problems.append(Problem.of(path, "max_rows", limit=rule.max_rows))
        columns = rule.columns
        assert columns is not None
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                continue
            ctx = {**(base or {}), **row, "form": form_ctx}
            gone = columns.hide(row, ctx, out, path + (i,))
            columns.check(row, ctx, out, prefix=path + (i,), hidden=gone, base=base)

    def check_validations(self, ctx: Any, out: Verdict, prefix: tuple = (),
                          hidden: set[str] | frozenset[str] = frozenset(), skip: Iterable[str] = ()) -> None:
        """The cross-field rules; one reading a field in `skip` (its value could not be read) waits
        until that value is fixed."""
        skip = set(skip)
        for v in self.validations:
            if skip and v.names & skip:
                continue
            shown = [n for n in v.fields if n not in hidden]
            path = prefix + ((shown[0],) if shown else ())
            try:
                ok = verdict(v.rule, ctx)
            except EvaluationError:
                out.problems.append(Problem.of(path, "evaluation", rule=v.text))
                continue
            if ok is False:
                out.problems.append(Problem.of(path, "validation", words=v.words, rule=v.text))

    # -- all of it -------------------------------------------------------------------------------------
    def run(self, values: MutableMapping[str, Any], base: Mapping[str, Any] | None = None, *,
            compute: bool = True, hidden_names: Iterable[str] = (), skip: Iterable[str] = (),
            problems: list[Problem] | None = None) -> Verdict:
        """The whole check of a form-like record held in `values` (changed in place: computed
        values, hidden values cleared). `base` adds names the expressions may read."""
        out = Verdict(problems if problems is not None else [])
        ctx: dict[str, Any] = {**(base or {}), **values}
        if compute:
            self.compute(values, ctx, out.problems)
        gone = self.hide(values, ctx, out, (), hidden_names)
        self.check(values, ctx, out, hidden=gone, skip=skip, base=base, validations=False)
        if compute:
            self.compute(values, ctx, [])
        self.check_validations(ctx, out, (), gone, skip)
        return out


def first_per_field(problems: Iterable[Problem]) -> list[Problem]:
    """One problem per path: the first."""
    seen: set[tuple] = set()
    out = []
    for p in problems:
        if p.path not in seen:
            seen.add(p.path)
            out.append(p)
    return out
