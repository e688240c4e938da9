"""The Banyan expression language: parse, type-check and compile expressions written in YAML.

    from dsl.expr import compile_expression
    expr = compile_expression("debt_ratio > 70%", span=span, scope=fields, env=env, diags=diags,
                              expected=BOOL)
    if expr is not None and expr.test(record): ...

See dsl/expr/README.md for the language.
"""
from . import functions
from .ast import Node
from .compiled import CompiledExpr, compile_expression, referenced_fields
from .parser import parse_expression
from .runtime import NOW_KEY, EvaluationError
from .values import Period

__all__ = ["compile_expression", "parse_expression", "CompiledExpr", "EvaluationError", "functions",
           "referenced_fields", "Node", "NOW_KEY", "Period"]
