"""Why an expression came out as it did: the value of every sub-expression.

`traced(expr)` compiles the same type-checked tree a CompiledExpr was made from (`expr.checked`)
a second time, through the same code generator, with one difference: each sub-expression's
code is wrapped so that its value is noted as it is computed (`_tr(3, <code>)`). It is not a
second parser nor an interpreter beside the compiler, so the traced value is the plain value
(tests/dsl/expr/test_trace.py holds them equal on random data). What short-circuits is not
evaluated and is shown so. Values inside a lambda (one per element) are not noted: the call
that holds the lambda is (`any(loans, l -> …)` is true).

`text_of(node)` writes a sub-expression back as text (`latest(financials).debt_ratio > 70%`), for
people reading the trace."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

from . import ast
from .codegen import Codegen, generate
from .compiled import CompiledExpr, bind, code_of
from .runtime import EvaluationError

NOT_EVALUATED = object()            # a value the expression never needed (`false and …`)


@dataclass(frozen=True)
class Step:
    """One sub-expression in the trace: its text, its type's name, its value (None: null;
    NOT_EVALUATED: skipped), how deep it sits under the root, and the node itself."""
    text: str
    type: str
    value: Any
    depth: int
    node: ast.Node

    @property
    def evaluated(self) -> bool:
        return self.value is not NOT_EVALUATED


@dataclass(frozen=True)
class Trace:
    value: Any                       # the expression's value (None when it failed)
    steps: tuple[Step, ...]          # the root first, then its parts, depth first
    error: str | None = None         # what could not be evaluated on this data, in words


class _Tracing(Codegen):
    def __init__(self, checked: Any, numbers: dict[int, int], nodes: list[ast.Node]):
        super().__init__(checked)
        self.numbers, self.nodes = numbers, nodes

    def gen(self, node: ast.Node) -> str:
        code = super().gen(node)
        if self.params or isinstance(node, (ast.Literal, ast.Lambda, ast.MapLit, ast.ListLit)):
            return code
        n = self.numbers.get(id(node))
        if n is None:
            n = self.numbers[id(node)] = len(self.nodes)
            self.nodes.append(node)
        return f"_tr({n}, {code})"


class Traced:
    """A tracing twin of one CompiledExpr; `run(ctx)` gives its value and the trace. Made per
    question (an explain, an alert page), not kept: evaluation notes values in the object."""

    def __init__(self, expr: CompiledExpr):
        if expr.checked is None:
            raise ValueError("this expression was compiled without its checked tree")
        self.expr = expr
        self._numbers: dict[int, int] = {}
        self._nodes: list[ast.Node] = []
        self._seen: dict[int, Any] = {}
        checked = expr.checked
        gen_cls = _factory(self._numbers, self._nodes)
        source, bindings = generate(checked, gen_cls)
        bindings["_tr"] = self._note
        self._fn = bind(code_of(source), bindings, expr.text, expr.span, None)

    def _note(self, n: int, value: Any) -> Any:
        self._seen[n] = value
        return value

    def run(self, ctx: Mapping[str, Any]) -> Trace:
        self._seen = {}
        error = None
        try:
            value = self._fn(ctx)
        except EvaluationError as exc:
            value, error = None, str(exc)
        checked = self.expr.checked
        assert checked is not None
        steps: list[Step] = []

        def walk(node: ast.Node, depth: int) -> None:
            n = self._numbers.get(id(node))
            if n is not None:
                info = checked.info.get(node)
                steps.append(Step(text_of(node), info.type.name if info else "", self._seen.get(n, NOT_EVALUATED),
                                  depth, node))
                depth += 1
            for child in node.children():
                if isinstance(child, ast.Lambda):
                    continue
                walk(child, depth)
        walk(checked.root, 0)
        return Trace(value, tuple(steps), error)


def _factory(numbers: dict[int, int], nodes: list[ast.Node]):
    def make(checked: Any) -> _Tracing:
        return _Tracing(checked, numbers, nodes)
    return make


def traced(expr: CompiledExpr) -> Traced:
    return Traced(expr)


# -- the text of a sub-expression -------------------------------------------------------------
_LEVEL = {"or": 1, "and": 2, "not": 3, "cmp": 4, "+": 5, "-": 5, "*": 6, "/": 6, "neg": 7}


def _level(node: ast.Node) -> int:
    if isinstance(node, ast.If):
        return 0
    if isinstance(node, ast.Binary):
        return _LEVEL[node.op]
    if isinstance(node, ast.Unary):
        return _LEVEL["not" if node.op == "not" else "neg"]
    if isinstance(node, (ast.Compare, ast.In, ast.Between, ast.Window, ast.Where)):
        return _LEVEL["cmp"]
    return 9


def _wrap(node: ast.Node, above: int, strict: bool = False) -> str:
    text = text_of(node)
    level = _level(node)
    return f"({text})" if level < above or (strict and level == above) else text


def text_of(node: ast.Node) -> str:
    """The sub-expression as an author would write it (spacing normalised, brackets only where
    needed)."""
    if isinstance(node, ast.Literal):
        if node.text:
            return node.text
        v = node.value
        return "null" if v is None else "true" if v is True else "false" if v is False else \
            f"'{v}'" if isinstance(v, str) else f"{v:f}" if isinstance(v, Decimal) else str(v)
    if isinstance(node, ast.Name):
        return node.name
    if isinstance(node, ast.Field):
        return f"{_wrap(node.obj, 9)}.{node.name}"
    if isinstance(node, ast.Lambda):
        return f"{node.param} -> {text_of(node.body)}"
    if isinstance(node, ast.Call):
        return f"{node.name}({', '.join(text_of(a) for a in node.args)})"
    if isinstance(node, ast.Where):
        return f"{_wrap(node.coll, 4)} where {text_of(node.cond)}"
    if isinstance(node, ast.Distinct):
        return f"distinct {text_of(node.operand)}"
    if isinstance(node, ast.Unary):
        return f"not {_wrap(node.operand, 3)}" if node.op == "not" else f"-{_wrap(node.operand, 7)}"
    if isinstance(node, ast.Binary):
        lvl = _LEVEL[node.op]
        return f"{_wrap(node.left, lvl)} {node.op} {_wrap(node.right, lvl, strict=True)}"
    if isinstance(node, ast.Compare):
        return f"{_wrap(node.left, 5)} {node.op} {_wrap(node.right, 5)}"
    if isinstance(node, ast.In):
        return f"{_wrap(node.item, 5)} {'not in' if node.negated else 'in'} {_wrap(node.container, 5)}"
    if isinstance(node, ast.Between):
        return f"{_wrap(node.item, 5)} between {_wrap(node.low, 5)} and {_wrap(node.high, 5)}"
    if isinstance(node, ast.If):
        return f"if {text_of(node.cond)} then {text_of(node.then)} else {text_of(node.else_)}"
    if isinstance(node, ast.ListLit):
        return "[" + ", ".join(text_of(i) for i in node.items) + "]"
    if isinstance(node, ast.MapLit):
        return "{" + ", ".join(f"{k}: {text_of(v)}" for k, v in zip(node.keys, node.values)) + "}"
    if isinstance(node, ast.Window):
        if node.count:
            return f"latest {text_of(node.span)} of {_wrap(node.coll, 5)}"
        if node.op_pos == node.pos:                  # `last 2 quarters of …`: the keyword comes first
            return f"last {text_of(node.span)} of {_wrap(node.coll, 5)}"
        return f"{_wrap(node.coll, 5)} within {text_of(node.span)}"
    return type(node).__name__
