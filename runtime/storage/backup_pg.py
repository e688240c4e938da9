"""PostgreSQL's side of `banyan backup` / `banyan restore`: pg_dump and pg_restore of one schema.

The schema backed up is the connection's current schema (a URL's `options=-csearch_path=NAME`
picks it; else `public`). The dump runs inside the snapshot the manifest's figures are read in
(`pg_export_snapshot()` in a REPEATABLE READ transaction, `pg_dump --snapshot`), so they agree.

A restore goes into the target's schema — the first of its search path — which may have another
name than the backup's: the archive is restored without its own CREATE SCHEMA into a schema
named as in the backup, then renamed. When the target holds tables and the caller said `replace`
(`--force`), the old schema is renamed aside first and dropped only after the restore succeeded;
on any failure it is renamed back. pg_restore runs in one transaction (`--single-transaction`).

The client programs are found on PATH, or in `BANYAN_PG_BIN` (a directory) when set; the password
goes to them in `PGPASSWORD`, never on a command line.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dsl.errors import BanyanError

DUMP_FILE = "banyan.pgdump"
BIN_ENV = "BANYAN_PG_BIN"
# URL query parameters libpq also reads from the environment
_LIBPQ_ENV = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY",
              "connect_timeout": "PGCONNECT_TIMEOUT", "application_name": "PGAPPNAME", "host": "PGHOST",
              "port": "PGPORT"}


class PgToolError(BanyanError):
    """pg_dump or pg_restore is missing or failed; the message says what to do."""
    code, status, namespace = "backup", 500, "storage"


def program(name: str) -> str:
    """The path of a PostgreSQL client program, or a clear error."""
    chosen = os.environ.get(BIN_ENV)
    found = shutil.which(name, path=chosen) if chosen else shutil.which(name)
    if not found:
        where = f"in {BIN_ENV}={chosen}" if chosen else "on PATH"
        raise PgToolError(f"{name} is not installed {where}: install the PostgreSQL client programs of the "
                          f"server's major version or newer (e.g. `apt-get install postgresql-client`), or set "
                          f"{BIN_ENV} to the directory holding them; nothing was changed")
    return found


def libpq_env(url: sa.URL) -> dict[str, str]:
    """The environment that points libpq programs at `url`'s database (password included)."""
    env = dict(os.environ)
    for key, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                       ("PGPASSWORD", url.password), ("PGDATABASE", url.database)):
        if value is not None:
            env[key] = str(value)
    for key, name in _LIBPQ_ENV.items():
        value = url.query.get(key)
        if isinstance(value, str):
            env[name] = value
    env.pop("PGOPTIONS", None)            # a search path of the caller's must not steer the dump
    return env


def _run(args: list[str], url: sa.URL, what: str) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run(args, env=libpq_env(url), capture_output=True, text=True, check=False)
    except OSError as exc:
        raise PgToolError(f"cannot run {args[0]} ({exc.strerror}); check {BIN_ENV} or PATH") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()][:5]
        raise PgToolError(f"{what} failed (exit {done.returncode}): " + (" / ".join(lines) or "no message"))
    return done


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- backup ----------------------------------------------------------------------------------
@contextmanager
def snapshot(engine: Engine) -> Iterator[tuple[Connection, str, str]]:
    """(a connection inside a REPEATABLE READ snapshot, the snapshot's id, the current schema)."""
    program("pg_dump")                    # missing: say so before anything else
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
            if schema is None:
                path = conn.exec_driver_sql("SHOW search_path").scalar()
                raise PgToolError(f"no schema of the search path ({path}) exists in the database: nothing to back "
                                  "up; check the URL's options=-csearch_path=…")
            snap = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
            yield conn, snap, schema


def dump(url: sa.URL, schema: str, snap: str, out: Path) -> None:
    """`pg_dump -Fc` of `schema` as it was in snapshot `snap`, to `out`."""
    _run([program("pg_dump"), "--format=custom", f"--schema={_quoted(schema)}", f"--snapshot={snap}",
          "--no-password", f"--file={out}"], url, "pg_dump")


def check_archive(copy: Path) -> None:
    """pg_restore can read the archive's table of contents."""
    _run([program("pg_restore"), "--list", str(copy)], sa.make_url("postgresql://"), f"reading {copy}")


# -- restore ---------------------------------------------------------------------------------
def target_schema(conn: Connection) -> str:
    """The schema a restore fills: the first of the connection's search path ("$user" when such a
    schema exists), else public."""
    path = conn.exec_driver_sql("SHOW search_path").scalar() or ""
    user = conn.exec_driver_sql("SELECT current_user").scalar()
    for item in (p.strip() for p in path.split(",")):
        if not item:
            continue
        name = item[1:-1].replace('""', '"') if item.startswith('"') and item.endswith('"') else item
        if name == "$user":
            if _exists(conn, user):
                return user
            continue
        return name
    return "public"


def _exists(conn: Connection, schema: str) -> bool:
    return conn.execute(sa.text("SELECT 1 FROM pg_namespace WHERE nspname = :n"), {"n": schema}).first() is not None


def _ddl(engine: Engine, *statements: str) -> None:
    try:
        with engine.begin() as conn:
            for sql in statements:
                conn.exec_driver_sql(sql)
    except sa.exc.DBAPIError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise PgToolError(f"preparing the target schema failed ({reason}); the target was put back as it "
                          "was") from None


def restore(engine: Engine, archive: Path, source_schema: str, *, replace: bool) -> None:
    """Restore `archive` (a dump of `source_schema`) into `engine`'s schema; see the module text."""
    pg_restore = program("pg_restore")
    with engine.connect() as conn:
        target = target_schema(conn)
        source_taken = source_schema != target and _exists(conn, source_schema)
        target_there = _exists(conn, target)
    if source_taken:
        raise PgToolError(f"the backup is of schema {source_schema!r}, which exists in the target database "
                          f"already: restore into another database, or into schema {source_schema!r} itself "
                          f"(options=-csearch_path={source_schema} in the URL); nothing was changed")
    aside = f"{target[:40]}_replaced_{uuid.uuid4().hex[:8]}" if replace and target_there else None
    created = False
    try:
        if aside:
            _ddl(engine, f"ALTER SCHEMA {_quoted(target)} RENAME TO {_quoted(aside)}")
            target_there = False
        if not (source_schema == target and target_there):
            _ddl(engine, f"CREATE SCHEMA {_quoted(source_schema)}")
            created = True
        with tempfile.TemporaryDirectory(prefix="banyan-restore-") as scratch:
            listing = Path(scratch) / "toc.list"
            toc = _run([pg_restore, "--list", str(archive)], engine.url, f"reading {archive}").stdout
            # the schema itself is ours to make (it may be `public`, or renamed below)
            kept = [line for line in toc.splitlines()
                    if " SCHEMA - " not in line and " COMMENT - SCHEMA " not in line]
            listing.write_text("\n".join(kept) + "\n", encoding="utf-8")
            _run([pg_restore, "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges",
                  "--no-password", f"--use-list={listing}", f"--dbname={_dbname(engine.url)}", str(archive)],
                 engine.url, "pg_restore")
        if source_schema != target:
            statements = [f"DROP SCHEMA {_quoted(target)}"] if target_there else []
            _ddl(engine, *statements, f"ALTER SCHEMA {_quoted(source_schema)} RENAME TO {_quoted(target)}")
    except BaseException:
        _undo(engine, source_schema if created else None, aside, target)
        raise
    if aside:
        _ddl(engine, f"DROP SCHEMA {_quoted(aside)} CASCADE")


def _dbname(url: sa.URL) -> str:
    return url.database or ""


def _undo(engine: Engine, made: str | None, aside: str | None, target: str) -> None:
    """Put the target back as it was after a failed restore (best effort, never masking the error)."""
    statements = []
    if made:
        statements.append(f"DROP SCHEMA IF EXISTS {_quoted(made)} CASCADE")
    if aside:
        statements.append(f"ALTER SCHEMA {_quoted(aside)} RENAME TO {_quoted(target)}")
    try:
        _ddl(engine, *statements)
    except (PgToolError, sa.exc.SQLAlchemyError):
        pass
