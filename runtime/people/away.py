"""Going away (代理) with one's open work: name a deputy for a period and, when the person
chooses, hand their tasks already open to the deputy too (each a `transfer`), in one
transaction. New tasks go to the deputy without any of this (the flow directory)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from runtime.auth.deputies import Period, set_deputy
from runtime.flows.service import FlowService
from runtime.flows.tx import FlowTx
from runtime.people.hand_over import open_tasks_of, transfer_tasks
from runtime.storage.db import writing

REASON = "代理"


@dataclass
class Away:
    period: Period
    moved: list[dict] = field(default_factory=list)       # open tasks handed to the deputy
    kept: list[dict] = field(default_factory=list)        # open tasks that stay, with why


def go_away(flows: FlowService, user: str, deputy: str, starts: object, ends: object, *, today: date,
            reason: str | None = None, by: str | None = None, with_open_tasks: bool = False) -> Away:
    """Set the period; with `with_open_tasks`, also transfer `user`'s open tasks to the deputy
    (a task the engine will not transfer — the step allows none, the deputy is on it already or
    started the request — stays with `user` and is listed in `kept`)."""
    with writing(flows.engine) as conn:
        period = set_deputy(flows.engine, user, deputy, starts, ends, today=today, reason=reason, by=by, conn=conn)
        out = Away(period)
        if with_open_tasks:
            rows, out.kept = open_tasks_of(conn, period.user)
            tx = FlowTx(conn, flows.directory, flows.records.refresh, flows.calendar, flows.clock())
            out.moved, refused = transfer_tasks(tx, rows, period.user, period.deputy,
                                                f"{REASON}：{period.starts} 至 {period.ends}")
            out.kept += [{k: v for k, v in r.items() if k != "error"} | {"why": r["code"]} for r in refused]
    return out
