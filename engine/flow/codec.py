"""FlowInstance ⇄ JSON-ready dicts. Dates, times, decimals and fractions in the form are
tagged ({"$dt": …}), so a round trip gives back an equal state. Every saved state carries its
`format`; an older one is brought up to date first (state_format.py)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .state import FlowInstance, Handoff, Scope, Split, Step, Task, Timer, Token
from .state_format import FORMAT, upgrade


def encode_value(v: Any) -> Any:
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, datetime):
        return {"$dt": v.isoformat()}
    if isinstance(v, date):
        return {"$date": v.isoformat()}
    if isinstance(v, Decimal):
        return {"$dec": str(v)}
    if isinstance(v, Fraction):
        return {"$frac": str(v)}
    if isinstance(v, (list, tuple)):
        return [encode_value(x) for x in v]
    if isinstance(v, dict):
        if len(v) == 1 and next(iter(v)).startswith("$"):
            return {"$map": {k: encode_value(x) for k, x in v.items()}}
        return {k: encode_value(x) for k, x in v.items()}
    raise TypeError(f"a flow form value must be plain data, not {type(v).__name__}")


def decode_value(v: Any) -> Any:
    if isinstance(v, list):
        return [decode_value(x) for x in v]
    if isinstance(v, dict):
        if len(v) == 1:
            (k, x), = v.items()
            if k == "$dt":
                return datetime.fromisoformat(x)
            if k == "$date":
                return date.fromisoformat(x)
            if k == "$dec":
                return Decimal(x)
            if k == "$frac":
                return Fraction(x)
            if k == "$map":
                return {kk: decode_value(xx) for kk, xx in x.items()}
        return {k: decode_value(x) for k, x in v.items()}
    return v


def _dt(v: datetime | None) -> str | None:
    return None if v is None else v.isoformat()


def _undt(v: str | None) -> datetime | None:
    return None if v is None else datetime.fromisoformat(v)


def _step(s: Step | None) -> dict[str, Any] | None:
    return None if s is None else {"mode": s.mode, "signers": list(s.signers), "queue": list(s.queue),
                                   "votes": [list(v) for v in s.votes]}


def _unstep(d: dict[str, Any] | None) -> Step | None:
    return None if d is None else Step(d["mode"], tuple(d["signers"]), tuple(d["queue"]),
                                       tuple(tuple(v) for v in d["votes"]))


def _scopes(sc: tuple[Scope, ...]) -> list[list[str]]:
    return [list(s) for s in sc]


def _unscopes(sc: list[Any]) -> tuple[Scope, ...]:
    return tuple(tuple(s) for s in sc)


def to_json(s: FlowInstance) -> dict[str, Any]:
    return {
        "format": FORMAT, "id": s.id, "flow": s.flow, "initiator": s.initiator, "started_at": _dt(s.started_at),
        "status": s.status, "outcome": s.outcome, "version": s.version, "seq": s.seq,
        "form": encode_value(dict(s.form)),
        "tokens": [{"id": t.id, "node": t.node, "scopes": _scopes(t.scopes), "step": _step(t.step),
                    "touched": t.touched, "due": _dt(t.due), "back": t.back} for t in s.tokens.values()],
        "tasks": [{"id": t.id, "token": t.token, "node": t.node, "assignee": t.assignee,
                   "candidates": list(t.candidates), "owner": t.owner, "held": t.held, "release": t.release,
                   "after": list(t.after), **({"deputy": True} if t.deputy else {})}
                  for t in s.tasks.values()],
        "splits": [{"id": p.id, "node": p.node, "join": p.join, "expected": p.expected, "scopes": _scopes(p.scopes),
                    "arrived": p.arrived, "fired": p.fired} for p in s.splits.values()],
        "timers": [{"id": m.id, "token": m.token, "kind": m.kind, "at": _dt(m.at), "level": m.level}
                   for m in s.timers.values()],
        "handoffs": [{"node": h.node, "by": list(h.by), "scopes": _scopes(h.scopes), "step": _step(h.step),
                      "tokens": list(h.tokens), "arrivals": list(h.arrivals), "splits": list(h.splits)}
                     for h in s.handoffs],
        "watchers": list(s.watchers),
    }


def from_json(d: dict[str, Any]) -> FlowInstance:
    d = upgrade(d)
    tokens = {t["id"]: Token(t["id"], t["node"], _unscopes(t["scopes"]), _unstep(t["step"]), t["touched"],
                             _undt(t["due"]), t["back"]) for t in d["tokens"]}
    tasks = {t["id"]: Task(t["id"], t["token"], t["node"], t["assignee"], tuple(t["candidates"]), t["owner"],
                           t["held"], t["release"], tuple(t["after"]), t.get("deputy", False)) for t in d["tasks"]}
    splits = {p["id"]: Split(p["id"], p["node"], p["join"], p["expected"], _unscopes(p["scopes"]), p["arrived"],
                             p["fired"]) for p in d["splits"]}
    timers = {m["id"]: Timer(m["id"], m["token"], m["kind"], datetime.fromisoformat(m["at"]), m["level"])
              for m in d["timers"]}
    handoffs = tuple(Handoff(h["node"], tuple(h["by"]), _unscopes(h["scopes"]), _unstep(h["step"]),
                             tuple(h["tokens"]), tuple(h["arrivals"]), tuple(h["splits"])) for h in d["handoffs"])
    return FlowInstance(d["id"], d["flow"], d["initiator"], datetime.fromisoformat(d["started_at"]), d["status"],
                        d["outcome"], d["version"], d["seq"], decode_value(d["form"]), tokens, tasks, splits, timers,
                        handoffs, tuple(d["watchers"]))
