"""`banyan status`: what is deployed, and what of it this Banyan cannot run.

Exit 0: everything runs; 1: some documents are unavailable (listed with why); 2: an error
(no database, nothing deployed)."""
from __future__ import annotations

import json
import sys

import click

from runtime.cli.common import engine_for, env_option, fail, handle_errors
from runtime.cli.main import main
from runtime.deploy.live import live_status


@main.command()
@env_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@handle_errors
def status(env: str | None, fmt: str) -> None:
    """Show the deployed version and the documents that cannot run, with the reason."""
    engine = engine_for(env)
    try:
        now = live_status(engine)
    finally:
        engine.dispose()
    if now.version is None:
        fail("nothing is deployed in this database yet; run `banyan deploy configs` first")
    if fmt == "json":
        click.echo(json.dumps({"version": now.version, "hash": now.hash, "healthy": now.healthy,
                               "unavailable": dict(now.unavailable)}, ensure_ascii=False, indent=2))
    else:
        click.echo(f"deployed: v{now.version} (bundle {now.hash[:12]})")
        if now.healthy:
            click.secho("  every document runs", fg="green")
        else:
            click.secho(f"  {len(now.unavailable)} document(s) unavailable — fix their YAML and redeploy:",
                        fg="red", bold=True)
            for name, why in sorted(now.unavailable.items()):
                click.secho(f"    {name}", fg="red")
                click.echo(f"      {why}")
    sys.exit(0 if now.healthy else 1)
