"""The rules a form needs in the browser, as data: each compiled expression's syntax tree
translated to a small JSON form that `static/forms.js` evaluates (no `eval`, no code sent).

Why a JSON tree and not a round trip to the server per keystroke: show/hide, required and
computed values must follow typing instantly and work for the many conditions that read only
the form's own fields; the interpreter is ~150 lines and mirrors the Python semantics (three-
valued and/or, null in → null out, a null condition does not fire). An expression that reads
something the browser cannot know (a referenced record's fields, a collection in the
database, the clock, graph facts) is not translated: the browser leaves that rule alone and
the server, which re-checks every rule on submit, decides. `program(spec)` says which.

Tree nodes are JSON arrays: ["lit", v] ["var", n] ["get", obj, n] ["not", x] ["neg", x]
["and", a, b] ["or", a, b] ["+"|"-"|"*"|"/", a, b] ["cmp", op, a, b] ["isnull", x, negated]
["in", item, container, negated] ["between", x, lo, hi] ["if", c, a, b] ["list", ...]
["call", name, ...args] ["agg", name, coll, param|null, body|null] ["where", coll, param, body].
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dsl.diagnostics import Diagnostics
from dsl.errors import BanyanError
from dsl.expr import ast
from dsl.expr.parser import parse_expression
from dsl.patterns import backtracking_safe

from .display import display_text
from .i18n import client_messages
from .spec import FieldSpec, FormSpec

FUNCTIONS = {"is_null", "coalesce", "abs", "round", "len", "lower", "upper", "trim", "contains", "starts_with",
             "ends_with", "is_uscc", "year", "month", "day"}
AGGREGATES = {"sum", "count", "any", "all", "avg", "min", "max"}
_TIME = {"date", "datetime", "duration"}


class Untranslatable(BanyanError):
    """The expression reads something only the server knows."""
    code, status, namespace = "untranslatable", 422, "forms"


Shape = tuple   # ("scalar", type) | ("list", type) | ("rows", scope) | ("row", scope) | ("record", scope)


def scope_of(fields: tuple[FieldSpec, ...]) -> dict[str, Shape]:
    """Root names → shapes; a required scalar is ("scalar", type, True): the type checker proves it
    never null, so the server's code compares it without a null guard (`None != 'new'` is true)."""
    out: dict[str, Shape] = {}
    for f in fields:
        out[f.name] = ("rows", scope_of(f.columns)) if f.is_table else ("scalar", f.type, bool(f.field.required))
    return out


class _Translator:
    def __init__(self, scope: dict[str, Shape]):
        self.scope = scope
        self.params: list[tuple[str, Shape]] = []

    def tr(self, node: ast.Node) -> tuple[list, Shape]:
        method = getattr(self, "_" + type(node).__name__.lower(), None)
        if method is None:
            raise Untranslatable(type(node).__name__)
        return method(node)

    def scalar(self, node: ast.Node, arithmetic: bool = False) -> list:
        code, shape = self.tr(node)
        if shape[0] != "scalar" or (arithmetic and shape[1] in _TIME) or shape[1] == "datetime":
            raise Untranslatable("not a plain value")
        return code

    def _literal(self, node: ast.Literal) -> tuple[list, Shape]:
        v = node.value
        if v is None or isinstance(v, (bool, int, str)):
            return ["lit", v], ("scalar", "value")
        if isinstance(v, Decimal):
            return ["lit", float(v)], ("scalar", "number")
        if isinstance(v, date) and not isinstance(v, datetime):
            return ["lit", v.isoformat()], ("scalar", "date")
        raise Untranslatable("literal")

    def _name(self, node: ast.Name) -> tuple[list, Shape]:
        for name, shape in reversed(self.params):
            if name == node.name:
                return ["var", name], shape
        shape = self.scope.get(node.name)
        if shape is None:
            raise Untranslatable(node.name)
        return ["var", node.name], shape

    def _field(self, node: ast.Field) -> tuple[list, Shape]:
        obj, shape = self.tr(node.obj)
        if shape[0] in ("record", "row") and node.name in shape[1]:
            inner = shape[1][node.name]
            if shape[0] == "record" and inner[0] == "scalar":
                inner = inner[:2]          # the whole form, seen from a row: no promise it is filled
            return ["get", obj, node.name], inner
        if shape[0] == "rows" and node.name in shape[1] and shape[1][node.name][0] == "scalar":
            return ["get", obj, node.name], ("list", shape[1][node.name][1])
        raise Untranslatable(node.name)

    def nonnull(self, node: ast.Node) -> bool:
        """What the checker proves never null (the server's code then has no null guard)."""
        if isinstance(node, ast.Literal):
            return node.value is not None
        if isinstance(node, (ast.Name, ast.Field)):
            try:
                shape = self.tr(node)[1]
            except Untranslatable:
                return False
            return shape[0] == "scalar" and len(shape) > 2 and shape[2] is True
        return False

    def _unary(self, node: ast.Unary) -> tuple[list, Shape]:
        code: list[Any] = ["not" if node.op == "not" else "neg", self.scalar(node.operand, node.op == "-")]
        if node.op == "not" and self.nonnull(node.operand):
            code.append(True)
        return code, ("scalar", "value")

    def _binary(self, node: ast.Binary) -> tuple[list, Shape]:
        arith = node.op not in ("and", "or")
        return [node.op, self.scalar(node.left, arith), self.scalar(node.right, arith)], ("scalar", "value")

    def _compare(self, node: ast.Compare) -> tuple[list, Shape]:
        for a, b in ((node.left, node.right), (node.right, node.left)):
            if isinstance(b, ast.Literal) and b.value is None:
                return ["isnull", self.scalar(a), node.op != "=="], ("scalar", "bool")
        code: list[Any] = ["cmp", node.op, self.scalar(node.left), self.scalar(node.right)]
        if node.op in ("==", "!=") and self.nonnull(node.left) and self.nonnull(node.right):
            code.append(True)          # strict: no null guard, as on the server
        return code, ("scalar", "bool")

    def _in(self, node: ast.In) -> tuple[list, Shape]:
        cont, shape = self.tr(node.container)
        if shape[0] not in ("scalar", "list"):
            raise Untranslatable("in")
        strict = self.nonnull(node.item) and isinstance(node.container, ast.ListLit)
        return ["in", self.scalar(node.item), cont, node.negated, strict], ("scalar", "bool")

    def _between(self, node: ast.Between) -> tuple[list, Shape]:
        return ["between", self.scalar(node.item), self.scalar(node.low), self.scalar(node.high)], ("scalar", "bool")

    def _if(self, node: ast.If) -> tuple[list, Shape]:
        return ["if", self.scalar(node.cond), self.scalar(node.then), self.scalar(node.else_)], ("scalar", "value")

    def _listlit(self, node: ast.ListLit) -> tuple[list, Shape]:
        return ["list"] + [self.scalar(i) for i in node.items], ("list", "value")

    def _lambda(self, coll_shape: Shape, lam: ast.Node) -> tuple[str, list]:
        if not isinstance(lam, ast.Lambda):
            raise Untranslatable("lambda")
        param = ("row", coll_shape[1]) if coll_shape[0] == "rows" else ("scalar", coll_shape[1])
        self.params.append((lam.param, param))
        try:
            return lam.param, self.scalar(lam.body)
        finally:
            self.params.pop()

    def _where(self, node: ast.Where) -> tuple[list, Shape]:
        coll, shape = self.tr(node.coll)
        if shape[0] not in ("rows", "list"):
            raise Untranslatable("where")
        param, body = self._lambda(shape, node.cond)
        return ["where", coll, param, body], shape

    def _call(self, node: ast.Call) -> tuple[list, Shape]:
        if node.name in AGGREGATES and node.args:
            coll, shape = self.tr(node.args[0])
            if shape[0] in ("rows", "list"):
                if len(node.args) > 2:
                    raise Untranslatable("aggregate")
                param, body = self._lambda(shape, node.args[1]) if len(node.args) == 2 else (None, None)
                if shape[0] == "rows" and body is None and node.name != "count":
                    raise Untranslatable("aggregate of rows")
                return ["agg", node.name, coll, param, body], ("scalar", "value")
            if node.name not in ("min", "max"):
                raise Untranslatable(node.name)
        elif node.name not in FUNCTIONS:
            raise Untranslatable(node.name)
        args = []
        for a in node.args:
            code, shape = self.tr(a)
            if shape[0] not in ("scalar", "list") or (shape[0] == "scalar" and shape[1] == "datetime"):
                raise Untranslatable(node.name)
            args.append(code)
        return ["call", node.name] + args, ("scalar", "value")


def translate(expr: Any, scope: dict[str, Shape]) -> list | None:
    """The JSON tree of a compiled expression, or None when only the server can evaluate it."""
    if expr is None:
        return None
    node = parse_expression(expr.text, span=expr.span, diags=Diagnostics())
    if node is None:
        return None
    try:
        return _Translator(scope).tr(node)[0]
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
    if r.check is not None and r.check_message:
        out["check_message"] = r.check_message.text(lang)
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
            out[key] = float(v)
        elif isinstance(v, date) and not isinstance(v, datetime):
            out[key] = v.isoformat()
        else:
            continue
        out[key + "_text"] = display_text(r, v, lang)
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
        "validations": [{"rule": translate(v.rule, scope), "message": v.message.text(lang) or v.rule.text,
                         "fields": list(v.fields)} for v in spec.validations],
        "messages": client_messages(lang),
        "lang": lang,
    }
