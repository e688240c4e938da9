"""`banyan status`: what is deployed, what of it this Banyan cannot run, how far the business
calendar's known days reach, the time zone times are shown in, the workers alive (their
heartbeats, runtime/jobs/heartbeat.py) and how far behind the background work is (the same
figures `/metrics` exposes: runtime/ops/metrics.py `backlog`).

The business calendar (runtime/flows/calendar.py) knows holidays up to the end of the last year
the chinese-calendar package or the bank's Calendar files cover; from 60 days before that day
status warns (yellow), past it it says so in red — deadlines then count Monday–Friday, or are
refused if the bank chose `beyond_known_years: refuse`. The calendar does not change the exit code.

Exit 0: everything runs; 1: some documents are unavailable (listed with why); 2: an error
(no database, nothing deployed)."""
from __future__ import annotations

import json
import sys
from datetime import date, datetime

import click

from dsl.bank_time import bank_timezone, zone_label, zone_problem
from runtime.audit.key import key_source
from runtime.cli.common import engine_for, env_option, fail, handle_errors
from runtime.cli.main import main
from runtime.deploy.live import bundle_at, live_status
from runtime.flows.calendar import Horizon, bank_calendar, horizon
from runtime.jobs.heartbeat import LIVE_WITHIN, live
from runtime.ops.metrics import backlog


def today() -> date:
    """The bank's date now (tests replace this clock)."""
    return datetime.now(bank_timezone()).date()


def calendar_horizon(engine, version: int) -> Horizon | None:
    """How far the deployed business calendar reaches from today."""
    with engine.connect() as conn:
        bundle = bundle_at(conn, version)
    return horizon(bank_calendar(bundle), today())


@main.command()
@env_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@handle_errors
def status(env: str | None, fmt: str) -> None:
    """Show the deployed version and the documents that cannot run, with the reason."""
    engine = engine_for(env)
    try:
        now = live_status(engine)
        cal = calendar_horizon(engine, now.version) if now.version is not None else None
        workers = live(engine) if now.version is not None else []
        work = backlog(engine) if now.version is not None else {}
    finally:
        engine.dispose()
    if now.version is None:
        fail("nothing is deployed in this database yet; run `banyan deploy configs` first")
    zone_warning = zone_problem()
    audit_key = key_source(engine.url)
    if fmt == "json":
        click.echo(json.dumps({"version": now.version, "hash": now.hash, "healthy": now.healthy,
                               "unavailable": dict(now.unavailable),
                               "calendar": None if cal is None else {
                                   "known_until": cal.known_until.isoformat(), "days_left": cal.days_left,
                                   "level": cal.level, "message": cal.message},
                               "timezone": {"zone": zone_label(), "warning": zone_warning},
                               "audit_key": {"kind": audit_key.kind, "where": audit_key.describe()},
                               "workers": workers, "backlog": work},
                              ensure_ascii=False, indent=2))
    else:
        click.echo(f"deployed: v{now.version} (bundle {now.hash[:12]})")
        click.echo(f"time zone: {zone_label()}")
        click.echo(f"audit key: {audit_key.describe()}")
        if zone_warning:
            click.secho(f"  warning: {zone_warning}", fg="yellow")
        if cal is not None:
            colour = {"ok": None, "warning": "yellow", "error": "red"}[cal.level]
            prefix = {"ok": "", "warning": "warning: ", "error": "error: "}[cal.level]
            click.secho(f"calendar: {prefix}{cal.message}", fg=colour, bold=cal.level == "error")
        _work(workers, work)
        if now.healthy:
            click.secho("  every document runs", fg="green")
        else:
            click.secho(f"  {len(now.unavailable)} document(s) unavailable — fix their YAML and redeploy:",
                        fg="red", bold=True)
            for name, why in sorted(now.unavailable.items()):
                click.secho(f"    {name}", fg="red")
                click.echo(f"      {why}")
    sys.exit(0 if now.healthy else 1)


def _work(workers: list[dict], work: dict) -> None:
    """The background work: the workers alive (their last heartbeat) and how far behind it is."""
    if workers:
        click.echo(f"workers: {len(workers)} alive")
        for w in workers:
            click.echo(f"  {w['name']}  seen {w['seconds_ago']:.0f} s ago, since {w['started_at'][:19]} UTC, "
                       f"{len(w['jobs'])} jobs")
    else:
        click.secho(f"workers: none seen in the last {int(LIVE_WITHIN.total_seconds())} s — timers, alerts, "
                    "messages and change control wait until `banyan worker` (or `banyan serve`) runs", fg="yellow")
    late = {"flow timers": work["timer_lag_seconds"], "due work": work["due_lag_seconds"],
            "outbox": work["outbox_lag_seconds"]}
    behind = {k: v for k, v in work["feed_behind"].items() if v}
    click.echo("backlog: " + ", ".join(f"{k} {_ago(v)}" for k, v in late.items())
               + f"; {work['outbox_depth']} message(s) unsent; {work['open_tasks']} open task(s)")
    if behind:
        click.secho("  change feed behind: " + ", ".join(f"{k} {v}" for k, v in sorted(behind.items())), fg="yellow")
    failing = work["evaluation_errors"]
    if failing:
        click.secho("  alert rules that could not evaluate some subjects: "
                    + ", ".join(f"{k} ({v})" for k, v in sorted(failing.items())), fg="yellow")


def _ago(seconds: float) -> str:
    if seconds <= 0:
        return "on time"
    if seconds < 120:
        return f"{seconds:.0f} s late"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min late"
    return f"{seconds / 3600:.1f} h late"
