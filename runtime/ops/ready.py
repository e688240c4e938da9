"""Readiness: may this process take traffic? Three checks, in order, each cheap:

1. the database answers (`SELECT 1`);
2. Banyan's own tables are at the newest Alembic revision (an older schema means a deploy of a
   newer Banyan has not run `banyan db upgrade` yet; a newer one, an old Banyan on a new schema);
3. a deployment is active (something was deployed: without it every record and flow is a 409).

Liveness is another question (`/health`: the process answers); a load balancer sends traffic only
where `/ready` says yes, and an orchestrator restarts only what `/health` says is dead."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from runtime.storage.migrate import VERSION_TABLE, head_revision
from runtime.storage.tables import deployments

log = logging.getLogger("banyan.ops.ready")
_HEAD: list[str | None] = []


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str | None                  # why not, in words (None when ready)
    checks: dict[str, str] = field(default_factory=dict)     # check -> "ok" or what is wrong
    deployment: int | None = None

    def body(self) -> dict:
        out: dict = {"status": "ready" if self.ready else "not_ready", "checks": self.checks,
                     "deployment": self.deployment}
        if not self.ready:
            out.update(error="not_ready", message=self.reason)
        return out


def _head() -> str | None:
    if not _HEAD:                       # the migration scripts do not change while the process runs
        _HEAD.append(head_revision())
    return _HEAD[0]


def _revision(engine: Engine) -> str | None:
    """The schema's revision, read straight from Alembic's table (Alembic's own reader logs a line
    per call, and a probe calls every few seconds); None before the first upgrade."""
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    except sa.exc.SQLAlchemyError:
        return None


def check(engine: Engine) -> Readiness:
    checks: dict[str, str] = {}
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        log.warning("not ready: the database does not answer: %s", type(exc).__name__)
        checks["database"] = "does not answer"
        return Readiness(False, "the database does not answer", checks)
    checks["database"] = "ok"
    at = _revision(engine)
    head = _head()
    if at != head:
        checks["migrations"] = f"at {at or 'none'}, newest {head}"
        return Readiness(False, f"Banyan's tables are at revision {at or 'none'}, not {head}: "
                                "run `banyan db upgrade`", checks)
    checks["migrations"] = "ok"
    try:                                # the head's number only: compiling its bundle is the first request's work
        with engine.connect() as conn:
            version = conn.execute(sa.select(sa.func.max(deployments.c.version))).scalar()
    except sa.exc.SQLAlchemyError:
        checks["deployment"] = "cannot be read"
        return Readiness(False, "the deployments cannot be read", checks)
    if version is None:
        checks["deployment"] = "none"
        return Readiness(False, "nothing is deployed yet: run `banyan deploy`", checks)
    checks["deployment"] = "ok"
    return Readiness(True, None, checks, version)
