"""`banyan status`: what is deployed, what of it this Banyan cannot run, how far the business
calendar's known days reach, and the time zone times are shown in.

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
                               "audit_key": {"kind": audit_key.kind, "where": audit_key.describe()}},
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
        if now.healthy:
            click.secho("  every document runs", fg="green")
        else:
            click.secho(f"  {len(now.unavailable)} document(s) unavailable — fix their YAML and redeploy:",
                        fg="red", bold=True)
            for name, why in sorted(now.unavailable.items()):
                click.secho(f"    {name}", fg="red")
                click.echo(f"      {why}")
    sys.exit(0 if now.healthy else 1)
