"""The registry of typed functions expressions may call. Other packages add their own:

    from dsl.expr import functions
    from dsl.expr.types import BOOL, STRING
    functions.register("is_shell_company", functions.Signature((STRING,), BOOL), impl)

A signature lists parameter types (a `Type`, or a `TypeSet` such as NUMERIC for "any kind
of number") and a return type, or a function computing it from the argument types. The
checker enforces the signature; the compiler calls `impl` directly from generated code.

- `pure`: same arguments, same result, no side effects. Calls of a pure function whose
  arguments are all literals are evaluated once, at compile time (`date('2026-03-31')`).
- `nulls`: "propagate" (default) returns null without calling impl when any argument is
  null; "accept" hands nulls to impl (coalesce, is_null).
- `uses_now`: impl receives the evaluation's current time as its first argument
  (today(), now()): the context key "$now", else the clock given to compile_expression.
- `uses_context`: impl receives the evaluation context (the mapping the expression was
  called with) before its arguments, after `now` if both. This is how functions read facts
  the runtime supplies under `$` keys, e.g. the relationship graph under "$graph". Such calls
  are never folded at compile time.
- `nullable`: whether the result may be null even for non-null arguments (default True).

Aggregates (sum, count, avg, min/max over a list, any, all, count_distinct) and latest()
are special forms of the checker, because they take `x -> ...` functions or need an
entity's time field; their names are reserved here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence, Union

from .typerules import assignable, describe
from .types import Type

SPECIAL_FORMS = ("sum", "count", "avg", "min", "max", "any", "all", "count_distinct", "latest")


@dataclass(frozen=True)
class TypeSet:
    """A parameter accepting several types, e.g. TypeSet("a number", {"number", "integer", ...})."""

    label: str
    names: frozenset[str]

    def __str__(self) -> str:
        return self.label


Param = Union[Type, TypeSet]
ReturnRule = Union[Type, Callable[[Sequence[Type]], Union[Type, str]]]


def accepts(param: Param, actual: Type) -> bool:
    if actual.name in ("any", "null"):
        return True
    if isinstance(param, TypeSet):
        return actual.name in param.names
    return assignable(actual, param)


def param_text(param: Param) -> str:
    return param.label if isinstance(param, TypeSet) else describe(param)


@dataclass(frozen=True)
class Signature:
    """Parameter types and the return type. The last `optional` parameters may be left out;
    with `variadic` the last parameter repeats (one or more times)."""

    params: tuple[Param, ...]
    returns: ReturnRule
    optional: int = 0
    variadic: bool = False

    def arity_text(self) -> str:
        low = len(self.params) - self.optional
        if self.variadic:
            return f"at least {low}"
        return str(low) if self.optional == 0 else f"{low} to {len(self.params)}"

    def accepts_count(self, n: int) -> bool:
        low = len(self.params) - self.optional
        return n >= low if self.variadic else low <= n <= len(self.params)

    def param_for(self, index: int) -> Param:
        return self.params[min(index, len(self.params) - 1)]

    def result(self, arg_types: Sequence[Type]) -> Type | str:
        return self.returns(arg_types) if callable(self.returns) else self.returns


@dataclass(frozen=True)
class Function:
    name: str
    signature: Signature
    impl: Callable
    pure: bool = True
    nulls: str = "propagate"
    uses_now: bool = False
    nullable: bool = True
    doc: str = ""
    uses_context: bool = False
    # its result holds the records its first argument holds (flatten(members.loans)): what an
    # expression reads of them is read along that argument's path (CompiledExpr.paths)
    same_records: bool = False


@dataclass
class Registry:
    functions: dict[str, Function] = field(default_factory=dict)

    def register(self, name: str, signature: Signature, impl: Callable, *, pure: bool = True,
                 nulls: str = "propagate", uses_now: bool = False, nullable: bool = True,
                 doc: str = "", replace: bool = False, uses_context: bool = False,
                 same_records: bool = False) -> Function:
        if not name.isidentifier() or not name.isascii():
            raise ValueError(f"function name {name!r} must be an ASCII identifier")
        if name in SPECIAL_FORMS:
            raise ValueError(f"{name!r} is a built-in aggregate and cannot be registered")
        if name in self.functions and not replace:
            raise ValueError(f"function {name!r} is already registered (pass replace=True to override)")
        if nulls not in ("propagate", "accept"):
            raise ValueError("nulls must be 'propagate' or 'accept'")
        fn = Function(name, signature, impl, pure and not uses_context, nulls, uses_now, nullable, doc,
                      uses_context, same_records)
        self.functions[name] = fn
        return fn

    def get(self, name: str) -> Function | None:
        fn = self.functions.get(name)
        if fn is None and self is REGISTRY and load_plugins():
            fn = self.functions.get(name)
        return fn

    def names(self) -> list[str]:
        if self is REGISTRY:
            load_plugins()
        return sorted(self.functions)

    def copy(self) -> "Registry":
        return Registry(dict(self.functions))

    def describe(self) -> Iterable[str]:
        for name in self.names():
            fn = self.functions[name]
            params = ", ".join(param_text(p) for p in fn.signature.params)
            yield f"{name}({params}){' …' if fn.signature.variadic else ''}: {fn.doc}"


REGISTRY = Registry()
"""The process-wide registry compile_expression uses unless given another one."""


PLUGIN_GROUP = "banyan.functions"
_plugins_loaded = False


def load_plugins() -> bool:
    """Import the modules other packages declare under the `banyan.functions` entry point
    (engine's graph functions, for one), so they register their functions. Runs once; True
    if this call loaded something. dsl/ never imports them by name."""
    global _plugins_loaded
    if _plugins_loaded:
        return False
    _plugins_loaded = True
    from importlib.metadata import entry_points
    loaded = False
    for ep in entry_points(group=PLUGIN_GROUP):
        ep.load()
        loaded = True
    return loaded


def register(name: str, signature: Signature, impl: Callable, **options) -> Function:
    """Add a function to the process-wide registry (see Registry.register for the options)."""
    return REGISTRY.register(name, signature, impl, **options)


def lookup(name: str) -> Function | None:
    return REGISTRY.get(name)


from . import builtin_functions as _builtin_functions  # noqa: E402,F401  (registers the built-ins)
