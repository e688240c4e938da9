"""An alert's disposal actions carried out: `start_flow` (a disposal flow about the subject,
started through the flow service) and `update` (records changed through the records service —
a red alert freezing the subject's unused facilities), in the transaction of the alert's step.

Once per (alert, action): the row in `banyan_alert_actions` is written FIRST, under a unique
index, so a second worker evaluating the same alert waits on it and then fails (its transaction
rolls back whole, the flow it would have started with it); a step run again finds the row and
does nothing. An action whose `when` does not hold yet is not recorded, so an alert raised from
orange to red runs the red-only actions then. A disposal flow already running about the same
subject (another rule's red alert on the same client) is joined, not started a second time: one
client, one major-risk disposal at a time; the alert's page links it either way.

An action the data cannot carry out — the flow's form check refuses the input, a field rule
refuses the change — is recorded as failed on the alert's timeline with the reason (a savepoint
takes back what it had written), and the alert and its other actions stand: a risk officer sees
it on the alert's page and acts by hand."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterator, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dsl.errors import BanyanError
from dsl.expr import EvaluationError
from dsl.kinds.actions import StartFlow
from runtime.alerts.tables import alert_actions, alert_events
from runtime.flows.booking import matching, plain_values
from runtime.flows.store import FlowError, db_time, record_key
from runtime.flows.tx import form_input
from runtime.jobs import changes

DISPOSALS = ("start_flow", "update")
RUN_STEPS = ("open", "raise", "reopen", "resume")
ACTOR = "system"


class ActionScope(Mapping):
    """The subject's context plus `grade` and `alert`, as an action's `when` and its expressions read them."""

    def __init__(self, ctx: Mapping[str, Any], grade: str | None, alert: Mapping[str, Any] | None = None):
        self.ctx, self.extra = ctx, {"grade": grade, "alert": alert}

    def __getitem__(self, name: str) -> Any:
        return self.extra[name] if name in self.extra else self.ctx[name]

    def __iter__(self) -> Iterator[str]:
        yield from self.extra
        yield from self.ctx

    def __len__(self) -> int:
        return len(self.ctx) + len(self.extra)


def alert_facts(alert_id: int, rule: Any, grade: str, message: Mapping[str, str], evidence: list[dict]) -> dict:
    """`alert` as actions read it: in the bank's language (zh), English where zh is missing."""
    label = rule.meta.label
    lines = "；".join(f"{e['label'].get('zh') or e['label'].get('en') or ''} {e['value']}".strip() for e in evidence)
    return {"id": alert_id, "rule": rule.name, "label": label.zh or label.en or rule.name, "grade": grade,
            "message": message.get("zh") or message.get("en") or "", "evidence": lines,
            "link": f"/ui/alerts/{alert_id}"}


def dispose(conn: Connection, flows: Any, records: Any, rule: Any, scope: ActionScope, *, alert_id: int, step: str,
            subject_key: Any, at: datetime) -> list[dict]:
    """Run the rule's `start_flow` and `update` actions this step owes; what each did."""
    if step not in RUN_STEPS or not any(a.kind in DISPOSALS for a in rule.actions):
        return []
    done = set(conn.execute(sa.select(alert_actions.c.action).where(alert_actions.c.alert_id == alert_id)).scalars())
    out = []
    for i, action in enumerate(rule.actions):
        if action.kind not in DISPOSALS or i in done:
            continue
        try:
            if action.when is not None and action.when(scope) is not True:
                continue
        except EvaluationError:
            continue                    # a condition this data cannot answer runs nothing
        when = db_time(at)
        row_id = conn.execute(alert_actions.insert().values(alert_id=alert_id, action=i, kind=action.kind, ok=False,
                                                            at=when)).inserted_primary_key[0]
        try:
            with conn.begin_nested(), changes.source(f"alert:{alert_id}"):
                if action.kind == "start_flow":
                    target, detail = _start(conn, flows, action.effect, scope, subject_key, at)
                else:
                    target, detail = _update(conn, records, rule, action.effect, scope)
            ok, event = True, ("records_updated" if action.kind == "update" else
                               "flow_joined" if detail.get("joined") else "flow_started")
        except (FlowError, BanyanError, EvaluationError) as exc:
            target = action.effect.flow if action.kind == "start_flow" else action.effect.entity
            ok, event, detail = False, "action_failed", {"kind": action.kind, "reason": _reason(exc)}
        conn.execute(alert_actions.update().where(alert_actions.c.id == row_id).values(
            target=str(target)[:200], ok=ok, detail=json.dumps(detail, ensure_ascii=False, default=str)))
        conn.execute(alert_events.insert().values(alert_id=alert_id, at=when, kind=event, grade=scope["grade"],
                                                  actor=ACTOR, data=json.dumps({"action": i, "target": target,
                                                                                **detail}, ensure_ascii=False,
                                                                               default=str)))
        out.append({"action": i, "kind": action.kind, "ok": ok, "target": target, **detail})
    return out


def _start(conn: Connection, flows: Any, e: StartFlow, scope: ActionScope, subject_key: Any,
           at: datetime) -> tuple[str, dict]:
    subject = record_key(e.subject(scope)) if e.subject is not None else subject_key
    form = {name: form_input(expr(scope)) for name, expr in e.input}
    instance, joined = flows.start_within(conn, e.flow, actor=ACTOR, subject=subject, form=form, now=at,
                                          join_running=True)
    return instance, {"flow": e.flow, "instance": instance, **({"joined": True} if joined else {})}


def _update(conn: Connection, records: Any, rule: Any, e: Any, scope: ActionScope) -> tuple[str, dict]:
    match = plain_values({k: expr(scope) for k, expr in e.match})
    empty = sorted(k for k, v in match.items() if v is None or v == "")
    if empty:                       # never "every record whose borrower is empty": that is not this subject's
        raise FlowError("record_failed", f"`update` of {e.entity}: `{empty[0]}` of `match` is empty for this "
                                         "subject, so nothing was changed")
    values = plain_values({k: expr(scope) for k, expr in e.values})
    live = records.live
    ids = matching(conn, records, live, e.entity, match)
    if ids:
        records.bulk_update(e.entity, [(i, values) for i in ids], actor=f"alert:{rule.name}", conn=conn)
    key = live.model[e.entity].key
    t = live.table(e.entity)
    keys = [str(k) for k in conn.execute(sa.select(t.c[key]).where(t.c.id.in_(ids)).order_by(t.c.id)).scalars()] \
        if key and ids else [str(i) for i in ids]
    return e.entity, {"entity": e.entity, "records": keys, "values": {k: str(v) for k, v in values.items()}}


def _reason(exc: Exception) -> str:
    """Why an action could not run, in words (no Python text)."""
    problems = getattr(exc, "problems", None) or []
    why = "; ".join(f"{'.'.join(map(str, p.path)) or '-'}: {p.message or p.code}" for p in problems)
    return why or getattr(exc, "message", None) or getattr(exc, "code", None) or "the action could not run"
