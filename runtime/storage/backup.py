"""`banyan backup` and `banyan restore`: a whole database copied while it runs, with a manifest.

A backup is a directory holding the copy and `manifest.json`:

- SQLite: `banyan.sqlite`, written with SQLite's online backup API (the server keeps running; the
  copy is one consistent moment).
- PostgreSQL: `banyan.pgdump`, `pg_dump -Fc` of the schema in use, taken inside the snapshot the
  manifest's figures were read in (`pg_export_snapshot`), so figures and dump agree to the row
  (runtime/storage/backup_pg.py).

The manifest says what the copy holds — Banyan's version, the migration it stood at, the active
deployment, the audit chain's head, the rows of every table, when — and the SHA-256 of the copy.
Everything is written into a temporary directory beside PATH and renamed into place at the end:
a backup that failed half way leaves nothing behind.

`restore` reads the manifest first and refuses before touching anything: a copy whose checksum
differs, a backup from a newer Banyan (a migration this one does not know), a target database that
already holds tables (unless `force`). Afterwards it compares the restored rows and audit head with
the manifest and brings the schema to this Banyan's migration head. Checking the audit chain is the
audit room's (`runtime/audit/log.verify`); the command line runs it after a restore.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection, Engine

from dsl.errors import BanyanError
from runtime.storage import backup_pg
from runtime.storage.migrate import MIGRATIONS, VERSION_TABLE, head_revision, upgrade
from runtime.storage.tables import audit_head, deployments

FORMAT = "banyan-backup/1"
MANIFEST = "manifest.json"
SQLITE_FILE = "banyan.sqlite"


class BackupError(BanyanError):
    """A backup cannot be written or restored; the message says why and what to do."""
    code, status, namespace = "backup", 500, "storage"


@dataclass
class Manifest:
    """What a backup holds (`manifest.json`)."""
    database: str                               # sqlite | postgresql
    file: str                                   # the copy, inside the backup directory
    created_at: str
    banyan_version: str
    migration: str | None                       # the Alembic revision the database stood at
    deployment: dict | None                     # {"version", "hash"} of the newest deployment
    audit_head: dict | None                     # {"seq", "hash"}
    counts: dict[str, int]                      # rows per table
    source: str = ""                            # the database URL, without its password
    schema: str | None = None                   # PostgreSQL: the schema dumped
    notes: dict = field(default_factory=dict)   # what the caller adds (the command line: where the audit key was)
    sha256: str = ""
    bytes: int = 0
    format: str = FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True) + "\n"

    @classmethod
    def read(cls, directory: Path) -> "Manifest":
        path = directory / MANIFEST
        if not directory.is_dir():
            hint = " (a backup is the directory `banyan backup PATH` wrote)" if directory.exists() else ""
            raise BackupError(f"{directory}: no such backup directory{hint}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BackupError(f"{directory}: no {MANIFEST} — not a Banyan backup, or one whose writing failed "
                              "(make a new one with `banyan backup PATH`)") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BackupError(f"{path}: cannot be read ({exc.__class__.__name__}); the backup is damaged") from None
        found = data.get("format") if isinstance(data, dict) else None
        if found != FORMAT:
            raise BackupError(f"{path}: not a {FORMAT} manifest (format {found!r}); make a new backup with "
                              "`banyan backup PATH`")
        known = set(cls.__dataclass_fields__)
        try:
            manifest = cls(**{k: v for k, v in data.items() if k in known})
        except TypeError as exc:
            raise BackupError(f"{path}: the manifest lacks a field ({exc}); the backup is damaged") from None
        if not isinstance(manifest.counts, dict) or not all(isinstance(n, int) for n in manifest.counts.values()) \
                or not isinstance(manifest.file, str) or "/" in manifest.file or not isinstance(manifest.notes, dict):
            raise BackupError(f"{path}: the manifest's counts, file or notes are not what `banyan backup` writes; "
                              "the backup is damaged")
        return manifest


@dataclass
class Restored:
    """What `restore` did."""
    manifest: Manifest
    target: str
    migrated_to: str | None
    replaced: bool = False                      # the target held tables and --force replaced them
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def banyan_version() -> str:
    try:
        return metadata.version("banyan")
    except metadata.PackageNotFoundError:
        return "unknown"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- what a database holds ---------------------------------------------------------------------
def table_counts(conn: Connection) -> dict[str, int]:
    """Rows of every table in the connection's database (schema), by name."""
    names = sorted(sa.inspect(conn).get_table_names())
    prep = conn.dialect.identifier_preparer
    return {name: int(conn.exec_driver_sql(f"SELECT count(*) FROM {prep.quote(name)}").scalar() or 0)
            for name in names}


def describe(conn: Connection) -> dict:
    """The manifest's figures, read through `conn` (inside the snapshot a backup copies)."""
    names = set(sa.inspect(conn).get_table_names())
    migration = None
    if VERSION_TABLE in names:
        migration = conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").scalar()
    deployment = head = None
    if deployments.name in names:
        row = conn.execute(sa.select(deployments.c.version, deployments.c.hash)
                           .order_by(deployments.c.version.desc()).limit(1)).first()
        deployment = {"version": row.version, "hash": row.hash} if row else None
    if audit_head.name in names:
        row = conn.execute(sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).first()
        head = {"seq": int(row.seq), "hash": row.hash} if row else None
    return {"migration": migration, "deployment": deployment, "audit_head": head, "counts": table_counts(conn)}


def is_empty(engine: Engine) -> bool:
    return not table_names(engine)


def table_names(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(sa.inspect(conn).get_table_names())


# -- migrations ------------------------------------------------------------------------------
def check_migration(revision: str | None) -> None:
    """Refuse a backup made at a migration this Banyan does not know (a newer Banyan's)."""
    if revision is None:
        return
    script = ScriptDirectory.from_config(_alembic_config())
    try:
        known = script.get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise BackupError(f"the backup was made at migration {revision}, which this Banyan ({banyan_version()}, "
                          f"migrations up to {head_revision()}) does not know: it comes from a newer Banyan. "
                          "Restore it with that Banyan version or newer; nothing was changed")


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


# -- writing a backup ------------------------------------------------------------------------
def _prepare_target(path: Path) -> Path:
    """A temporary directory beside `path` (so the final rename stays on one file system)."""
    if path.exists():
        raise BackupError(f"{path} exists already: choose a new name for the backup "
                          "(e.g. backups/banyan-$(date +%Y%m%d-%H%M)); nothing was written")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise BackupError(f"{parent}: no such directory; create it first (mkdir -p {parent}); nothing was written")
    try:
        return Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=parent))
    except OSError as exc:
        raise BackupError(f"cannot write in {parent} ({exc.strerror}); choose a writable directory; "
                          "nothing was written") from None


def backup(engine: Engine, path: str | os.PathLike, notes: dict | None = None) -> Manifest:
    """Copy the database behind `engine` into the new directory `path`, with its manifest (`notes`
    are kept in it as they are)."""
    target = Path(path)
    staging = _prepare_target(target)
    try:
        if engine.dialect.name == "sqlite":
            manifest = _backup_sqlite(engine, staging)
        else:
            manifest = _backup_postgres(engine, staging)
        manifest.notes = dict(notes or {})
        copy = staging / manifest.file
        manifest.sha256, manifest.bytes = _sha256(copy), copy.stat().st_size
        (staging / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
        _fsync_dir(staging)
        os.rename(staging, target)
        _fsync_dir(target.parent if str(target.parent) else Path("."))
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise BackupError(f"cannot write the backup to {target} ({exc.strerror or exc}); nothing was written") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _source(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _backup_sqlite(engine: Engine, staging: Path) -> Manifest:
    database = engine.url.database
    if database in (None, "", ":memory:"):
        raise BackupError("an in-memory SQLite database cannot be backed up; point BANYAN_DATABASE_URL at a file")
    if not database.startswith("file:") and not Path(database).exists():
        raise BackupError(f"the database file {database} does not exist; check BANYAN_DATABASE_URL or --env")
    copy = staging / SQLITE_FILE
    raw = engine.raw_connection()
    try:
        dest = sqlite3.connect(copy)
        try:
            raw.driver_connection.backup(dest)          # online: pages copied while others keep writing
            dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            dest.close()
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite could not copy {database}: {exc}; nothing was written") from None
    finally:
        raw.close()
    # the figures come from the copy itself: exactly what the backup holds
    with _sqlite_engine(copy).connect() as conn:
        facts = describe(conn)
    return Manifest(database="sqlite", file=SQLITE_FILE, created_at=_now(), banyan_version=banyan_version(),
                    source=_source(engine), **facts)


def _sqlite_engine(path: Path) -> Engine:
    return sa.create_engine(f"sqlite:///{path}", poolclass=sa.pool.NullPool)


def _backup_postgres(engine: Engine, staging: Path) -> Manifest:
    with backup_pg.snapshot(engine) as (conn, snapshot, schema):
        facts = describe(conn)
        backup_pg.dump(engine.url, schema, snapshot, staging / backup_pg.DUMP_FILE)
    return Manifest(database="postgresql", file=backup_pg.DUMP_FILE, created_at=_now(),
                    banyan_version=banyan_version(), source=_source(engine), schema=schema, **facts)


# -- checking a backup -----------------------------------------------------------------------
def check(path: str | os.PathLike) -> Manifest:
    """Read a backup's manifest and check its copy (checksum; SQLite's integrity check; that
    pg_restore can read the archive). Returns the manifest."""
    directory = Path(path)
    manifest = Manifest.read(directory)
    copy = directory / manifest.file
    if not copy.is_file():
        raise BackupError(f"{copy}: missing — the backup is incomplete; use another backup")
    if manifest.sha256 and _sha256(copy) != manifest.sha256:
        raise BackupError(f"{copy}: its SHA-256 differs from the manifest's — the copy was changed or damaged; "
                          "use another backup")
    if manifest.database == "sqlite":
        try:
            with sqlite3.connect(f"file:{copy}?mode=ro", uri=True) as db:
                result = db.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.Error as exc:
            raise BackupError(f"{copy}: SQLite cannot read it ({exc}); use another backup") from None
        if result != "ok":
            raise BackupError(f"{copy}: SQLite's integrity check failed ({result}); use another backup")
    elif manifest.database == "postgresql":
        backup_pg.check_archive(copy)
    else:
        raise BackupError(f"{directory / MANIFEST}: unknown database {manifest.database!r}")
    return manifest


# -- restoring -------------------------------------------------------------------------------
def restore(engine: Engine, path: str | os.PathLike, *, force: bool = False) -> Restored:
    """Restore the backup at `path` into the database behind `engine`: checked first, refused over
    a database holding tables unless `force`, compared with the manifest after, then migrated to
    this Banyan's head."""
    manifest = check(path)
    check_migration(manifest.migration)
    dialect = engine.dialect.name
    if manifest.database != dialect:
        raise BackupError(f"the backup is of a {manifest.database} database and the target is {dialect}: restore "
                          f"it into a {manifest.database} database (--env or BANYAN_DATABASE_URL); nothing was changed")
    present = table_names(engine)
    if present and not force:
        raise BackupError(f"the target database {_source(engine)} is not empty ({len(present)} tables, e.g. "
                          f"{', '.join(present[:3])}): restore into an empty database, or add --force to replace "
                          "everything in it; nothing was changed")
    copy = Path(path) / manifest.file
    if dialect == "sqlite":
        _restore_sqlite(engine, copy)
    else:
        backup_pg.restore(engine, copy, manifest.schema or "public", replace=bool(present))
    engine.dispose()                                # connections opened before see the new pages
    with engine.connect() as conn:
        facts = describe(conn)
    result = Restored(manifest=manifest, target=_source(engine), migrated_to=None, replaced=bool(present),
                      counts=facts["counts"])
    result.problems = compare(manifest, facts)
    if not result.problems:
        result.migrated_to = upgrade(engine)
    return result


def compare(manifest: Manifest, facts: dict) -> list[str]:
    """Where a restored database differs from what its manifest says it holds."""
    problems = []
    for name in sorted(set(manifest.counts) | set(facts["counts"])):
        want, got = manifest.counts.get(name), facts["counts"].get(name)
        if want != got:
            problems.append(f"table {name}: {want if want is not None else 'absent'} row(s) in the backup, "
                            f"{got if got is not None else 'absent'} restored")
    for what in ("migration", "deployment", "audit_head"):
        if getattr(manifest, what) != facts[what]:
            problems.append(f"{what.replace('_', ' ')}: {getattr(manifest, what)} in the backup, {facts[what]} restored")
    return problems


def _restore_sqlite(engine: Engine, copy: Path) -> None:
    database = engine.url.database
    if database in (None, "", ":memory:"):
        raise BackupError("cannot restore into an in-memory SQLite database; point BANYAN_DATABASE_URL at a file")
    if not database.startswith("file:"):
        parent = Path(database).expanduser().absolute().parent
        if not parent.is_dir():
            raise BackupError(f"{parent}: no such directory for the target database; create it first")
        if not os.access(parent, os.W_OK):
            raise BackupError(f"{parent}: not writable; restore into a database file in a writable directory")
    raw = engine.raw_connection()
    try:
        with sqlite3.connect(f"file:{copy}?mode=ro", uri=True) as source:
            # one transaction on the target: it holds the whole copy or, on failure, what it held before
            source.backup(raw.driver_connection)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite could not restore into {database}: {exc}; the target is unchanged") from None
    finally:
        raw.close()

