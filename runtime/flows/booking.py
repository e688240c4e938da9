"""A flow's `record` action carried out (engine/flow/record_write.py's `RecordWrite`): one record
written through the records service, inside the step's own transaction, so the step and the
record land together or not at all.

The flow is the actor (`flow:<name>`) and every change is marked `flow:<instance>` in the change
feed (`runtime.jobs.changes.source`). The write passes the initiator's org scope (a person who
signs in; the system and a test directory's people are not scoped): the flow books only what
its initiator could. The record whose fields equal `match` is changed to `values` (the same
values again change nothing: a step run twice books once); with none, one is created from both,
its key — when neither gives it — the next free number of the key field's `pattern`
(`^F[0-9]{6}$` → F000001, F000002 …). Anything the records service refuses (a field rule, a
record out of scope, two records matching) is the flow problem `record_failed` naming the step,
the entity and every problem; the savepoint and the command's transaction roll back whole."""
from __future__ import annotations

import re
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dsl.errors import BanyanError
from engine.flow.record_write import RecordWrite
from runtime.auth.scope import scope_for
from runtime.auth.users import UserStore
from runtime.deploy.live import LiveModel
from runtime.flows.directory import org_tree
from runtime.flows.store import FlowError, record_key
from runtime.jobs import changes
from runtime.records.service import Records
from runtime.records.store import keys_to_ids

NUMBERED = re.compile(r"^\^([A-Za-z_-]*)\[0-9\]\{(\d+)\}\$$")
TRIES = 3                   # a key number another transaction took meanwhile is counted again


def write_record(conn: Connection, live: LiveModel, e: RecordWrite, *, instance_id: str, flow: str,
                 initiator: str) -> None:
    records = Records(conn.engine, live)
    actor = f"flow:{flow}"
    scope = _scope(conn, live, initiator)
    match, values = plain_values(e.match), plain_values(e.values)
    for attempt in range(TRIES):
        try:
            with conn.begin_nested(), changes.source(f"flow:{instance_id}"):
                found = matching(conn, records, live, e.entity, match, limit=2)
                if len(found) > 1:
                    raise FlowError("record_failed", f"step `{e.node}`: {len(found)} {e.entity} records match "
                                                     f"{_show(match)}; it writes one")
                if found:
                    records.update(e.entity, found[0], values, actor=actor, conn=conn, scope=scope)
                else:
                    new = {**match, **values}
                    key = live.entity(e.entity).key
                    if key and new.get(key) is None:
                        new[key] = _next_key(conn, live, e.entity, key)
                    records.bulk_create(e.entity, [new], actor=actor, conn=conn, scope=scope)
            return
        except sa.exc.IntegrityError:
            if attempt == TRIES - 1:
                raise FlowError("record_failed", f"step `{e.node}` could not number a new {e.entity} record; "
                                                 "try again") from None
        except FlowError:
            raise
        except BanyanError as exc:
            problems = getattr(exc, "problems", None) or []
            why = "; ".join(f"{'.'.join(map(str, p.path)) or e.entity}: {p.message or p.code}" for p in problems)
            why = why or getattr(exc, "message", "") or exc.code
            raise FlowError("record_failed", f"step `{e.node}` could not write the {e.entity} record: {why}") from None


def plain_values(values: Mapping[str, Any]) -> dict:
    """The engine's values as the records service reads them: a record as its key."""
    return {k: record_key(v) if hasattr(v, "loader") else v for k, v in values.items()}


def _show(match: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in match.items()) or "(anything)"


def _scope(conn: Connection, live: LiveModel, initiator: str) -> Any:
    user = UserStore(conn.engine).get(initiator, conn)
    return None if user is None else scope_for(org_tree(live.bundle), user)


def matching(conn: Connection, records: Records, live: LiveModel, entity: str, match: Mapping[str, Any],
             limit: int | None = None) -> list[int]:
    """Ids of the records of `entity` whose fields equal `match`, read in this transaction (the
    values pass the entity's field rules first: `'active'`, a record's key, `5亿`)."""
    t, rules = live.table(entity), records.rules(entity)
    problems: list = []
    values = rules.convert(dict(match), problems)
    if problems:
        raise FlowError("record_failed", f"cannot look up the {entity} record: " +
                        "; ".join(f"{'.'.join(map(str, p.path))}: {p.message or p.code}" for p in problems))
    conds = []
    for name, v in values.items():
        if name in rules.refs and v is not None:
            v = keys_to_ids(conn, live, rules.refs[name], [v]).get(v, -1)
        conds.append(t.c[name].is_(None) if v is None else t.c[name] == v)
    q = sa.select(t.c.id).where(*conds).order_by(t.c.id)
    return list(conn.execute(q if limit is None else q.limit(limit)).scalars())


def _next_key(conn: Connection, live: LiveModel, entity: str, key: str) -> Any:
    """The next free number of a key written `^PREFIX[0-9]{N}$`; None (the field rules then say
    the key is missing) for any other key."""
    field = next((f for f in live.bundle.entities[entity].fields if f.name == key), None)
    m = NUMBERED.match(getattr(field, "pattern", None) or "")
    if m is None:
        return None
    prefix, width = m.group(1), int(m.group(2))
    col = live.table(entity).c[key]
    top = conn.execute(sa.select(sa.func.max(col)).where(col.like(f"{prefix}%"),
                                                         sa.func.length(col) == len(prefix) + width)).scalar()
    number = int(top[len(prefix):]) + 1 if top and top[len(prefix):].isdigit() else 1
    return f"{prefix}{number:0{width}d}"
