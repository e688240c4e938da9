"""Read side of the flows: an instance as the API shows it, its timeline, a task with what its
step allows, the inbox — mine, my roles' unclaimed pool, CC'd to me, overdue, done — with
the count of every box in one round trip each, and the requests a person started."""
from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dsl.values import percent_fields, write_value
from engine.flow import FlowInstance
from engine.flow.commands import SYSTEM
from engine.flow.work import SYSTEM_KINDS
from runtime.flows.store import db_time, from_db, plain
from runtime.flows.tables import ccs, events, instances, task_candidates, tasks

BOXES = ("mine", "pool", "cc", "overdue", "done")


def iso(dt: datetime | None) -> str | None:
    dt = from_db(dt)
    return None if dt is None else dt.isoformat()


def instance_view(row: Any, state: FlowInstance) -> dict:
    """What a client needs to act: status, version (for If-Match), form, open tasks, where it is."""
    return {
        "id": row.id, "flow": row.flow, "deployment_version": row.deployment_version,
        "subject": {"entity": row.subject_entity, "key": row.subject_key}, "initiator": row.initiator,
        "status": state.status, "outcome": state.outcome, "version": state.version,
        "started_at": iso(row.started_at), "parent": row.parent_id,
        "form": plain(dict(state.form)),
        "current_nodes": sorted({t.node for t in state.tokens.values()}),
        "tasks": [{"id": t.id, "node": t.node, "assignee": t.assignee, "candidates": list(t.candidates),
                   "owner": t.owner, "held": t.held} for t in state.tasks.values()],
        "watchers": list(state.watchers),
    }


def form_percents(form_doc: Any) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """The percent fields of a Form document: (top-level names, {table: its percent columns})."""
    if form_doc is None:
        return (), {}
    top = percent_fields(f.field for f in form_doc.fields if not f.columns)
    tables = {f.name: percent_fields(c.field for c in f.columns) for f in form_doc.fields if f.columns}
    return top, {name: cols for name, cols in tables.items() if cols}


def wire_form(percents: tuple[tuple[str, ...], dict[str, tuple[str, ...]]], form: Mapping[str, Any]) -> dict:
    """An instance view's `form` as the JSON API sends it: percents as their points ("70" for 70%),
    what the API reads back as the same value (dsl/values `write_value`). The view itself keeps
    the fraction ("0.70"), as the engine and the pages hold it; `percents` is `form_percents(doc)`."""
    top, tables = percents
    if not top and not tables:
        return dict(form)
    out = {k: _points(v) if k in top else v for k, v in form.items()}
    for name, cols in tables.items():
        rows = out.get(name)
        if isinstance(rows, list):
            out[name] = [{k: _points(v) if k in cols else v for k, v in row.items()} if isinstance(row, Mapping)
                         else row for row in rows]
    return out


def _points(value: Any) -> Any:
    """A percent as `plain` left it (the fraction as text, or a number) → its points."""
    if isinstance(value, str):
        try:
            value = Decimal(value)
        except InvalidOperation:
            return value            # not a stored fraction: sent as it is
    return write_value("percent", value)


def timeline(conn: Connection, instance_id: str) -> list[dict]:
    """The instance's events in order. What the engine did by itself (a step opened, a join, a
    timer, an automatic action, a task cancelled …) is the system's, also in rows written before
    the engine said so: never the person whose command set it going."""
    rows = conn.execute(sa.select(events).where(events.c.instance_id == instance_id).order_by(events.c.id))
    return [{"at": iso(r.at), "actor": SYSTEM if r.kind in SYSTEM_KINDS else r.actor, "kind": r.kind,
             "node": r.node, "task": r.task, "version": r.version, "data": json.loads(r.data)} for r in rows]


def last_return(conn: Connection, instance_id: str) -> dict | None:
    """The latest return of the instance (who sent it back from which step, why, when)."""
    r = conn.execute(sa.select(events).where(events.c.instance_id == instance_id, events.c.kind == "returned")
                     .order_by(events.c.id.desc()).limit(1)).first()
    if r is None:
        return None
    data = json.loads(r.data)
    return {"by": r.actor, "node": r.node, "at": iso(r.at), "comment": data.get("comment"), "to": data.get("to")}


def child_of(conn: Connection, parent_id: str, call: str) -> Any:
    return conn.execute(sa.select(instances.c.id, instances.c.status, instances.c.initiator)
                        .where(instances.c.parent_id == parent_id, instances.c.parent_call == call)).first()


def _box(user: str, box: str, now: datetime) -> Any:
    """The WHERE clause of one inbox box over tasks (cc is over the cc table)."""
    is_open = tasks.c.status == "open"
    mine = sa.and_(tasks.c.assignee == user, tasks.c.held.is_(False))
    pool = sa.and_(tasks.c.assignee.is_(None), tasks.c.id.in_(
        sa.select(task_candidates.c.task_id).where(task_candidates.c.user_name == user)))
    if box == "mine":
        return sa.and_(is_open, mine)
    if box == "pool":
        return sa.and_(is_open, pool)
    if box == "overdue":
        return sa.and_(is_open, sa.or_(mine, pool), tasks.c.due_at < db_time(now))
    if box == "done":
        return sa.and_(tasks.c.status == "done", tasks.c.closed_by == user)
    raise ValueError(box)


def inbox(conn: Connection, user: str, box: str, now: datetime, limit: int, offset: int) -> dict:
    counts = {b: _count(conn, user, b, now) for b in BOXES}
    if box == "cc":
        q = (sa.select(ccs, instances.c.flow, instances.c.status, instances.c.subject_key)
             .join(instances, instances.c.id == ccs.c.instance_id).where(ccs.c.user_name == user)
             .order_by(ccs.c.id.desc()).limit(limit).offset(offset))
        items = [{"instance": r.instance_id, "flow": r.flow, "node": r.node, "task": r.task, "by": r.by,
                  "at": iso(r.at), "status": r.status, "subject": r.subject_key} for r in conn.execute(q)]
    else:
        order = ((tasks.c.closed_at.desc(), tasks.c.id) if box == "done"
                 else (tasks.c.due_at.is_(None), tasks.c.due_at, tasks.c.id))
        q = (sa.select(tasks, instances.c.subject_key, instances.c.initiator, instances.c.version)
             .join(instances, instances.c.id == tasks.c.instance_id).where(_box(user, box, now))
             .order_by(*order).limit(limit).offset(offset))
        items = [_task_item(r, now) for r in conn.execute(q)]
    return {"user": user, "box": box, "items": items, "total": counts[box], "counts": counts}


def _count(conn: Connection, user: str, box: str, now: datetime) -> int:
    if box == "cc":
        return conn.execute(sa.select(sa.func.count()).select_from(ccs).where(ccs.c.user_name == user)).scalar()
    return conn.execute(sa.select(sa.func.count()).select_from(tasks).where(_box(user, box, now))).scalar()


def _task_item(r: Any, now: datetime) -> dict:
    due = r.due_at
    return {"task": r.id, "instance": r.instance_id, "flow": r.flow, "node": r.node, "assignee": r.assignee,
            "owner": r.owner, "status": r.status, "due_at": iso(due),
            "overdue": r.status == "open" and due is not None and due < db_time(now),
            "created_at": iso(r.created_at), "closed_at": iso(r.closed_at), "subject": r.subject_key,
            "initiator": r.initiator, "instance_version": r.version}


def started_by(conn: Connection, user: str, limit: int, offset: int) -> dict:
    """The instances `user` started, newest first, and how many there are (limit 0: the count only)."""
    where = instances.c.initiator == user
    total = conn.execute(sa.select(sa.func.count()).select_from(instances).where(where)).scalar() or 0
    rows = conn.execute(sa.select(instances.c.id, instances.c.flow, instances.c.subject_entity,
                                  instances.c.subject_key, instances.c.status, instances.c.outcome,
                                  instances.c.started_at)
                        .where(where).order_by(instances.c.started_at.desc(), instances.c.id)
                        .limit(limit).offset(offset)).all() if limit and total > offset else []
    return {"total": total, "items": [
        {"instance": r.id, "flow": r.flow, "subject": r.subject_key, "subject_entity": r.subject_entity,
         "status": r.status, "outcome": r.outcome, "at": iso(r.started_at)} for r in rows]}


def task_row(conn: Connection, task_id: str) -> Any:
    return conn.execute(sa.select(tasks).where(tasks.c.id == task_id)).first()


def step_rules(node: Any, plan: Any = None) -> dict:
    """What a task page needs from its step: label, type, the actions it offers (`return` only
    where it has a legal target, with `plan`), field access, countersign, the actions that need a
    reason (`reason_required`) and the legal return targets (`returns`; `initiator`: the
    initiator's edit form)."""
    fields = getattr(node, "fields", None)
    cs = getattr(node, "countersign", None)
    actions = plan.actions(node.id) if plan is not None else getattr(node, "actions", ())
    return {"node": node.id, "type": node.type, "label": {"zh": node.label.zh, "en": node.label.en},
            "actions": list(actions),
            "reason_required": [a for a in getattr(node, "reason_required", ()) if a in actions],
            "returns": list(plan.return_targets(node.id)) if plan is not None else [],
            "fields": None if fields is None else {"editable": list(fields.editable), "readonly": list(fields.readonly),
                                                   "hidden": list(fields.hidden), "required": list(fields.required)},
            "countersign": None if cs is None else {"mode": cs.mode, "veto_roles": list(cs.veto_roles),
                                                    "pass": None if cs.pass_ratio is None else str(cs.pass_ratio)},
            "return_to": list(getattr(node, "return_to", ()))}


# -- instances waiting on record events (runtime/flows/events.py) ------------------------------
def running_flows(conn: Connection) -> list[tuple[str, int]]:
    """Each (flow, deployment version) some running instance runs, once (index `…_running`)."""
    q = sa.select(instances.c.flow, instances.c.deployment_version).where(instances.c.status == "running").distinct()
    return [(r.flow, r.deployment_version) for r in conn.execute(q)]


def running_of(conn: Connection, flows: list[tuple[str, int]], subject: tuple[str, str] | None = None) -> list[str]:
    """The ids of the running instances of `flows` ((flow, version) pairs); with `subject`
    (entity, key), only those about that record."""
    q = sa.select(instances.c.id).where(instances.c.status == "running",
                                        sa.tuple_(instances.c.flow, instances.c.deployment_version).in_(flows))
    if subject is not None:
        q = q.where(instances.c.subject_entity == subject[0], instances.c.subject_key == subject[1])
    return list(conn.execute(q.order_by(instances.c.started_at, instances.c.id)).scalars())


def waiting_since(conn: Connection, instance_id: str, node: str) -> datetime | None:
    """When the instance last began waiting at wait step `node` (its newest `waiting` event), naive UTC."""
    return conn.execute(sa.select(sa.func.max(events.c.at)).where(
        events.c.instance_id == instance_id, events.c.kind == "waiting", events.c.node == node)).scalar()


# -- the inbox page: search, sort, amount (runtime/web/inbox.py through FlowService.inbox_page) ---
INBOX_SORTS = ("due", "received", "amount")


def _form_amount(conn: Connection, amount_fields: Mapping[str, str]) -> Any:
    """The amount of an instance's form as text (the flow's money field in `amount_fields`, read
    from the stored state: `{"$dec": "…"}`), NULL for a flow without one. One CASE over the flow."""
    if not amount_fields:
        return sa.null()
    state = (sa.cast(instances.c.state, sa.JSON) if conn.dialect.name == "postgresql"
             else sa.type_coerce(instances.c.state, sa.JSON))

    def value(field: str) -> Any:
        return sa.func.coalesce(state[("form", field, "$dec")].as_string(), state[("form", field)].as_string())
    return sa.case(*[(instances.c.flow == flow, value(field)) for flow, field in sorted(amount_fields.items())],
                   else_=sa.null())


def _search_where(match: Mapping[str, Any] | None, node_col: Any) -> Any:
    """`match` ({"steps": [(flow, node)], "initiators": [...], "subjects": [...], "flows": [...]}):
    an item matches when any of them does (the page resolved the typed text to these sets)."""
    if match is None:
        return sa.true()
    parts = []
    if match.get("steps"):
        parts.append(sa.tuple_(instances.c.flow, node_col).in_([tuple(p) for p in match["steps"]]))
    if match.get("initiators"):
        parts.append(instances.c.initiator.in_(list(match["initiators"])))
    if match.get("subjects"):
        parts.append(instances.c.subject_key.in_([str(k) for k in match["subjects"]]))
    if match.get("flows"):
        parts.append(instances.c.flow.in_(list(match["flows"])))
    return sa.or_(*parts) if parts else sa.false()


def inbox_page(conn: Connection, user: str, box: str, now: datetime, limit: int, offset: int, *,
               match: Mapping[str, Any] | None = None, sort: str = "due",
               amount_fields: Mapping[str, str] | None = None) -> dict:
    """One page of a box (the BOXES and `started`), filtered by `match` (see `_search_where`) and
    sorted by `sort` (due: the oldest deadline first; received: the newest first; amount: the
    largest first), with each item's `amount` (text, or None) and the total that matched."""
    amount = _form_amount(conn, amount_fields or {})
    amount_num = sa.cast(amount, sa.Numeric(30, 6))
    if box == "started":
        where = sa.and_(instances.c.initiator == user, _search_where(match, sa.literal(None)))
        received = instances.c.started_at
        q = sa.select(instances.c.id, instances.c.flow, instances.c.subject_entity, instances.c.subject_key,
                      instances.c.status, instances.c.outcome, instances.c.started_at, instances.c.initiator,
                      instances.c.version, amount.label("amount")).where(where)
        count_q = sa.select(sa.func.count()).select_from(instances).where(where)
    elif box == "cc":
        where = sa.and_(ccs.c.user_name == user, _search_where(match, ccs.c.node))
        received = ccs.c.at
        q = (sa.select(ccs, instances.c.flow, instances.c.status, instances.c.subject_key, instances.c.initiator,
                       amount.label("amount")).join(instances, instances.c.id == ccs.c.instance_id).where(where))
        count_q = sa.select(sa.func.count()).select_from(ccs.join(instances, instances.c.id == ccs.c.instance_id)) \
            .where(where)
    else:
        where = sa.and_(_box(user, box, now), _search_where(match, tasks.c.node))
        received = tasks.c.created_at
        q = (sa.select(tasks, instances.c.subject_key, instances.c.initiator, instances.c.version,
                       amount.label("amount")).join(instances, instances.c.id == tasks.c.instance_id).where(where))
        count_q = sa.select(sa.func.count()).select_from(tasks.join(instances, instances.c.id == tasks.c.instance_id)) \
            .where(where)
    key = q.selected_columns[0]
    if sort == "amount":
        order = (amount_num.is_(None), amount_num.desc(), received.desc(), key)
    elif sort == "received" or box in ("cc", "started"):
        order = (received.desc(), key)
    elif box == "done":
        order = (tasks.c.closed_at.desc(), key)
    else:
        order = (tasks.c.due_at.is_(None), tasks.c.due_at, key)
    rows = conn.execute(q.order_by(*order).limit(limit).offset(offset)).all()
    total = conn.execute(count_q).scalar() or 0
    if box == "started":
        items = [{"instance": r.id, "flow": r.flow, "subject": r.subject_key, "subject_entity": r.subject_entity,
                  "status": r.status, "outcome": r.outcome, "at": iso(r.started_at), "initiator": r.initiator,
                  "instance_version": r.version, "amount": r.amount} for r in rows]
    elif box == "cc":
        items = [{"instance": r.instance_id, "flow": r.flow, "node": r.node, "task": r.task, "by": r.by,
                  "at": iso(r.at), "status": r.status, "subject": r.subject_key, "initiator": r.initiator,
                  "amount": r.amount} for r in rows]
    else:
        items = [{**_task_item(r, now), "amount": r.amount} for r in rows]
    return {"user": user, "box": box, "items": items, "total": total}


def open_steps(conn: Connection, instance_ids: list[str]) -> dict[str, list[dict]]:
    """{instance id: its open tasks (node, held, flow, initiator, deployment version)}: what an inbox row needs to
    know whether its instance has a step that may be urged."""
    if not instance_ids:
        return {}
    q = (sa.select(tasks.c.instance_id, tasks.c.node, tasks.c.held, instances.c.flow, instances.c.initiator,
                   instances.c.deployment_version)
         .join(instances, instances.c.id == tasks.c.instance_id)
         .where(tasks.c.instance_id.in_(instance_ids), tasks.c.status == "open"))
    out: dict[str, list[dict]] = {}
    for r in conn.execute(q):
        out.setdefault(r.instance_id, []).append({"node": r.node, "held": bool(r.held), "flow": r.flow,
                                                  "initiator": r.initiator,
                                                  "deployment_version": r.deployment_version})
    return out


def running_about(conn: Connection, flow: str, subject_key: Any) -> str | None:
    """The oldest running instance of `flow` about the record with key `subject_key`, if any."""
    return conn.execute(sa.select(instances.c.id).where(
        instances.c.flow == flow, instances.c.status == "running",
        instances.c.subject_key == (None if subject_key is None else str(subject_key)))
        .order_by(instances.c.started_at, instances.c.id).limit(1)).scalar()


# -- the flows running about a set of records (the 360° page's `flows` section, runtime/views) -----
def running_about_records(conn: Connection, subjects: Mapping[str, list[str]], limit: int = 500) -> list[dict]:
    """The running instances about any of `subjects` ({entity: [key, …]}), newest first, at most
    `limit`, each with its open tasks (step, holder or pool candidates, deadline): one query for the
    instances per 500 keys (index `…_subject`), one for their tasks and one for the candidates."""
    found: list[Any] = []
    for entity, keys in subjects.items():
        keys = sorted({str(k) for k in keys if k not in (None, "")})
        for start in range(0, len(keys), 500):
            found += conn.execute(sa.select(instances.c.id, instances.c.flow, instances.c.deployment_version,
                                            instances.c.subject_entity, instances.c.subject_key, instances.c.initiator,
                                            instances.c.started_at)
                                  .where(instances.c.status == "running", instances.c.subject_entity == entity,
                                         instances.c.subject_key.in_(keys[start:start + 500]))).all()
    found.sort(key=lambda r: (r.started_at, r.id), reverse=True)
    found = found[:limit]
    out = {r.id: {"instance": r.id, "flow": r.flow, "deployment_version": r.deployment_version,
                  "subject": {"entity": r.subject_entity, "key": r.subject_key}, "initiator": r.initiator,
                  "started_at": iso(r.started_at), "tasks": []} for r in found}
    ids = list(out)
    open_tasks: dict[str, dict] = {}
    for start in range(0, len(ids), 500):
        for t in conn.execute(sa.select(tasks.c.id, tasks.c.instance_id, tasks.c.node, tasks.c.assignee, tasks.c.due_at)
                              .where(tasks.c.instance_id.in_(ids[start:start + 500]), tasks.c.status == "open")
                              .order_by(tasks.c.created_at, tasks.c.id)):
            task = {"id": t.id, "node": t.node, "assignee": t.assignee, "candidates": [], "due_at": iso(t.due_at)}
            out[t.instance_id]["tasks"].append(task)
            open_tasks[t.id] = task
    pool = [k for k, v in open_tasks.items() if v["assignee"] is None]
    for start in range(0, len(pool), 500):
        for c in conn.execute(sa.select(task_candidates.c.task_id, task_candidates.c.user_name)
                              .where(task_candidates.c.task_id.in_(pool[start:start + 500]))
                              .order_by(task_candidates.c.user_name)):
            open_tasks[c.task_id]["candidates"].append(c.user_name)
    return list(out.values())
