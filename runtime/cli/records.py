"""`banyan records … | import | export | audit verify`."""
from __future__ import annotations

import json
import sys
from typing import Any

import click

from dsl.errors import env_lang
from dsl.values import percent_fields, write_record
from runtime.auth.org import OrgTree
from runtime.auth.permissions import MissingPermission
from runtime.auth.scope import Scope, scope_for
from runtime.auth.users import UserStore
from runtime.cli.common import engine_for, env_option, fail, format_option, handle_errors, json_errors
from runtime.cli.main import main
from runtime.deploy.deployments import default_author
from runtime.records.errors import NotFound
from runtime.records.service import Records
from runtime.records.store import json_value

as_option = click.option("--as", "as_user", default=None, metavar="USER",
                         help="Act as this signed-in user: their org scope, permissions and name "
                              "(default: the operator, who sees the whole bank).")


class Door:
    """Who the CLI acts for: the operator (bank-wide, named by BANYAN_ACTOR), or `--as USER` — the
    same scope and permissions the API and the pages give that person (runtime/auth)."""

    def __init__(self, env: str | None, as_user: str | None):
        self.records = Records(engine_for(env))
        self.scope: Scope | None = None
        self.user = None
        self.actor = default_author()
        if as_user is not None:
            self.user = UserStore(self.records.engine).get(as_user)
            if self.user is None or not self.user.active:
                fail(f"no active user `{as_user}` (see `banyan users list`)")
            self.scope = scope_for(OrgTree(self.records.live.bundle), self.user)
            self.actor = self.user.name

    def permit(self, permission: str) -> None:
        if self.user is not None and not self.user.can(permission):
            raise MissingPermission(permission)

    def target(self, entity: str, ident: str) -> int:
        """A record id from `#ID`/an integer, or from the entity's key (inside the scope)."""
        if ident.lstrip("#").isdigit():
            number = int(ident.lstrip("#"))
            if number > 2**63 - 1:          # ids are 64-bit: a larger number names no record
                raise NotFound(f"no {entity} record #{number}")
            return number
        return self.records.find(entity, ident, scope=self.scope)["id"]


def _pairs(items: tuple[str, ...], what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            fail(f"{what} `{item}`: write FIELD=VALUE")
        out[name.strip()] = value
    return out


def _values(sets: tuple[str, ...], raw_json: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if raw_json:
        try:
            values = json.loads(raw_json)
        except json.JSONDecodeError as exc:
            fail(f"--json is not valid JSON: {exc}")
        if not isinstance(values, dict):
            fail("--json must be an object of field values")
    values.update(_pairs(sets, "--set"))
    return values


def _percents(door: Door, entity: str) -> tuple[str, ...]:
    return percent_fields(door.records.live.entity(entity).fields)


def _echo(record: dict, percents: tuple[str, ...] = ()) -> None:
    """A record as JSON, as the API sends it: a percent as its points ("70" for 70%), which
    `--json`/`--set` read back as the same value (dsl/values `write_value`)."""
    click.echo(json.dumps(write_record(percents, record), default=json_value, ensure_ascii=False, indent=2))


@main.group()
def records() -> None:
    """Read and change records of the deployed entities."""


@records.command("list")
@click.argument("entity")
@click.option("--where", "where", multiple=True, metavar="FIELD=VALUE", help="Keep records with this value.")
@click.option("--order", "order", default=None, help="Sort by a field; prefix - for descending.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10000))
@click.option("--offset", default=0, type=click.IntRange(0))
@click.option("--fields", "fields", default=None, metavar="A,B,C",
              help="The columns to show (default: the first eight fields).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@as_option
@env_option
@handle_errors
def list_records(entity: str, where: tuple, order: str | None, limit: int, offset: int, fields: str | None,
                 as_json: bool, as_user: str | None, env: str | None) -> None:
    """List records of ENTITY."""
    door = Door(env, as_user)
    recs = door.records
    page = recs.query(entity, _pairs(where, "--where"), order_by=order, limit=limit, offset=offset, scope=door.scope)
    percents = _percents(door, entity)
    if as_json:
        for item in page.items:
            click.echo(json.dumps(write_record(percents, item), default=json_value, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table
    ent = recs.live.entity(entity)
    names = [f.name for f in ent.fields]
    if fields:
        cols = [c.strip() for c in fields.split(",") if c.strip()]
        unknown = [c for c in cols if c not in names and c != "id"]
        if unknown:
            raise click.UsageError(f"{entity} has no field {', '.join(unknown)}; fields: {', '.join(names)}")
    else:
        cols = ["id"] + names[:8]
    table = Table(title=f"{entity}: {len(page.items)} of {page.total}")
    for c in cols:
        table.add_column(c)
    for item in page.items:
        shown = write_record(percents, item, target="text")          # 70% as "70%", not 0.70
        table.add_row(*("" if shown[c] is None else str(shown[c]) for c in cols))
    Console().print(table)


@records.command("get")
@click.argument("entity")
@click.argument("ident")
@as_option
@env_option
@handle_errors
def get_record(entity: str, ident: str, as_user: str | None, env: str | None) -> None:
    """Show one record, by id (#12) or by key."""
    door = Door(env, as_user)
    _echo(door.records.get(entity, door.target(entity, ident), scope=door.scope), _percents(door, entity))


@records.command("create")
@click.argument("entity")
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE")
@click.option("--json", "raw_json", default=None, help="Field values as a JSON object.")
@click.option("--request-id", default=None, help="Idempotency key: a repeat does nothing.")
@as_option
@format_option
@env_option
@handle_errors
def create_record(entity: str, sets: tuple, raw_json: str | None, request_id: str | None, as_user: str | None,
                  fmt: str, env: str | None) -> None:
    """Create a record."""
    with json_errors(fmt):
        door = Door(env, as_user)
        door.permit("records.write")
        _echo(door.records.create(entity, _values(sets, raw_json), actor=door.actor, request_id=request_id,
                                  scope=door.scope), _percents(door, entity))


@records.command("update")
@click.argument("entity")
@click.argument("ident")
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE")
@click.option("--json", "raw_json", default=None)
@click.option("--version", "expected", type=int, default=None, help="Fail unless the record is at this version.")
@click.option("--request-id", default=None)
@as_option
@format_option
@env_option
@handle_errors
def update_record(entity: str, ident: str, sets: tuple, raw_json: str | None, expected: int | None,
                  request_id: str | None, as_user: str | None, fmt: str, env: str | None) -> None:
    """Change fields of a record."""
    with json_errors(fmt):
        door = Door(env, as_user)
        door.permit("records.write")
        _echo(door.records.update(entity, door.target(entity, ident), _values(sets, raw_json), actor=door.actor,
                                  expected_version=expected, request_id=request_id, scope=door.scope),
              _percents(door, entity))


@records.command("delete")
@click.argument("entity")
@click.argument("ident")
@click.option("--version", "expected", type=int, default=None)
@as_option
@env_option
@handle_errors
def delete_record(entity: str, ident: str, expected: int | None, as_user: str | None, env: str | None) -> None:
    """Delete a record (refused while other records point at it)."""
    door = Door(env, as_user)
    door.permit("records.delete")
    rid = door.target(entity, ident)
    door.records.delete(entity, rid, actor=door.actor, expected_version=expected, scope=door.scope)
    click.echo(f"✓ deleted {entity} #{rid}")


def _progress(label: str):
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    return Progress(TextColumn(label), BarColumn(), TextColumn("{task.completed:,} rows"), TimeElapsedColumn(),
                    transient=not sys.stderr.isatty())


@main.command("import")
@click.argument("entity")
@click.argument("file", type=click.Path())
@as_option
@env_option
@handle_errors
def import_cmd(entity: str, file: str, as_user: str | None, env: str | None) -> None:
    """Import FILE (.csv in UTF-8 or GBK, or .xlsx) into ENTITY: every row, or none with a report
    of every problem by line and column (in BANYAN_LANG)."""
    from runtime.records.tabular import ImportRefused, import_file
    door = Door(env, as_user)
    door.permit("records.import")
    try:
        with _progress(f"import {entity}") as progress:
            task = progress.add_task("import", total=None)
            n = import_file(door.records, entity, file, actor=door.actor, scope=door.scope,
                            on_progress=lambda done: progress.update(task, completed=done))
    except ImportRefused as exc:
        lang = env_lang()
        click.secho(f"error: {exc.code}: {exc.render(lang)}", fg="red", err=True)
        line_word = "第 {} 行" if lang == "zh" else "line {}"
        for r in exc.report(lang):
            where = " · ".join(x for x in (line_word.format(r.line) if r.line else "", r.column) if x)
            click.echo(f"  {where}: {r.message}" if where else f"  {r.message}", err=True)
        sys.exit(1)
    click.secho(f"✓ imported {n:,} {entity} record(s) from {file}", fg="green")


@main.command("export")
@click.argument("entity")
@click.argument("file", type=click.Path())
@click.option("--lang", "lang", type=click.Choice(["zh", "en", "raw"]), default=None,
              help="Headers and values for people in this language (default: BANYAN_LANG or the locale); "
                   "raw: field names, codes and keys, as `banyan import` reads back.")
@click.option("--where", "where", multiple=True, metavar="FIELD=VALUE", help="Keep records with this value.")
@click.option("--search", default="", help="Keep records whose key, name or indexed text contains this.")
@click.option("--order", "order", default=None, help="Sort by a field; prefix - for descending.")
@as_option
@env_option
@handle_errors
def export_cmd(entity: str, file: str, lang: str | None, where: tuple, search: str, order: str | None,
               as_user: str | None, env: str | None) -> None:
    """Export the records of ENTITY (that the user may read, with --as) to FILE (.csv or .xlsx):
    labels, names and Excel number formats for people, or --lang raw for machines."""
    from runtime.records.tabular import export_file
    door = Door(env, as_user)
    people = None if lang == "raw" else (lang or env_lang())
    n = export_file(door.records, entity, file, scope=door.scope, lang=people, search=search,
                    filters=_pairs(where, "--where"), order=order)
    click.secho(f"✓ exported {n:,} {entity} record(s) to {file}", fg="green")


@main.command("template")
@click.argument("entity")
@click.argument("file", type=click.Path(), required=False)
@click.option("--lang", "lang", type=click.Choice(["zh", "en"]), default=None,
              help="The language of the headers and notes (default: BANYAN_LANG or the locale).")
@env_option
@handle_errors
def template_cmd(entity: str, file: str | None, lang: str | None, env: str | None) -> None:
    """Write an .xlsx import template for ENTITY to FILE (default ENTITY-template.xlsx): headers,
    a note on each (type, required, unit, choices) and drop-downs of the choices."""
    from runtime.records.tabular_template import write_template
    door = Door(env, None)
    door.records.live.entity(entity)
    target = file or f"{entity}-template.xlsx"
    if not target.lower().endswith(".xlsx"):
        fail(f"{target}: a template is an .xlsx workbook; name the file ….xlsx")
    write_template(target, door.records, entity, lang or env_lang())
    click.secho(f"✓ wrote the {entity} import template to {target}", fg="green")


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
@click.option("--anchors", "anchors_file", default=None, metavar="FILE",
              help="Also check the log against the anchors `banyan audit anchor --out FILE` wrote: it must "
                   "reach every anchored entry, with the anchored MAC.")
@env_option
@handle_errors
def audit_verify(anchors_file: str | None, env: str | None) -> None:
    """Check the keyed chain: exit 1 if any entry was edited or deleted, the log is shorter than an
    anchor or differs from it, or the log is empty while deployments exist."""
    from runtime.audit import log as audit_log
    from runtime.audit.anchors import read_anchors
    from runtime.storage.migrate import upgrade
    anchors = read_anchors(anchors_file) if anchors_file else None
    engine = engine_for(env)
    upgrade(engine)
    with engine.connect() as conn:
        result = audit_log.verify(conn, anchors)
    for problem in result.problems:
        click.secho(f"✗ {problem}", fg="red")
    if not result.ok:
        fail(f"the audit log was tampered with ({len(result.problems)} problem(s) in {result.checked:,} entries)", 1)
    click.secho(f"✓ audit log intact: {result.checked:,} entries, hash chain verified", fg="green")
    if result.checked:
        keyed = result.checked - result.plain
        click.echo(f"  {keyed:,} keyed (HMAC-SHA256, key: {result.key})"
                   + (f"; {result.plain:,} before the key was introduced (plain SHA-256, entries 1–"
                      f"{result.keyed_from - 1:,})" if result.plain else ""))
    if anchors is not None:
        click.echo(f"  matches its {result.anchors} anchor(s) in {anchors_file}")
    else:
        click.echo("  no anchors given: a log cut short at its end cannot be told apart "
                   "(keep anchors with `banyan audit anchor --out FILE`, check with --anchors FILE)")


@audit.command("anchor")
@click.option("--out", "out", default=None, metavar="FILE",
              help="Append the anchor (one JSON line) to FILE — keep it outside the database's reach.")
@click.option("--url", "url", default=None, metavar="URL", help="POST the anchor as JSON to URL (a webhook).")
@env_option
@handle_errors
def audit_anchor(out: str | None, url: str | None, env: str | None) -> None:
    """Write the audit head's sequence number and MAC outside the database, so that a log later
    cut short or rewritten fails `banyan audit verify --anchors FILE`. Run it periodically."""
    from runtime.audit import log as audit_log
    from runtime.audit.anchors import send_anchor, write_anchor
    from runtime.storage.migrate import upgrade
    if not out and not url:
        fail("say where the anchor goes: --out FILE (appended) or --url URL (POSTed as JSON)")
    engine = engine_for(env)
    upgrade(engine)
    with engine.connect() as conn:
        mark = audit_log.anchor(conn)
    if out:
        write_anchor(out, mark)
    if url:
        send_anchor(url, mark)
    where = " and ".join(x for x in (out, url) if x)
    click.secho(f"✓ anchored entry {mark.seq:,} (MAC {mark.mac[:16]}…) to {where}", fg="green")
