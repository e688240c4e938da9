"""`banyan seed demo` and `banyan serve` (one process, or `--workers N` through uvicorn's app
factory `web_app`, with the jobs run once beside them and a graceful shutdown on SIGTERM)."""
from __future__ import annotations

import importlib
import os
import shutil
import signal
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from runtime.cli.common import engine_for, env_option, fail, handle_errors
from runtime.cli.main import main
from runtime.deploy.deployments import default_author
from runtime.storage.db import database_url


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


JOB_MODULES = (
    "runtime.alerts.worker",      # record changes reach the alert rules
    "runtime.change_control.worker",  # approved changes to a protected environment deploy
    "runtime.flows.worker",       # flow timers and the outbox join the jobs
    "runtime.jobs.retention",     # history past its retention moves to the archive tables
    "runtime.records.revalue",    # stored CNY totals follow new exchange rates
    "runtime.tiering.worker",     # record changes and schedules re-tier groups
)


def load_jobs() -> None:
    """Import the rooms whose jobs `serve` and `worker` run (each registers its own)."""
    for module in JOB_MODULES:
        importlib.import_module(module)


def web_app() -> Any:
    """What each process of `banyan serve --workers N` serves (uvicorn's app factory): the web app
    over the database `serve` chose (handed down in BANYAN_DATABASE_URL), with its own pool."""
    from runtime.storage.db import make_engine
    load_jobs()              # the same rooms loaded as in the one-process server (the jobs run elsewhere)
    return served_app(make_engine(database_url()))


def served_app(engine: Any) -> Any:
    """The web app as a server process serves it: made, with the live model and the graph loaded
    and the process's heap frozen before the first request (runtime/ops/memory.py), and its
    threadpool sized to its connection pool (runtime/ops/threads.py)."""
    from runtime.ops.memory import preload
    from runtime.ops.threads import limit_request_threads
    from runtime.web.app import create_app
    app = create_app(engine)
    limit_request_threads(app, engine)
    preload(engine, app.state.web.records)
    return app


def _metrics_dir() -> tuple[str, bool]:
    """PROMETHEUS_MULTIPROC_DIR for the server processes' counters: the operator's (emptied of the
    last run's files), else a new temporary directory (removed at the end); (path, made here)."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if not given:
        return tempfile.mkdtemp(prefix="banyan-metrics-"), True
    path = Path(given)
    try:
        path.mkdir(parents=True, exist_ok=True)
        for old in path.glob("*.db"):        # a run's counters start at zero (prometheus-client's rule)
            old.unlink()
    except OSError as exc:
        fail(f"PROMETHEUS_MULTIPROC_DIR={given}: {exc.strerror or exc}; give a writable directory")
    return str(path), False


def _stopped(_signum: int, _frame: Any) -> None:
    raise SystemExit(0)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes (each with its own connection pool; counters summed in /metrics).")
@click.option("--graceful-timeout", default=30, show_default=True, type=click.IntRange(0, 3600),
              help="Seconds requests in flight get to finish after SIGTERM or Ctrl-C before they are cut.")
@click.option("--keep-alive", default=75, show_default=True, type=click.IntRange(1, 3600),
              help="Seconds an idle keep-alive connection stays open: above the idle timeout of whatever stands "
                   "in front (60 s on most load balancers), so the server never closes a connection a client is "
                   "about to reuse.")
@env_option
@handle_errors
def serve(host: str, port: int, workers: int, graceful_timeout: int, keep_alive: int, env: str | None) -> None:
    """Run the web app and the HTTP API (pages at /ui/, OpenAPI at /docs, probes /health and
    /ready, Prometheus /metrics).

    The scheduled jobs (change feed, due work, flow timers, outbox) run once per `serve`, in this
    process — beside the one server, or in the supervisor of the --workers processes, never in
    each of them; `BANYAN_SCHEDULER=0` leaves them to `banyan worker` processes. Logs:
    BANYAN_LOG_FORMAT=text (default) or json."""
    import uvicorn

    from runtime.cli.seed import warn_demo_users
    from runtime.jobs import scheduler
    from runtime.ops.logs import configure, logging_config
    url = database_url(env)                          # a bad --env or URL: a ConfigError, before anything starts
    log_config = logging_config()                    # a bad BANYAN_LOG_FORMAT likewise
    configure()
    load_jobs()
    engine = engine_for(env)
    warn_demo_users(engine)
    options: dict[str, Any] = dict(host=host, port=port, log_config=log_config,
                                   timeout_graceful_shutdown=graceful_timeout, timeout_keep_alive=keep_alive)
    made = None
    if workers > 1 or os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip():
        metrics_dir, fresh = _metrics_dir()          # before prometheus-client is imported: it reads it then
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        made = metrics_dir if fresh else None
    if workers == 1:
        target: Any = served_app(engine)
    else:
        target = f"{__name__}:web_app"
        os.environ["BANYAN_DATABASE_URL"] = url      # what each worker's factory opens
        options.update(factory=True, workers=workers)
    jobs = scheduler.start(engine) if scheduler.enabled() else None     # the one scheduler, not a worker's
    # uvicorn finishes the requests in flight on SIGTERM, then raises the signal again for the handler
    # it found: this one ends `serve` as a clean stop (exit 0, the scheduler shut down), not a kill.
    before = signal.signal(signal.SIGTERM, _stopped)
    try:
        uvicorn.run(target, **options)
    finally:
        signal.signal(signal.SIGTERM, before)
        if jobs is not None:
            jobs.shutdown(wait=False)
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
