"""The `banyan` command line. Exit codes: 0 clean, 1 problems found, 2 usage errors.

An error of Banyan's own reaching the group prints `error: CODE: message` (runtime/cli/common.py
does the same inside the operational commands, with field problems); anything else is a bug:
`error: internal: …` names a file holding the traceback, and Python's text stays there.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

import click

from dsl.compiler import compile_path
from dsl.diagnostics import render_json, render_text
from dsl.errors import BanyanError, env_lang, words
from dsl.schema_export import editor_settings, kind_schemas
from dsl.schema_export import explain as explain_topic

# Modules that add the operational commands (deploy, records, serve …). They import SQLAlchemy
# and FastAPI, so they load only when one of their commands (or the command list) is asked
# for: `banyan validate` starts in a fraction of the time.
EXTENSIONS = ("runtime.cli.commands", "runtime.cli.graph", "runtime.cli.backup")


class _Banyan(click.Group):
    _loaded = False

    def _load_extensions(self) -> None:
        if not _Banyan._loaded:
            _Banyan._loaded = True
            import importlib
            for module in EXTENSIONS:
                importlib.import_module(module)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is None:
            self._load_extensions()
            command = super().get_command(ctx, name)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_extensions()
        return super().list_commands(ctx)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except BanyanError as exc:
            click.secho(f"error: {exc.code}: {exc.render(env_lang())}", fg="red", err=True)
            sys.exit(2)
        except BrokenPipeError:             # `banyan … | head`: the reader has what it wanted
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)
        except Exception:  # noqa: BLE001 - the last resort: a bug, told without Python's words
            with tempfile.NamedTemporaryFile("w", prefix="banyan-error-", suffix=".log", delete=False) as log:
                traceback.print_exc(file=log)
            ref = Path(log.name).stem.removeprefix("banyan-error-")
            click.secho(f"error: internal: {words('banyan.internal', env_lang(), ref=ref)} ({log.name})",
                        fg="red", err=True)
            sys.exit(2)


@click.group(cls=_Banyan, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="banyan")
def main() -> None:
    """Banyan: YAML in, a running rules-and-workflow system out."""


@main.command()
@click.argument("path", default="configs", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="Output format.")
@click.option("--color/--no-color", default=None, help="Colour the output (default: when a terminal).")
def validate(path: str, fmt: str, color: bool | None) -> None:
    """Check a bundle (a directory of YAML files, or one file) and report every problem."""
    started = time.perf_counter()
    result = compile_path(path)
    elapsed = time.perf_counter() - started
    diags = result.diagnostics.sorted()
    errors = sum(1 for d in diags if d.severity == "error")
    warnings = len(diags) - errors
    if fmt == "json":
        click.echo(render_json(diags))
    else:
        use_color = sys.stdout.isatty() if color is None else color
        if diags:
            click.echo(render_text(diags, result.sources, color=use_color))
            click.echo()
        if errors:
            click.echo(f"✗ {path}: {errors} error(s), {warnings} warning(s) in {result.files} file(s) "
                       f"({elapsed:.2f}s)")
        else:
            summary = ", ".join(f"{k} {n}" for k, n in result.bundle.summary().items())
            click.echo(f"✓ {path}: {result.files} file(s) valid — {summary} — bundle {result.bundle.hash[:12]}"
                       + (f", {warnings} warning(s)" if warnings else "") + f" ({elapsed:.2f}s)")
    sys.exit(1 if errors else 0)


@main.command()
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Directory to write into.")
def schema(out: str) -> None:
    """Write the JSON Schemas of every kind, and the yaml-language-server mapping for editors."""
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    for name, body in kind_schemas().items():
        (target / name).write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    settings = editor_settings(str(target))
    (target / "yaml-language-server.json").write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    click.echo(f"wrote {len(kind_schemas())} schemas to {target}/")
    click.echo("editors: add to .vscode/settings.json → " + json.dumps(settings["yaml.schemas"], ensure_ascii=False))


@main.command()
@click.argument("topic")
def explain(topic: str) -> None:
    """Explain a kind or a key (`Entity.spec.fields`), an error code (`BNY204`), `kinds`, `expressions`
    or `functions`."""
    if topic == "functions":
        from dsl.expr.functions import REGISTRY
        click.echo("Functions an expression may call (besides the aggregates sum, count, avg, min, max, any, all, "
                   "count_distinct and latest; see `banyan explain expressions`):\n")
        for line in REGISTRY.describe():
            click.echo("  " + line)
        return
    if topic == "expressions":
        readme = Path(__file__).resolve().parents[2] / "dsl" / "expr" / "README.md"
        click.echo(readme.read_text(encoding="utf-8") if readme.exists() else "see dsl/expr/README.md")
        return
    text = explain_topic(topic)
    if text is None:
        click.echo(f"error: nothing to explain for `{topic}`; try `banyan explain kinds`", err=True)
        sys.exit(2)
    click.echo(text)


@main.command()
@click.argument("kind")
@click.argument("name")
@click.option("--dir", "directory", default=".", type=click.Path(file_okay=False), help="Where to write the file.")
@click.option("--schemas", default="schemas", help="Where `banyan schema --out` put the schemas (for the modeline).")
def new(kind: str, name: str, directory: str, schemas: str) -> None:
    """Write a new document of KIND named NAME, with the editor's schema modeline."""
    from dsl.scaffold import ScaffoldError, scaffold
    try:
        path, text = scaffold(kind, name, Path(directory), schemas)
    except ScaffoldError as exc:
        click.echo(f"error: {exc.code}: {exc.render(env_lang())}", err=True)
        sys.exit(2)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {path}")


if __name__ == "__main__":
    main()
