"""The doors never hold up the event loop. A route or an error handler written `async def` runs on
the server's event loop: while it queries the database or hashes a password (sign-in: argon2, a
tenth of a second), every other request of that process waits — under load the sign-ins alone
stretched every page's p95 to seconds. So handlers are plain `def`s (FastAPI and Starlette run
them in their threadpool) and read a POSTed form through the `posted` dependency
(runtime/web/forms.py); the few `async def`s left do no blocking work, and are named here."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOORS = [ROOT / "runtime" / "web", ROOT / "runtime" / "http", ROOT / "runtime" / "ops"]
ROUTE_DECORATORS = {"get", "post", "put", "patch", "delete", "head", "options", "api_route", "route",
                    "exception_handler", "websocket"}
# async on purpose, with nothing blocking inside (only the request's own body, a JSON reply)
ASYNC_OK = {("runtime/http/errors.py", "_invalid"), ("runtime/web/forms.py", "posted")}


def _async_handlers() -> list[str]:
    found = []
    for folder in DOORS:
        for path in sorted(folder.rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.AsyncFunctionDef) or (rel, node.name) in ASYNC_OK:
                    continue
                for dec in node.decorator_list:
                    call = dec.func if isinstance(dec, ast.Call) else dec
                    if isinstance(call, ast.Attribute) and call.attr in ROUTE_DECORATORS:
                        found.append(f"{rel}:{node.lineno} {node.name}")
    return found


def test_route_handlers_are_plain_functions():
    assert _async_handlers() == [], (
        "these handlers are `async def`: their database work would block the event loop; make them "
        "`def` and take the form with `form: FormData = Depends(posted)`")


def test_the_check_sees_an_async_handler(tmp_path, monkeypatch):
    """The check itself can fail: an `async def` route in a door is found."""
    door = tmp_path / "runtime" / "web"
    door.mkdir(parents=True)
    (door / "page.py").write_text("@r.post('/ui/x')\nasync def x(request):\n    return None\n", encoding="utf-8")
    monkeypatch.setattr(__import__(__name__, fromlist=["x"]), "ROOT", tmp_path)
    monkeypatch.setattr(__import__(__name__, fromlist=["x"]), "DOORS", [door])
    assert _async_handlers() == ["runtime/web/page.py:2 x"]
