"""`banyan tier …`: tier the portfolio, explain one client's tier, show its history, and what a
candidate tiering would change (whatif)."""
from __future__ import annotations

import json
import sys
from datetime import datetime

import click
from rich.cells import cell_len

from dsl.errors import env_lang
from runtime.cli.alerts import _at
from runtime.cli.common import engine_for, env_option, handle_errors, when
from runtime.cli.main import main


def _service(env: str | None):
    from runtime.tiering.service import TieringService
    return TieringService(engine_for(env))


@main.group()
def tier() -> None:
    """Client tiering (the value matrix): run it, explain a client's tier, see its history."""


@tier.command("run")
@click.option("--tiering", "name", default=None, help="Only this tiering (default: every deployed one).")
@click.option("--group", "keys", multiple=True, metavar="KEY", help="Only this subject (repeatable).")
@click.option("--at", "at", default=None, metavar="DATE", help="Tier the data as it stood on this date.")
@click.option("--format", "fmt", default="text", type=click.Choice(["text", "json"]))
@env_option
@handle_errors
def run(name: str | None, keys: tuple[str, ...], at: str | None, fmt: str, env: str | None) -> None:
    """Tier every subject of the deployed tierings (or those named), writing the tier to the
    subject and keeping its history. Only what changed is written: safe to run again, and a run
    cut short is completed by running it again."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    service = _service(env)
    subjects = list(keys) or None
    total = service.count(name, subjects)
    with Progress(TextColumn("tier"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=not sys.stderr.isatty(),
                  disable=fmt == "json") as progress:
        task = progress.add_task("tier", total=total)
        counts = service.run(name, keys=subjects, at=_at(at), progress=lambda n: progress.advance(task, n))
    if fmt == "json":
        click.echo(json.dumps(counts.to_dict(), ensure_ascii=False, indent=2))
        return
    live = service.records.refresh()
    labels = {t.name: t.label.text(env_lang()) or t.name for tg in service.tierings(live) for t in tg.tiers}
    spread = ", ".join(f"{labels.get(k, k)} {v}" for k, v in sorted(counts.by_tier.items(), key=lambda kv: -kv[1]))
    click.echo(f"✓ {counts.subjects:,} tiered: {spread or 'none'}; {counts.changed:,} tier(s) changed, "
               f"{counts.written:,} history row(s) written")
    for u in counts.untiered[:20]:
        why = {"dimension_failed": f"no score for {', '.join(u['dimensions'])}",
               "rule_failed": f"row(s) {u['rules']} cannot be evaluated",
               "cap_failed": f"cap(s) {u['rules']} cannot be evaluated"}.get(u["problem"], u["problem"])
        click.echo(f"  ! {u['subject']}: not tiered ({why})", err=True)


@tier.command("explain")
@click.argument("subject")
@click.option("--tiering", "name", default=None, help="The tiering (default: the only one deployed).")
@click.option("--at", "at", default=None, metavar="DATE", help="As the data stood on this date (default: now).")
@click.option("--format", "fmt", default="text", type=click.Choice(["text", "json"]))
@env_option
@handle_errors
def explain(subject: str, name: str | None, at: str | None, fmt: str, env: str | None) -> None:
    """Why SUBJECT (a group's code) has its tier: each dimension's score and weight, the row of
    the decision table that hit and why the others did not, the caps. Nothing is written."""
    from runtime.tiering.explain import explain_subject, explanation_view
    service = _service(env)
    lang = env_lang()
    tiering, exp, about = explain_subject(service, subject, name=name, at=_at(at))
    view = explanation_view(tiering, exp, about, lang)
    if fmt == "json":
        click.echo(json.dumps(view, ensure_ascii=False, indent=2))
        return
    s = view["subject"]
    click.echo(f"{view['label']} ({view['tiering']}) · {s['key']} {s['name'] or ''} · {when(s['at'])}")
    if view["tier"]:
        capped = f" (the table gave {view['table_tier']['label']}; capped)" \
            if view["table_tier"] and view["table_tier"]["name"] != view["tier"]["name"] else ""
        click.echo(f"tier: {view['tier']['label']} [{view['tier']['name']}]{capped}")
    else:
        click.echo(f"tier: none — {view['problem']}")
    if view["stored"] and view["tier"] and view["stored"]["name"] != view["tier"]["name"]:
        click.echo(f"  (the record says {view['stored']['label']}: run `banyan tier run` to write the new tier)")
    click.echo("\ndimensions:" + (f"  weighted score {view['score']}" if view["score"] is not None else ""))
    width = max((cell_len(d["label"]) for d in view["dimensions"]), default=0)
    for d in view["dimensions"]:
        weight = f"× {d['weight']}%" if d["weight"] is not None else ""
        pad = " " * (width - cell_len(d["label"]))
        click.echo(f"  {d['label']}{pad}  {d['value']:>7} {weight}" + (f"   ! {d['error']}" if d["error"] else ""))
    click.echo(f"\ndecision table ({view['hit_policy']}):")
    _checks(view["rules"])
    if view["caps"]:
        click.echo("\ncaps:")
        _checks(view["caps"])
    if view["tier"] and view["tier"]["package"]:
        p = view["tier"]["package"]
        click.echo(f"\nservice package: {p['label']}; lead {p['lead_role'] or '-'}, review every "
                   f"{p['review_every'] or '-'}, respond within {p['response_within'] or '-'}")


def _checks(checks: list[dict]) -> None:
    for c in checks:
        mark = "→" if c["decisive"] else " "
        label = f" {c['label']}" if c["label"] else ""
        click.echo(f" {mark}{c['index']}. {c['when'] or '(always)'} ⇒ {c['tier_label']}{label}: {c['verdict']}")
        for n in c["near"]:
            click.echo(f"      ↳ {n['words']}")


@tier.command("history")
@click.argument("subject")
@click.option("--tiering", "name", default=None, help="The tiering (default: the only one deployed).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--format", "fmt", default="text", type=click.Choice(["text", "json"]))
@env_option
@handle_errors
def history(subject: str, name: str | None, limit: int, fmt: str, env: str | None) -> None:
    """SUBJECT's tiers over time, newest first: when, the tier, the previous one, and why."""
    service = _service(env)
    tiering, rows = service.history(name, subject, limit)
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    if not rows:
        click.echo(f"{subject} has not been tiered yet: run `banyan tier run --group {subject}`")
        return
    lang = env_lang()

    def label(t: str | None) -> str:
        found = tiering.tier(t) if t else None
        return (found.label.text(lang) or found.name) if found is not None else (t or "-")
    for r in rows:
        at = r["at"] if isinstance(r["at"], datetime) else r["at"]
        moved = f"{label(r['previous'])} → {label(r['tier'])}" if r["tier"] else f"not tiered ({r['problem']})"
        reason = r["reason"].get(lang) or r["reason"].get("zh") or ""
        click.echo(f"{when(at)}  {moved}  score {r['details'].get('score') or '-'}  {reason}")


@tier.command("whatif")
@click.argument("path", type=click.Path())
@click.option("--tiering", "name", default=None, help="The tiering (default: the only one deployed).")
@click.option("--format", "fmt", default="text", type=click.Choice(["text", "json", "csv"]))
@env_option
@handle_errors
def whatif_cmd(path: str, name: str | None, fmt: str, env: str | None) -> None:
    """Before deploying the bundle at PATH: tier today's portfolio under its tiering and under the
    deployed one, and list who would move, from what to what, with the counts per tier. Nothing
    is written."""
    from dsl.compiler import compile_path
    from engine.tiering.whatif import UNTIERED
    from runtime.cli.common import fail
    from runtime.tiering.whatif import whatif
    compiled = compile_path(path)
    if not compiled.ok:
        fail(f"{path} does not compile; `banyan validate {path}` shows why")
    service = _service(env)
    done = whatif(service, compiled.bundle, name)
    cmp = done.comparison
    lang = env_lang()
    tiers = [t.name for t in done.tiering.tiers] + [t.name for t in done.candidate.tiers
                                                    if done.tiering.tier(t.name) is None]

    def label(t: str | None) -> str:
        found = (done.candidate.tier(t) or done.tiering.tier(t)) if t else None
        return (found.label.text(lang) or found.name) if found is not None else "not tiered"
    if fmt == "json":
        click.echo(json.dumps({"tiering": done.tiering.name, "subjects": cmp.subjects,
                               "moves": [{"subject": m.subject, "name": done.names.get(m.subject), "from": m.before,
                                          "to": m.after} for m in cmp.moves],
                               "matrix": [{"from": b, "to": a, "subjects": n} for (b, a), n in sorted(cmp.matrix.items())],
                               "before": dict(cmp.counts("before")), "after": dict(cmp.counts("after"))},
                              ensure_ascii=False, indent=2))
        return
    if fmt == "csv":
        import csv
        out = csv.writer(sys.stdout)
        out.writerow(["subject", "name", "from", "to"])
        for m in cmp.moves:
            out.writerow([m.subject, done.names.get(m.subject, ""), m.before or "", m.after or ""])
        return
    click.echo(f"{done.tiering.meta.label.text(lang) or done.tiering.name}: {cmp.subjects:,} subjects, "
               f"{len(cmp.moves):,} would move")
    cols = [t for t in tiers if cmp.counts("after")[t]] + ([UNTIERED] if cmp.counts("after")[UNTIERED] else [])
    rows = [t for t in tiers if cmp.counts("before")[t]] + ([UNTIERED] if cmp.counts("before")[UNTIERED] else [])
    if rows:
        def pad(text: str, width: int, right: bool = True) -> str:
            space = " " * max(0, width - cell_len(text))
            return space + text if right else text + space
        names = {t: label(None if t == UNTIERED else t) for t in rows + cols}
        width = max(cell_len(n) for n in names.values()) + 2
        click.echo("")
        click.echo(pad("now ↓ / candidate →", width, right=False) + "".join(pad(names[c], width) for c in cols))
        for r in rows:
            click.echo(pad(names[r], width, right=False) +
                       "".join(pad(str(cmp.matrix.get((r, c), 0) or "·"), width) for c in cols))
    if cmp.moves:
        click.echo("\nwould move:")
        for m in cmp.moves[:200]:
            click.echo(f"  {m.subject} {done.names.get(m.subject, '')}: {label(m.before)} → {label(m.after)}")
        if len(cmp.moves) > 200:
            click.echo(f"  … and {len(cmp.moves) - 200:,} more (--format csv lists them all)")


@tier.command("reviews")
@click.option("--at", "at", default=None, metavar="DATE", help="As if it were this date (default: now).")
@env_option
@handle_errors
def reviews(at: str | None, env: str | None) -> None:
    """Start the relationship reviews that are due: each tiered group whose tier's service package
    says `review_every` and whose last review began that long ago (the worker does it hourly)."""
    from runtime.tiering.reviews import start_due_reviews
    done = start_due_reviews(_service(env), at=_at(at))
    click.echo(f"✓ {done['subjects']:,} tiered: {done['started']:,} review(s) started, {done['running']:,} still "
               f"running" + (f", {done['failed']:,} could not start (see the log)" if done["failed"] else ""))
