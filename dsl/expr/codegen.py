"""Typed syntax tree → Python source of one function, compiled once with compile().

No user text is ever evaluated: the generated source contains only identifiers we make up
(v0, p1, t2, k3, …), operators, and repr() of field names the checker resolved. Every
literal value, helper and registered function reaches the code as a closure variable.
Null checks are left out where the checker proved a value cannot be null.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

from ..errors import BanyanError
from . import ast
from .checker import Checked
from .runtime import HELPERS
from .types import EnumType

_AGG_EMPTY = {"count": "0", "count_distinct": "0", "any": "False", "all": "True", "avg": "None",
              "min": "None", "max": "None"}


class FoldError(BanyanError):
    """A pure function called on literals failed at compile time (e.g. date('2026-02-30'))."""
    code, status, namespace = "fold_failed", 422, "dsl"

    def __init__(self, node: ast.Call, cause: Exception):
        self.node, self.cause = node, cause
        super().__init__(str(cause))


class Codegen:
    def __init__(self, checked: Checked):
        self.c = checked
        self.bindings: dict[str, Any] = dict(HELPERS)
        self.roots: dict[str, str] = {}
        self.params: list[tuple[str, str]] = []
        self.ntmp = 0
        self.fast = False  # fast: subscripts (a missing key raises KeyError); slow: .get (missing is null)
        self.folded: dict[ast.Call, str] = {}

    # -- plumbing -----------------------------------------------------------------------------
    def bind(self, value: Any, prefix: str = "k") -> str:
        name = f"{prefix}{len(self.bindings)}"
        self.bindings[name] = value
        return name

    def tmp(self) -> str:
        self.ntmp += 1
        return f"t{self.ntmp}"

    def nullable(self, node: ast.Node) -> bool:
        return self.c.info[node].nullable

    def guard(self, parts: list[tuple[ast.Node, str]], build: Callable[..., str]) -> str:
        """`build(*codes)` with null in → null out for the nullable parts, each evaluated once."""
        names, checks = [], []
        for node, code in parts:
            if self.nullable(node):
                t = self.tmp()
                checks.append(f"({t} := {code}) is None")
                names.append(t)
            else:
                names.append(code)
        body = build(*names)
        return f"(None if {' or '.join(checks)} else {body})" if checks else f"({body})"

    def gen(self, node: ast.Node) -> str:
        return getattr(self, "_" + type(node).__name__.lower())(node)

    # -- leaves -------------------------------------------------------------------------------
    def _literal(self, node: ast.Literal) -> str:
        v = node.value
        if v is None or isinstance(v, (bool, int)):
            return repr(v)
        return self.bind(v)

    def _name(self, node: ast.Name) -> str:
        for name, var in reversed(self.params):
            if name == node.name:
                return var
        return self.roots.setdefault(node.name, f"v{len(self.roots)}")

    def _field(self, node: ast.Field) -> str:
        obj = self.gen(node.obj)
        if node in self.c.projections:
            return f"_project({obj}, ({node.name!r},))"
        if self.fast:
            return self.guard([(node.obj, obj)], lambda o: f"{o}[{node.name!r}]")
        return self.guard([(node.obj, obj)], lambda o: f"{o}.get({node.name!r})")

    # -- operators ----------------------------------------------------------------------------
    def _unary(self, node: ast.Unary) -> str:
        op = "not " if node.op == "not" else "-"
        return self.guard([(node.operand, self.gen(node.operand))], lambda o: f"{op}{o}")

    def _binary(self, node: ast.Binary) -> str:
        left, right = self.gen(node.left), self.gen(node.right)
        if node.op in ("and", "or"):
            return self._logic(node, left, right)
        lt, rt = self.c.info[node.left].type.name, self.c.info[node.right].type.name
        if node.op == "/":
            return f"_div({left}, {right})"
        if "period" in (lt, rt):
            return f"_shift({left}, {right}, {1 if node.op == '+' else -1})"
        if node.op == "*" and "duration" in (lt, rt):
            return f"_scale({left}, {right})"
        if node in self.c.mixed_time:
            left, right = f"_dt({left})", f"_dt({right})"
        return self.guard([(node.left, left), (node.right, right)], lambda a, b: f"{a} {node.op} {b}")

    def _logic(self, node: ast.Binary, left: str, right: str) -> str:
        """Three-valued and/or: false and null = false, true or null = true, else null wins."""
        ln, rn = self.nullable(node.left), self.nullable(node.right)
        stop, go = ("False", "True") if node.op == "and" else ("True", "False")
        if not ln:
            return f"({left} {node.op} {right})"
        a, b = self.tmp(), self.tmp()
        if not rn:
            return f"({stop} if ({a} := {left}) is {stop} else ({stop} if ({b} := {right}) is {stop} else {a}))"
        return (f"({stop} if ({a} := {left}) is {stop} else ({stop} if ({b} := {right}) is {stop} else "
                f"({go} if {a} is {go} and {b} is {go} else None)))")

    def _compare(self, node: ast.Compare) -> str:
        for a, b in ((node.left, node.right), (node.right, node.left)):
            if isinstance(b, ast.Literal) and b.value is None:  # `x == null`: a null test
                if isinstance(a, ast.Literal):                   # `'x' == null`: known now
                    return repr((a.value is None) == (node.op == "=="))
                return f"({self.gen(a)} {'is' if node.op == '==' else 'is not'} None)"
        left, right = self.gen(node.left), self.gen(node.right)
        if node in self.c.mixed_time:
            left, right = f"_dt({left})", f"_dt({right})"
        ranks = self._ranks(node) if node.op not in ("==", "!=") else None
        if ranks is not None:                    # an ordered enum: compare the values' places
            r = self.bind(ranks)
            return self.guard([(node.left, left), (node.right, right)], lambda a, b: f"{r}[{a}] {node.op} {r}[{b}]")
        return self.guard([(node.left, left), (node.right, right)], lambda a, b: f"{a} {node.op} {b}")

    def _ranks(self, node: ast.Compare) -> dict[str, int] | None:
        for side in (node.left, node.right):
            t = self.c.info[side].type
            if isinstance(t, EnumType) and t.order is not None:
                return t.ranks()
        return None

    def _in(self, node: ast.In) -> str:
        item = self.gen(node.item)
        cont = node.container
        if isinstance(cont, ast.ListLit) and all(isinstance(i, ast.Literal) for i in cont.items):
            values = [v for v in map(_literal_value, cont.items) if v is not None]
            try:
                container = self.bind(frozenset(values))
            except TypeError:
                container = self.bind(tuple(values))
            cont_part = []
        else:
            container = self.gen(cont)
            cont_part = [(cont, container)]
        op = "not in" if node.negated else "in"
        if cont_part:
            return self.guard([(node.item, item)] + cont_part, lambda a, b: f"{a} {op} {b}")
        return self.guard([(node.item, item)], lambda a: f"{a} {op} {container}")

    def _between(self, node: ast.Between) -> str:
        parts = [(n, self.gen(n)) for n in (node.item, node.low, node.high)]
        if node in self.c.mixed_time:
            parts = [(n, f"_dt({code})") for n, code in parts]
        return self.guard(parts, lambda x, lo, hi: f"{lo} <= {x} <= {hi}")

    def _if(self, node: ast.If) -> str:
        return f"({self.gen(node.then)} if {self.gen(node.cond)} else {self.gen(node.else_)})"

    def _listlit(self, node: ast.ListLit) -> str:
        return "[" + ", ".join(self.gen(i) for i in node.items) + "]"

    def _maplit(self, node: ast.MapLit) -> str:
        if all(isinstance(v, ast.Literal) for v in node.values):
            return self.bind(dict(zip(node.keys, map(_literal_value, node.values))))
        return "{" + ", ".join(f"{self.bind(k)}: {self.gen(v)}" for k, v in zip(node.keys, node.values)) + "}"

    # -- collections --------------------------------------------------------------------------
    def _lambda_body(self, lam: ast.Lambda) -> tuple[str, str]:
        var = f"p{self.c.params[lam]}"
        self.params.append((lam.param, var))
        try:
            return var, self.gen(lam.body)
        finally:
            self.params.pop()

    def _where(self, node: ast.Where) -> str:
        t = self.tmp()
        coll = self.gen(node.coll)
        var, cond = self._lambda_body(node.cond)
        return f"(None if ({t} := {coll}) is None else [{var} for {var} in {t} if {var} is not None and {cond}])"

    def _window(self, node: ast.Window) -> str:
        plan = self.c.windows[node]
        fn = "_latest_n" if plan.count else "_within"
        code = f"{fn}({self.gen(plan.base)}, {plan.time_field!r}, {self.gen(node.span)}, now)"
        return f"_project({code}, {plan.project!r})" if plan.project else code

    def _call(self, node: ast.Call) -> str:
        plan = self.c.calls[node]
        kind = plan[0]
        if kind == "aggregate":
            return self._aggregate(node, plan[1], plan[2])
        if kind == "latest":
            return f"_latest({self.gen(node.args[0])}, {plan[1]!r})"
        if kind == "scalar":
            fn = "_min" if plan[1] == "min" else "_max"
            parts = [(a, self.gen(a)) for a in node.args]
            return self.guard(parts, lambda *xs: f"{fn}({', '.join(xs)})")
        fn = plan[1]
        if fn.pure and node.args and all(_constant(a) for a in node.args):
            return self._fold(node, fn)
        impl = self.bind(fn.impl, "f")
        parts = [(a, self.gen(a)) for a in node.args]
        lead = (["now"] if fn.uses_now else []) + (["ctx"] if fn.uses_context else [])
        if fn.nulls == "accept":
            return f"{impl}({', '.join(lead + [code for _, code in parts])})"
        return self.guard(parts, lambda *xs: f"{impl}({', '.join(lead + list(xs))})")

    def _fold(self, node: ast.Call, fn) -> str:
        if node not in self.folded:
            self.folded[node] = self._fold_now(node, fn)
        return self.folded[node]

    def _fold_now(self, node: ast.Call, fn) -> str:
        args = [_constant_value(a) for a in node.args]
        if fn.nulls == "propagate" and any(a is None for a in args):
            return "None"
        try:
            value = fn.impl(*args)
        except Exception as exc:  # the author's literal is wrong: reported as a diagnostic
            raise FoldError(node, exc) from exc
        return repr(value) if value is None or isinstance(value, (bool, int)) else self.bind(value)

    def _aggregate(self, node: ast.Call, name: str, has_lambda: bool) -> str:
        source = node.args[0]
        if isinstance(source, ast.Distinct):
            source = source.operand
        t = self.tmp()
        coll = self.gen(source)
        if has_lambda:
            lam = node.args[1]
            assert isinstance(lam, ast.Lambda)    # has_lambda: the checker bound it
            var, body = self._lambda_body(lam)
            body_nullable = self.c.info[node.args[1]].nullable
        else:
            var = f"e{self.tmp()}"
            body, body_nullable = var, False
        if name == "count":
            cond = f" and {body}" if has_lambda else ""
            agg = f"_len([1 for {var} in {t} if {var} is not None{cond}])"
        elif name in ("any", "all"):
            values = f"[{body} for {var} in {t} if {var} is not None]"
            agg = f"(True in {values})" if name == "any" else f"(False not in {values})"
        else:
            if body_nullable:
                v = self.tmp()
                values = f"[{v} for {var} in {t} if {var} is not None and ({v} := {body}) is not None]"
            else:
                values = f"[{body} for {var} in {t} if {var} is not None]"
            if name == "sum":
                zero = "0" if self.c.info[node].type.name == "integer" else self.bind(Decimal(0))
                agg = f"_sum({values}, {zero})"
            elif name == "count_distinct":
                agg = f"_len(_set({values}))"
            else:
                agg = {"avg": "_avg", "min": "_smallest", "max": "_largest"}[name] + f"({values})"
        empty = _AGG_EMPTY.get(name) or ("0" if self.c.info[node].type.name == "integer" else self.bind(Decimal(0)))
        return f"({empty} if ({t} := {coll}) is None else {agg})"


def _constant(node: ast.Node) -> bool:
    return isinstance(node, ast.Literal) or (isinstance(node, ast.MapLit) and
                                             all(isinstance(v, ast.Literal) for v in node.values))


def _constant_value(node: ast.Node) -> Any:
    if isinstance(node, ast.MapLit):
        return dict(zip(node.keys, map(_literal_value, node.values)))
    return _literal_value(node)


def _literal_value(node: ast.Node) -> Any:
    """The value of a node known to be a literal (checked by the caller)."""
    assert isinstance(node, ast.Literal)
    return node.value


def generate(checked: Checked, codegen: Callable[[Checked], Codegen] = Codegen) -> tuple[str, dict[str, Any]]:
    """Python source defining `_make(**bindings) -> evaluate(ctx)`, and the bindings
    (`codegen`: the generator; trace.py passes one that notes each sub-expression's value).

    Two bodies are generated: a fast one that reads with subscripts (`ctx['x']`, `rec['f']`)
    and, when a key is missing (KeyError), the same expression reading with `.get`, where a
    missing key is null. Complete records, the usual case, take the fast path only."""
    gen = codegen(checked)
    slow_body = gen.gen(checked.root)
    gen.fast = True
    fast_body = gen.gen(checked.root)
    extra = ["_tr"] if "_tr(" in fast_body else []
    params = ", ".join(list(gen.bindings) + extra + ["_fail", "_now", "_EvaluationError"])
    lines = [f"def _make({params}):"]
    for name, body, fast in (("slow", slow_body, False), ("evaluate", fast_body, True)):
        lines += [f"    def {name}(ctx):", "        try:"]
        reads = [f"ctx[{root!r}]" if fast else f"ctx.get({root!r})" for root in gen.roots]
        lines += [f"            {var} = {read}" for var, read in zip(gen.roots.values(), reads)]
        if checked.uses_now:
            lines.append("            now = _now(ctx)")
        lines.append(f"            return {body}")
        if fast:
            lines += ["        except KeyError:", "            return slow(ctx)"]
        lines += ["        except _EvaluationError:", "            raise",
                  "        except Exception as exc:", "            raise _fail(exc) from exc"]
    lines.append("    return evaluate")
    return "\n".join(lines) + "\n", gen.bindings
