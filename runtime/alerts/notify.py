"""An alert's `notify` actions: who hears of it and through which channels, written to the jobs
room's outbox in the transaction of the alert's step.

Once per (alert, action, recipient, channel): the outbox row's message id is derived from those
four, and a row already written is not written again. So an alert that opens yellow tells the
relationship manager; raised to orange it also tells the risk manager (the action `when: grade !=
'yellow'` holds now), and nobody twice. A crash cannot split it: the rows go with the step.

Recipients: the people named by the action's `to`, and the holders of its roles nearest the
subject — in the subject's org unit and the units under it, else in the unit above, up to the
bank (runtime/auth/scope.py says where a record sits); a role nobody holds on the way up
reaches nobody (the deploy's check of roles without holders says so)."""
from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dsl.bank_time import moment_text
from dsl.expr import EvaluationError
from dsl.kinds.actions import Notify
from runtime.auth.org import OrgTree
from runtime.auth.scope import placement_of
from runtime.auth.tables import role_holders
from runtime.flows.directory import BANK_WIDE
from runtime.jobs.outbox import message_row
from runtime.jobs.outbox_tables import outbox
from runtime.records.context import Loader

GRADE_LABELS = {"yellow": {"zh": "黄色", "en": "Yellow"}, "orange": {"zh": "橙色", "en": "Orange"},
                "red": {"zh": "红色", "en": "Red"}}
OPPORTUNITY = {"zh": "商机", "en": "Opportunity"}


def grade_label(grade: str | None, category: str | None = None) -> dict[str, str]:
    """How people name an alert's grade: 黄色/橙色/红色, or 商机 for a rule of the `opportunity`
    category (a chance to serve the client is not a warning)."""
    if category == "opportunity":
        return OPPORTUNITY
    return GRADE_LABELS.get(grade or "", {"zh": grade or "", "en": grade or ""})


NOTIFY_STEPS = ("open", "raise", "reopen", "resume")
_IDS = uuid.UUID("6b0f7d1e-3c52-4f0e-9a55-1d2f3e4a5b6c")


def message_id(alert_id: int, rule: str, subject_id: int, action: int, recipient: str, channel: str) -> str:
    """The one id of the message of (alert, action, recipient, channel)."""
    return uuid.uuid5(_IDS, f"alert:{alert_id}:{rule}:{subject_id}:{action}:{recipient}:{channel}").hex


def unit_of(live: Any, loader: Any, entity: str, row: Mapping[str, Any]) -> str | None:
    """The org unit the subject sits in (its own org field, or the one of the record it refers to)."""
    for a in placement_of(live).of(entity).anchors:
        value = row.get(a.field)
        if value is None:
            continue
        if a.target is None:
            return str(value)
        target = loader.row(a.target, value)
        if target is not None and target.get(a.org) is not None:
            return str(target[a.org])
    return None


OUTLETS = ("branch", "sub_branch")          # units that serve clients of their own


def own_units(tree: OrgTree, unit: str) -> set[str]:
    """`unit` and its departments (the units under it that are not branches of their own)."""
    out, todo = {unit}, [unit]
    while todo:
        for child in tree.children.get(todo.pop(), ()):
            if child not in out and tree.units[child].type not in OUTLETS:
                out.add(child)
                todo.append(child)
    return out


def holders_near(conn: Connection, tree: OrgTree, role: str, unit: str | None) -> list[str]:
    """Holders of `role` serving the subject: in its unit and the units under it; else in the unit
    above and that unit's departments (a Tianjin client without a Tianjin risk manager reaches the
    head office's risk department, not the Beijing branch), and so on up; past the top, the
    role's bank-wide holders (the chief risk officer holds the role for the whole bank)."""
    units = sorted(tree.subtree(unit)) if unit is not None and unit in tree.units else []
    seen: set[str] = set()
    while True:
        if units:
            q = sa.select(role_holders.c.user_name).where(role_holders.c.role == role,
                                                          role_holders.c.org_unit.in_(units))
            found = list(dict.fromkeys(conn.execute(q.order_by(role_holders.c.user_name)).scalars()))
            if found:
                return found
        u = tree.units.get(unit) if unit is not None else None
        unit = u.parent if u is not None else None
        if unit is None or unit in seen:            # past the top: the bank-wide holders (a CRO)
            q = sa.select(role_holders.c.user_name).where(role_holders.c.role == role,
                                                          role_holders.c.org_unit == BANK_WIDE)
            return list(dict.fromkeys(conn.execute(q.order_by(role_holders.c.user_name)).scalars()))
        seen.add(unit)
        units = sorted(own_units(tree, unit))


def _users(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, set)):
        return [u for v in value for u in _users(v)]
    if isinstance(value, Mapping):
        name = value.get("name")
        return [str(name)] if name else []
    return [str(value)]


def notify(conn: Connection, live: Any, loader: Any, rule: Any, scope: Mapping[str, Any], *, alert_id: int,
           step: str, grade: str, entity: str, row: Mapping[str, Any], subject_key: Any, evidence: list[dict],
           due_at: datetime | None, at: datetime, memo: dict | None = None,
           members: Sequence[int] | None = None) -> int:
    """Write the outbox rows the rule's `notify` actions owe for this step; returns how many.
    `memo`: a dict the caller keeps for one transaction, so the holders of a role near a unit are
    looked up once for all the alerts it writes.
    `scope`: what the actions read (runtime/alerts/dispose.py `ActionScope`: the subject, `grade`, `alert`).
    `members`: a guarantee circle's companies — the roles are looked for near each of them."""
    if step not in NOTIFY_STEPS:
        return 0
    tree = live.cache("org tree", OrgTree, live.bundle)
    if members is None:
        units = [unit_of(live, loader, entity, row)]
    else:
        firms = loader.rows("company", list(members))
        units = list(dict.fromkeys(unit_of(live, loader, "company", firms[m]) for m in members if m in firms))
    payload: dict | None = None
    rows: list[dict] = []
    for i, action in enumerate(rule.actions):
        e = action.effect
        if not isinstance(e, Notify):
            continue
        try:
            if action.when is not None and action.when(scope) is not True:
                continue
            users = _users(e.to(scope)) if e.to is not None else []
        except EvaluationError:
            continue                     # a condition this data cannot answer sends nothing
        for role in e.roles:
            for unit in units:
                found = None if memo is None else memo.get((role, unit))
                if found is None:
                    found = holders_near(conn, tree, role, unit)
                    if memo is not None:
                        memo[(role, unit)] = found
                users += [u for u in found if u not in users]
        if payload is None:
            payload = _payload(live, rule, alert_id, grade, entity, row, subject_key, evidence, due_at, at)
        for user in dict.fromkeys(users):
            for channel in e.channels or ("in_app",):
                rows.append(message_row(channel, user, e.template, payload, at, f"alert:{alert_id}",
                                        message_id=message_id(alert_id, rule.name, row['id'], i, user, channel)))
    if not rows:
        return 0
    have: set = set()
    if step != "open":          # an alert just opened has a new id: none of its messages can exist yet
        have = set(conn.execute(sa.select(outbox.c.message_id)
                                .where(outbox.c.message_id.in_([r["message_id"] for r in rows]))).scalars())
    new = [r for r in rows if r["message_id"] not in have]
    if new:
        conn.execute(outbox.insert(), new)
    return len(new)


def _payload(live: Any, rule: Any, alert_id: int, grade: str, entity: str, row: Mapping[str, Any], subject_key: Any,
             evidence: list[dict], due_at: datetime | None, at: datetime) -> dict:
    ent = live.bundle.entities.get(entity)
    name = row.get(ent.display) if getattr(ent, "display", None) else row.get("name")
    label = rule.meta.label
    def line(e: dict, lang: str) -> str:
        return f"{e['label'].get(lang) or e['label'].get('zh') or ''} {e['value']}".strip()
    lines = {lang: ("；" if lang == "zh" else "; ").join(line(e, lang) for e in evidence) for lang in ("zh", "en")}
    return {"alert": {"id": alert_id, "rule": rule.name,
                      "label": {"zh": label.zh or rule.name, "en": label.en or label.zh or rule.name},
                      "grade": grade, "grade_label": grade_label(grade, rule.category),
                      "respond_by": moment_text(due_at) if due_at else "", "opened_at": moment_text(at),
                      "evidence": lines},
            "subject": {"entity": entity, "key": "" if subject_key is None else str(subject_key),
                        "name": str(name or subject_key or "")},
            "link": f"/ui/alerts/{alert_id}", "by": "system"}


def assigned(conn: Connection, live: Any, alert: Mapping[str, Any], user: str, by: str, at: datetime) -> None:
    """Tell `user` in the app that the alert is theirs now (the rule's own template, `alert_default`)."""
    rule = live.bundle.documents.get(("AlertRule", alert["rule"]))
    if rule is None or "in_app" not in {n for k, n in live.bundle.documents if k == "Channel"}:
        return                                  # a rule no longer deployed, or no in-app channel: the timeline says it
    row = (Loader(conn, live).row(alert["subject_entity"], alert["subject_id"]) or {}
           if alert["subject_entity"] in live.model else {"name": alert["subject_key"]})
    payload = _payload(live, rule, alert["id"], alert["grade"], alert["subject_entity"], row, alert["subject_key"],
                       json.loads(alert["evidence"]), alert["due_at"], at)
    payload["by"] = by
    conn.execute(outbox.insert().values(**message_row(
        "in_app", user, "alert_default", payload, at, f"alert:{alert['id']}",
        message_id=uuid.uuid5(_IDS, f"alert:{alert['id']}:assign:{user}:{moment_text(at)}").hex)))
