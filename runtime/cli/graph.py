"""`banyan graph firm | group | circles | svg`: the relationship graph from the command line.

Exit codes: 0 done, 1 unknown firm or group (the message names the key), 2 usage or
configuration errors. `--json` prints what the API returns.
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from dsl.errors import env_lang
from runtime.cli.common import engine_for, env_option, fail, fail_error, handle_errors
from runtime.cli.main import main
from runtime.graph.facts import circles, equity_svg, firm_facts, guarantee_svg
from runtime.graph.group import group_facts
from runtime.graph.service import GraphService
from runtime.graph.settings import bank_settings
from runtime.records.service import Records
from runtime.records.store import json_value
from runtime.storage.db import ConfigError

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON (what the API returns).")


def _service(env: str | None) -> GraphService:
    engine = engine_for(env)
    return GraphService(engine, Records(engine))


def _dump(data) -> None:
    click.echo(json.dumps(data, default=json_value, ensure_ascii=False, indent=2))


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.2%}"


def _amount(x: float | None) -> str:
    """A yuan figure, or "—" when it could not be computed (an amount without an exchange rate)."""
    return "—" if x is None else f"{x:,.0f}"


def _who(p: dict | None) -> str:
    return "none" if p is None else (f"{p['name']} ({p['key']})" if p.get("name") else p["key"])


@main.group()
def graph() -> None:
    """The group relationship graph: equity, guarantee circles, exposure, pictures."""


@graph.command("firm")
@click.argument("key")
@click.option("--threshold", default=0.25, show_default=True, type=click.FloatRange(0, 1),
              help="Beneficial-owner threshold (a fraction).")
@click.option("--strict", is_flag=True, help="Compare with > instead of >= (the 2017 text).")
@json_option
@env_option
@handle_errors
def firm_cmd(key: str, threshold: float, strict: bool, as_json: bool, env: str | None) -> None:
    """A firm's guarantee and equity facts, by its credit code."""
    with _service(env).reading() as state:
        facts = firm_facts(state, key, threshold=threshold, inclusive=not strict)
    if as_json:
        return _dump(facts)
    g, e = facts["guarantees"], facts["equity"]
    click.secho(f"{facts['name']} ({key}) — group {facts['group'] or 'none'}", bold=True)
    click.echo(f"guarantee circle: {'yes, ' + str(g['circle_size']) + ' firms' if g['in_circle'] else 'no'}; "
               f"cluster {g['cluster_size']} firms")
    click.echo(f"mutual guarantees with: {', '.join(g['mutual_with']) or 'none'}")
    click.echo(f"guarantees given: {len(g['given'])} ({sum(x['amount'] for x in g['given']):,.0f}); "
               f"received: {len(g['received'])} ({sum(x['amount'] for x in g['received']):,.0f})")
    click.echo(f"guarantor load (external ÷ net assets): {_pct(g['guarantor_load'])}")
    click.echo(f"ultimate controller: {_who(e['ultimate_controller'])}"
               + (f" via {' → '.join(e['control_path'])}" if e["control_path"] else ""))
    owners = ", ".join(f"{o['person']} {o['share']:.2%}" for o in e["beneficial_owners"]) or "none"
    click.echo(f"beneficial owners ({e['comparison']} {threshold:.0%}): {owners}")
    for h in e["top_holdings"]:
        click.echo(f"  holds {h['share']:.2%} of {_who(h)}")


@graph.command("group")
@click.argument("code")
@json_option
@env_option
@handle_errors
def group_cmd(code: str, as_json: bool, env: str | None) -> None:
    """A group's members (declared vs proposed), circles and exposure, by its code."""
    service = _service(env)
    row = service.records.find("group", code)
    try:
        settings = bank_settings()
    except ConfigError as exc:
        fail_error(exc)
    with service.reading() as state:
        facts = group_facts(state, row, settings, lang=env_lang())
    if as_json:
        return _dump(facts)
    m, x = facts["members"], facts["exposure"]
    click.secho(f"{facts['name']} ({code})", bold=True)
    click.echo(f"members: {len(m['declared'])} declared, {len(m['proposed'])} by control "
               f"({len(m['suggestions'])} suggestion(s) to review; none applied)")
    for s in m["suggestions"]:
        click.echo(f"  {s['kind']:<5} {_who(s)}: {s['reason']}")
    click.echo(f"guarantee circles touching the group: {len(facts['circles'])} "
               f"({len(facts['cross_group_circles'])} spanning several groups)")
    for c in facts["circles"]:
        click.echo(f"  {c['size']} firms, {c['members_in_group']} here; groups {', '.join(c['groups'])}")
    gc, cn, lu, ind = x["group_credit"], x["connected"], x["limit_usage"], x["indirect"]
    click.echo(f"group credit ÷ net capital: {_pct(gc['ratio'])} (limit {_pct(gc['limit'])}, deductions 0: "
               f"{gc['deductions_note']})")
    click.echo(f"connected exposure ÷ tier-1: {_pct(cn['ratio'])} (limit {_pct(cn['limit'])}, {cn['firms']} firms)")
    click.echo(f"used ÷ unified limit: {_pct(lu['ratio'])}")
    click.echo(f"with guarantees for outside borrowers: {_amount(ind['total'])} = {_pct(ind['ratio'])} of net capital")
    cur = x["currency"]
    click.echo(cur["note"])
    for p in cur["problems"]:
        click.secho(f"  ! {p['message']}", fg="yellow")


@graph.command("circles")
@click.option("--min-size", default=2, show_default=True, type=click.IntRange(2))
@json_option
@env_option
@handle_errors
def circles_cmd(min_size: int, as_json: bool, env: str | None) -> None:
    """Every guarantee circle with its size and the groups it spans, largest first."""
    with _service(env).reading() as state:
        found = circles(state, min_size)
    if as_json:
        return _dump(found)
    for c in found:
        spans = f"{len(c['groups'])} groups" if c["spans_groups"] else "1 group"
        click.echo(f"{c['size']:>5} firms  {spans:<9} {', '.join(f'{g}×{n}' for g, n in c['groups'].items())}  "
                   f"{' '.join(c['members'][:6])}{' …' if c['size'] > 6 else ''}")
    click.echo(f"{len(found)} circle(s)")


@graph.command("svg")
@click.argument("key")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="File to write.")
@click.option("--kind", type=click.Choice(["equity", "guarantee"]), default="equity", show_default=True)
@click.option("--focus", is_flag=True, help="Equity: root the tree at the firm instead of its controller.")
@click.option("--depth", default=None, type=click.IntRange(1, 12),
              help="Equity: levels shown; guarantee: steps around the firm (default 2).")
@click.option("--max-nodes", default=60, show_default=True, type=click.IntRange(2, 1000),
              help="Guarantee: firms drawn at most.")
@env_option
@handle_errors
def svg_cmd(key: str, out: str, kind: str, focus: bool, depth: int | None, max_nodes: int, env: str | None) -> None:
    """Write a firm's equity tree or guarantee circle as an SVG file (offline, no external references)."""
    with _service(env).reading() as state:
        if kind == "equity":
            text = equity_svg(state, key, focus=focus, depth=depth)
        else:
            text = guarantee_svg(state, key, depth=depth or 2, max_nodes=max_nodes)
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    click.echo(f"wrote {out} ({len(text):,} bytes)")
