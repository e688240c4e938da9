"""What the runtime's CLI commands share: the database option, compiling a bundle, errors.

Every `BanyanError` (dsl/errors.py) leaves a command as `error: CODE: message` on stderr, with
its field problems below it, in the language of `BANYAN_LANG` (else the locale's, else English):
exit 1 for problems found in the data or a refused deploy, 2 for anything else.
"""
from __future__ import annotations

import functools
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable, NoReturn

import click
import sqlalchemy as sa

from dsl.bank_time import moment_text
from dsl.errors import BanyanError, env_lang
from runtime.deploy.deployments import DeployError
from runtime.flows.store import FlowError
from runtime.records.errors import RecordError
from runtime.storage.db import ConfigError, database_url, make_engine

EXIT_ERROR = 2
EXIT_PROBLEMS = 1
MAX_PROBLEMS = 200

def when(value: Any, *, seconds: bool = False) -> str:
    """A moment in a CLI listing: on the bank's clock, with its zone (`2026-10-09 10:00 UTC+08:00`);
    stored naive moments are UTC. One function for every listing (dsl/bank_time.py)."""
    return moment_text(value, seconds=seconds, zone=True)


env_option = click.option("--env", "env", default=None, metavar="NAME",
                          help="Environment from banyan.toml [environments] (default: $BANYAN_DATABASE_URL "
                               "or sqlite:///banyan.db).")


def fail(message: str, code: int = EXIT_ERROR) -> None:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(code)


def exit_code_of(error: BanyanError) -> int:
    """1 when the data or the request was refused (records, flows, deploys), 2 otherwise (set-up, usage)."""
    return EXIT_PROBLEMS if isinstance(error, (RecordError, DeployError, FlowError)) else EXIT_ERROR


def fail_error(error: BanyanError, code: int | None = None, suffix: str = "") -> NoReturn:
    """`error: CODE: message` (and each field problem, with its path) — never Python's text."""
    lang = env_lang()
    click.secho(f"error: {error.code}: {error.render(lang)}{suffix}", fg="red", err=True)
    problems = error.detail(lang)
    for p in problems[:MAX_PROBLEMS]:
        where = ".".join(("line " + str(x)) if isinstance(x, int) and i == 0 else str(x)
                         for i, x in enumerate(p["loc"]))
        click.echo(f"  {where or 'record'}: {p['msg']}", err=True)
    if len(problems) > MAX_PROBLEMS:
        click.echo(f"  … and {len(problems) - MAX_PROBLEMS} more", err=True)
    sys.exit(exit_code_of(error) if code is None else code)


def engine_for(env: str | None):
    try:
        return make_engine(database_url(env))
    except ConfigError as exc:
        fail_error(exc)


def handle_errors(fn: Callable) -> Callable:
    """Turn the runtime's expected errors into a message and an exit code, never a traceback."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BanyanError as exc:
            fail_error(exc)
        except sa.exc.OperationalError as exc:
            fail(f"database error: {str(exc.orig or exc).strip().splitlines()[0]}")
    return wrapper


def compile_bundle(path: str) -> Any:
    from dsl.compiler import compile_path
    from dsl.diagnostics import render_text
    result = compile_path(path)
    if not result.ok:
        diags = [d for d in result.diagnostics.sorted() if d.severity == "error"]
        click.echo(render_text(diags, result.sources, color=sys.stderr.isatty()), err=True)
        fail(f"{path}: {len(diags)} error(s); nothing was changed (run `banyan validate {path}`)")
    return result.bundle


format_option = click.option(
    "--format", "fmt", default="text", type=click.Choice(["text", "json"]),
    help="json: a refusal is the API's error body on stdout (every problem with its path and code), exit 1.")


@contextmanager
def json_errors(fmt: str) -> Iterator[None]:
    """With `--format json`, a refused command prints the API's error body on stdout and exits as
    the text form would; otherwise the error goes on to `handle_errors`."""
    try:
        yield
    except BanyanError as exc:
        if fmt != "json":
            raise
        click.echo(json.dumps(exc.to_dict(env_lang()), ensure_ascii=False, indent=2, default=str))
        sys.exit(exit_code_of(exc))
