"""`banyan alerts …`: scan every subject of the deployed alert rules, and list alerts."""
from __future__ import annotations

import json
import sys
from datetime import date, datetime, time

import click

from dsl.bank_time import bank_timezone
from dsl.errors import env_lang
from runtime.cli.common import engine_for, env_option, fail, handle_errors, when
from runtime.cli.main import main


def _service(env: str | None):
    from runtime.alerts.service import AlertService
    return AlertService(engine_for(env))


def _at(text: str | None) -> datetime | None:
    """`--at 2026-10-15`: the start of that day on the bank's clock."""
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        fail(f"--at {text!r} is not a date; write it as 2026-10-15")
    return datetime.combine(day, time(0), bank_timezone())


@main.group()
def alerts() -> None:
    """Alert rules over the records: scan every subject, list the alerts."""


@alerts.command("scan")
@click.argument("rules", nargs=-1)
@click.option("--at", "at", default=None, metavar="DATE", help="Evaluate as of this date (default: now).")
@click.option("--format", "fmt", default="text", type=click.Choice(["text", "json"]))
@env_option
@handle_errors
def scan(rules: tuple[str, ...], at: str | None, fmt: str, env: str | None) -> None:
    """Evaluate the deployed alert rules (all, or RULES) over every record they watch, writing only
    what changed: alerts opened, raised, lowered, cleared or lifted. Safe to run again; a scan cut
    short is completed by running it again."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    service = _service(env)
    names = list(rules) or None
    moment = _at(at)
    total = service.subjects_to_scan(names)
    with Progress(TextColumn("scan"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=not sys.stderr.isatty(),
                  disable=fmt == "json") as progress:
        task = progress.add_task("scan", total=total)
        counts = service.scan(names, at=moment, progress=lambda n: progress.advance(task, n))
    if fmt == "json":
        click.echo(json.dumps(counts.to_dict(), ensure_ascii=False, indent=2))
        return
    steps = ", ".join(f"{k} {v}" for k, v in sorted(counts.steps.items())) or "nothing changed"
    click.echo(f"✓ {counts.subjects:,} subjects, {counts.evaluations:,} rule evaluations: {steps}")
    for e in counts.errors[:20]:
        click.echo(f"  ! {e['rule']} on {e['subject']}: `{e['expression']}` ({e['where']}) could not be evaluated "
                   "on this data", err=True)


@alerts.command("list")
@click.option("--rule", default=None, help="Only this rule's alerts.")
@click.option("--status", default="open", type=click.Choice(["open", "lifted", "closed", "all"]), show_default=True)
@click.option("--grade", default=None, type=click.Choice(["yellow", "orange", "red"]))
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--format", "fmt", default="text", type=click.Choice(["text", "json"]))
@env_option
@handle_errors
def list_alerts(rule: str | None, status: str, grade: str | None, limit: int, fmt: str, env: str | None) -> None:
    """The newest alerts first: grade, rule, subject, message, answer time."""
    service = _service(env)
    rows = service.list(rule=rule, status=None if status == "all" else status, grade=grade, limit=limit)
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    if not rows:
        click.echo("no alerts")
        return
    from runtime.alerts.notify import grade_label
    lang = env_lang()
    live = service.records.refresh()
    categories = {n: d.category for (k, n), d in live.bundle.documents.items() if k == "AlertRule"}
    for a in rows:
        grade = grade_label(a["grade"], categories.get(a["rule"]))[lang]
        due = f"  answer by {when(a['due_at'])}" if a["due_at"] and a["status"] == "open" else ""
        message = a["message"].get(lang) or a["message"].get("zh") or a["message"].get("en")
        click.echo(f"#{a['id']} {grade} {a['rule']} {a['subject']['key']}: {message} [{a['status']}]{due}")


@alerts.command("errors")
@click.option("--rule", default=None, help="Only this rule's errors.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--format", "fmt", default="text", type=click.Choice(["text", "json"]))
@env_option
@handle_errors
def list_errors(rule: str | None, limit: int, fmt: str, env: str | None) -> None:
    """The subjects on which a rule's condition or evidence could not be evaluated at its last
    evaluation (a missing figure, a division by zero): fix the data, or the rule, and scan again."""
    found = _service(env).errors(rule=rule, limit=limit)
    if fmt == "json":
        click.echo(json.dumps(found, ensure_ascii=False, indent=2, default=str))
        return
    if not found:
        click.echo("no evaluation errors")
        return
    for e in found:
        for x in e["errors"]:
            click.echo(f"{e['rule']} {e['subject']['entity']} {e['subject']['key']}: `{x['expression']}` "
                       f"({x['where']}) could not be evaluated, at {when(e['at'])}")
