"""The rules a form needs in the browser, as data: each compiled expression's type-checked tree
(`CompiledExpr.checked`, what the Python code was generated from) written as a small JSON form
that `static/forms.js` evaluates (no `eval`, no code sent, no text parsed again).

Why a JSON tree and not a round trip to the server per keystroke: show/hide, required and
computed values must follow typing instantly and work for the many conditions that read only
the form's own fields. The interpreter implements the language's definition (dsl/expr/README.md,
"Arithmetic" and "Null"): whole numbers exact, decimals to 28 significant digits, `round` half
away from zero, three-valued and/or, and — because the tree carries what the checker proved —
the same null guards as the generated Python (`tests/forms/test_differential.py` holds the two
equal). An expression that reads something the browser cannot know (a referenced record's
fields, a collection in the database, the clock, graph facts) or a type it does not evaluate
(datetime, duration, date arithmetic) is not translated: the browser leaves that rule alone and
the server, which re-checks every rule on submit, decides. `program(spec)` says which.

Tree nodes are JSON arrays; `n…` flags say whether the checker allows that operand to be null
(a guarded operand that is null makes the result null; an unguarded one that is null behaves as
in Python: `==` is false, arithmetic and ordering fail, and a failed rule counts as null):
["lit", null|bool|text|"YYYY-MM-DD"] ["int", "42"] ["dec", "1.005"] ["var", n] ["get", obj, n, nObj]
["proj", rows, n] ["not", x, nX] ["neg", x, nX] ["and"|"or", a, b, nA, nB] ["+"|"-"|"*", a, b, nA, nB]
["/", a, b] ["cmp", op, a, b, nA, nB] ["isnull", x, negated] ["in", item, container, negated, nItem,
nContainer, literal] ["between", x, lo, hi, nX, nLo, nHi] ["if", c, a, b] ["list", ...]
["call", name, [nArg...], ...args] ["agg", name, coll, param|null, body|null, nBody, "int"|"dec"]
["where", coll, param, body].
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dsl.errors import BanyanError
from dsl.expr import ast
from dsl.expr.builtin_functions import BUILTINS
from dsl.expr.checker import Checked
from dsl.expr.types import EnumType, ListType
from dsl.field_rules import Problem, limit_text
from dsl.patterns import backtracking_safe
from dsl.values import DURATION_UNITS, TRUE_WORDS, UNITS

from .display import CURRENCY_SIGNS
from .i18n import client_messages, value_messages
from .spec import FieldSpec, FormSpec

FUNCTIONS = {"is_null", "coalesce", "abs", "round", "len", "lower", "upper", "trim", "contains", "starts_with",
             "ends_with", "is_uscc", "year", "month", "day", "quarter", "days_between"}
AGGREGATES = {"sum", "count", "any", "all", "avg", "min", "max"}
# the types the browser evaluates (a date is its ISO text; a reference the key typed in the form,
# compared but never followed; no datetime, duration or period)
VALUE_TYPES = {"integer", "number", "money", "percent", "string", "enum", "bool", "date", "null", "record"}


class Untranslatable(BanyanError):
    """The expression reads something only the server knows."""
    code, status, namespace = "untranslatable", 422, "forms"


Shape = tuple   # ("scalar",) | ("list",) | ("rows", scope) | ("row", scope) | ("record", scope)


def scope_of(fields: tuple[FieldSpec, ...]) -> dict[str, Shape]:
    """Root names the browser knows (the form's own fields) → shapes; a table is a list of rows."""
    return {f.name: ("rows", scope_of(f.columns)) if f.is_table else ("scalar",) for f in fields}


def literal(value: Any) -> list:
    """A value as a tree leaf: numbers as decimal text (never a float), dates as ISO text."""
    if value is None or isinstance(value, (bool, str)):
        return ["lit", value]
    if isinstance(value, int):
        return ["int", str(value)]
    if isinstance(value, Decimal) and value.is_finite():
        return ["dec", str(value)]
    if isinstance(value, date) and not isinstance(value, datetime):
        return ["lit", value.isoformat()]
    raise Untranslatable("literal")


def _constant(node: ast.Node) -> bool:
    return isinstance(node, ast.Literal) or (isinstance(node, ast.MapLit) and
                                             all(isinstance(v, ast.Literal) for v in node.values))


def _constant_value(node: ast.Node) -> Any:
    if isinstance(node, ast.MapLit):
        return dict(zip(node.keys, (v.value for v in node.values if isinstance(v, ast.Literal))))
    assert isinstance(node, ast.Literal)
    return node.value


class _Translator:
    def __init__(self, checked: Checked, scope: dict[str, Shape]):
        self.c = checked
        self.scope = scope
        self.params: list[tuple[str, Shape]] = []

    def n(self, node: ast.Node) -> bool:
        """May the checker's code see null here (then it guards: null in, null out)?"""
        return self.c.info[node].nullable

    def tr(self, node: ast.Node) -> tuple[list, Shape]:
        method = getattr(self, "_" + type(node).__name__.lower(), None)
        if method is None:
            raise Untranslatable(type(node).__name__)
        return method(node)

    def value(self, node: ast.Node, *, lists: bool = False) -> list:
        """A node whose value the browser holds: a plain value (or, with `lists`, a list of them)."""
        code, shape = self.tr(node)
        t = self.c.info[node].type
        if shape[0] == "scalar" and t.name in VALUE_TYPES:
            return code
        if lists and shape[0] == "list" and isinstance(t, ListType) and t.element.name in VALUE_TYPES | {"any"}:
            return code
        raise Untranslatable("not a plain value")

    def _literal(self, node: ast.Literal) -> tuple[list, Shape]:
        return literal(node.value), ("scalar",)

    def _name(self, node: ast.Name) -> tuple[list, Shape]:
        for name, shape in reversed(self.params):
            if name == node.name:
                return ["var", name], shape
        shape = self.scope.get(node.name)
        if shape is None:
            raise Untranslatable(node.name)
        return ["var", node.name], ("list",) if shape[0] == "scalar" and self.c.info[node].type.name == "list" \
            else shape

    def _field(self, node: ast.Field) -> tuple[list, Shape]:
        obj, shape = self.tr(node.obj)
        inner = shape[1].get(node.name) if shape[0] in ("record", "row", "rows") else None
        if inner is None:
            raise Untranslatable(node.name)
        if shape[0] == "rows":               # a column of every row: `sub_limits.amount`
            if node not in self.c.projections or inner[0] != "scalar":
                raise Untranslatable(node.name)
            return ["proj", obj, node.name], ("list",)
        if inner[0] == "scalar" and self.c.info[node].type.name == "list":
            inner = ("list",)
        return ["get", obj, node.name, self.n(node.obj)], inner

    def _unary(self, node: ast.Unary) -> tuple[list, Shape]:
        if node.op == "-" and self.c.info[node.operand].type.name == "date":
            raise Untranslatable("date arithmetic")
        return ["not" if node.op == "not" else "neg", self.value(node.operand), self.n(node.operand)], ("scalar",)

    def _binary(self, node: ast.Binary) -> tuple[list, Shape]:
        left, right = self.value(node.left), self.value(node.right)
        if node.op in ("and", "or"):
            return [node.op, left, right, self.n(node.left), self.n(node.right)], ("scalar",)
        if "date" in (self.c.info[node.left].type.name, self.c.info[node.right].type.name):
            raise Untranslatable("date arithmetic")
        if node.op == "/":
            return ["/", left, right], ("scalar",)
        return [node.op, left, right, self.n(node.left), self.n(node.right)], ("scalar",)

    def _compare(self, node: ast.Compare) -> tuple[list, Shape]:
        for a, b in ((node.left, node.right), (node.right, node.left)):
            if isinstance(b, ast.Literal) and b.value is None:
                return ["isnull", self.value(a), node.op != "=="], ("scalar",)
        if node.op not in ("==", "!=") and any(isinstance(self.c.info[x].type, EnumType)
                                               for x in (node.left, node.right)):
            raise Untranslatable("the order of an enum's values")
        return ["cmp", node.op, self.value(node.left), self.value(node.right), self.n(node.left),
                self.n(node.right)], ("scalar",)

    def _in(self, node: ast.In) -> tuple[list, Shape]:
        item, cont = self.value(node.item), node.container
        literal_list = isinstance(cont, ast.ListLit) and all(isinstance(i, ast.Literal) for i in cont.items)
        return ["in", item, self.value(cont, lists=True), node.negated, self.n(node.item),
                False if literal_list else self.n(cont), literal_list], ("scalar",)

    def _between(self, node: ast.Between) -> tuple[list, Shape]:
        parts = (node.item, node.low, node.high)
        return ["between", *map(self.value, parts), *map(self.n, parts)], ("scalar",)

    def _if(self, node: ast.If) -> tuple[list, Shape]:
        return ["if", self.value(node.cond), self.value(node.then), self.value(node.else_)], ("scalar",)

    def _listlit(self, node: ast.ListLit) -> tuple[list, Shape]:
        return ["list"] + [self.value(i) for i in node.items], ("list",)

    def _lambda(self, coll_shape: Shape, lam: ast.Node) -> tuple[str, list]:
        if not isinstance(lam, ast.Lambda):
            raise Untranslatable("lambda")
        param = ("row", coll_shape[1]) if coll_shape[0] == "rows" else ("scalar",)
        self.params.append((lam.param, param))
        try:
            return lam.param, self.value(lam.body)
        finally:
            self.params.pop()

    def _where(self, node: ast.Where) -> tuple[list, Shape]:
        coll, shape = self.tr(node.coll)
        if shape[0] not in ("rows", "list"):
            raise Untranslatable("where")
        param, body = self._lambda(shape, node.cond)
        return ["where", coll, param, body], shape

    def _call(self, node: ast.Call) -> tuple[list, Shape]:
        plan = self.c.calls.get(node)
        if plan is None:
            raise Untranslatable(node.name)
        if plan[0] == "aggregate":
            return self._aggregate(node, plan[1], plan[2]), ("scalar",)
        if plan[0] == "scalar":                       # min(a, b, …) of plain values
            return ["call", node.name, [self.n(a) for a in node.args]] + [self.value(a) for a in node.args], \
                ("scalar",)
        fn = BUILTINS.get(node.name)
        if plan[0] != "function" or fn is None or plan[1] is not fn:
            raise Untranslatable(node.name)            # the clock, graph facts, another package's function
        if fn.pure and node.args and all(_constant(a) for a in node.args):
            return self._fold(fn, node), ("scalar",)  # as the compiler folds it (date('2026-03-31'))
        if node.name not in FUNCTIONS:
            raise Untranslatable(node.name)
        flags = [self.n(a) and fn.nulls == "propagate" for a in node.args]
        return ["call", node.name, flags] + [self.value(a, lists=True) for a in node.args], ("scalar",)

    def _fold(self, fn: Any, node: ast.Call) -> list:
        args = [_constant_value(a) for a in node.args]
        if fn.nulls == "propagate" and any(a is None for a in args):
            return literal(None)
        try:
            return literal(fn.impl(*args))
        except Exception as exc:       # the compiler refused such a literal already
            raise Untranslatable(node.name) from exc

    def _aggregate(self, node: ast.Call, name: str, has_lambda: bool) -> list:
        if name not in AGGREGATES or isinstance(node.args[0], ast.Distinct):
            raise Untranslatable(name)
        coll, shape = self.tr(node.args[0])
        if shape[0] not in ("rows", "list"):
            raise Untranslatable(name)
        if has_lambda:
            param, body = self._lambda(shape, node.args[1])
            body_nullable = self.n(node.args[1])
        elif shape[0] == "rows" and name != "count":
            raise Untranslatable("aggregate of rows")
        else:
            param, body, body_nullable = None, None, False
        zero = "int" if self.c.info[node].type.name == "integer" else "dec"
        return ["agg", name, coll, param, body, body_nullable, zero]


def translate(expr: Any, scope: dict[str, Shape]) -> list | None:
    """The JSON tree of a compiled expression's checked tree, or None when only the server can
    evaluate it."""
    checked = getattr(expr, "checked", None)
    if checked is None:
        return None
    try:
        return _Translator(checked, scope).tr(checked.root)[0]
    except Untranslatable:
        return None


def _field_rules(f: FieldSpec, scope: dict[str, Shape], lang: str, compute: bool) -> dict:
    r = f.field
    out: dict[str, Any] = {"type": f.type, "on_hidden": r.on_hidden, "required": r.required,
                           "editable": f.editable}
    for key, expr in (("visible", f.visible_when), ("required_when", r.required_when), ("check", r.check),
                      ("compute", r.compute if compute else None)):
        if expr is not None:
            out[key] = translate(expr, scope)
            out[key + "_text"] = expr.text
    if r.check is not None:                 # the server's words (field_rules.Problem), the author's or the catalogue's
        out["check_message"] = Problem.of((), "check", words=r.check_message or None, rule=r.check.text).text(lang)
    if r.values and f.type in ("enum", "multi_enum"):
        out["values"] = [v.value for v in r.values]
    if f.type == "money":
        if getattr(r, "currency_field", None):
            out["currency_field"] = r.currency_field
        else:
            code = r.currency or "CNY"
            out["sign"] = CURRENCY_SIGNS.get(code, code + " ")
    for key in ("min_length", "max_length"):
        if getattr(r, key) is not None:
            out[key] = getattr(r, key)
    if r.pattern is not None and backtracking_safe(r.pattern):    # the browser's engine backtracks
        out["pattern"] = r.pattern
    if r.scale is not None:
        out["scale"] = r.scale
    for key in ("min", "max"):
        v = getattr(r, key)
        if isinstance(v, (int, Decimal)) and not isinstance(v, bool):
            out[key] = str(v)            # decimal text: forms.js compares it exactly
        elif isinstance(v, date) and not isinstance(v, datetime):
            out[key] = v.isoformat()
        else:
            continue
        out[key + "_text"] = limit_text(r, v)         # as the server's message says it
    if f.is_table:
        row_scope = {**scope_of(f.columns), "form": ("record", scope)}
        out["columns"] = {c.name: _field_rules(c, row_scope, lang, compute) for c in f.columns}
        out["min_rows"], out["max_rows"] = f.min_rows, f.max_rows
    return out


def program(spec: FormSpec, lang: str, *, compute: bool | None = None) -> dict:
    """Everything forms.js needs: per-field rules, section conditions, validations, messages."""
    scope = scope_of(spec.fields)
    do_compute = spec.kind == "form" if compute is None else compute
    return {
        "fields": {f.name: _field_rules(f, scope, lang, do_compute) for f in spec.fields},
        "compute_order": list(spec.compute_order) if do_compute else [],
        "sections": {s.id: translate(s.visible_when, scope) for s in spec.sections if s.visible_when is not None},
        "section_fields": {s.id: list(s.fields) for s in spec.sections if s.visible_when is not None},
        "validations": [{"rule": translate(v.rule, scope), "text": v.rule.text, "reads": sorted(v.rule.names),
                         "message": Problem.of((), "validation", words=v.message or None, rule=v.rule.text).text(lang),
                         "fields": list(v.fields)} for v in spec.validations],
        "messages": client_messages(lang),
        "value_messages": value_messages(lang),
        "reader": READER,
        "signs": CURRENCY_SIGNS,
        "lang": lang,
    }


_SECONDS = {"days": 86400, "hours": 3600, "minutes": 60, "weeks": 604800, "seconds": 1}
# how dsl/values reads text, as the browser needs it: units in the order they are tried, the words
# for yes, and the duration units in seconds
READER = {"units": [[unit, power] for unit, power in UNITS.items()], "true_words": sorted(TRUE_WORDS),
          "duration_units": {unit: _SECONDS[name] for unit, name in DURATION_UNITS.items()}}
