"""One database URL → one SQLAlchemy engine, configured the same way everywhere.

The URL comes from `--env NAME` (looked up in `banyan.toml`), else `BANYAN_DATABASE_URL`,
else a SQLite file `banyan.db` in the working directory. SQLite gets WAL, foreign keys,
a busy timeout and real transactions around DDL (pysqlite's own transaction handling
would silently commit before a `CREATE TABLE`, which would break atomic deploys).
"""
from __future__ import annotations

import hashlib
import os
import random
import time
import tomllib
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from dsl.errors import BanyanError

DEFAULT_URL = "sqlite:///banyan.db"
T = TypeVar("T")
WRITE_OPTION = "banyan_write"
ENV_FILE = "banyan.toml"

# SQLite stores NUMERIC as a double; decimals read back exactly to 15 significant digits,
# which covers money up to 10^13 yuan with two decimals. PostgreSQL stores them exactly.
warnings.filterwarnings("ignore", message=r"Dialect sqlite\+pysqlite does \*not\* support Decimal")


class ConfigError(BanyanError):
    """A database or environment setting that cannot be used; the message says what to fix."""
    code, status, namespace = "config", 500, "storage"


def environment_settings(config_file: str | os.PathLike | None = None) -> dict[str, dict]:
    """`{name: {"url": …, "protected": bool}}` from `banyan.toml`'s `[environments]`: a name maps to
    its URL, or to a table with `url` and `protected` (a deploy there waits for a second person's
    approval, runtime/deploy/README.md). Empty when there is no file."""
    path = Path(config_file or os.environ.get("BANYAN_CONFIG", ENV_FILE))
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    envs = data.get("environments", {})
    hint = (f"{path}: [environments] must map names to database URLs, e.g. test = \"sqlite:///test.db\", "
            "or to tables, e.g. prod = {url = \"postgresql://…\", protected = true}")
    if not isinstance(envs, dict):
        raise ConfigError(hint)
    out: dict[str, dict] = {}
    for name, value in envs.items():
        if isinstance(value, str):
            value = {"url": value}
        if (not isinstance(value, dict) or not isinstance(value.get("url"), str) or set(value) - {"url", "protected"}
                or not isinstance(value.get("protected", False), bool)):
            raise ConfigError(f"{hint} (environment `{name}`)")
        out[name] = {"url": value["url"], "protected": value.get("protected", False)}
    return out


def environments(config_file: str | os.PathLike | None = None) -> dict[str, str]:
    """`{name: url}` from `banyan.toml`'s `[environments]` table (empty when there is no file)."""
    return {name: env["url"] for name, env in environment_settings(config_file).items()}


def database_url(env: str | None = None) -> str:
    if env:
        envs = environments()
        if env not in envs:
            known = ", ".join(sorted(envs)) or f"none (no [environments] in {ENV_FILE})"
            raise ConfigError(f"unknown environment `{env}`; known: {known}")
        return envs[env]
    return os.environ.get("BANYAN_DATABASE_URL") or DEFAULT_URL


def same_database(a: str, b: str) -> bool:
    """Whether two URLs name one database however they are spelled: the driver
    (`postgresql://` and `postgresql+psycopg://`), the user, the host's case, `localhost` and
    127.0.0.1, the default port, a relative or absolute SQLite path. The `options` query (a
    PostgreSQL search_path) is part of it: another schema is another database."""
    return _identity(a) == _identity(b)


_LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}
_DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306, "mariadb": 3306}


def _identity(url: str) -> tuple:
    try:
        u = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        return ("unparsed", url.strip())
    backend = u.get_backend_name()
    if backend == "sqlite":
        name = u.database or ""
        plain = name and name != ":memory:" and not name.startswith("file:")
        return (backend, str(Path(name).expanduser().resolve()) if plain else name)
    host = (u.host or "localhost").lower()
    return (backend, "localhost" if host in _LOOPBACK else host, u.port or _DEFAULT_PORTS.get(backend),
            u.database, u.query.get("options"))


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


# The connection pool of each process (SQLAlchemy's QueuePool: checked with a ping before use, so a
# server restart costs one failed ping, not a failed request). Its size: what the server's threadpool
# and the jobs use without opening and closing connections under load; a request past it waits up to
# the timeout for a connection. A request may hold two at once, so `banyan serve` gives its threadpool
# half the pool's connections on PostgreSQL (runtime/ops/threads.py). psycopg_pool would be a second pool under
# this one (SQLAlchemy would then need NullPool and lose its ping and reset-on-return): one is enough.
POOL_SETTINGS = {"BANYAN_DB_POOL_SIZE": ("pool_size", 10, 1), "BANYAN_DB_MAX_OVERFLOW": ("max_overflow", 10, 0),
                 "BANYAN_DB_POOL_TIMEOUT": ("pool_timeout", 30, 1)}


def pool_settings() -> dict[str, int]:
    """The pool's size, overflow and wait (seconds) for PostgreSQL, from BANYAN_DB_POOL_SIZE (default
    10), BANYAN_DB_MAX_OVERFLOW (10) and BANYAN_DB_POOL_TIMEOUT (30). Keep processes × (size +
    overflow) under the server's max_connections."""
    out = {}
    for env, (key, default, least) in POOL_SETTINGS.items():
        raw = os.environ.get(env, "").strip()
        if not raw:
            out[key] = default
            continue
        try:
            value = int(raw)
        except ValueError:
            value = least - 1
        if value < least:
            raise ConfigError(f"{env}={raw!r} is not a whole number of at least {least}; unset it for {default}")
        out[key] = value
    return out


def make_engine(url: str | None = None, *, schema: str | None = None) -> Engine:
    """An engine for `url`; `schema` (PostgreSQL only) puts every table in that schema (tests use it)."""
    url = url or database_url()
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ConfigError(f"not a database URL: {url!r}") from exc
    if parsed.get_backend_name() == "sqlite":
        in_memory = parsed.database in (None, "", ":memory:")
        # A file's connections cost nothing to open, and a thread must never wait for one while
        # another thread holds the write lock and waits for a connection too: both would sit out
        # the 30 s timeouts (the load benchmark's sign-ins did). No bound on the pool's overflow.
        pool = {} if in_memory else {"pool_size": 10, "max_overflow": -1}
        engine = sa.create_engine(parsed, connect_args={"timeout": 30}, **pool)
        _configure_sqlite(engine, in_memory=in_memory)
    elif parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        options = {"options": f"-csearch_path={schema}"} if schema else {}
        engine = sa.create_engine(parsed, connect_args=options, pool_pre_ping=True, **pool_settings())
    else:
        raise ConfigError(f"unsupported database `{parsed.get_backend_name()}`; use sqlite:/// or postgresql://")
    return engine


def _configure_sqlite(engine: Engine, in_memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001
        dbapi_conn.isolation_level = None          # we issue BEGIN ourselves (see below)
        cur = dbapi_conn.cursor()
        if not in_memory:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        # A writing transaction takes the write lock at the start (IMMEDIATE), so it never fails
        # half way because another writer got in between its first read and its first write.
        # Sent on the driver connection: SQLAlchemy's statement machinery would cost more than
        # the BEGIN itself, on every transaction; a driver error still comes out as SQLAlchemy's.
        sql = "BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "BEGIN"
        dbapi = conn.dialect.loaded_dbapi
        try:
            conn.connection.dbapi_connection.execute(sql)
        except dbapi.Error as exc:
            raise sa.exc.DBAPIError.instance(sql, (), exc, dbapi.Error, dialect=conn.dialect) from exc


RETRYABLE_SQLSTATES = {"40P01", "40001"}        # deadlock_detected, serialization_failure


def lost_a_race(exc: BaseException) -> bool:
    """Whether the database undid the transaction because it ran into another one (PostgreSQL's
    deadlock or serialization failure): nothing was wrong with it, and running it again is the cure."""
    return isinstance(exc, sa.exc.OperationalError) and getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def hold_name(conn: Connection, *parts: str) -> None:
    """Hold a lock on a name (its parts, e.g. a flow and a subject) until the caller's transaction
    ends: a check that must not pass in two transactions at once takes it first, so the second
    waits for the first to end and then sees what it wrote. PostgreSQL: a transaction-level
    advisory lock on a 64-bit digest of the name — only transactions asking for the same name
    wait, and no row lock is taken, so it cannot invert the order in which writers lock rows and
    the audit head. SQLite: nothing to do, its one writer holds the whole database already."""
    if conn.dialect.name != "postgresql":
        return
    digest = hashlib.blake2b("\x00".join(parts).encode("utf-8"), digest_size=8).digest()
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": int.from_bytes(digest, "big", signed=True)})


class Contended(BanyanError):
    """A write the database undid again and again because it ran into other writers (deadlocks):
    nothing was written; the same request sent again will do."""
    code, status, namespace, generic = "contended", 409, "storage", True


RACE_TRIES, RACE_BACKOFF = 6, 0.02       # seconds: the first wait's bound, doubling (jittered)


def write_retrying(engine: Engine, work: Callable[[Connection], T]) -> T:
    """`work(conn)` in a writing transaction, run again from the start when PostgreSQL undid it in a
    deadlock or a serialization failure (`lost_a_race`: the transaction was fine, another one crossed
    it — two writers locking the same rows in a different order, e.g. a record write and a feed batch
    that froze a facility): after a jittered wait, up to RACE_TRIES times, then `Contended` (a 409).
    `work` must do nothing outside the transaction it is given, since it may run more than once."""
    for attempt in range(RACE_TRIES):
        if attempt:
            time.sleep(random.uniform(0, RACE_BACKOFF * 2 ** attempt))
        try:
            with writing(engine) as conn:
                return work(conn)
        except sa.exc.OperationalError as exc:
            if not lost_a_race(exc):
                raise
    raise Contended(f"the write crossed other writers {RACE_TRIES} times and was undone each time; nothing was "
                    "written — send it again")


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that will write (on SQLite it holds the write lock from the start)."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            yield conn


def check_connection(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as exc:
        raise ConfigError(f"cannot connect to {engine.url.render_as_string(hide_password=True)}: "
                          f"{str(exc.orig).strip().splitlines()[0] if exc.orig else exc}") from exc
