"""Moving running instances to a newer deployment of their flow, by a validated plan.

A plan maps old node ids to new ones (a node kept under the same id maps to itself). It is
checked against every instance it would move: each live token's node, each open split's split
and join node must map to a node of the new version of the same type; anything else is a
problem naming the instance and the node. `migrate(..., dry_run=True)` gives the plan and its
problems; without dry run, a plan with no problems is applied in one transaction (state
rewritten, version bumped, tasks renamed, a `migrated` event and an audit entry per instance)
and a plan with problems changes nothing."""
from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.flow import Event, FlowInstance, from_json
from engine.flow.plan import plan_for
from runtime.audit import log as audit
from runtime.flows.store import FlowError, Stored, append_events, bundle_at, dumps, flow_in, save
from runtime.flows.tables import instances, tasks
from runtime.storage.db import writing


def _targets(state: FlowInstance) -> list[tuple[str, str]]:
    """(what, old node) the instance's live state rests on."""
    out = [("token", t.node) for t in state.tokens.values()]
    out += [("resubmission", t.back) for t in state.tokens.values() if t.back is not None]
    for s in state.splits.values():
        out += [("split", s.node), ("join", s.join)]
    return out


def plan(conn: Connection, flow: str, to_version: int, mapping: Mapping[str, str],
         only: list[str] | None = None) -> dict:
    new = plan_for(flow_in(bundle_at(conn, to_version), flow)).nodes   # the initiator's edit step included
    q = sa.select(instances).where(instances.c.flow == flow, instances.c.status == "running",
                                   instances.c.deployment_version != to_version)
    if only:
        q = q.where(instances.c.id.in_(only))
    problems, moves = [], []
    for row in conn.execute(q.order_by(instances.c.id)):
        old = plan_for(flow_in(bundle_at(conn, row.deployment_version), flow)).nodes
        state = from_json(json.loads(row.state))
        moved = {}
        for what, node in _targets(state):
            target = mapping.get(node, node)
            if target not in new:
                problems.append({"instance": row.id, "node": node, "problem":
                                 f"the {what} at `{node}` has no node in v{to_version}"
                                 + ("" if node in mapping else "; map it to one")})
            elif new[target].type != old[node].type:
                problems.append({"instance": row.id, "node": node, "problem":
                                 f"`{node}` is a {old[node].type}, `{target}` in v{to_version} is a "
                                 f"{new[target].type}"})
            else:
                moved[node] = target
        moves.append({"instance": row.id, "from_version": row.deployment_version, "nodes": moved})
    unknown = sorted(k for k in mapping if not any(k in m["nodes"] for m in moves))
    return {"flow": flow, "to_version": to_version, "mapping": dict(mapping), "instances": moves,
            "problems": problems, "unused_mapping": unknown, "ok": not problems}


def _moved(state: FlowInstance, nodes: Mapping[str, str]) -> FlowInstance:
    def m(n: str) -> str:
        return nodes.get(n, n)
    return dataclasses.replace(
        state, version=state.version + 1,
        tokens={k: dataclasses.replace(t, node=m(t.node), back=t.back and m(t.back)) for k, t in state.tokens.items()},
        tasks={k: dataclasses.replace(t, node=m(t.node)) for k, t in state.tasks.items()},
        splits={k: dataclasses.replace(s, node=m(s.node), join=m(s.join)) for k, s in state.splits.items()},
        handoffs=())                     # a withdrawal does not reach back across versions


def apply_plan(conn: Connection, result: dict, actor: str, now: datetime) -> None:
    for move in result["instances"]:
        row = conn.execute(sa.select(instances).where(instances.c.id == move["instance"])).first()
        stored = Stored(row, from_json(json.loads(row.state)))
        state = _moved(stored.state, move["nodes"])
        save(conn, stored, state, now, deployment_version=result["to_version"])
        for old, new in move["nodes"].items():
            if old != new:
                conn.execute(tasks.update().where(tasks.c.instance_id == row.id, tasks.c.node == old,
                                                  tasks.c.status == "open").values(node=new))
        data = {"from_version": move["from_version"], "to_version": result["to_version"], "nodes": move["nodes"]}
        append_events(conn, row.id, state.version, [Event("migrated", now, actor, data=data)])
        audit.append(conn, [audit.AuditEntry(actor, "flow", "flow_instance", None, None,
                                             dumps({"instance": row.id, "command": "migrate", **data}))],
                     result["to_version"])


def migrate(engine: Any, flow: str, to_version: int, mapping: Mapping[str, str], *, actor: str, now: datetime,
            dry_run: bool = True, only: list[str] | None = None) -> dict:
    if not isinstance(mapping, Mapping) or not all(isinstance(k, str) and isinstance(v, str)
                                                   for k, v in mapping.items()):
        raise FlowError("invalid", "the node mapping must be an object {old node: new node}")
    with writing(engine) as conn:
        result = plan(conn, flow, to_version, mapping, only)
        if dry_run:
            return {**result, "applied": False}
        if not result["ok"]:
            first = result["problems"][0]
            raise FlowError("invalid_migration", f"{len(result['problems'])} problem(s), nothing was moved; first: "
                                                 f"instance {first['instance']}: {first['problem']}")
        apply_plan(conn, result, actor, now)
        return {**result, "applied": True}
