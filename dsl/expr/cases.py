"""Deciding conditions on their expression trees: whether some case holds for every value
(`uncovered`, the flow verifier's BNY506) and whether one condition can hold without others
(`shadowed`, an alert grade that a higher grade always hides, BNY607).

Each condition is split into atoms over one value each: an enum, bool, text or number
field compared with literals (`==`, `!=`, `<`, `<=`, `>`, `>=`, `in [...]`, `not in [...]`,
`between`, `is_null(x)`, `x == null`); a number computed by a call (`latest(financials).revenue`,
`group_credit_ratio(subject, 0)`) counts as one value, the same text meaning the same value;
anything else is an opaque atom (true, false or null, the same atom text meaning the same value).
Each value gets a finite set of representatives: an enum's values, true/false, the texts named
plus one other text, or for a number each constant named and one point in every interval between
them (whole numbers for integer fields). Every combination is evaluated with the language's null
rules.

The null rule: a comparison with null is null and a null condition does not fire, so a value
that may be null (an optional field) matches no case unless a case tests for null."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from itertools import product
from math import floor
from typing import Any, Callable, Mapping

from dsl.diagnostics import Diagnostics
from dsl.expr import ast
from dsl.expr.checker import Checked, check_expression
from dsl.expr.functions import REGISTRY
from dsl.expr.parser import parse_expression
from dsl.expr.types import NUMERIC, EnumType, FieldInfo, TypeEnv
from dsl.source import Span

MAX_COMBINATIONS = 50_000
OTHER = "\x00other"                 # a text none of the cases names


@dataclass
class _Var:
    text: str
    kind: str                       # enum | bool | string | number | opaque
    nullable: bool
    integer: bool = False
    values: tuple = ()
    constants: dict = field(default_factory=dict)     # value → literal text

    def domain(self) -> list:
        if self.kind == "enum":
            out = list(self.values)
        elif self.kind in ("bool", "opaque"):
            out = [True, False]
        elif self.kind == "string":
            out = list(self.constants) + [OTHER]
        else:
            out = _points(sorted(self.constants), self.integer)
        return out + ([None] if self.nullable or self.kind == "opaque" else [])

    def show(self, value) -> str:
        if value is None:
            return f"`{self.text}` is null" if self.kind == "opaque" else f"`{self.text}` is empty (null)"
        if self.kind == "opaque":
            return f"`{self.text}` is {'true' if value else 'false'}"
        if value == OTHER:
            return f"`{self.text}` is some other text"
        if self.kind == "number":
            return f"`{self.text}` is {_interval(value, self.constants)}"
        return f"`{self.text}` is {value!r}" if self.kind != "bool" else f"`{self.text}` is {str(value).lower()}"


def _points(constants: list, integer: bool) -> list:
    if not constants:
        return [0]
    points = [constants[0] - 1]
    for a, b in zip(constants, constants[1:]):
        points.append(a)
        mid = floor(a) + 1 if integer else (Decimal(a) + Decimal(b)) / 2
        if mid < b:
            points.append(mid)
    return points + [constants[-1], constants[-1] + 1]


def _interval(value, constants: dict) -> str:
    if value in constants:
        return constants[value]
    below = [c for c in constants if c < value]
    above = [c for c in constants if c > value]
    if not below:
        return f"below {constants[min(above)]}"
    if not above:
        return f"above {constants[max(below)]}"
    return f"between {constants[max(below)]} and {constants[min(above)]}"


def uncovered(texts: list[str], scope: Mapping[str, FieldInfo], env: TypeEnv) -> str | None:
    """None when some case holds for every value; else what a value no case takes looks like."""
    analysed = _analyse(texts, scope, env)
    if analysed is None:
        return None                                # already reported where it is written
    trees, variables, combos = analysed
    if combos is None:
        return (f"the conditions combine {len(variables)} values in too many ways to check "
                f"(more than {MAX_COMBINATIONS})")
    for values in combos:
        if not any(_eval(tree, checked, variables, values) is True for tree, checked in trees):
            return "no case holds when " + _shown(variables, values) if values else "no case can hold"
    return None


def shadowed(text: str, higher: list[str], scope: Mapping[str, FieldInfo], env: TypeEnv) -> str | None:
    """When condition `text` can hold only where one of `higher` holds too, what such a value looks
    like (or that it never holds); None when it can hold alone, or when that cannot be decided
    (errors reported elsewhere, too many combinations)."""
    analysed = _analyse([text, *higher], scope, env)
    if analysed is None or analysed[2] is None:
        return None
    trees, variables, combos = analysed
    tree, checked = trees[0]
    example = None
    for values in combos:
        if _eval(tree, checked, variables, values) is not True:
            continue
        if not any(_eval(t, c, variables, values) is True for t, c in trees[1:]):
            return None
        example = example or values
    return "it never holds" if example is None else "for example when " + _shown(variables, example)


def overlapping(texts: list[str], scope: Mapping[str, FieldInfo], env: TypeEnv,
                may_overlap: Callable[[int, int], bool] = lambda i, j: False) -> tuple[int, int, str] | None:
    """Two conditions that hold together for some value, where `may_overlap(i, j)` says they must
    not: (i, j, what such a value looks like); None when no two can, or when that cannot be decided
    (errors reported elsewhere, too many combinations)."""
    analysed = _analyse(texts, scope, env)
    if analysed is None or analysed[2] is None:
        return None
    trees, variables, combos = analysed
    for values in combos:
        held = [i for i, (t, c) in enumerate(trees) if _eval(t, c, variables, values) is True]
        for a, i in enumerate(held):
            for j in held[a + 1:]:
                if not may_overlap(i, j):
                    return i, j, ("whenever they can hold" if not values else "when " + _shown(variables, values))
    return None


def opaque_atoms(texts: list[str], scope: Mapping[str, FieldInfo], env: TypeEnv) -> list[str]:
    """The parts of these conditions the analysis cannot see into (a call that is not a number, a
    comparison of two fields): it treats each as an unknown true or false, so a gap or an overlap
    it finds may not be real, and one it misses may be."""
    analysed = _analyse(texts, scope, env)
    if analysed is None:
        return []
    return [v.text for v in analysed[1].values() if v.kind == "opaque"]


def _analyse(texts: list[str], scope: Mapping[str, FieldInfo], env: TypeEnv):
    """(trees, variables, every combination of their representative values — None when more than
    MAX_COMBINATIONS); None when a text does not parse or check."""
    trees: list[tuple[ast.Node, Checked]] = []
    for text in texts:
        diags = Diagnostics()
        tree = parse_expression(text, span=_NOWHERE, diags=diags)
        checked = check_expression(tree, scope=scope, env=env, registry=REGISTRY, diags=diags,
                                   span=_NOWHERE) if tree is not None else None
        if tree is None or checked is None:
            return None
        trees.append((tree, checked))
    variables: dict[str, _Var] = {}
    for tree, checked in trees:
        _collect(tree, checked, variables)
    names = list(variables)
    domains = [variables[k].domain() for k in names]
    total = 1
    for d in domains:
        total *= len(d)
    if total > MAX_COMBINATIONS:
        return trees, variables, None
    return trees, variables, (dict(zip(names, combo)) for combo in product(*domains))


def _shown(variables: Mapping[str, _Var], values: Mapping[str, Any]) -> str:
    return " and ".join(variables[k].show(v) for k, v in values.items())


_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "==", "!=": "!="}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}
_NONE = object()


def _collect(node: ast.Node, checked: Checked, variables: dict[str, _Var]) -> None:
    if isinstance(node, ast.Binary) and node.op in ("and", "or"):
        _collect(node.left, checked, variables)
        _collect(node.right, checked, variables)
    elif isinstance(node, ast.Unary) and node.op == "not":
        _collect(node.operand, checked, variables)
    elif not (isinstance(node, ast.Literal) and node.value in (True, False)):
        var, _test, constants = _atom(node, checked)
        known = variables.setdefault(var.text, var)
        known.constants.update({v: t for v, t in constants if v not in known.constants})


def _eval(node: ast.Node, checked: Checked, variables: Mapping[str, _Var], values: Mapping[str, Any]):
    """The condition's value under the three-valued null rules (and: false wins; or: true wins)."""
    if isinstance(node, ast.Binary) and node.op in ("and", "or"):
        a = _eval(node.left, checked, variables, values)
        b = _eval(node.right, checked, variables, values)
        win = node.op == "or"
        return win if win in (a, b) else (None if None in (a, b) else not win)
    if isinstance(node, ast.Unary) and node.op == "not":
        v = _eval(node.operand, checked, variables, values)
        return None if v is None else not v
    if isinstance(node, ast.Literal) and node.value in (True, False):
        return node.value
    var, test, _ = _atom(node, checked)
    return test(values[var.text])


def _atom(node: ast.Node, checked: Checked) -> tuple[_Var, Callable[[Any], Any], list]:
    """The value an atom reads, how it decides on that value, and the constants it names."""
    var: _Var | None
    if isinstance(node, ast.Compare):
        for side, other, op in ((node.left, node.right, node.op), (node.right, node.left, _FLIP[node.op])):
            const = _const(other)
            if const is _NONE:
                continue
            value, text = const
            if value is None and op in ("==", "!="):
                var = _var(side, checked, allow=("enum", "bool", "string", "number")) or _opaque(side)
                return var, (lambda v, eq=op == "==": (v is None) == eq), []
            var = _var(side, checked, allow=("enum", "bool", "string", "number") if op in ("==", "!=")
                       else ("number",))
            if var is not None and value is not None:
                return var, (lambda v, f=_COMPARE[op], c=value: None if v is None else f(v, c)), [(value, text)]
    elif isinstance(node, ast.In) and isinstance(node.container, ast.ListLit):
        consts = [_const(x) for x in node.container.items]
        var = _var(node.item, checked, allow=("enum", "string", "number"))
        if var is not None and all(c is not _NONE and c[0] is not None for c in consts):
            members = {c[0] for c in consts}
            return var, (lambda v, neg=node.negated: None if v is None else (v in members) != neg), consts
    elif isinstance(node, ast.Between):
        low, high = _const(node.low), _const(node.high)
        var = _var(node.item, checked, allow=("number",))
        if var is not None and _NONE not in (low, high) and None not in (low[0], high[0]):
            return var, (lambda v: None if v is None else low[0] <= v <= high[0]), [low, high]
    elif isinstance(node, ast.Call) and node.name == "is_null" and len(node.args) == 1:
        var = _var(node.args[0], checked, allow=("enum", "bool", "string", "number")) or _opaque(node.args[0])
        return var, (lambda v: v is None), []
    else:
        var = _var(node, checked, allow=("bool",))
        if var is not None:
            return var, (lambda v: v), []
    opaque = _opaque(node)
    return opaque, (lambda v: v), []


def _var(node: ast.Node, checked: Checked, allow: tuple[str, ...]) -> _Var | None:
    ti = checked.info.get(node)
    if ti is None:
        return None
    t = ti.type
    kind = ("enum" if isinstance(t, EnumType) else "number" if t.name in NUMERIC else
            t.name if t.name in ("bool", "string") else None)
    if kind not in allow:
        return None
    if ti.path is None:                 # a number computed by a call: the same text is the same value
        if kind != "number" or not _computed(node):
            return None
        return _Var(_dump(node), kind, True, t.name == "integer")
    return _Var(_dump(node), kind, ti.nullable, t.name == "integer",
                t.values if isinstance(t, EnumType) else ())


def _computed(node: ast.Node) -> bool:
    """A call, or a field of one (`latest(financials).revenue`)."""
    while isinstance(node, ast.Field):
        node = node.obj
    return isinstance(node, ast.Call)


def _opaque(node: ast.Node) -> _Var:
    return _Var(_dump(node), "opaque", True)


def _const(node: ast.Node):
    if isinstance(node, ast.Literal):
        return node.value, node.text
    if isinstance(node, ast.Unary) and node.op == "-" and isinstance(node.operand, ast.Literal) \
            and isinstance(node.operand.value, (int, Decimal)):
        return -node.operand.value, "-" + node.operand.text
    return _NONE


def _dump(node: ast.Node) -> str:
    """The atom as text, positions left out: the same text is the same atom."""
    if isinstance(node, ast.Literal):
        return node.text
    if isinstance(node, ast.Name):
        return node.name
    if isinstance(node, ast.Field):
        return f"{_dump(node.obj)}.{node.name}"
    if isinstance(node, ast.Compare):
        return f"{_dump(node.left)} {node.op} {_dump(node.right)}"
    if isinstance(node, ast.Call):
        return f"{node.name}({', '.join(_dump(a) for a in node.args)})"
    parts = [_dump(c) for c in node.children()]
    op = getattr(node, "op", type(node).__name__.lower())
    return f"{op}({', '.join(parts)})"


_NOWHERE = Span("<verify>", 1, 1)
