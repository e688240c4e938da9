"""What the runtime's CLI commands share: the database option, compiling a bundle, errors."""
from __future__ import annotations

import functools
import sys
from typing import Any, Callable

import click
import sqlalchemy as sa

from runtime.storage.db import ConfigError, database_url, make_engine
from runtime.deploy.deployments import DeployError
from runtime.records.errors import RecordError
from runtime.deploy.live import NothingDeployed, UnknownEntity
from runtime.deploy.releases import ReleaseError

EXIT_ERROR = 2

env_option = click.option("--env", "env", default=None, metavar="NAME",
                          help="Environment from banyan.toml [environments] (default: $BANYAN_DATABASE_URL "
                               "or sqlite:///banyan.db).")


def fail(message: str, code: int = EXIT_ERROR) -> None:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(code)


def engine_for(env: str | None):
    try:
        return make_engine(database_url(env))
    except ConfigError as exc:
        fail(str(exc))


def handle_errors(fn: Callable) -> Callable:
    """Turn the runtime's expected errors into a message and an exit code, never a traceback."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RecordError as exc:
            click.secho(f"error: {exc.message}", fg="red", err=True)
            for p in exc.problems[:200]:
                where = ".".join(("line " + str(x)) if isinstance(x, int) and i == 0 else str(x)
                                 for i, x in enumerate(p.path))
                click.echo(f"  {where or 'record'}: {p.message}", err=True)
            if len(exc.problems) > 200:
                click.echo(f"  … and {len(exc.problems) - 200} more", err=True)
            sys.exit(1)
        except (ConfigError, NothingDeployed, UnknownEntity, ReleaseError) as exc:
            fail(str(exc))
        except DeployError as exc:
            fail(str(exc), 1)
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
