"""`banyan backup PATH` and `banyan restore PATH`: the database copied while it runs, and back.

The work is the storage room's (runtime/storage/backup.py); checking the restored audit chain is
the audit room's (`runtime/audit/log.verify`, the same check as `banyan audit verify`).
Exit 0: done and verified; 1: restored, but it differs from its manifest or its audit chain does not
verify; 2: refused or failed, nothing changed.
"""
from __future__ import annotations

import click

from runtime.audit import log as audit_log
from runtime.audit.key import key_source
from runtime.cli.common import EXIT_PROBLEMS, engine_for, env_option, fail, handle_errors
from runtime.cli.main import main
from runtime.storage import backup as backups
from runtime.storage.db import check_connection


def _summary(manifest: backups.Manifest) -> str:
    rows = sum(manifest.counts.values())
    deployed = (f"deployment v{manifest.deployment['version']} ({manifest.deployment['hash'][:12]})"
                if manifest.deployment else "nothing deployed")
    head = f"audit head entry {manifest.audit_head['seq']:,}" if manifest.audit_head else "no audit entries"
    return f"{deployed}, {len(manifest.counts)} tables, {rows:,} rows, {head}, migration {manifest.migration}"


@main.command("backup")
@click.argument("path", type=click.Path())
@click.option("--verify", "verify", is_flag=True,
              help="Afterwards read the backup back: its checksum, and SQLite's integrity check or pg_restore's "
                   "reading of the archive.")
@env_option
@handle_errors
def backup_cmd(path: str, verify: bool, env: str | None) -> None:
    """Copy the database into the new directory PATH while it runs (SQLite's online backup API;
    pg_dump -Fc of the schema in use for PostgreSQL), with a manifest. The audit key is not copied:
    keep it (see `banyan status`) with the backup, apart from it."""
    engine = engine_for(env)
    check_connection(engine)
    key = key_source(engine.url)
    try:
        manifest = backups.backup(engine, path, notes={"audit_key": key.describe()})
    finally:
        engine.dispose()
    click.secho(f"✓ backed up {manifest.source} to {path}/ ({manifest.bytes:,} bytes)", fg="green")
    click.echo(f"  {_summary(manifest)}")
    click.echo(f"  the audit key is not in the backup: keep a copy of it ({key.describe()}) in a safe place")
    if verify:
        backups.check(path)
        click.secho(f"✓ {path}: checksum matches the manifest, the copy reads back", fg="green")


@main.command("restore")
@click.argument("path", type=click.Path())
@click.option("--force", is_flag=True, help="Replace everything in a target database that holds tables.")
@env_option
@handle_errors
def restore_cmd(path: str, force: bool, env: str | None) -> None:
    """Restore the backup directory PATH into an empty database, check it against its manifest,
    verify its audit chain and bring it to this Banyan's migrations. PostgreSQL: into the first
    schema of the target's search path (options=-csearch_path=NAME), in a database where the
    backup's own schema name is free or is that schema. The audit key is not in the backup: give
    the restored database the source's key (BANYAN_AUDIT_KEY, or its key file)."""
    engine = engine_for(env)
    check_connection(engine)
    try:
        result = backups.restore(engine, path, force=force)
        with engine.connect() as conn:
            verified = audit_log.verify(conn)
    finally:
        engine.dispose()
    manifest = result.manifest
    click.secho(f"✓ restored {path}/ into {result.target}" + (" (its tables replaced)" if result.replaced else ""),
                fg="green")
    click.echo(f"  backed up {manifest.created_at} by Banyan {manifest.banyan_version} from {manifest.source}")
    click.echo(f"  {_summary(manifest)}")
    for problem in result.problems:
        click.secho(f"✗ {problem}", fg="red")
    if result.problems:
        fail(f"the restored database differs from the backup's manifest ({len(result.problems)} problem(s)); "
             "use another backup", EXIT_PROBLEMS)
    if result.migrated_to != manifest.migration:
        click.echo(f"  migrated from {manifest.migration} to {result.migrated_to}")
    for problem in verified.problems:
        click.secho(f"✗ {problem}", fg="red")
    if not verified.ok:
        where = manifest.notes.get("audit_key")
        hint = (f"; the source kept its audit key in {where} — the restored database reads it from "
                f"{key_source(engine.url).describe()}") if where else ""
        fail(f"restored, but the audit chain does not verify ({len(verified.problems)} problem(s) in "
             f"{verified.checked:,} entries){hint}", EXIT_PROBLEMS)
    click.secho(f"✓ audit log intact: {verified.checked:,} entries, hash chain verified", fg="green")


@main.command("archive")
@click.option("--dry-run", is_flag=True, help="Count what would move; move nothing.")
@env_option
@handle_errors
def archive_cmd(dry_run: bool, env: str | None) -> None:
    """Move audit, alert and flow history past its retention (`[retention]` in banyan.toml:
    audit, alerts, flows = "7y", "18m", "400d" …) into the archive tables of the same database —
    nothing is deleted; the audit chain verifies across both."""
    from runtime.storage.archive import archive, retention_settings
    from runtime.storage.migrate import upgrade
    settings = retention_settings()
    engine = engine_for(env)
    check_connection(engine)
    try:
        upgrade(engine)
        moved = archive(engine, settings, dry_run=dry_run)
        verified = None
        if not dry_run and any(m.total for m in moved):
            with engine.connect() as conn:
                verified = audit_log.verify(conn)
    finally:
        engine.dispose()
    verb = "would move" if dry_run else "moved"
    for m in moved:
        if m.cutoff is None:
            click.echo(f"{m.kind}: kept for ever (no `{m.kind}` in banyan.toml's [retention])")
            continue
        rows = ", ".join(f"{n:,} from {table}" for table, n in m.rows.items())
        click.echo(f"{m.kind} (older than {getattr(settings, m.kind)}, before {m.cutoff:%Y-%m-%d %H:%M} UTC): "
                   f"{verb} {rows} to the archive")
    if verified is not None:
        for problem in verified.problems:
            click.secho(f"✗ {problem}", fg="red")
        if not verified.ok:
            fail(f"the audit chain does not verify ({len(verified.problems)} problem(s)); run `banyan audit verify`",
                 EXIT_PROBLEMS)
        click.secho(f"✓ audit log intact across log and archive: {verified.checked:,} entries", fg="green")
