"""客户移交: a departing person's clients and open flow tasks move to another person in one
audited action — all of it in one transaction, or nothing (see README.md)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dsl.errors import BanyanError
from dsl.kinds.flow.ir import INITIATOR
from runtime.audit import log as audit
from runtime.auth.tables import people, users
from runtime.flows.commands import build
from runtime.flows.service import FlowService
from runtime.flows.store import FlowError
from runtime.flows.tables import instances, task_candidates, tasks
from runtime.flows.tx import FlowTx
from runtime.jobs.changes import source
from runtime.storage.db import writing

CLIENT_FIELDS = ("relationship_manager", "client_manager")      # ref(user) fields naming who looks after a client
SOURCE = "hand-over"
DEFAULT_REASON = "客户移交"


class HandOverError(BanyanError):
    """A hand-over that cannot be done; nothing moved. `problems`: ((task id,), why)."""
    code, status, namespace = "hand_over", 422, "people"

    def __init__(self, why: str, message: str, problems: list[TaskProblem] | None = None, **params: Any):
        super().__init__(message, key=f"people.hand_over.{why}", params=params, problems=problems or [])


@dataclass
class HandOver:
    """What moved (or, in a dry run, would move): records as {entity, id, key, field}, tasks as
    {task, instance, flow, node}; `kept`: tasks that stay, with why; `problems`: tasks that stop
    the hand-over (only a dry run returns them, a real run raises)."""
    from_user: str
    to_user: str
    by: str
    dry_run: bool
    records: list[dict] = field(default_factory=list)
    tasks: list[dict] = field(default_factory=list)
    kept: list[dict] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"from": self.from_user, "to": self.to_user, "by": self.by, "dry_run": self.dry_run,
                "records": self.records, "tasks": self.tasks, "kept": self.kept, "problems": self.problems}


@dataclass(frozen=True)
class TaskProblem:
    """Why one task cannot move, in the reader's language (the flow error's own words)."""
    path: tuple
    error: BanyanError
    code: str = "refused"

    def text(self, lang: str) -> str:
        return self.error.render(lang)


class _DryRun(Exception):
    """Rolls a dry run's transaction back."""


def client_fields(live: Any) -> list[tuple[str, str]]:
    """(entity, field) of every deployed `ref(user)` field that names a client's manager."""
    return [(name, f.name) for name, e in sorted(live.bundle.entities.items()) for f in e.fields
            if f.name in CLIENT_FIELDS and f.type_name == "ref" and f.ref == "user"]


def _known(conn: Connection, name: str, *, active: bool) -> bool:
    if conn.execute(sa.select(people.c.name).where(people.c.name == name)).first() is None:
        return False
    if not active:
        return True
    state = conn.execute(sa.select(users.c.active).where(users.c.name == name)).scalar()
    return state is None or bool(state)


def open_tasks_of(conn: Connection, user: str) -> tuple[list[Any], list[dict]]:
    """`user`'s open tasks that a transfer can move, and those that stay, with why: one held for
    someone else (`on_behalf`: delegated to them, or as a deputy), their own application's edit form
    (`initiator`: the application stays theirs), one waiting for signers added before it (`held`)."""
    rows = conn.execute(sa.select(tasks.c.id, tasks.c.instance_id, tasks.c.flow, tasks.c.node, tasks.c.owner,
                                  tasks.c.held)
                        .join(instances, instances.c.id == tasks.c.instance_id)
                        .where(tasks.c.status == "open", tasks.c.assignee == user, instances.c.status == "running")
                        .order_by(tasks.c.instance_id, tasks.c.id)).all()
    movable, kept = [], []
    for r in rows:
        why = "on_behalf" if r.owner is not None else "initiator" if r.node == INITIATOR else "held" if r.held else None
        if why is None:
            movable.append(r)
        else:
            kept.append({"task": r.id, "instance": r.instance_id, "flow": r.flow, "node": r.node, "why": why,
                         **({"owner": r.owner} if r.owner is not None else {})})
    pools = conn.execute(sa.select(tasks.c.id, tasks.c.instance_id, tasks.c.flow, tasks.c.node)
                         .join(task_candidates, task_candidates.c.task_id == tasks.c.id)
                         .where(tasks.c.status == "open", task_candidates.c.user_name == user)
                         .order_by(tasks.c.id)).all()
    kept += [{"task": r.id, "instance": r.instance_id, "flow": r.flow, "node": r.node, "why": "pool"} for r in pools]
    return movable, kept


def transfer_tasks(tx: FlowTx, rows: list[Any], from_user: str, to_user: str, comment: str) -> tuple[list, list]:
    """Each task a `transfer` by `from_user` to `to_user` in `tx`; (moved, refused with why). A
    refused transfer changes nothing (the engine is pure; nothing is written before it answers)."""
    moved, refused = [], []
    for r in rows:
        cmd = build("transfer", {"task": r.id, "to": to_user, "comment": comment}, actor=from_user, now=tx.now)
        try:
            tx.apply(r.instance_id, cmd, "transfer")
        except FlowError as exc:
            refused.append({"task": r.id, "instance": r.instance_id, "flow": r.flow, "node": r.node,
                            "code": exc.code, "error": exc})
            continue
        moved.append({"task": r.id, "instance": r.instance_id, "flow": r.flow, "node": r.node})
    if moved:
        tx.settle()
    return moved, refused


def hand_over(flows: FlowService, from_user: str, to_user: str, *, by: str | None = None, dry_run: bool = False,
              reason: str | None = None) -> HandOver:
    """Move `from_user`'s clients and open tasks to `to_user`; `by` is the administrator (None:
    the operator). A dry run answers the same, moving nothing."""
    from_user, to_user = (from_user or "").strip(), (to_user or "").strip()
    by = by or audit.operator()
    if from_user == to_user:
        raise HandOverError("same", f"{from_user} cannot hand over to themselves", name=from_user)
    comment = (reason or "").strip() or DEFAULT_REASON
    comment = f"{comment}（{by}）"
    out = HandOver(from_user, to_user, by, dry_run)
    live = flows.records.refresh()
    try:
        with writing(flows.engine) as conn:
            if not _known(conn, from_user, active=False):
                raise HandOverError("unknown", f"no person `{from_user}`", name=from_user)
            if not _known(conn, to_user, active=True):
                raise HandOverError("unknown", f"no active person `{to_user}`", name=to_user)
            with source(SOURCE):
                for entity, name in client_fields(live):
                    t = live.table(entity)
                    key = live.entity(entity).key
                    rows = conn.execute(sa.select(t.c.id, *([t.c[key]] if key else []))
                                        .where(t.c[name] == from_user).order_by(t.c.id)).all()
                    if rows:
                        flows.records.bulk_update(entity, [(r.id, {name: to_user}) for r in rows], actor=by,
                                                  conn=conn)
                        out.records += [{"entity": entity, "id": r.id, "key": r[1] if key else None, "field": name}
                                        for r in rows]
            movable, out.kept = open_tasks_of(conn, from_user)
            tx = FlowTx(conn, flows.directory, flows.records.refresh, flows.calendar, flows.clock())
            out.tasks, refused = transfer_tasks(tx, movable, from_user, to_user, comment)
            out.problems = [{k: v for k, v in p.items() if k != "error"} | {"message": p["error"].render("en")}
                            for p in refused]
            if refused and not dry_run:
                raise HandOverError(
                    "refused", f"{len(refused)} open task(s) of {from_user} cannot go to {to_user}; nothing moved",
                    [TaskProblem((p["task"],), p["error"], p["code"]) for p in refused], count=len(refused),
                    to=to_user)
            audit.append(conn, [audit.AuditEntry(by, "hand_over", "user", None, None,
                                                 json.dumps(out.to_dict(), ensure_ascii=False, default=str))],
                         live.version)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return out
