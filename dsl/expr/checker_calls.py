"""Checker methods for calls, aggregates, `x -> ...` functions, `where`, `distinct` and windows.
They are methods of checker.Checker (bound in its class body); kept apart to keep modules small."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..diagnostics import did_you_mean
from . import ast
from .functions import SPECIAL_FORMS, accepts, param_text
from .typerules import ORDERED, describe, is_open
from .types import ANY, BOOL, INTEGER, NUMBER, EnumType, ListType, RecordType, Type

if TYPE_CHECKING:
    from .checker import TI, Checker

_NUMERIC = {"number", "integer", "money", "percent"}
_AGG_VERB = {"sum": "adds up", "avg": "averages", "min": "takes the smallest of", "max": "takes the largest of",
             "count": "counts", "any": "tests", "all": "tests", "count_distinct": "counts different"}


def _ti(*args):
    from .checker import TI
    return TI(*args)


def _unknown():
    from .checker import UNKNOWN
    return UNKNOWN


def bind_lambda(self: "Checker", lam: ast.Node, element: "TI", what: str) -> "TI":
    """Check `x -> body` with x bound to one element of a list; the body's TI."""
    if not isinstance(lam, ast.Lambda):
        self.check(lam)
        return self.error("BNY305", f"{what} is a function of each element, such as `l -> l.balance`", lam.pos)
    self.out.params[lam] = len(self.out.params)
    self.locals.append((lam.param, element))
    try:
        body = self.check(lam.body)
    finally:
        self.locals.pop()
    self.out.info[lam] = body
    return body


def _element(self: "Checker", coll: ast.Node, who: str) -> "TI | None":
    """The TI of one element of `coll` (never null: aggregates skip null elements), or None."""
    ti = self.out.info.get(coll) or self.check(coll)
    if is_open(ti.type):
        return _ti(ANY, False, None)
    if not isinstance(ti.type, ListType):
        self.error("BNY310", f"{who} needs a list, but `{_text(coll)}` is {describe(ti.type)}", coll.pos)
        return None
    return _ti(ti.type.element, False, ti.path)


def _text(node: ast.Node) -> str:
    from .checker import path_text
    return path_text(node)


def _lambda(self: "Checker", node: ast.Lambda) -> "TI":
    return self.error("BNY305", f"`{node.param} -> …` can only be an argument of an aggregate or `where`",
                      node.pos, "e.g. `sum(loans, l -> l.balance)`")


def _distinct(self: "Checker", node: ast.Distinct) -> "TI":
    return self.error("BNY305", "`distinct` can only start the first argument of count", node.pos,
                      "e.g. `count(distinct products)`")


def _where(self: "Checker", node: ast.Where) -> "TI":
    element = _element(self, node.coll, "`where`")
    if element is None:
        return _unknown()
    body = bind_lambda(self, node.cond, element, "the condition after `where`")
    if not is_open(body.type) and body.type.name != "bool":
        self.error("BNY306", f"the condition after `where` must be true or false, not {describe(body.type)}",
                   node.cond.body.pos if isinstance(node.cond, ast.Lambda) else node.cond.pos)
    coll = self.out.info[node.coll]
    return _ti(coll.type, coll.nullable, coll.path)


def _window(self: "Checker", node: ast.Window) -> "TI":
    span = self.check(node.span)
    counting = node.count
    count = getattr(node.span, "value", None)
    if counting and not (isinstance(count, int) and 1 <= count <= 1000):
        self.error("BNY305", f"`latest {count} of …` keeps no record: give a count from 1 to 1000",
                   node.span.pos)
    elif not counting and not is_open(span.type) and span.type.name not in ("duration", "period"):
        self.error("BNY305", f"a window needs a duration or a period such as 24h or 2 quarters, not "
                   f"{describe(span.type)}", node.span.pos)
    coll = self.check(node.coll)
    if is_open(coll.type):
        return _unknown()
    base: ast.Node = node.coll
    project: list[str] = []
    while isinstance(base, ast.Field) and base in self.out.projections:
        project.insert(0, base.name)
        base = base.obj
    base_t = self.out.info[base].type
    if not (isinstance(base_t, ListType) and isinstance(base_t.element, RecordType)):
        return self.error("BNY310", f"a window needs a list of records, but `{_text(node.coll)}` is "
                          f"{describe(coll.type)}", node.coll.pos)
    entity = base_t.element.entity
    time_field = self.env.time_field(entity)
    if time_field is None:
        return self.error("BNY305", f"`{entity}` has no time field, so it has no windows", node.op_pos,
                          f"declare `time_field:` in the entity {entity}")
    from .checker import WindowPlan
    self.out.windows[node] = WindowPlan(time_field, base, tuple(project), counting)
    self.out.uses_now = True
    return _ti(coll.type, coll.nullable, coll.path)


def _call(self: "Checker", node: ast.Call) -> "TI":
    if node.name in ("min", "max") and node.args and not isinstance(node.args[0], (ast.Where, ast.Distinct)):
        first = self.check(node.args[0])
        if not isinstance(first.type, ListType) and not (len(node.args) == 2 and isinstance(node.args[1], ast.Lambda)):
            return scalar_min_max(self, node, first)
    if node.name in SPECIAL_FORMS:
        if node.name == "latest":
            return latest(self, node)
        return aggregate(self, node)
    return function_call(self, node)


def scalar_min_max(self: "Checker", node: ast.Call, first: "TI") -> "TI":
    from .checker import unify
    if len(node.args) < 2:
        return self.error("BNY304", f"`{node.name}` of one value: give a list, or two or more values",
                          node.pos, f"e.g. `{node.name}(100, score)` or `{node.name}(loans, l -> l.balance)`")
    result, nullable = first.type, first.nullable
    for arg in node.args[1:]:
        ti = self.check(arg)
        merged = unify(result, ti.type)
        if merged is None or (merged.name not in ORDERED and not is_open(merged)):
            return self.error("BNY305", f"`{node.name}` cannot compare {describe(result)} with "
                              f"{describe(ti.type)}", arg.pos)
        result, nullable = merged, nullable or ti.nullable
    self.out.calls[node] = ("scalar", node.name)
    return _ti(result, nullable)


def aggregate(self: "Checker", node: ast.Call) -> "TI":
    name, args = node.name, node.args
    if not 1 <= len(args) <= 2:
        return self.error("BNY304", f"`{name}` takes a list and optionally a function of each element, "
                          f"got {len(args)} arguments", node.pos, f"e.g. `{name}(loans, l -> l.balance)`")
    source = args[0]
    if isinstance(source, ast.Distinct):
        if name != "count":
            return self.error("BNY305", "`distinct` only goes with count", source.pos)
        name, source = "count_distinct", source.operand
    element = _element(self, source, f"`{node.name}`")
    if element is None:
        return _unknown()
    value = bind_lambda(self, args[1], element, f"the second argument of `{node.name}`") if len(args) == 2 \
        else element
    vt = value.type
    open_ = is_open(vt)
    at = args[1].body.pos if len(args) == 2 and isinstance(args[1], ast.Lambda) else source.pos
    self.out.calls[node] = ("aggregate", name, len(args) == 2)
    if name == "count" and len(args) == 2 or name in ("any", "all"):
        if not open_ and vt.name != "bool":
            return self.error("BNY306", f"`{node.name}` {_AGG_VERB[name]} a condition, but got {describe(vt)}",
                              at, f"e.g. `{name}(loans, l -> l.overdue_days > 90)`")
        return _ti(INTEGER if name == "count" else BOOL, False)
    if name == "count":
        return _ti(INTEGER, False)
    if name == "count_distinct":
        if isinstance(vt, (RecordType, ListType)) or vt.name == "map":
            return self.error("BNY305", f"count(distinct …) needs plain values, not {describe(vt)}", at,
                              "say what makes two the same, e.g. `count(distinct products, p -> p.code)`")
        return _ti(INTEGER, False)
    if name in ("sum", "avg"):
        if not open_ and vt.name not in _NUMERIC:
            return self.error("BNY305", f"`{name}` {_AGG_VERB[name]} numbers, not {describe(vt)}", at,
                              f"pick a number from each element, e.g. `{name}(loans, l -> l.balance)`")
        if name == "sum":
            return _ti(vt, False)
        return _ti(NUMBER if vt.name == "integer" else vt, True)
    if not open_ and vt.name not in ORDERED:  # min / max
        return self.error("BNY305", f"`{name}` cannot order {describe(vt)}", at,
                          f"pick a value from each element, e.g. `{name}(loans, l -> l.maturity_date)`")
    return _ti(vt, True)


def latest(self: "Checker", node: ast.Call) -> "TI":
    if len(node.args) != 1:
        return self.error("BNY304", f"`latest` takes one list, got {len(node.args)} arguments", node.pos)
    element = _element(self, node.args[0], "`latest`")
    if element is None or is_open(element.type):
        return _unknown()
    if not isinstance(element.type, RecordType):
        return self.error("BNY310", "`latest` needs a list of records", node.args[0].pos)
    time_field = self.env.time_field(element.type.entity)
    if time_field is None:
        return self.error("BNY305", f"`{element.type.entity}` has no time field, so nothing is latest", node.pos,
                          f"declare `time_field:` in the entity {element.type.entity}")
    self.out.calls[node] = ("latest", time_field)
    return _ti(element.type, True, element.path)


def function_call(self: "Checker", node: ast.Call) -> "TI":
    fn = self.registry.get(node.name)
    if fn is None:
        for arg in node.args:
            if not isinstance(arg, ast.Lambda):
                self.check(arg)
        hint = did_you_mean(node.name, list(self.registry.names()) + list(SPECIAL_FORMS))
        return self.error("BNY303", f"unknown function `{node.name}`", node.pos, hint)
    sig = fn.signature
    if not sig.accepts_count(len(node.args)):
        for arg in node.args:
            self.check(arg)
        return self.error("BNY304", f"`{node.name}` takes {sig.arity_text()} argument"
                          f"{'' if sig.arity_text() == '1' else 's'}, got {len(node.args)}", node.pos)
    errors_before = self.errors
    types: list[Type] = []
    paths: list[tuple[str, ...] | None] = []
    nullable = fn.nullable
    for i, arg in enumerate(node.args):
        ti = self.check(arg)
        types.append(ti.type)
        paths.append(ti.path)
        nullable = nullable or (fn.nulls == "propagate" and ti.nullable)
        param = sig.param_for(i)
        if not accepts(param, ti.type):
            self.error("BNY305", f"argument {i + 1} of `{node.name}` must be {param_text(param)}, "
                       f"not {describe(ti.type)}", arg.pos)
    if self.errors > errors_before:
        return _unknown()
    result = sig.result(types)
    if isinstance(result, str):
        return self.error("BNY305", result, node.pos)
    if node.name == "band" and isinstance(node.args[1], ast.MapLit) and not band_keys(self, types[0], node.args[1]):
        return _unknown()
    self.out.calls[node] = ("function", fn)
    if fn.uses_now:
        self.out.uses_now = True
    return _ti(result, nullable, paths[0] if fn.same_records and paths else None)


def band_keys(self: "Checker", value: Type, mapping: ast.MapLit) -> bool:
    """`band`'s keys against the value banded: an enum's labels must be its values; thresholds
    must be in the value's unit (a percent's `50%`, not 50, which means 5,000%; no amount of
    money for a count, no percent for an amount). False (and an error per key) when one is not."""
    ok = True
    for key, pos, kind in zip(mapping.keys, mapping.key_pos, mapping.key_kinds):
        problem = hint = None
        code = "BNY305"
        if isinstance(value, EnumType) and value.values and isinstance(key, str) and key not in value.values:
            code, problem = "BNY309", f"`{key}` is not a value of this enum"
            hint = did_you_mean(key, value.values) or "values: " + ", ".join(value.values)
        elif value.name == "percent" and kind in ("INT", "DECIMAL") and abs(key) > 1:
            problem = f"the value banded is a percent, and {key} is a bare number: {key} means {key * 100:,}%"
            hint = f"write {key}%"
        elif value.name == "integer" and kind == "MONEY":
            problem = "the value banded is a whole number (a count, days …), and this key is an amount of money"
            hint = "band a count by numbers (`{0: 'none', 3: 'some'}`), an amount by amounts"
        elif value.name == "money" and kind == "PERCENT":
            problem = "the value banded is an amount of money, and this key is a percent"
            hint = "band an amount by amounts (`{0: 'small', 1亿: 'large'}`), a ratio by percents"
        if problem is not None:
            self.error(code, problem, pos, hint)
            ok = False
    return ok
