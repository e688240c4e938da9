"""`banyan test`: run a bundle's TestSuites (runtime/testing) and print what passed, what failed
with the difference at the case's line, what was not run and why, and — with `--coverage` — the
grades, actions and flow branches no case exercises."""
from __future__ import annotations

import json
import sys

import click

from dsl.compiler import compile_path
from dsl.diagnostics import render_text
from runtime.cli.main import main

MARK = {"passed": "✓", "failed": "✗", "error": "✗", "not run": "–"}


@main.command("test")
@click.argument("path", default="configs", type=click.Path())
@click.option("--suite", "suites", multiple=True, metavar="NAME", help="Run only this TestSuite (repeatable).")
@click.option("--coverage", is_flag=True, help="List the grades, actions, flow branches, tier rows and caps no case exercises.")
@click.option("--allow-not-run", is_flag=True,
              help="Pass even when some cases cannot run (none do today: kept for bundles that say so).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--record", is_flag=True,
              help="Keep which cases exercise each alert rule's grades in the deployed database (BANYAN_DATABASE_URL), "
                   "for the rule's page.")
def test(path: str, suites: tuple[str, ...], coverage: bool, allow_not_run: bool, fmt: str, record: bool) -> None:
    """Run the TestSuites of the bundle at PATH (default: configs) against a throwaway database:
    each case's given records, the alert rules at its `now`, its flow with its decisions; exit 1
    when a case fails or cannot run. Nothing touches the deployed database."""
    from runtime.testing.runner import run_bundle, suites_of
    result = compile_path(path)
    if not result.ok:
        diags = [d for d in result.diagnostics.sorted() if d.severity == "error"]
        click.echo(render_text(diags, result.sources, color=sys.stdout.isatty()), err=True)
        click.echo(f"✗ {path} does not compile ({len(diags)} error(s)); `banyan validate {path}` shows them all",
                   err=True)
        sys.exit(2)
    known = {s.name for s in suites_of(result.bundle)}
    unknown = [s for s in suites if s not in known]
    if unknown:
        click.echo(f"error: no TestSuite {', '.join(unknown)} in {path} (there: {', '.join(sorted(known)) or 'none'})",
                   err=True)
        sys.exit(2)
    if fmt == "text":
        state = {"suite": None}

        def show(r) -> None:
            if r.suite != state["suite"]:
                state["suite"] = r.suite
                click.echo(f"{r.suite}  ({r.span.file})")
            line = f"  {MARK[r.status]} {r.case}"
            if r.status != "passed":
                line += f"  [{r.status}]  {r.span.file}:{r.span.line}"
            click.echo(line)
            if r.reason and r.status != "failed":
                click.echo(f"      {r.reason}")
            for d in r.differences:
                click.echo(f"      {d.what} at {d.span.file}:{d.span.line}")
                click.echo(f"        expected: {d.expected}")
                click.echo(f"        got:      {d.got}")
        report = run_bundle(result.bundle, names=suites or None, progress=show)
    else:
        report = run_bundle(result.bundle, names=suites or None)
    counts = report.counts()
    cov = report.coverage
    if record:
        from runtime.alerts.reports import coverage_bodies, keep
        from runtime.cli.common import engine_for
        from runtime.deploy.deployments import default_author
        from runtime.storage.migrate import upgrade
        engine = engine_for(None)
        upgrade(engine)
        rules = [d for (k, _), d in sorted(result.bundle.documents.items()) if k == "AlertRule"]
        keep(engine, "coverage", coverage_bodies(rules, report.graded, len(report.results)), default_author())
    if fmt == "json":
        out = {"cases": [r.to_dict() for r in report.results], "counts": counts, "seconds": round(report.seconds, 3),
               "ok": report.ok(allow_not_run)}
        if coverage and cov is not None:
            out["coverage"] = {"summary": {k: {"covered": a, "total": b} for k, (a, b) in cov.summary().items()},
                               "missing": cov.missing()}
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        order = ("passed", "failed", "error", "not run")
        summary = ", ".join(f"{counts[k]} {k}" for k in order if counts.get(k)) or "no cases"
        click.echo(f"\n{summary} in {report.seconds:.2f}s")
        if counts.get("not run") and not allow_not_run:
            click.echo("cases that cannot run yet fail the run; --allow-not-run lets them pass")
        if coverage and cov is not None:
            click.echo("\ncoverage: " + ", ".join(f"{k} {a}/{b}" for k, (a, b) in cov.summary().items()))
            for kind, items in cov.missing().items():
                if items:
                    click.echo(f"  {kind} no case exercises ({len(items)}):")
                    for item in items:
                        click.echo(f"    {item}")
    sys.exit(0 if report.ok(allow_not_run) else 1)
