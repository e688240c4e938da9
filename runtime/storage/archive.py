"""Retention: audit, alert and flow history past its time moves to archive tables in the same
database (revision 0019_archive_tables) — never deleted.

The settings are `[retention]` in banyan.toml (the file `--env` reads; `BANYAN_CONFIG` moves it):

    [retention]
    audit = "7y"      # audit entries older than this move to banyan_audit_archive
    alerts = "2y"     # closed alerts closed longer ago, with their events and actions
    flows = "3y"      # the events of flow instances finished or cancelled longer ago

A kind without a setting keeps everything. Durations are days, weeks, months or years (`400d`,
`12w`, `18m`, `7y`), at least one day.

What moves, each kind in one transaction (all of it or none):
- audit: the oldest entries, a prefix of the chain — every entry before the first one written
  since the cutoff — so that the archive and the log together are still one chain
  (`banyan audit verify` reads both; runtime/audit/log.py);
- alerts: closed alerts with `closed_at` before the cutoff, their events and actions; open and
  lifted ones stay whatever their age;
- flows: the events (the history) of instances finished or cancelled with `updated_at` before the
  cutoff; the instances themselves stay.
"""
from __future__ import annotations

import calendar
import logging
import os
import re
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from runtime.storage.db import ENV_FILE, ConfigError, writing
from runtime.storage.tables import audit_log

log = logging.getLogger("banyan.archive")
KINDS = ("audit", "alerts", "flows")
_DURATION = re.compile(r"^\s*(\d+)\s*([dwmy])\s*$")

# Banyan's own tables, as far as the archive needs them (storage imports no other room)
_audit = sa.table("banyan_audit", sa.column("seq", sa.BigInteger), sa.column("at", sa.DateTime(timezone=True)))
_alerts = sa.table("banyan_alerts", sa.column("id", sa.Integer), sa.column("status", sa.String),
                   sa.column("closed_at", sa.DateTime))
_instances = sa.table("banyan_flow_instances", sa.column("id", sa.String), sa.column("status", sa.String),
                      sa.column("updated_at", sa.DateTime))


# The audit entries past their retention: the log's columns, in its order (revision 0019), so that
# the audit room reads archive and log as one chain.
audit_archive = sa.Table("banyan_audit_archive", sa.MetaData(),
                         *(sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable,
                                     autoincrement=False) for c in audit_log.columns))


@dataclass(frozen=True)
class Retention:
    """How long each kind of history stays in its table (None: for ever)."""
    audit: str | None = None
    alerts: str | None = None
    flows: str | None = None

    def cutoff(self, kind: str, now: datetime) -> datetime | None:
        text = getattr(self, kind)
        return None if text is None else before(now, text)


def before(now: datetime, duration: str) -> datetime:
    """`now` minus `duration` (`400d`, `12w`, `18m`, `7y`; months and years by the calendar)."""
    match = _DURATION.match(duration or "")
    if not match or int(match.group(1)) < 1:
        raise ConfigError(f"retention {duration!r}: write a number of days, weeks, months or years, "
                          'at least one day, e.g. "400d", "12w", "18m" or "7y"')
    n, unit = int(match.group(1)), match.group(2)
    if unit in "dw":
        return now - timedelta(days=n * (7 if unit == "w" else 1))
    months = n * (12 if unit == "y" else 1)
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    return now.replace(year=year, month=month + 1, day=min(now.day, calendar.monthrange(year, month + 1)[1]))


def retention_settings(config_file: str | os.PathLike | None = None) -> Retention:
    """`[retention]` of banyan.toml (nothing kept shorter when there is no file or no table)."""
    path = Path(config_file or os.environ.get("BANYAN_CONFIG", ENV_FILE))
    if not path.exists():
        return Retention()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    table = data.get("retention", {})
    if not isinstance(table, dict):
        raise ConfigError(f'{path}: [retention] must be a table, e.g. audit = "7y"')
    unknown = sorted(set(table) - set(KINDS))
    if unknown:
        raise ConfigError(f"{path}: [retention] knows {', '.join(KINDS)}, not {', '.join(unknown)}")
    for kind, value in table.items():
        if not isinstance(value, str):
            raise ConfigError(f'{path}: [retention] {kind} must be a duration in quotes, e.g. {kind} = "7y"')
        before(datetime.now(timezone.utc), value)          # a bad one fails here, saying where
    return Retention(**table)


@dataclass
class Moved:
    """What one kind moved (or would move): rows per table, and the cutoff."""
    kind: str
    cutoff: datetime | None
    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def _archive_of(name: str) -> str:
    return f"{name}_archive"


Where = Callable[[sa.Table], sa.ColumnElement]


def _copy_then_delete(conn: Connection, name: str, where: Where, dry_run: bool) -> int:
    """Move the rows of table `name` matching `where(table)` into its archive; returns how many."""
    table = sa.Table(name, sa.MetaData(), autoload_with=conn)
    archive = sa.Table(_archive_of(name), sa.MetaData(), autoload_with=conn)
    columns = [c.name for c in archive.columns]
    condition = where(table)
    count = conn.execute(sa.select(sa.func.count()).select_from(table).where(condition)).scalar() or 0
    if count and not dry_run:
        conn.execute(archive.insert().from_select(columns, sa.select(*(table.c[c] for c in columns)).where(condition)))
        conn.execute(table.delete().where(condition))
    return int(count)


def _audit_prefix(conn: Connection, cutoff: datetime) -> Where:
    """Every entry before the first one written at or after the cutoff (all of them if none was)."""
    first_kept = conn.execute(sa.select(sa.func.min(_audit.c.seq)).where(_audit.c.at >= cutoff)).scalar()
    if first_kept is None:
        return lambda t: t.c.seq.is_not(None)
    return lambda t: t.c.seq < first_kept


def _move_kind(conn: Connection, kind: str, cutoff: datetime, dry_run: bool) -> dict[str, int]:
    naive = cutoff.astimezone(timezone.utc).replace(tzinfo=None)
    if kind == "audit":
        return {"banyan_audit": _copy_then_delete(conn, "banyan_audit", _audit_prefix(conn, cutoff), dry_run)}
    if kind == "alerts":
        old = sa.select(_alerts.c.id).where(_alerts.c.status == "closed", _alerts.c.closed_at < naive)
        # the alerts themselves last: their ids pick the events and actions
        return {"banyan_alert_events": _copy_then_delete(conn, "banyan_alert_events",
                                                         lambda t: t.c.alert_id.in_(old), dry_run),
                "banyan_alert_actions": _copy_then_delete(conn, "banyan_alert_actions",
                                                          lambda t: t.c.alert_id.in_(old), dry_run),
                "banyan_alerts": _copy_then_delete(conn, "banyan_alerts",
                                                   lambda t: sa.and_(t.c.status == "closed", t.c.closed_at < naive),
                                                   dry_run)}
    done = sa.select(_instances.c.id).where(_instances.c.status.in_(("finished", "cancelled")),
                                            _instances.c.updated_at < naive)
    return {"banyan_flow_events": _copy_then_delete(conn, "banyan_flow_events",
                                                    lambda t: t.c.instance_id.in_(done), dry_run)}


def archive(engine: Engine, settings: Retention, *, now: datetime | None = None,
            dry_run: bool = False) -> list[Moved]:
    """Move each kind's rows past its retention into the archive tables (or, `dry_run`, count them)."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    missing = _missing_archives(engine)
    if missing:
        raise ConfigError(f"the archive tables {', '.join(missing)} are missing: run `banyan db upgrade` first")
    results = []
    for kind in KINDS:
        cutoff = settings.cutoff(kind, now)
        if cutoff is None:
            results.append(Moved(kind, None, {}))
            continue
        with writing(engine) as conn:
            results.append(Moved(kind, cutoff, _move_kind(conn, kind, cutoff, dry_run)))
    return results


def _missing_archives(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        present = set(sa.inspect(conn).get_table_names())
    wanted = ("banyan_audit", "banyan_alerts", "banyan_alert_events", "banyan_alert_actions", "banyan_flow_events")
    return [_archive_of(n) for n in wanted if _archive_of(n) not in present]


ARCHIVE_EVERY = float(os.environ.get("BANYAN_ARCHIVE_SECONDS", 6 * 3600))


def archive_job(engine: Engine, worker: str) -> int:
    """The scheduled form of `banyan archive` (`fn(engine, worker)` for runtime/jobs'
    `register_job("archive", ARCHIVE_EVERY, archive_job)`): the settings read afresh each run.
    Several workers may run it at once: each kind moves in one transaction, and rows another
    worker moved first are simply gone from the live table. Returns the rows moved."""
    moved = archive(engine, retention_settings())
    total = sum(m.total for m in moved)
    if total:
        log.info("archive: %s moved %s", worker,
                 ", ".join(f"{n} from {t}" for m in moved for t, n in m.rows.items() if n))
    return total
