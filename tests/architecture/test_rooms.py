"""The runtime's rooms (DESIGN.md, runtime/README.md): no flat modules, no import cycle between
rooms, no import tucked inside a function to hide one, and the layers' own rules (dsl/ knows no
database, engine/ does no I/O, forms/ never imports runtime/)."""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "runtime"
# The CLI loads its commands' modules on demand so that `banyan validate` starts fast; that is
# the one place a function-level import of another runtime module is allowed.
LAZY_OK = {"cli"}


def _modules(package: Path):
    for path in sorted(package.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        rel = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(rel[:-1] if rel[-1] == "__init__" else rel)
        yield path, name, ast.parse(path.read_text(encoding="utf-8"))


def _imports(tree: ast.Module, name: str, is_package: bool):
    """(imported module, inside a function?) for every import in a module."""
    inside: set[int] = set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside.update(id(n) for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom)))
    parts = name.split(".") if is_package else name.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, id(node) in inside, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[: len(parts) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield module, id(node) in inside, node.lineno
            for alias in node.names:          # `from runtime import records` names a room
                yield f"{module}.{alias.name}", id(node) in inside, node.lineno


def _room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "runtime" and len(parts) > 1 and (RUNTIME / parts[1]).is_dir() else None


def test_runtime_has_no_flat_modules():
    flat = [p.name for p in RUNTIME.glob("*.py") if p.name != "__init__.py"]
    assert not flat, f"runtime/ holds modules outside a room: {flat}"


def test_every_room_has_a_readme():
    rooms = [p for p in RUNTIME.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    assert len(rooms) >= 10
    assert [r.name for r in rooms if not (r / "README.md").exists()] == []


def room_graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for path, name, tree in _modules(RUNTIME):
        here = _room(name)
        for module, _inside, _line in _imports(tree, name, path.name == "__init__.py"):
            there = _room(module)
            if here and there and there != here:
                edges[here].add(there)
    return edges


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_between_rooms():
    found = _cycle(room_graph())
    assert found is None, "rooms import each other in a circle: " + " → ".join(found)


def test_the_cycle_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_function_level_import_between_runtime_modules():
    hidden = []
    for path, name, tree in _modules(RUNTIME):
        if _room(name) in LAZY_OK:
            continue
        for module, inside, line in _imports(tree, name, path.name == "__init__.py"):
            if inside and module.startswith("runtime"):
                hidden.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert hidden == []


@pytest.mark.parametrize("package, forbidden", [
    ("dsl", ("runtime", "engine", "forms", "sqlalchemy", "fastapi")),
    ("engine", ("runtime", "forms", "sqlalchemy", "fastapi", "requests", "httpx")),
    ("forms", ("runtime", "sqlalchemy")),
])
def test_layers(package, forbidden):
    wrong = []
    for path, name, tree in _modules(ROOT / package):
        for module, _inside, line in _imports(tree, name, path.name == "__init__.py"):
            if module.split(".")[0] in forbidden:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert wrong == []


# -- the doors run no SQL; the engine reads only the flow IR of dsl -----------------------------
DOORS = ("http", "web")
# A door may name the Engine type (to pass it to a service); nothing else of SQLAlchemy.
DOOR_SQLALCHEMY_OK = {("sqlalchemy.engine", "Engine")}
# What runs SQL: a connection's or an engine's methods, and the rooms' tables and statements.
SQL_CALLS = {"execute", "exec_driver_sql", "connect", "begin", "scalar", "scalars"}
STORAGE_SIDE = ("tables", "prepared")


def door_sql(tree: ast.Module) -> list[str]:
    """What in one door module runs SQL of its own: a SQLAlchemy import (other than the Engine
    type), a call of a connection's or an engine's methods (a query function of a room needs a
    connection, so it is caught there), an import of a room's tables or prepared statements."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {a.name}" for a in node.names if a.name.split(".")[0] == "sqlalchemy"]
        elif isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[0] == "sqlalchemy":
                found += [f"{node.lineno}: from {node.module} import {a.name}" for a in node.names
                          if (node.module, a.name) not in DOOR_SQLALCHEMY_OK]
            elif parts[0] == "runtime" and len(parts) > 2 and parts[2] in STORAGE_SIDE:
                found += [f"{node.lineno}: from {node.module} import {a.name}" for a in node.names]
            elif parts[0] == "runtime" and len(parts) == 2:
                found += [f"{node.lineno}: from {node.module} import {a.name}" for a in node.names
                          if a.name in STORAGE_SIDE]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS:
            found.append(f"{node.lineno}: .{node.func.attr}(…)")
    return found


def test_the_doors_run_no_sql_of_their_own():
    """Pages and endpoints call services; SQL lives in the storage side of each room."""
    wrong = []
    for door in DOORS:
        for path, _name, tree in _modules(RUNTIME / door):
            wrong += [f"{path.relative_to(ROOT)}:{what}" for what in door_sql(tree)]
    assert wrong == []


def test_the_door_check_finds_sql():
    bad = ast.parse("import sqlalchemy as sa\nfrom sqlalchemy import select\nfrom sqlalchemy.engine import Engine\n"
                    "from runtime.flows.tables import tasks\nfrom runtime.storage import prepared\n"
                    "from runtime.flows.queries import task_row\n"
                    "def f(engine):\n    with engine.connect() as conn:\n        conn.execute(select(tasks))\n"
                    "        task_row(conn, 't1')\n")
    assert door_sql(bad) == ["1: import sqlalchemy", "2: from sqlalchemy import select",
                             "4: from runtime.flows.tables import tasks", "5: from runtime.storage import prepared",
                             "8: .connect(…)", "9: .execute(…)"]
    assert door_sql(ast.parse("from sqlalchemy.engine import Engine\nfrom runtime.flows.service import FlowService\n"
                              "def f(s):\n    return s.inbox('u')\n")) == []


# Of dsl/kinds/flow the engine reads the IR and what is computed from the IR alone (the shape
# both the verifier and the engine need); never the verifier's own modules.
ENGINE_FLOW_IR = {"dsl.kinds.flow.ir", "dsl.kinds.flow.regions", "dsl.kinds.flow.functions"}


def engine_dsl_problems(imports: list[tuple[str, int]]) -> list[str]:
    wrong = []
    for module, line in imports:
        parts = module.split(".")
        if parts[0] != "dsl":
            continue
        if any(p.startswith("verify") for p in parts):
            wrong.append(f"{line}: {module} (a verifier module)")
        elif module.startswith("dsl.kinds.flow.") and ".".join(parts[:4]) not in ENGINE_FLOW_IR:
            wrong.append(f"{line}: {module} (not flow IR)")
    return wrong


def test_the_engine_reads_only_flow_ir_from_dsl():
    wrong = []
    for path, _name, tree in _modules(ROOT / "engine"):
        # `from dsl.kinds.flow.ir import Flow` yields the module and `dsl.kinds.flow.ir.Flow`: check modules only
        imports = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imports += [(a.name, node.lineno) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imports.append((node.module, node.lineno))
                if node.module == "dsl.kinds.flow":
                    imports += [(f"dsl.kinds.flow.{a.name}", node.lineno) for a in node.names]
        wrong += [f"{path.relative_to(ROOT)}:{p}" for p in engine_dsl_problems(imports)]
    assert wrong == []


def test_the_engine_check_finds_a_verifier_import():
    assert engine_dsl_problems([("dsl.kinds.flow.verify_net", 3), ("dsl.kinds.flow.graph", 4),
                                ("dsl.kinds.flow.ir", 5), ("dsl.kinds.flow.regions", 6), ("dsl.expr", 7)]) == [
        "3: dsl.kinds.flow.verify_net (a verifier module)", "4: dsl.kinds.flow.graph (not flow IR)"]
