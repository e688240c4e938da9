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


@alerts.command("explain")
@click.argument("rule")
@click.argument("subject")
@click.option("--at", "at", default=None, metavar="DATE", help="As of this date (default: now).")
@click.option("--format", "fmt", default="text", type=click.Choice(["text", "json"]))
@env_option
@handle_errors
def explain_cmd(rule: str, subject: str, at: str | None, fmt: str, env: str | None) -> None:
    """Why SUBJECT (a record's key; GC123 for a guarantee circle) has its grade under RULE: each
    grade's condition with the value of every part of it (null marked, what was not needed said
    so), the evidence, and how far the grades that do not hold are from holding. Nothing is written."""
    from rich.cells import cell_len

    from runtime.alerts.explain import explain_subject, explanation_view
    service = _service(env)
    lang = env_lang()
    exp, about = explain_subject(service, rule, subject, at=_at(at))
    view = explanation_view(exp, about, lang)
    if fmt == "json":
        click.echo(json.dumps(view, ensure_ascii=False, indent=2))
        return
    name = f" {view['subject']['name']}" if view["subject"]["name"] else ""
    click.echo(f"{rule} on {view['subject']['entity']} {view['subject']['key']}{name}, at {when(view['subject']['at'])}")
    click.echo(f"grade: {view['grade'] or 'none'}")
    for g in view["grades"]:
        click.echo(f"\n{g['grade']}: {g['verdict']}")
        for s in g["steps"]:
            s["shown"] = s["text"] + (f" ({s['label']})" if s["label"] else "")
        width = min(72, max((2 * s["depth"] + cell_len(s["shown"]) for s in g["steps"]), default=0))
        for s in g["steps"]:
            text = "  " * s["depth"] + s["shown"]
            while cell_len(text) > width:
                text = text[:-2] + "…"
            click.echo(f"  {text}{' ' * (width - cell_len(text))}  = {s['value']}")
        if g["error"]:
            click.echo(f"  ! {g['error']}")
        for n in g["near"]:
            click.echo(f"  ↳ {n['words']}")
    if view["evidence"]:
        click.echo("\nevidence:")
        for e in view["evidence"]:
            click.echo(f"  {e['label']}: {e['value']}" + (f"  (! {e['error']})" if e["error"] else ""))


@alerts.command("backtest")
@click.argument("path", type=click.Path())
@click.option("--from", "start", required=True, metavar="YYYY-MM", help="The first month-end.")
@click.option("--to", "end", required=True, metavar="YYYY-MM", help="The last month-end.")
@click.option("--rule", "rules", multiple=True, help="Only this rule (repeatable; default: every rule).")
@click.option("--format", "fmt", default="text", type=click.Choice(["text", "csv", "json"]))
@env_option
@handle_errors
def backtest_cmd(path: str, start: str, end: str, rules: tuple[str, ...], fmt: str, env: str | None) -> None:
    """Before deploying the bundle at PATH: evaluate its alert rules and the deployed ones at every
    month-end from --from to --to over the records as they stood then, and list the alerts that
    would open, disappear or change grade, by month, grade and branch, with the subjects. No alert
    is written; the counts are kept for each rule's page (/ui/alert-rules/NAME)."""
    import csv
    from collections import Counter

    from dsl.compiler import compile_path
    from engine.alerts.backtest import SpanError, month_ends
    from runtime.alerts.backtest import backtest
    compiled = compile_path(path)
    if not compiled.ok:
        fail(f"{path} does not compile; `banyan validate {path}` shows why")
    try:
        month_ends(start, end)
    except SpanError as exc:
        fail(str(exc))
    service = _service(env)
    done = backtest(service, compiled.bundle, start=start, end=end, rule_names=list(rules) or None,
                    progress=(lambda m: click.echo(f"  {m.isoformat()[:7]} …", err=True)) if fmt == "text" else None)
    from runtime.alerts.reports import backtest_bodies, keep
    from runtime.deploy.deployments import default_author
    keep(service.engine, "backtest", backtest_bodies(done, start, end, compiled.bundle.hash[:12]), default_author())
    rows = [c.to_dict() for c in done.changes]
    if fmt == "json":
        click.echo(json.dumps({"from": start, "to": end, "rules": done.rules, "notes": done.notes, "changes": rows},
                              ensure_ascii=False, indent=2))
        return
    if fmt == "csv":
        out = csv.DictWriter(sys.stdout, fieldnames=["month", "rule", "kind", "deployed", "candidate", "entity",
                                                     "roll_up", "subject", "name", "branch"], lineterminator="\n")
        out.writeheader()
        out.writerows(rows)
        return
    click.echo(f"{', '.join(done.rules)}: {len(done.months)} month-ends, {len(rows)} difference(s)")
    per_month = Counter((r["month"], r["kind"], r["candidate"] or r["deployed"], r["entity"] if r["roll_up"] else "")
                        for r in rows)
    for month in sorted({r["month"] for r in rows}):
        parts = [f"{kind} {grade} {n}" + (f" (roll-up on {up})" if up else "")
                 for (m, kind, grade, up), n in sorted(per_month.items()) if m == month]
        click.echo(f"  {month}: {', '.join(parts)}")
    branches = Counter(r["branch"] or "—" for r in rows)
    if branches:
        click.echo("by branch: " + ", ".join(f"{b} {n}" for b, n in branches.most_common()))
    for r in rows[:50]:
        up = f"roll-up on {r['entity']} " if r["roll_up"] else ""
        click.echo(f"  {r['month']} {r['rule']} {r['kind']:<10} {r['deployed'] or '—':>6} → {r['candidate'] or '—':<6} "
                   f"{up}{r['subject']} {r['name']} ({r['branch'] or '—'})")
    if len(rows) > 50:
        click.echo(f"  … and {len(rows) - 50} more (--format csv or json lists them all)")
    for note in done.notes:
        click.echo(f"note: {note}")
