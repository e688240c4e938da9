"""The leak checker (tests/leaks.py) catches what it must: a deliberate leak fails the test that
made it, and one made outside any test fails the session."""
from __future__ import annotations

import pytest

from tests.leaks import LOG, PYTHON_TEXT

LEAKY_SUITE = '''
import click
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient

app = FastAPI()

@app.get("/page")
def page():
    return HTMLResponse("<p>unsupported operand type(s) for +: 'int' and 'NoneType'</p>")

@app.get("/json")
def api():
    return {"error": "invalid", "message": "[<class 'decimal.InvalidOperation'>]"}

@app.get("/fine")
def fine():
    return {"error": "not_found", "message": "找不到记录：no loan record 5"}

@click.command()
def crash():
    raise ZeroDivisionError("division by zero")

def test_page_leak():
    assert TestClient(app).get("/page").status_code == 200

def test_json_leak():
    assert TestClient(app).get("/json").status_code == 200

def test_cli_crash():
    CliRunner().invoke(crash, [])

def test_clean():
    assert TestClient(app).get("/fine").status_code == 200
'''


def test_a_deliberate_leak_fails_the_test_that_made_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_leaky=LEAKY_SUITE)
    result = pytester.runpytest("-p", "tests.leaks")
    result.assert_outcomes(passed=4, errors=3)
    result.stdout.fnmatch_lines(["*GET /page*unsupported operand type*", "*GET /json*decimal.InvalidOperation*",
                                 "*banyan *crashed with ZeroDivisionError*"])


def test_a_leak_outside_any_test_fails_the_session(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('''
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

app = FastAPI()

@app.get("/boom")
def boom():
    return {"message": "Traceback (most recent call last): KeyError"}

@pytest.fixture(scope="session", autouse=True)
def warm_up():
    TestClient(app).get("/boom")
''')
    pytester.makepyfile(test_ok="def test_ok():\n    assert True\n")
    result = pytester.runpytest("-p", "tests.leaks")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*outside any test*", "*GET /boom*Traceback*"])


@pytest.mark.parametrize("text", [
    "Traceback (most recent call last):", "TypeError: '<' not supported", "'NoneType' object is not subscriptable",
    "decimal.InvalidOperation", "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff",
    "zipfile.BadZipFile: File is not a zip file", "OverflowError: int too large", "'dict' object has no attribute 'x'",
    'File "/srv/banyan/runtime/web/start.py", line 12, in preview'])
def test_python_text_is_recognised(text: str) -> None:
    assert PYTHON_TEXT.search(text)


@pytest.mark.parametrize("text", [
    "no loan record 5", "找不到记录：no loan record 5", "Enter a number (万 and 亿 are understood)",
    "the value is not valid", "`net_assets > 5亿` cannot be evaluated: a value is of the wrong kind"])
def test_peoples_words_pass(text: str) -> None:
    assert not PYTHON_TEXT.search(text)


def test_the_log_is_empty_between_tests() -> None:
    assert LOG.leaks == []
