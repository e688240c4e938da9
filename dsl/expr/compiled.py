"""compile_expression: text → parsed → checked → generated Python → a CompiledExpr."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Mapping

from ..diagnostics import Diagnostics
from ..source import Span
from . import ast
from .checker import Checked, check_expression, path_text
from .codegen import FoldError, generate
from .functions import REGISTRY, Registry
from .parser import parse_expression, to_span
from .runtime import EvaluationError, make_failure, make_now
from .types import FieldInfo, Type, TypeEnv

_GLOBALS = {"__builtins__": {"Exception": Exception, "KeyError": KeyError}}
# Generated source names its literals and functions by position (`_c0`, `_f1`), bound when the
# code runs, so expressions of one shape share one code object: compile() is the costliest step.
_CODE: dict[str, Any] = {}
_CODE_MAX = 20_000


def _not_compiled(ctx: Mapping[str, Any]) -> Any:
    raise TypeError("this CompiledExpr was made without its evaluation function (use compile_expression)")


@dataclass(frozen=True, eq=False)
class CompiledExpr:
    """A checked, compiled expression. Call it with a context mapping root names to values.

    `checked` keeps the type-checked tree the code was generated from (node types, what may be
    null, which calls are aggregates): forms/client.py sends that tree to the browser, so the
    browser runs what the checker proved, never a re-parse of the text."""

    text: str
    span: Span
    type: Type
    names: frozenset[str]
    nullable: bool = True
    paths: frozenset[tuple[str, ...]] = frozenset()
    uses_now: bool = False
    source: str = field(default="", repr=False)
    _fn: Callable[[Mapping[str, Any]], Any] = field(default=_not_compiled, repr=False)
    checked: Checked | None = field(default=None, repr=False)

    def __call__(self, ctx: Mapping[str, Any]) -> Any:
        """The value (None for null). Raises EvaluationError when the data breaks evaluation."""
        return self._fn(ctx)

    def test(self, ctx: Mapping[str, Any]) -> bool:
        """A condition's verdict: true only when the value is true (null counts as false)."""
        return self._fn(ctx) is True

    @property
    def evaluate(self) -> Callable[[Mapping[str, Any]], Any]:
        """The bare evaluation function (same behaviour as calling the object), for hot loops."""
        return self._fn


def referenced_fields(expr: CompiledExpr) -> set[tuple[str, ...]]:
    """Field paths the expression reads, root name first: {("subject", "lead_branch", "name"), …}.
    Inside `x -> …` the element's fields extend the list's path: ("loans", "balance")."""
    return set(expr.paths)


def code_of(source: str) -> Any:
    """The code object of generated source (codegen.py), compiled once per shape and kept."""
    code = _CODE.get(source)
    if code is None:
        with warnings.catch_warnings():         # `-5 is not None` from a null test of a folded literal: meant
            warnings.simplefilter("ignore", SyntaxWarning)
            code = compile(source, "<banyan expression>", "exec")
        if len(_CODE) < _CODE_MAX:
            _CODE[source] = code
    return code


def bind(code: Any, bindings: dict[str, Any], text: str, span: Span,
         clock: Callable[[], date] | None) -> Callable[[Mapping[str, Any]], Any]:
    """The evaluation function of compiled generated code, its literals and helpers bound."""
    namespace: dict[str, Any] = {}
    exec(code, _GLOBALS, namespace)  # generated source only (see codegen.py), never user text
    return namespace["_make"](**bindings, _fail=make_failure(text, span), _now=make_now(text, span, clock),
                              _EvaluationError=EvaluationError)


def compile_expression(text: str, *, span: Span, scope: Mapping[str, FieldInfo], env: TypeEnv,
                       diags: Diagnostics, expected: Type | None = None,
                       registry: Registry | None = None,
                       clock: Callable[[], date] | None = None) -> CompiledExpr | None:
    """Parse, type-check and compile `text`; None when diagnostics were added.

    `span` is where the text's first character sits in its YAML file; `scope` the root names
    (e.g. an entity's fields); `env` the record types; `expected` the type the key needs.
    `clock` gives the current time when the context has no "$now" (windows, today()).
    """
    node = parse_expression(text, span=span, diags=diags)
    if node is None:
        return None
    checked = check_expression(node, scope=scope, env=env, registry=registry or REGISTRY, diags=diags,
                               span=span, expected=expected)
    if checked is None:
        return None
    try:
        source, bindings = generate(checked)
    except FoldError as exc:
        diags.add("BNY308", f"`{path_text(exc.node)}` cannot be evaluated: {exc.cause}",
                  to_span(span, exc.node.pos), "check the literal arguments")
        return None
    try:
        code = code_of(source)
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        diags.add("BNY301", "the expression is too complex to compile", span, "split it into computed fields")
        return None
    fn = bind(code, bindings, text, span, clock)
    ti = checked.info[node]
    return CompiledExpr(text, span, ti.type, frozenset(checked.roots), ti.nullable, frozenset(checked.paths),
                        checked.uses_now, source, fn, checked)


__all__ = ["CompiledExpr", "compile_expression", "referenced_fields", "ast"]
