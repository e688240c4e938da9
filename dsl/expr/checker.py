"""The static type checker: every name resolved, every operator typed, every problem reported
at its place. It records what the code generator needs in a `Checked`."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Mapping

from ..diagnostics import Diagnostics, did_you_mean
from ..source import Span
from . import ast, checker_calls
from .functions import SPECIAL_FORMS, Registry
from .parser import to_span
from .typerules import arithmetic, assignable, describe, equatable, is_open, negatable, orderable
from .types import ANY, BOOL, EnumType, FieldInfo, ListType, RecordType, Type, TypeEnv, list_of, map_of


@dataclass(frozen=True, slots=True)
class TI:
    """What the checker knows of a node's value: its type, whether it may be null, and the
    field path it reads (root name first) when it is a plain path."""

    type: Type
    nullable: bool = True
    path: tuple[str, ...] | None = None


UNKNOWN = TI(ANY, True)


@dataclass(frozen=True, slots=True)
class WindowPlan:
    time_field: str
    base: ast.Node           # the list of records the window filters
    project: tuple[str, ...]  # fields read from each kept record afterwards (`... of financials.revenue`)
    count: bool = False       # `latest N of …`: the N newest records (to now), not a span of time


@dataclass
class Checked:
    root: ast.Node
    info: dict[ast.Node, TI] = field(default_factory=dict)
    calls: dict[ast.Call, tuple] = field(default_factory=dict)
    projections: set[ast.Field] = field(default_factory=set)
    windows: dict[ast.Window, WindowPlan] = field(default_factory=dict)
    mixed_time: set[ast.Node] = field(default_factory=set)  # date meets datetime: compare as datetimes
    params: dict[ast.Lambda, int] = field(default_factory=dict)
    roots: set[str] = field(default_factory=set)
    paths: set[tuple[str, ...]] = field(default_factory=set)
    uses_now: bool = False


def path_text(node: ast.Node) -> str:
    if isinstance(node, ast.Name):
        return node.name
    if isinstance(node, ast.Field):
        return f"{path_text(node.obj)}.{node.name}"
    if isinstance(node, ast.Literal):
        return node.text
    if isinstance(node, ast.Call):
        return f"{node.name}(…)"
    return "this value"


def unify(a: Type, b: Type) -> Type | None:
    """The common type of two branches or list items, or None when they do not fit together."""
    if a.name in ("any", "null"):
        return b if not (a.name == "any" and b.name == "null") else a
    if b.name in ("any", "null"):
        return a
    if assignable(b, a):
        return a
    if assignable(a, b):
        return b
    return None


class Checker:
    def __init__(self, scope: Mapping[str, FieldInfo], env: TypeEnv, registry: Registry,
                 diags: Diagnostics, span: Span, root: ast.Node):
        self.scope, self.env, self.registry, self.diags, self.span = scope, env, registry, diags, span
        self.out = Checked(root)
        self.locals: list[tuple[str, TI]] = []
        self.errors = 0

    # -- reporting ----------------------------------------------------------------------------
    def error(self, code: str, message: str, pos: ast.Pos, hint: str | None = None) -> TI:
        self.diags.add(code, message, to_span(self.span, pos), hint)
        self.errors += 1
        return UNKNOWN

    # -- dispatch -----------------------------------------------------------------------------
    def check(self, node: ast.Node) -> TI:
        method = getattr(self, "_" + type(node).__name__.lower())
        ti = method(node)
        self.out.info[node] = ti
        return ti

    def condition(self, node: ast.Node, what: str) -> TI:
        ti = self.check(node)
        if not is_open(ti.type) and ti.type.name != "bool":
            self.error("BNY306", f"{what} must be true or false, but `{path_text(node)}` is {describe(ti.type)}",
                       node.pos, "compare it, e.g. `x > 0`, or use is_null(x)")
        return ti

    # -- leaves -------------------------------------------------------------------------------
    def _literal(self, node: ast.Literal) -> TI:
        return TI(node.type, node.value is None)

    def _name(self, node: ast.Name) -> TI:
        for name, ti in reversed(self.locals):
            if name == node.name:
                return ti
        info = self.scope.get(node.name)
        if info is not None:
            self.out.roots.add(node.name)
            self.out.paths.add((node.name,))
            return TI(info.type, info.nullable, (node.name,))
        if self.registry.get(node.name) is not None or node.name in SPECIAL_FORMS:
            return self.error("BNY302", f"`{node.name}` is a function", node.pos, f"call it: `{node.name}(…)`")
        candidates = [n for n, _ in self.locals] + list(self.scope)
        hint = did_you_mean(node.name, candidates) or (
            "names available here: " + ", ".join(sorted(candidates)[:12]) if candidates else None)
        return self.error("BNY302", f"unknown name `{node.name}`", node.pos, hint)

    def _field(self, node: ast.Field) -> TI:
        obj = self.check(node.obj)
        t = obj.type
        if is_open(t):
            return UNKNOWN
        projection = isinstance(t, ListType) and isinstance(t.element, RecordType)
        record = t.element if projection and isinstance(t, ListType) else t
        if not isinstance(record, RecordType):
            return self.error("BNY305", f"`{path_text(node.obj)}` is {describe(t)} and has no fields",
                              node.name_pos, None)
        fields = self.env.fields(record.entity)
        if fields is None:
            return self.error("BNY307", f"record type `{record.entity}` is not declared", node.name_pos)
        info = fields.get(node.name)
        if info is None:
            hint = did_you_mean(node.name, fields) or ("fields of " + record.entity + ": " +
                                                       ", ".join(sorted(fields)[:12]))
            return self.error("BNY307", f"`{record.entity}` has no field `{node.name}`", node.name_pos, hint)
        path = obj.path + (node.name,) if obj.path else None
        if path:
            self.out.paths.add(path)
        if projection:
            self.out.projections.add(node)
            return TI(list_of(info.type), obj.nullable, path)
        return TI(info.type, obj.nullable or info.nullable, path)

    # -- operators ----------------------------------------------------------------------------
    def _unary(self, node: ast.Unary) -> TI:
        if node.op == "not":
            ti = self.condition(node.operand, "the operand of `not`")
            return TI(BOOL, ti.nullable)
        ti = self.check(node.operand)
        if not negatable(ti.type):
            return self.error("BNY305", f"cannot negate {describe(ti.type)}", node.pos)
        return TI(ti.type, ti.nullable)

    def _binary(self, node: ast.Binary) -> TI:
        if node.op in ("and", "or"):
            left = self.condition(node.left, f"each side of `{node.op}`")
            right = self.condition(node.right, f"each side of `{node.op}`")
            return TI(BOOL, left.nullable or right.nullable)
        left, right = self.check(node.left), self.check(node.right)
        result = arithmetic(node.op, left.type, right.type)
        if result is None:
            return self.error("BNY305", f"cannot apply `{node.op}` to {describe(left.type)} and "
                              f"{describe(right.type)}", node.op_pos, _arith_hint(node.op, left.type, right.type))
        self._note_mixed_time(node, left.type, right.type)
        nullable = left.nullable or right.nullable
        if node.op == "/" and not (isinstance(node.right, ast.Literal) and node.right.value):
            nullable = True  # division by zero gives null
        return TI(result, nullable)

    def _compare(self, node: ast.Compare) -> TI:
        left, right = self.check(node.left), self.check(node.right)
        for a, b in ((node.left, node.right), (node.right, node.left)):
            if isinstance(b, ast.Literal) and b.value is None:
                if node.op not in ("==", "!="):
                    return self.error("BNY305", f"`{node.op} null` is always null", node.op_pos,
                                      f"compare with a value, or test `is_null({path_text(a)})`")
                return TI(BOOL, False)  # `x == null` tests for null: true or false, never null
        if node.op not in ("==", "!=") and (isinstance(left.type, EnumType) or isinstance(right.type, EnumType)):
            return self._enum_order(node, left, right)
        ok = equatable if node.op in ("==", "!=") else orderable
        if not ok(left.type, right.type):
            return self.error("BNY305", f"cannot compare {describe(left.type)} with {describe(right.type)} "
                              f"using `{node.op}`", node.op_pos, _compare_hint(left.type, right.type))
        if not self._units(node.left, left.type, node.right, right.type, node.op_pos):
            return UNKNOWN
        self._enum_literals(left.type, [node.right])
        self._enum_literals(right.type, [node.left])
        self._note_mixed_time(node, left.type, right.type)
        return TI(BOOL, left.nullable or right.nullable)

    def _enum_order(self, node: ast.Compare, left: TI, right: TI) -> TI:
        """`<`, `<=`, `>`, `>=` on an enum: only an ordered one (`order:` on its field), against one of
        its values or the same enum (`rating >= 'a_minus'`, `grade > previous.grade`)."""
        enum_side, other, other_node = ((left, right, node.right) if isinstance(left.type, EnumType)
                                        else (right, left, node.left))
        t = enum_side.type
        assert isinstance(t, EnumType)
        if t.order is None:
            return self.error("BNY305", f"{describe(t)} has no order, so `{node.op}` cannot compare its values",
                              node.op_pos, "declare `order: descending` (values listed from the highest down) or "
                                           "`ascending` on the enum field, or compare with `==` / `in [...]`")
        same = isinstance(other.type, EnumType) and other.type.values == t.values
        literal = isinstance(other_node, ast.Literal) and isinstance(other_node.value, str)
        if not (same or literal or is_open(other.type)):
            return self.error("BNY305", f"an ordered enum is compared with one of its values or the same enum, "
                              f"not {describe(other.type)}", node.op_pos, f"e.g. `x >= '{t.values[0]}'`")
        self._enum_literals(t, [other_node])
        return TI(BOOL, left.nullable or right.nullable)

    def _units(self, a: ast.Node, at: Type, b: ast.Node, bt: Type, pos: ast.Pos) -> bool:
        """Units that cannot slip: a percent against a bare number above 1 (`debt_ratio > 75`
        means 7,500%), a count or another whole number against money (`count(loans) > 10亿`).
        False (and an error) when one does."""
        for x, xt, y, yt in ((a, at, b, bt), (b, bt, a, at)):
            value = y.value if isinstance(y, ast.Literal) and yt.name in ("integer", "number") else None
            bare: int | Decimal | None = value if isinstance(value, (int, Decimal)) and \
                not isinstance(value, bool) else None
            if xt.name == "percent" and bare is not None and (bare > 1 or bare < -1):
                self.error("BNY305", f"`{path_text(x)}` is a percent, and {bare} is a bare number: "
                           f"{bare} means {bare * 100:,}%", y.pos, f"write {bare}%")
                return False
            if xt.name == "integer" and yt.name == "money" and not isinstance(x, ast.Literal):
                self.error("BNY305", f"`{path_text(x)}` is a whole number (a count, days …), and "
                           f"`{path_text(y)}` is an amount of money", pos,
                           "compare a count with a number (`count(loans) > 10`), an amount with an amount")
                return False
        return True

    def _in(self, node: ast.In) -> TI:
        item, container = self.check(node.item), self.check(node.container)
        ct = container.type
        if is_open(ct):
            return TI(BOOL, True)
        if not isinstance(ct, ListType):
            return self.error("BNY310", f"`in` needs a list on its right, but `{path_text(node.container)}` is "
                              f"{describe(ct)}", node.container.pos, "write the values in brackets: `x in ['a', 'b']`")
        if not equatable(item.type, ct.element):
            return self.error("BNY305", f"{describe(item.type)} cannot be in a list of {ct.element}", node.op_pos)
        if isinstance(node.container, ast.ListLit):
            self._enum_literals(item.type, node.container.items)
        return TI(BOOL, item.nullable or container.nullable)

    def _between(self, node: ast.Between) -> TI:
        item, low, high = self.check(node.item), self.check(node.low), self.check(node.high)
        for bound, bnode in ((low, node.low), (high, node.high)):
            if not orderable(item.type, bound.type):
                return self.error("BNY305", f"cannot compare {describe(item.type)} with {describe(bound.type)}",
                                  node.op_pos, _compare_hint(item.type, bound.type))
            if not self._units(node.item, item.type, bnode, bound.type, node.op_pos):
                return UNKNOWN
        if any(t.type.name == "datetime" for t in (item, low, high)) and \
                any(t.type.name == "date" for t in (item, low, high)):
            self.out.mixed_time.add(node)
        return TI(BOOL, item.nullable or low.nullable or high.nullable)

    def _if(self, node: ast.If) -> TI:
        self.condition(node.cond, "the condition of `if`")
        then, else_ = self.check(node.then), self.check(node.else_)
        result = unify(then.type, else_.type)
        if result is None:
            return self.error("BNY305", f"the branches of `if` give different types: {then.type} and "
                              f"{else_.type}", node.else_.pos, "make both branches the same kind of value")
        return TI(result, then.nullable or else_.nullable)

    def _listlit(self, node: ast.ListLit) -> TI:
        element: Type = ANY
        for item in node.items:
            ti = self.check(item)
            merged = unify(element, ti.type)
            if merged is None:
                return self.error("BNY305", f"a list mixes {element} and {ti.type}", item.pos)
            element = merged
        return TI(list_of(element), False)

    def _maplit(self, node: ast.MapLit) -> TI:
        key_t: Type = ANY
        value_t: Type = ANY
        seen = set()
        for key, pos, value in zip(node.keys, node.key_pos, node.values):
            kt = Type("string") if isinstance(key, str) else Type("number")
            if key in seen:
                self.error("BNY305", f"the key `{key}` appears twice", pos)
            seen.add(key)
            if not is_open(key_t) and kt.name != key_t.name:
                return self.error("BNY305", "a mapping's keys must be all labels or all numbers", pos)
            key_t = kt
            vt = self.check(value).type
            merged = unify(value_t, vt)
            if merged is None:
                return self.error("BNY305", f"a mapping mixes values of type {value_t} and {vt}", value.pos)
            value_t = merged
        return TI(map_of(key_t, value_t), False)

    # -- helpers ------------------------------------------------------------------------------
    def _note_mixed_time(self, node: ast.Node, a: Type, b: Type) -> None:
        if {a.name, b.name} == {"date", "datetime"}:
            self.out.mixed_time.add(node)

    def _enum_literals(self, t: Type, nodes) -> None:
        """Text literals compared with an enum must be among its values (BNY309)."""
        if not isinstance(t, EnumType) or not t.values:
            return
        for n in nodes:
            if isinstance(n, ast.Literal) and isinstance(n.value, str) and n.value not in t.values:
                hint = did_you_mean(n.value, t.values) or "values: " + ", ".join(t.values)
                self.error("BNY309", f"`{n.value}` is not a value of this enum", n.pos, hint)

    # the methods kept in checker_calls.py (a module of its own, to keep this one small)
    _call = checker_calls._call
    _distinct = checker_calls._distinct
    _lambda = checker_calls._lambda
    _where = checker_calls._where
    _window = checker_calls._window
    aggregate = checker_calls.aggregate
    bind_lambda = checker_calls.bind_lambda
    function_call = checker_calls.function_call
    latest = checker_calls.latest
    scalar_min_max = checker_calls.scalar_min_max


def _arith_hint(op: str, a: Type, b: Type) -> str | None:
    names = {a.name, b.name}
    if names == {"money", "percent"} and op in "+-":
        return "a percent is a share: multiply it, e.g. `amount * (1 + 10%)`"
    if op == "/" and b.name == "money":
        return "only money divides by money (giving a number)"
    if "string" in names:
        return "text can only be joined with text (`+`)"
    return None


def _compare_hint(a: Type, b: Type) -> str | None:
    if {a.name, b.name} == {"money", "percent"}:
        return "a percent is a share, not an amount: compare a ratio such as `debt / assets > 70%`"
    if "bool" in (a.name, b.name):
        return "use the condition itself: `x` or `not x`"
    return None


def check_expression(node: ast.Node, *, scope: Mapping[str, FieldInfo], env: TypeEnv, registry: Registry,
                     diags: Diagnostics, span: Span, expected: Type | None = None) -> Checked | None:
    """Type-check a parsed expression; None when diagnostics were added."""
    checker = Checker(scope, env, registry, diags, span, node)
    ti = checker.check(node)
    if expected is not None and checker.errors == 0:
        _check_expected(checker, node, ti, expected)
    return checker.out if checker.errors == 0 else None


def _check_expected(checker: Checker, node: ast.Node, ti: TI, expected: Type) -> None:
    if expected.name == "bool" and not is_open(ti.type) and ti.type.name != "bool":
        checker.error("BNY306", f"this condition gives {describe(ti.type)}, not true or false", node.pos,
                      "compare it, e.g. `x > 0`")
    elif not assignable(ti.type, expected) and expected.name != "bool":
        checker.error("BNY311", f"the expression gives {describe(ti.type)}, but {describe(expected)} is needed here",
                      node.pos)
    elif isinstance(expected, EnumType):
        checker._enum_literals(expected, [node])

