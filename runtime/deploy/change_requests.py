"""Change requests: a deploy, rollback or promote to a protected environment, waiting for its checker.

A request stores the candidate release exactly as a deployment would (`sources`, `model`), its
bundle hash, and a digest (SHA-256) of the stored text: what the approver approves is that digest,
and `apply` deploys the stored release only while the text still gives it. It also stores the
(version, hash) the plan was made against: when the environment's live deployment has moved
since, `apply` refuses (`StaleChange`) and the request is closed as `refused` — plan it again.

Statuses: `waiting` (the approval flow runs) → `deployed` (with the deployment version and the
checker) | `rejected` (the flow ended without approval) | `refused` (approved, but it could not
run: the environment moved, a table change would now lose data, …; `reason` says why).

Exactly once: `apply` moves the request from `waiting` to `deployed` with a conditional UPDATE
inside the deploy's own transaction, first thing — a second worker waits on that row (PostgreSQL)
or on the write lock (SQLite), then finds it no longer waiting and does nothing. A crash before
the commit leaves both the request and the environment as they were. Every step is in the audit
chain: the request (maker), the deployment (maker, checker, request), a rejection or refusal.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dsl.errors import BanyanError
from runtime.audit import log as audit
from runtime.deploy.deployments import DeployError, DeploymentRegistry, DeployOutcome
from runtime.deploy.releases import Release, decode_release, encode_release
from runtime.deploy.table_model import model_from_json, model_to_json
from runtime.storage.db import writing
from runtime.storage.tables import change_requests

WAITING, DEPLOYED, REJECTED, REFUSED = "waiting", "deployed", "rejected", "refused"


class ChangeError(DeployError):
    """A change request that cannot be made, approved or applied; the message says why. Codes:
    `self_approval`, `tampered`, `settled` (no longer waiting), `no_approval_flow`."""

    def __init__(self, message: str, *, code: str | None = None):
        BanyanError.__init__(self, message, code=code)
        self.plan = None


class UnknownChange(ChangeError):
    code, status, key = "not_found", 404, "deploy.unknown_change"


def digest_of(sources_json: str, model_json: str) -> str:
    return hashlib.sha256(f"{sources_json}\n{model_json}".encode()).hexdigest()


@dataclass(frozen=True)
class ChangeRequest:
    id: int
    environment: str
    action: str
    based_on: str | None
    hash: str
    digest: str
    from_version: int | None
    from_hash: str | None
    allow_data_loss: bool | list[str]
    maker: str
    message: str
    instance_id: str | None
    status: str
    checker: str | None
    version: int | None
    reason: str | None
    created_at: datetime
    decided_at: datetime | None
    sources_json: str = ""
    model_json: str = ""

    @property
    def release(self) -> Release:
        return decode_release(self.hash, self.sources_json, model_from_json(self.model_json))

    def to_dict(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()
                if k not in ("sources_json", "model_json")}


def _request(r: sa.Row) -> ChangeRequest:
    return ChangeRequest(r.id, r.environment, r.action, r.based_on, r.hash, r.digest, r.from_version, r.from_hash,
                         json.loads(r.allow_data_loss), r.maker, r.message, r.instance_id, r.status, r.checker,
                         r.version, r.reason, r.created_at, r.decided_at, getattr(r, "sources", ""),
                         getattr(r, "model", ""))


class ChangeRequests:
    """The change requests of one environment's database (`registry.engine`)."""

    def __init__(self, registry: DeploymentRegistry):
        self.registry, self.engine = registry, registry.engine

    # -- reading ------------------------------------------------------------------------------
    def get(self, request_id: int, *, with_release: bool = False) -> ChangeRequest:
        cols = list(change_requests.c) if with_release else \
            [c for c in change_requests.c if c.name not in ("sources", "model")]
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(*cols).where(change_requests.c.id == request_id)).first()
        if row is None:
            raise UnknownChange(f"there is no change request {request_id}; `banyan changes list` lists them")
        return _request(row)

    def listing(self, statuses: Iterable[str] | None = None) -> list[ChangeRequest]:
        cols = [c for c in change_requests.c if c.name not in ("sources", "model")]
        q = sa.select(*cols).order_by(change_requests.c.id)
        if statuses is not None:
            q = q.where(change_requests.c.status.in_(list(statuses)))
        with self.engine.connect() as conn:
            return [_request(r) for r in conn.execute(q)]

    # -- changing -----------------------------------------------------------------------------
    def open(self, conn: Connection, release: Release, *, environment: str, action: str, based_on: str | None,
             maker: str, message: str, allow_data_loss: bool | Iterable[str], from_version: int | None,
             from_hash: str | None) -> int:
        """Store a waiting request in the caller's transaction (which also starts its approval flow)."""
        sources, model = encode_release(release), model_to_json(release.model)
        allow = True if allow_data_loss is True else sorted(allow_data_loss or ())
        request_id = conn.execute(change_requests.insert().values(
            environment=environment, action=action, based_on=based_on, hash=release.hash,
            digest=digest_of(sources, model), sources=sources, model=model, from_version=from_version,
            from_hash=from_hash, allow_data_loss=json.dumps(allow), maker=maker, message=message,
            status=WAITING, created_at=audit.utc_now())).inserted_primary_key[0]
        return int(request_id)

    def link(self, conn: Connection, request_id: int, instance_id: str) -> None:
        conn.execute(change_requests.update().where(change_requests.c.id == request_id)
                     .values(instance_id=instance_id))
        row = conn.execute(sa.select(change_requests).where(change_requests.c.id == request_id)).one()
        audit.append(conn, [audit.AuditEntry(row.maker, "change_request", entity="change_request",
                                             record_id=request_id, after=json.dumps(_summary(row), ensure_ascii=False))],
                     row.from_version)

    def apply(self, request_id: int, checker: str, on_step=None) -> DeployOutcome:
        """Deploy an approved request's stored release, exactly once (see the module's text)."""
        req = self.get(request_id, with_release=True)
        if req.status != WAITING:
            raise ChangeError(f"change request {request_id} is {req.status}, not waiting", code="settled")
        if checker == req.maker:
            raise ChangeError(f"{checker} made change request {request_id} and cannot also approve it: a second "
                              "person must (maker-checker)", code="self_approval")
        if digest_of(req.sources_json, req.model_json) != req.digest:
            raise ChangeError(f"change request {request_id}: the stored bundle is not the one approved "
                              f"(its digest changed); nothing was deployed", code="tampered")
        release = req.release
        if release.hash != req.hash:
            raise ChangeError(f"change request {request_id}: the stored bundle is {release.hash[:12]}, not the "
                              f"approved {req.hash[:12]}", code="tampered")

        def claim(conn: Connection) -> dict:
            taken = conn.execute(change_requests.update().where(
                change_requests.c.id == request_id, change_requests.c.status == WAITING).values(
                status=DEPLOYED, checker=checker, decided_at=audit.utc_now()))
            if taken.rowcount != 1:
                raise ChangeError(f"change request {request_id} was settled by another worker", code="settled")
            return {"change_request": request_id, "maker": req.maker, "checker": checker}

        def recorded(conn: Connection, version: int) -> None:
            conn.execute(change_requests.update().where(change_requests.c.id == request_id).values(version=version))

        label = {"deploy": "", "rollback": f"rollback to v{req.based_on}", "promote": f"promoted from {req.based_on}"}
        message = "; ".join(m for m in (req.message or label.get(req.action, ""),
                                        f"change request {request_id} by {req.maker}, approved by {checker}") if m)
        out = self.registry.deploy(release, author=req.maker, message=message, allow_data_loss=req.allow_data_loss,
                                   action=req.action, based_on=req.based_on, on_step=on_step,
                                   expect_live=(req.from_version, req.from_hash), claim=claim,
                                   recorded=recorded)
        if not out.applied:                  # it is live already (the claim above committed with it)
            with writing(self.engine) as conn:
                conn.execute(change_requests.update().where(change_requests.c.id == request_id)
                             .values(version=out.version, reason="already deployed"))
        return out

    def close(self, request_id: int, status: str, by: str | None, reason: str, *, version: int | None = None) -> bool:
        """Settle a waiting request as rejected or refused, with the audit entry; False when it was
        no longer waiting (another worker settled it)."""
        with writing(self.engine) as conn:
            done = conn.execute(change_requests.update().where(
                change_requests.c.id == request_id, change_requests.c.status == WAITING).values(
                status=status, checker=by, reason=reason, version=version, decided_at=audit.utc_now()))
            if done.rowcount != 1:
                return False
            row = conn.execute(sa.select(change_requests).where(change_requests.c.id == request_id)).one()
            audit.append(conn, [audit.AuditEntry(by or "system", f"change_{status}"[:16], entity="change_request",
                                                 record_id=request_id,
                                                 after=json.dumps({**_summary(row), "checker": by, "reason": reason},
                                                                  ensure_ascii=False))], row.from_version)
        return True


def _summary(row: sa.Row) -> dict:
    return {"environment": row.environment, "action": row.action, "hash": row.hash, "digest": row.digest,
            "from_version": row.from_version, "maker": row.maker, "instance": row.instance_id,
            "status": row.status}
