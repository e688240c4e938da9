"""`banyan seed demo` and `banyan serve`."""
from __future__ import annotations

import sys
from decimal import Decimal

import click

from runtime.cli.common import engine_for, env_option, fail, handle_errors
from runtime.cli.main import main
from runtime.deploy.deployments import default_author


@main.group()
def seed() -> None:
    """Load example data."""


@seed.command("demo")
@click.option("--scale", default=1.0, show_default=True, type=click.FloatRange(0.01, 100),
              help="1.0 = 50 groups and 5,000 companies.")
@click.option("--seed", "seed_value", default=42, show_default=True, type=int, help="Random seed.")
@click.option("--transactions", default=None, type=click.IntRange(0), help="Number of transactions.")
@click.option("--path", default="configs", show_default=True, help="Bundle to deploy first if nothing is deployed.")
@click.option("--demo", "demo_name", default=None, metavar="NAME",
              help="Which installed demo (entry point group `banyan.demo`; default: the only one).")
@env_option
@handle_errors
def seed_demo_cmd(scale: float, seed_value: int, transactions: int | None, path: str, demo_name: str | None,
                  env: str | None) -> None:
    """Generate the demo bank and load it through the records service (one transaction)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from forms.i18n import in_wan_yi
    from runtime.cli.seed import (
        SeedError,
        ensure_deployed,
        load_demo,
        seed_demo,
        seed_demo_applications,
        seed_demo_users,
    )
    from runtime.records.service import Records
    engine = engine_for(env)
    try:
        demo = load_demo(demo_name)
        version = ensure_deployed(engine, path, default_author())
        if version is not None:
            click.echo(f"deployed {path} as v{version}")
        records = Records(engine)
        with Progress(TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      transient=not sys.stdout.isatty()) as progress:
            tasks: dict[str, int] = {}

            def on_progress(entity: str, done: int, total: int) -> None:
                if entity not in tasks:
                    tasks[entity] = progress.add_task(entity, total=total)
                progress.update(tasks[entity], completed=done)
            counts = seed_demo(records, scale=scale, seed=seed_value, transactions=transactions,
                               actor=default_author(), on_progress=on_progress, demo=demo)
    except SeedError as exc:
        fail(str(exc))
    total = sum(counts.values())
    click.secho(f"✓ loaded {total:,} records: " + ", ".join(f"{n:,} {e}" for e, n in counts.items()), fg="green")
    made = seed_demo_users(engine, records.live.bundle, demo)
    if made:
        click.echo(f"demo users: {', '.join(made)} (password {demo.password}; `banyan serve` warns while they exist)")
    try:
        waiting = seed_demo_applications(engine, demo)
    except SeedError as exc:
        fail(str(exc))
    for view in waiting:
        holders = sorted({t["assignee"] or "/".join(t["candidates"]) for t in view["tasks"]})
        subject = (view.get("subject") or {}).get("key", "")
        click.echo(f"in flight: {view['flow']} {subject} {in_wan_yi(Decimal(view['form']['amount']), 'zh')} "
                   f"at {', '.join(view['current_nodes'])} → {', '.join(holders)}")
    click.echo("next: `banyan serve` and open http://127.0.0.1:8000/ui/ (sign in as rm_sh_01)")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@env_option
@handle_errors
def serve(host: str, port: int, env: str | None) -> None:
    """Run the web app and the HTTP API (pages at /ui/, OpenAPI at /docs)."""
    import uvicorn

    from runtime.alerts import worker as _alert_jobs  # noqa: F401 - record changes reach the alert rules
    from runtime.change_control import worker as _change_jobs  # noqa: F401 - approved changes deploy
    from runtime.cli.seed import warn_demo_users
    from runtime.flows import worker as _flow_jobs  # noqa: F401 - flow timers and the outbox join the jobs
    from runtime.jobs import scheduler
    from runtime.records import revalue as _revalue  # noqa: F401 - stored CNY totals follow new exchange rates
    from runtime.tiering import worker as _tier_jobs  # noqa: F401 - record changes and schedules re-tier groups
    from runtime.web.app import create_app
    engine = engine_for(env)
    warn_demo_users(engine)
    app = create_app(engine)
    jobs = scheduler.start(engine) if scheduler.enabled() else None     # the one scheduler, not a router's
    try:
        uvicorn.run(app, host=host, port=port)
    finally:
        if jobs is not None:
            jobs.shutdown(wait=False)
