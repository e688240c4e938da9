"""Reading and writing flow instances: the pinned bundle of a deployment version, the instance
row (state JSON + version), the optimistic write, the timeline, the errors the services raise.

All within a caller's transaction; `flow_service` decides where transactions begin and end."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dsl.errors import BanyanError
from engine.flow import CommandRejected, FlowInstance, from_json, to_json
from runtime.deploy import live as _live
from runtime.flows.tables import events, instances
from runtime.storage.prepared import Prepared
from runtime.storage.tables import deployments

try:
    import orjson
except ImportError:                     # pragma: no cover - depends on the environment
    orjson = None

# CommandRejected codes → HTTP status; anything else is 422 (the command itself is wrong).
STATUS = {
    "stale_version": 409, "conflict": 409, "not_running": 409, "already_acted": 409, "task_closed": 409, "already_claimed": 409,
    "already_started": 409, "withdraw_too_late": 409, "task_held": 409, "delegated_task": 409,
    "already_signer": 409, "request_reused": 409, "nothing_deployed": 409, "flow_unavailable": 409, "paused": 409,
    "not_assignee": 403, "four_eyes": 403, "not_allowed": 403, "not_signer": 403,
    "unknown_task": 404, "unknown_timer": 404, "unknown_call": 404, "not_found": 404, "unknown_flow": 404,
    "unknown_subject": 404,
}


class FlowError(BanyanError):
    """A refused flow request: `code` (stable), `message` (for people), an HTTP `status`;
    its words are the catalogue's `flows.<code>`."""
    namespace = "flows"

    def __init__(self, code: str, message: str, status: int | None = None):
        super().__init__(message, code=code, status=status or STATUS.get(code, 422))
        self.args = (f"{code}: {message}",)

    @classmethod
    def of(cls, exc: CommandRejected) -> "FlowError":
        """The engine's refusal as the service's error; words of its own (a function that failed
        on this data: no capital figure, no exchange rate) go with it."""
        err = cls(exc.code, exc.message)
        if exc.key is not None:
            err.key, err.params = exc.key, dict(exc.params)
        return err


def db_time(dt: datetime | None) -> datetime | None:
    """Naive UTC, as every flow table stores time (an aware time is converted, a naive one kept)."""
    if dt is None:
        return None
    return dt.astimezone(timezone.utc).replace(tzinfo=None) if dt.tzinfo else dt


def from_db(dt: datetime | None) -> datetime | None:
    return None if dt is None else (dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt)


def plain(value: Any) -> Any:
    """A JSON-ready copy of a value from the engine (records become their key or name)."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Decimal):
        return str(value)                          # exact, as the records API sends money
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "entity") and hasattr(value, "id") and hasattr(value, "loader"):
        return record_key(value)
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    return str(value)


def record_key(value: Any) -> Any:
    """The key of a record value (a RecordRef/RecordContext or a mapping), else the value."""
    if isinstance(value, (str, int)) or value is None:
        return value
    loader = getattr(value, "loader", None)
    entity = getattr(value, "entity", None)
    if loader is not None and entity is not None:
        key = loader.live.entity(entity).key
        if key and key in value:
            return value[key]
        return getattr(value, "id", None)
    if hasattr(value, "get"):
        return value.get("code", value.get("name", value.get("id")))
    return str(value)


# orjson writes what `plain` would give: anything it does not know natively (Decimal, a record,
# a dict or str subclass, a date or time) goes through `plain`; what it refuses (an integer
# beyond 64 bits, a key that is not text) falls back to the standard encoder. Reading stays
# json.loads: orjson.loads would turn such an integer into a float.
_ORJSON_OPTIONS = 0 if orjson is None else orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS


def _plain_default(value: Any) -> Any:
    for base in (str, int, float):          # a subclass (an enum …) written as its base, as json.dumps does
        if isinstance(value, base):
            return base(value)
    return plain(value)


def dumps(value: Any) -> str:
    """Compact JSON of a value from the engine (events' data, audit summaries), as `plain` reads it."""
    if orjson is not None:
        try:
            return orjson.dumps(value, default=_plain_default, option=_ORJSON_OPTIONS).decode()
        except TypeError:
            pass
    return json.dumps(plain(value), ensure_ascii=False, separators=(",", ":"))


# -- the pinned bundle -------------------------------------------------------------------------
def bundle_at(conn: Connection, version: int) -> Any:
    """The compiled bundle of deployment `version` (compiled once per process: runtime/deploy/live.py)."""
    bundle = _live.bundle_at(conn, version)
    if bundle is None:
        raise FlowError("nothing_deployed", f"deployment v{version} does not exist in this database")
    return bundle


_CURRENT = Prepared(sa.select(sa.func.max(deployments.c.version)))


def current_version(conn: Connection) -> int:
    v = _CURRENT.scalar(conn)
    if v is None:
        raise FlowError("nothing_deployed", "nothing is deployed in this database yet; run `banyan deploy configs`")
    return v


def flow_in(bundle: Any, name: str) -> Any:
    flow = bundle.documents.get(("Flow", name))
    if flow is None and f"Flow/{name}" in bundle.unavailable:
        raise FlowError("flow_unavailable", f"flow `{name}` is unavailable: {bundle.unavailable[f'Flow/{name}']}")
    if flow is None:
        known = sorted(n for k, n in bundle.documents if k == "Flow")
        raise FlowError("unknown_flow", f"no flow `{name}` in this deployment; known: {', '.join(known) or 'none'}")
    return flow


def runnable_flow(bundle: Any, name: str, *, running: bool = False) -> Any:
    """`flow_in`, refusing a flow this Banyan cannot run (runtime/deploy/live.py): it is not started,
    and a command on a `running` instance of it answers `paused` (the instance waits, unchanged)."""
    why = bundle.unavailable.get(f"Flow/{name}")
    if why is not None and running:
        raise FlowError("paused", f"paused: flow `{name}` is unavailable in the deployment this instance runs on "
                                  f"({why}); fix its YAML, redeploy, then move the instance with `banyan flow migrate`")
    if why is not None:
        raise FlowError("flow_unavailable", f"flow `{name}` cannot be started: {why}; fix its YAML and redeploy")
    return flow_in(bundle, name)


# -- instances ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Stored:
    row: Any
    state: FlowInstance

    @property
    def id(self) -> str:
        return self.row.id


_LOAD = Prepared(sa.select(instances).where(instances.c.id == sa.bindparam("k_id")))
# SQLite leaves FOR UPDATE out: its writing transaction holds the database's one write lock already
_LOAD_LOCKED = Prepared(sa.select(instances).where(instances.c.id == sa.bindparam("k_id")).with_for_update())
_INSERT = Prepared(instances.insert(), [c.key for c in instances.c])
_SAVE = Prepared(instances.update()
                 .where(instances.c.id == sa.bindparam("k_id"), instances.c.version == sa.bindparam("k_v"))
                 .values(state=sa.bindparam("state"), version=sa.bindparam("version"), status=sa.bindparam("status"),
                         outcome=sa.bindparam("outcome"), updated_at=sa.bindparam("updated_at")))
_EVENTS = Prepared(events.insert(), ["instance_id", "version", "at", "actor", "kind", "node", "task", "data"])


def encode_state(state: FlowInstance) -> str:
    """The saved text of a state (`to_json`'s plain JSON values), compact."""
    data = to_json(state)
    if orjson is not None:
        try:
            return orjson.dumps(data).decode()
        except TypeError:
            pass
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def load(conn: Connection, instance_id: str, *, lock: bool = False) -> Stored:
    """The instance as stored. `lock`: its row is held until the transaction ends (PostgreSQL's
    `SELECT … FOR UPDATE`), so the commands on one instance — eight committee members voting at
    once — queue and each reads the state the one before it wrote, instead of all reading one
    version and all but one failing the optimistic write. On SQLite a writing transaction holds
    the database's write lock from its start, which serialises them already."""
    row = (_LOAD_LOCKED if lock else _LOAD).first(conn, {"k_id": instance_id})
    if row is None:
        raise FlowError("not_found", f"no flow instance `{instance_id}`")
    return Stored(row, from_json(json.loads(row.state)))


def insert(conn: Connection, state: FlowInstance, version: int, subject: tuple[str | None, str | None],
           now: datetime, parent: tuple[str | None, str | None] = (None, None)) -> None:
    _INSERT.run(conn, {
        "id": state.id, "flow": state.flow, "deployment_version": version, "subject_entity": subject[0],
        "subject_key": None if subject[1] is None else str(subject[1]), "initiator": state.initiator,
        "state": encode_state(state), "version": state.version, "status": state.status,
        "outcome": state.outcome, "parent_id": parent[0], "parent_call": parent[1], "started_at": db_time(now),
        "updated_at": db_time(now)})


def save(conn: Connection, old: Stored, state: FlowInstance, now: datetime, **extra: Any) -> None:
    """Write the new state if nobody wrote since we read it; else a 409 `conflict`."""
    values = {"state": encode_state(state), "version": state.version,
              "status": state.status, "outcome": state.outcome, "updated_at": db_time(now)}
    if extra:
        done = conn.execute(instances.update().where(instances.c.id == old.id, instances.c.version == old.row.version)
                            .values(**values, **extra))
    else:
        done = _SAVE.run(conn, {"k_id": old.id, "k_v": old.row.version, **values})
    if done.rowcount != 1:
        raise FlowError("conflict", f"instance {old.id} changed while this command ran; reload and try again")


# what may happen on an instance between the version a person saw and their decision without it
# making their If-Match stale: other signers' decisions on the same step that edit no field, and
# words that change nothing (a comment, an urge, a copy)
_COMMUTING = frozenset({"approve", "reject", "complete"})
_HARMLESS = frozenset({"comment", "urged", "cc"})
_SINCE = Prepared(sa.select(events.c.kind, events.c.node, events.c.data)
                  .where(events.c.instance_id == sa.bindparam("k_id"), events.c.version > sa.bindparam("k_v")))


def only_votes_since(conn: Connection, instance_id: str, version: int, node: str) -> bool:
    """Whether everything recorded on the instance after `version` is a decision at step `node`
    that edits no field — none given, or all sent back as they were (`unchanged`) — or a comment,
    an urge, a copy: the form is as the person who saw `version` saw it, and their vote commutes
    with those. A step decided since, a field edited, anything else: False."""
    for kind, at, data in _SINCE.all(conn, {"k_id": instance_id, "k_v": version}):
        if kind in _HARMLESS:
            continue
        given = json.loads(data or "{}")
        if kind not in _COMMUTING or at != node or ("fields" in given and not given.get("unchanged")):
            return False
    return True


def append_events(conn: Connection, instance_id: str, version: int, evs: Iterable[Any]) -> None:
    rows = [{"instance_id": instance_id, "version": version, "at": db_time(e.at), "actor": e.actor, "kind": e.kind,
             "node": e.node, "task": e.task, "data": dumps({k: v for k, v in e.data.items() if v is not None})}
            for e in evs]
    _EVENTS.many(conn, rows)
