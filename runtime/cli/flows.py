"""`banyan flow …` (start, act, inbox, show, preview, graph, people, migrate) and `banyan worker`."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from runtime.cli.common import engine_for, env_option, fail, fail_error, handle_errors, json_errors, when
from runtime.cli.main import main
from runtime.flows.store import FlowError


def _service(env: str | None):
    from runtime.flows.service import FlowService
    return FlowService(engine_for(env))


def _json_arg(text: str | None, what: str) -> dict:
    if text is None:
        return {}
    try:
        value = json.loads(Path(text[1:]).read_text(encoding="utf-8") if text.startswith("@") else text)
    except (OSError, json.JSONDecodeError) as exc:
        fail(f"{what} is not JSON (or @file.json): {exc}")
    if not isinstance(value, dict):
        fail(f"{what} must be a JSON object")
    return value


def _out(value) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def flow_errors(fn):
    fn = handle_errors(fn)

    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except FlowError as exc:
            fail_error(exc, 1)
    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    return wrapper


@main.group()
def flow() -> None:
    """Run approval flows: start, act, inbox, show, preview, graph, migrate."""


@flow.command("start")
@click.argument("name")
@click.option("--subject", default=None, help="Key of the subject record (a group code, a credit code …).")
@click.option("--form", default=None, help="Form values as JSON, or @file.json.")
@click.option("--as", "actor", required=True, help="Who submits.")
@click.option("--request-id", default=None, help="Client request id: retrying with it does nothing twice.")
@click.option("--format", "fmt", default="text", type=click.Choice(["text", "json"]),
              help="json: a refusal is the API's error body on stdout (with every form problem and its path).")
@env_option
@flow_errors
def start_cmd(name, subject, form, actor, request_id, fmt, env) -> None:
    """Start flow NAME. The form is checked against the flow's Form first (money as 8亿 or 800000000,
    enums by value, tables as lists of rows): every problem is listed with its field path."""
    with json_errors(fmt):
        _out(_service(env).start(name, actor=actor, subject=subject, form=_json_arg(form, "--form"),
                                 request_id=request_id))


@flow.command("act")
@click.argument("instance")
@click.argument("action")
@click.option("--as", "actor", required=True)
@click.option("--task", default=None, help="Task id (default: your only open task in the instance).")
@click.option("--fields", default=None, help="Field values as JSON.")
@click.option("--comment", default=None)
@click.option("--to", default=None, help="return: the node; transfer/delegate: the user.")
@click.option("--user", "users", multiple=True, help="add_signer, cc: users; remove_signer: the user.")
@click.option("--position", default=None, type=click.Choice(["before", "after", "parallel"]))
@click.option("--node", default=None, help="withdraw: the step to take back.")
@click.option("--text", default=None, help="comment: the text; urge: the message; cancel: the reason; event: the event's name.")
@click.option("--version", "expected", default=None, type=int, help="Refuse if the instance is no longer at it.")
@click.option("--request-id", default=None)
@click.option("--format", "fmt", default="text", type=click.Choice(["text", "json"]),
              help="json: a refusal is the API's error body on stdout (with every field problem and its path).")
@env_option
@flow_errors
def act_cmd(instance, action, actor, task, fields, comment, to, users, position, node, text, expected, request_id,
            fmt, env) -> None:
    """Do ACTION (approve, reject, complete, claim, return, transfer, delegate, add_signer, remove_signer,
    withdraw, urge, cc, comment, cancel) on INSTANCE."""
    from runtime.flows.commands import ACTIONS, parameters
    with json_errors(fmt):
        service = _service(env)
        wanted = parameters(action) if action in ACTIONS else {}
        if "task" in wanted and task is None:
            mine = [t["id"] for t in service.instance(instance, with_timeline=False)["tasks"]
                    if t["assignee"] == actor or actor in t["candidates"]]
            if len(mine) != 1:
                raise FlowError("which_task", f"{actor} has {len(mine)} open task(s) in {instance}; "
                                              "say which with --task")
            task = mine[0]
        params = {"task": task, "comment": comment, "fields": _json_arg(fields, "--fields") or None, "to": to,
                  "position": position, "node": node}
        if users:
            params["user" if action == "remove_signer" else "users"] = users[0] if action == "remove_signer" else users
        if text is not None:
            params[{"urge": "message", "cancel": "reason", "event": "event"}.get(action, "text")] = text
        _out(service.act(instance, action, actor=actor, request_id=request_id, expected_version=expected,
                         **{k: v for k, v in params.items() if v is not None}))


@flow.command("inbox")
@click.option("--as", "actor", required=True)
@click.option("--box", default="mine", type=click.Choice(["mine", "pool", "cc", "overdue", "done"]))
@env_option
@flow_errors
def inbox_cmd(actor, box, env) -> None:
    """List your tasks (mine, your roles' unclaimed pool, CC'd to you, overdue, done)."""
    page = _service(env).inbox(actor, box)
    click.echo("  ".join(f"{b}: {n}" for b, n in page["counts"].items()))
    for i in page["items"]:
        due = f"  due {when(i['due_at'])}" + (" OVERDUE" if i.get("overdue") else "") if i.get("due_at") else ""
        click.echo(f"{i.get('task') or i['instance']}  {i['flow']} · {i['node']}  subject {i['subject']}{due}")


@flow.command("show")
@click.argument("instance")
@env_option
@flow_errors
def show_cmd(instance, env) -> None:
    """The instance, its open tasks and its timeline."""
    _out(_service(env).instance(instance))


@flow.command("preview")
@click.argument("name")
@click.option("--subject", default=None)
@click.option("--form", default=None)
@click.option("--as", "actor", required=True)
@env_option
@flow_errors
def preview_cmd(name, subject, form, actor, env) -> None:
    """Who would hold each step if ACTOR submitted this now (nothing is written)."""
    _out(_service(env).preview(name, actor=actor, subject=subject, form=_json_arg(form, "--form")))


@flow.command("graph")
@click.argument("name")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False))
@click.option("--instance", default=None, help="Highlight where this instance is.")
@click.option("--lang", default="zh", type=click.Choice(["zh", "en"]))
@env_option
@flow_errors
def graph_cmd(name, out, instance, lang, env) -> None:
    """Draw flow NAME as SVG (offline)."""
    from engine.flow.svg import flow_svg
    service = _service(env)
    current, version = [], None
    if instance:
        view = service.instance(instance, with_timeline=False)
        current, version = view["current_nodes"], view["deployment_version"]
    Path(out).write_text(flow_svg(service.flow(name, version), current=current, lang=lang), encoding="utf-8")
    click.echo(f"wrote {out}" + (f" ({instance} at {', '.join(current) or 'its end'})" if instance else ""))


@flow.command("people")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@env_option
@flow_errors
def people_cmd(path, env) -> None:
    """Load people and role assignments from JSON: {"users": [{name, org_unit, supervisor, email,
    phone}], "roles": [{user, role, org_unit}]}."""
    from runtime.flows.directory import put_people
    from runtime.storage.db import writing
    data = _json_arg("@" + path, path)
    service = _service(env)
    try:
        with writing(service.engine) as conn:
            n_users, n_roles = put_people(conn, data.get("users", []), data.get("roles", []))
    except ValueError as exc:
        fail(str(exc))
    click.echo(f"loaded {n_users} people and {n_roles} role assignment(s)")


@flow.command("migrate")
@click.argument("name")
@click.option("--to", "to_version", required=True, type=int)
@click.option("--map", "mapping", default=None, help='Node mapping as JSON: {"old": "new"}.')
@click.option("--apply", "apply_", is_flag=True, help="Move the instances (default: dry run).")
@click.option("--as", "actor", required=True)
@env_option
@flow_errors
def migrate_cmd(name, to_version, mapping, apply_, actor, env) -> None:
    """Check (or with --apply, carry out) moving running instances of NAME to deployment --to."""
    result = _service(env).migrate(name, to_version, _json_arg(mapping, "--map"), actor=actor, dry_run=not apply_)
    _out(result)
    if not result["ok"]:
        sys.exit(1)


@main.command()
@click.option("--interval", default=None, type=click.FloatRange(min=0.1),
              help="Seconds between runs of every job (default: each job's own period).")
@click.option("--once", is_flag=True, help="One whole pass: every job, then the change feed, due work, flow timers "
                                          "and the outbox again until nothing is left; then exit.")
@env_option
@flow_errors
def worker(interval, once, env) -> None:
    """Run the scheduled jobs: change-feed subscribers, due work, flow timers, notifications
    (any number of workers may run)."""
    from runtime.cli.ops import load_jobs
    from runtime.jobs import scheduler
    from runtime.ops.logs import configure
    load_jobs()                                      # the same jobs `serve` runs
    engine = engine_for(env)
    if once:
        click.echo("ran every job until nothing was left: " + scheduler.summary(scheduler.run_once(engine, whole=True)))
        return
    configure()                                      # a long-running worker logs as `serve` does (BANYAN_LOG_FORMAT)
    handle = scheduler.start(engine, interval=interval)
    click.echo(f"worker {handle.worker}: {', '.join(scheduler.jobs())} (Ctrl-C stops)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        handle.shutdown(wait=False)
