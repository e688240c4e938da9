"""The deployment registry: plan, deploy, history, diff, rollback, promote.

A deploy is one transaction: the live model is read from the last deployment, the plan is
made against the live rows (under the write lock), the tables are migrated, the new
deployment row and an audit entry are written — or nothing is.

A database under change control (it holds a change request: an environment marked protected has
asked for one) refuses a deploy, rollback or promote made straight to it, whatever door or URL
spelling it comes by (`ProtectedEnvironment`); only an approved change request deploys there
(`change_requests.apply`, through `claim`). The database, not a config file, is what remembers.
"""
from __future__ import annotations

import getpass
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dsl.errors import BanyanError
from runtime.audit import log as audit
from runtime.deploy.migrator import StepHook, apply_changes
from runtime.deploy.plan import Plan, Probe, diff_models, diff_sources, veto_warnings
from runtime.deploy.releases import Release, decode_release, encode_release
from runtime.deploy.table_model import TableModel, model_from_json, model_to_json
from runtime.storage import faults
from runtime.storage.db import WRITE_OPTION, writing
from runtime.storage.migrate import upgrade
from runtime.storage.tables import change_requests as t_change_requests
from runtime.storage.tables import deployments as t_deployments
from runtime.storage.tables import protection as t_protection

_EMPTY = '{"format": 2, "files": {}, "documents": []}'     # history rows leave the files out


class DeployError(BanyanError):
    """A deploy that cannot proceed; `plan` says why."""
    code, status, namespace = "refused", 409, "deploy"

    def __init__(self, message: str, plan: Plan | None = None):
        super().__init__(message)
        self.plan = plan


class DataLossRefused(DeployError):
    code = "data_loss"


class StaleChange(DeployError):
    """An approved change whose environment moved on since it was planned: plan it again."""
    code = "stale_change"


class ProtectedEnvironment(DeployError):
    """A deploy, rollback or promote made straight to a database under change control."""
    code, status = "protected", 403

    def __init__(self, environment: str):
        super().__init__(f"this database is the protected environment `{environment}` (it is under change "
                         f"control): a deploy, rollback or promote here needs a second person's approval; nothing "
                         "was deployed — ask for it with `banyan deploy`, `rollback` or `promote` on this database: "
                         "they open a change request for a second person to approve")
        self.environment = environment


def change_controlled(conn: Connection) -> str | None:
    """The protected environment this database is: the one it was marked (`protect`, the first time
    a maker asked for a change to it), else the one its latest change request names; None when
    neither."""
    marked = conn.execute(sa.select(t_protection.c.environment).where(t_protection.c.id == 1)).scalar()
    if marked is not None:
        return marked
    return conn.execute(sa.select(t_change_requests.c.environment)
                        .order_by(t_change_requests.c.id.desc()).limit(1)).scalar()


class UnknownVersion(DeployError):
    code, status, key = "not_found", 404, "deploy.unknown_version"


@dataclass(frozen=True)
class Deployment:
    version: int
    hash: str
    action: str
    based_on: str | None
    author: str
    message: str
    created_at: datetime
    sources_json: str
    model_json: str

    @property
    def release(self) -> Release:
        return decode_release(self.hash, self.sources_json, model_from_json(self.model_json))

    @property
    def model(self) -> TableModel:
        return model_from_json(self.model_json)


@dataclass(frozen=True)
class DeployOutcome:
    version: int
    applied: bool
    plan: Plan


def default_author() -> str:
    return os.environ.get("BANYAN_ACTOR") or getpass.getuser()


@contextmanager
def ddl_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction for DDL and data. On SQLite, foreign keys are off while tables are rebuilt
    (they cannot be toggled inside a transaction) and checked before the commit."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                yield conn
                if sqlite:
                    bad = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if bad:
                        raise DeployError(f"{len(bad)} reference(s) point at missing records after the change "
                                          f"(first: table {bad[0][0]} row {bad[0][1]} → {bad[0][2]})")
        finally:
            if sqlite:
                conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")


class DeploymentRegistry:
    def __init__(self, engine: Engine, *, migrate: bool = True):
        self.engine = engine
        if migrate:
            upgrade(engine)

    # -- reading ------------------------------------------------------------------------------
    def _row(self, conn: Connection, version: int | None = None) -> Deployment | None:
        q = sa.select(t_deployments)
        q = q.where(t_deployments.c.version == version) if version is not None else \
            q.order_by(t_deployments.c.version.desc()).limit(1)
        r = conn.execute(q).first()
        return None if r is None else Deployment(r.version, r.hash, r.action, r.based_on, r.author, r.message,
                                                 r.created_at, r.sources, r.model)

    def current(self) -> Deployment | None:
        with self.engine.connect() as conn:
            return self._row(conn)

    def get(self, version: int) -> Deployment:
        with self.engine.connect() as conn:
            found = self._row(conn, version)
        if found is None:
            raise UnknownVersion(f"there is no deployment version {version}; `banyan history` lists them")
        return found

    def protected_as(self) -> str | None:
        """The protected environment this database is, or None (`change_controlled`)."""
        with self.engine.connect() as conn:
            return change_controlled(conn)

    def protect(self, environment: str, by: str) -> bool:
        """Mark this database the protected environment `environment` (once: True when marked now,
        with an audit entry; False when it was marked already). From then on a deploy, rollback or
        promote without an approved change request's `claim` is refused, whatever door it comes from."""
        with self.engine.connect() as conn:
            if conn.execute(sa.select(t_protection.c.id).where(t_protection.c.id == 1)).first() is not None:
                return False
        try:
            with writing(self.engine) as conn:
                if conn.execute(sa.select(t_protection.c.id).where(t_protection.c.id == 1)).first() is not None:
                    return False
                conn.execute(t_protection.insert().values(id=1, environment=environment, marked_by=by,
                                                          marked_at=audit.utc_now()))
                version = conn.execute(sa.select(sa.func.max(t_deployments.c.version))).scalar()
                audit.append(conn, [audit.AuditEntry(by, "protect", entity="change_request", after=json.dumps(
                    {"environment": environment}, ensure_ascii=False))], version)
        except sa.exc.IntegrityError:       # another maker marked it at the same moment (PostgreSQL)
            return False
        return True

    def history(self) -> list[Deployment]:
        cols = [c for c in t_deployments.c if c.name not in ("sources", "model")]
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(*cols).order_by(t_deployments.c.version)).all()
        return [Deployment(r.version, r.hash, r.action, r.based_on, r.author, r.message, r.created_at, _EMPTY, "{}")
                for r in rows]

    # -- planning -------------------------------------------------------------------------------
    def _plan(self, conn: Connection | None, live: Deployment | None, release: Release) -> Plan:
        plan = Plan(live.version if live else None, live.hash if live else None, release.hash)
        old = live.release if live else None
        diff_sources(old.document_hashes if old else {}, release.document_hashes, plan)
        plan.files_changed = old is not None and dict(old.files) != dict(release.files)
        plan.changes = diff_models(live.model if live else {}, release.model, Probe(conn))
        if conn is not None:
            plan.warnings = veto_warnings(conn, release.files)
        return plan

    def plan(self, release: Release) -> Plan:
        with self.engine.connect() as conn:
            return self._plan(conn, self._row(conn), release)

    def diff(self, v1: int, v2: int) -> Plan:
        a, b = self.get(v1), self.get(v2)
        return self._plan(None, a, b.release)

    # -- changing -------------------------------------------------------------------------------
    def deploy(self, release: Release, *, author: str | None = None, message: str = "",
               allow_data_loss: bool | Iterable[str] = False, action: str = "deploy", based_on: str | None = None,
               on_step: StepHook | None = None, expect_live: tuple[int | None, str | None] | None = None,
               claim: Callable[[Connection], dict] | None = None,
               recorded: Callable[[Connection, int], None] | None = None) -> DeployOutcome:
        """`expect_live`: the (version, hash) the change was planned against; a live deployment that
        has moved since is refused (`StaleChange`). `claim(conn)` runs first in the deploy's
        transaction (an approved change request takes itself there, so a second worker waits and
        then finds it taken) and returns what the audit entry adds (maker, checker, request);
        `recorded(conn, version)` runs once the deployment row is written. Without `claim`, a
        database under change control refuses (`ProtectedEnvironment`)."""
        author = author or default_author()
        with ddl_transaction(self.engine) as conn:
            if claim is None:
                guarded = change_controlled(conn)
                if guarded is not None:
                    raise ProtectedEnvironment(guarded)
            extra = claim(conn) if claim is not None else {}
            live = self._row(conn)
            if expect_live is not None and (live.version if live else None, live.hash if live else None) != expect_live:
                planned = f"v{expect_live[0]}" if expect_live[0] else "an empty database"
                raise StaleChange(f"the environment moved from {planned} to v{live.version if live else '?'} since "
                                  "this change was planned; nothing was deployed — plan it again and ask for a new "
                                  "approval")
            plan = self._plan(conn, live, release)
            if plan.same:
                return DeployOutcome(live.version, False, plan)
            if plan.conflicts:
                raise DeployError("the change cannot be applied: " + "; ".join(c.conflict for c in plan.conflicts), plan)
            refused = plan.unallowed_losses(allow_data_loss)
            if refused:
                raise DataLossRefused("the deploy would lose data: " + "; ".join(c.loss for c in refused)
                                      + " — rerun with --allow-data-loss to accept", plan)
            apply_changes(conn, live.model if live else {}, release.model, plan.changes, on_step)
            faults.point("deploy.after_migrate")
            version = (live.version if live else 0) + 1
            conn.execute(t_deployments.insert().values(
                version=version, hash=release.hash, action=action, based_on=based_on, author=author,
                message=message, created_at=audit.utc_now(), sources=encode_release(release),
                model=model_to_json(release.model)))
            if recorded is not None:
                recorded(conn, version)
            faults.point("deploy.after_record")
            summary = json.dumps({"version": version, "hash": release.hash, "changes": len(plan.changes), **extra},
                                 ensure_ascii=False)
            audit.append(conn, [audit.AuditEntry(author, action, after=summary)], version)
            if on_step:
                on_step(f"recorded deployment v{version}")
            faults.point("deploy.before_commit")
        return DeployOutcome(version, True, plan)

    def rollback(self, version: int, **kwargs) -> DeployOutcome:
        target = self.get(version)
        return self.deploy(target.release, action="rollback", based_on=str(version),
                           message=kwargs.pop("message", "") or f"rollback to v{version}", **kwargs)

    def promote(self, source: "DeploymentRegistry", source_name: str, **kwargs) -> DeployOutcome:
        live = source.current()
        if live is None:
            raise DeployError(f"nothing is deployed in `{source_name}`")
        return self.deploy(live.release, action="promote", based_on=f"{source_name} v{live.version}",
                           message=kwargs.pop("message", "") or f"promoted from {source_name} v{live.version}",
                           **kwargs)
