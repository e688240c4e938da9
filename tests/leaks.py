"""A pytest plugin: no Python exception text reaches a person (issue 10, DESIGN "One truth, every door").

While the suite runs, every HTTP response made through httpx (so every starlette/FastAPI
`TestClient` request) and every `click.testing.CliRunner` result is read; a page, an API answer
or CLI output that shows Python's own words — a traceback, an exception class name, the text
Python puts in its exceptions — is recorded. The test whose requests leaked fails in its
teardown, naming each one; leaks made outside any test (session fixtures) fail the session at
the end. Loaded from tests/conftest.py; tests/test_leaks.py proves a deliberate leak fails.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

# Python's words that a person should never read (class names of exceptions, the phrases
# CPython puts in their messages, a traceback's frames).
PYTHON_TEXT = re.compile(
    r"Traceback \(most recent call last\)"
    r"|\b(?:TypeError|ValueError|KeyError|AttributeError|IndexError|NameError|ZeroDivisionError"
    r"|InvalidOperation|DivisionByZero|DivisionUndefined|UnicodeDecodeError|UnicodeEncodeError|BadZipFile"
    r"|OverflowError|RecursionError|AssertionError|NotImplementedError|UnboundLocalError|StopIteration"
    r"|JSONDecodeError|IntegrityError|OperationalError|ProgrammingError|StatementError|DataError"
    r"|InvalidHashError)\b"
    r"|object has no attribute|'NoneType'|NoneType object|unsupported operand type"
    r"|object is not (?:subscriptable|iterable|callable)|invalid literal for int\(\)"
    r"|codec can't (?:decode|encode)|takes \d+ positional argument|missing \d+ required positional"
    r"|File \"[^\"]+\", line \d+|<class '[\w.]+'>|\[<class 'decimal\.")

READABLE = ("text/html", "application/json", "text/plain", "image/svg+xml", "text/csv")


@dataclass(frozen=True)
class Leak:
    where: str          # "GET /ui/start 500" or "banyan records import …"
    excerpt: str

    def __str__(self) -> str:
        return f"{self.where}: …{self.excerpt}…"


class LeakLog:
    """What the suite showed people that Python wrote; `take()` empties it."""

    def __init__(self) -> None:
        self.leaks: list[Leak] = []
        self.outside: list[Leak] = []          # made by session fixtures, reported at the end

    def check(self, where: str, text: str) -> None:
        found = PYTHON_TEXT.search(text or "")
        if found:
            start, end = max(found.start() - 60, 0), min(found.end() + 60, len(text))
            self.leaks.append(Leak(where, " ".join(text[start:end].split())))

    def take(self) -> list[Leak]:
        leaks, self.leaks = self.leaks, []
        return leaks


LOG = LeakLog()


def check_response(response: Any) -> None:
    """Record a leak in an httpx response that a person would read (HTML, JSON, text, SVG, CSV)."""
    kind = response.headers.get("content-type", "")
    if not kind.startswith(READABLE):
        return
    try:
        text = response.text
    except Exception:  # noqa: BLE001 - a streamed body nobody read was not shown to anyone either
        return
    request = response.request
    LOG.check(f"{request.method} {request.url.path} → {response.status_code}", text)


def check_cli(args: Any, result: Any) -> None:
    """Record a leak in a CliRunner result: its output (stdout and stderr), or a crash."""
    where = "banyan " + " ".join(map(str, args or []))
    LOG.check(where, result.output)           # stdout and stderr as a person saw them
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        LOG.leaks.append(Leak(where, f"the command crashed with {type(exc).__name__} (a person sees a traceback)"))


def install() -> None:
    """Wrap httpx.Client.send and CliRunner.invoke for the whole session (idempotent)."""
    import httpx
    from click.testing import CliRunner

    if getattr(httpx.Client.send, "_leak_checked", False):
        return
    send, invoke = httpx.Client.send, CliRunner.invoke

    def checked_send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = send(self, request, *args, **kwargs)
        if not kwargs.get("stream"):
            check_response(response)
        return response

    def checked_invoke(self: Any, cli: Any, args: Any = None, *rest: Any, **kwargs: Any) -> Any:
        result = invoke(self, cli, args, *rest, **kwargs)
        check_cli(args if not isinstance(args, str) else args.split(), result)
        return result

    checked_send._leak_checked = True          # type: ignore[attr-defined]
    httpx.Client.send = checked_send           # type: ignore[method-assign]
    CliRunner.invoke = checked_invoke          # type: ignore[method-assign]


def pytest_configure(config: pytest.Config) -> None:
    install()


@pytest.fixture(autouse=True)
def _no_python_text_shown() -> Any:
    """Fails the test (in its teardown) when one of its responses showed Python's own words."""
    LOG.outside += LOG.take()                  # what came before belongs to a session fixture
    yield
    leaks = LOG.take()
    if leaks:
        pytest.fail("Python exception text reached a person:\n" + "\n".join(f"  {leak}" for leak in leaks),
                    pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leaks, LOG.outside = LOG.outside + LOG.take(), []
    if leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("Python exception text reached a person outside any test:", red=True)
            for leak in leaks:
                reporter.write_line(f"  {leak}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
