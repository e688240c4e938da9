"""What is happening around a 360° page's subject: the flows running about it and its members
(`flows` sections: where each stands, who holds it, by when) and their latest changes from the
audit log (`changes` sections: who changed what, from → to).

Both read only the records the page already holds in the reader's scope — the subject and the
records of the collections named in `on:`, loaded by `ScopedLoader` — so they show nothing the
reader could not open: a flow about a record in their scope is one they may see
(runtime/flows/access.py), a record's history is on its own page. Set-based: one query per 500
records for the flows (and one for their tasks, one for pool candidates), one per entity and 500
ids for the changes (index `ix_banyan_audit_entity_record`), one for the people's names."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping

from sqlalchemy.engine import Connection

from dsl.kinds.view import ViewSection
from engine.views.sections import page_of
from runtime.audit.search import latest_of_records
from runtime.flows.queries import running_about_records
from runtime.records.audit_text import AuditView, machine_text
from runtime.records.service import Records
from runtime.views.load import fields_of
from runtime.views.tables import Namer
from runtime.views.words import vtext

CHANGES_READ = 200           # the newest entries read for a changes section (its pages page through these)
FLOWS_READ = 500             # the newest running flows read for a flows section


class Shown:
    """The records a section is about: the subject and the loaded records of its `on:` collections
    (entity → {id: (key, name)})."""

    def __init__(self) -> None:
        self.by_entity: dict[str, dict[int, tuple[Any, str]]] = {}

    def add(self, entity: str, id_: Any, key: Any, name: str) -> None:
        if isinstance(id_, int):
            self.by_entity.setdefault(entity, {})[id_] = (key, name)

    def names(self) -> dict[tuple[str, Any], str]:
        """{(entity, key): name}, keys as the records hold them."""
        return {(e, k): n for e, rows in self.by_entity.items() for k, n in rows.values()}

    def names_by_key(self) -> dict[tuple[str, str], str]:
        """{(entity, key as text): name} (flows keep their subject's key as text)."""
        return {(e, str(k)): n for (e, k), n in self.names().items() if k is not None}


def shown_records(s: ViewSection, subject: Mapping[str, Any], record: Mapping[str, Any], entity: Any,
                  live: Any) -> Shown:
    """The subject and the records of `s.on`'s collections the page loaded (already cut to scope)."""
    out = Shown()
    key = record.get(entity.key or "id")
    out.add(entity.name, record.get("id"), key, str(record.get(entity.display or "") or key))
    for c in s.on:
        coll = next((x for x in entity.collections if x.name == c), None)
        if coll is None:
            continue
        target = live.entity(coll.entity)
        for r in subject[c]:
            v = fields_of(r)
            k = v.get(target.key or "id")
            out.add(coll.entity, v.get("id"), k, str(v.get(target.display or "") or k))
    return out


def flows_section(s: ViewSection, conn: Connection, shown: Shown, live: Any, namer: Namer, page: int,
                  lang: str, now: datetime | None = None) -> dict[str, Any]:
    """The running flows about the shown records, newest first, a page of `limit`."""
    names = shown.names_by_key()
    wanted: dict[str, list[str]] = {}
    for (e, k) in names:
        wanted.setdefault(e, []).append(k)
    found = running_about_records(conn, wanted, FLOWS_READ)
    flows = {n: d for (kind, n), d in live.bundle.documents.items() if kind == "Flow"}
    limit = s.limit or 20
    shown_rows, page, pages = page_of(found, page, limit)
    people = namer.by_key("user", {p for f in shown_rows for p in _people(f)})
    for p in {p for f in shown_rows for p in _people(f)}:
        if people.get(p, p) == p:                       # no person of that name: a machine, or an operator
            people[p] = machine_text(p, live.bundle, lang) or p
    now = now or datetime.now(timezone.utc)
    rows = []
    for f in shown_rows:
        doc = flows.get(f["flow"])
        steps, holders, due = [], [], None
        for t in f["tasks"]:
            node = doc.by_id.get(t["node"]) if doc is not None else None
            label = (node.label.text(lang) or t["node"]) if node is not None else t["node"]
            if label not in steps:
                steps.append(label)
            who = [t["assignee"]] if t["assignee"] else t["candidates"]
            holders += [people.get(p, p) for p in who if people.get(p, p) not in holders]
            if t["due_at"] and (due is None or t["due_at"] < due):
                due = t["due_at"]
        subject = f["subject"]
        overdue = due is not None and datetime.fromisoformat(due).replace(tzinfo=timezone.utc) < now
        rows.append({"instance": f["instance"], "flow": f["flow"],
                     "flow_label": (doc.meta.label.text(lang) or f["flow"]) if doc is not None else f["flow"],
                     "subject": {"entity": subject["entity"], "key": subject["key"],
                                 "name": names.get((subject["entity"], subject["key"]), subject["key"])},
                     "steps": steps, "holders": holders, "due_at": due, "overdue": overdue,
                     "started_at": f["started_at"], "initiator": people.get(f["initiator"], f["initiator"]),
                     "link": f"/ui/flow-instances/{f['instance']}"})
    out = {"flows": rows, "total": len(found), "page": page, "pages": pages, "limit": limit}
    if len(found) >= FLOWS_READ:
        out["note"] = vtext("flows_cut", lang, n=FLOWS_READ)
    return out


def _people(f: Mapping[str, Any]) -> list[str]:
    out = [f["initiator"]]
    for t in f["tasks"]:
        out += [t["assignee"]] if t["assignee"] else t["candidates"]
    return out


def changes_section(s: ViewSection, conn: Connection, shown: Shown, records: Records, scope: Any, page: int,
                    lang: str) -> dict[str, Any]:
    """The latest changes of the shown records (a record's own entries: its creation when it was
    written alone, its updates and its deletion), newest first, personal fields masked as the
    record pages mask them for this reader; a page of `limit` among the newest CHANGES_READ."""
    found = latest_of_records(conn, {e: list(by_id) for e, by_id in shown.by_entity.items()}, limit=CHANGES_READ,
                              personal=records.masked_personal(scope))
    view = AuditView(records, lang, scope)
    items = []
    for e, row in zip(found, view.rows(found)):
        if e.action == "update" and not row["changes"]:
            continue                    # nothing a reader would see as changed (a figure stored finer)
        key, name = shown.by_entity.get(e.entity or "", {}).get(e.record_id or -1, (None, row["record_text"]))
        items.append({"seq": e.seq, "at": e.at.isoformat(), "when": row["when"], "actor": row["actor_name"],
                      "action": e.action, "action_text": row["action_text"], "entity": e.entity,
                      "entity_label": row["entity_label"], "record": {"key": key, "name": name},
                      "changes": row["changes"], "link": row["link"]})
    limit = s.limit or 20
    out, page, pages = page_of(items, page, limit)
    return {"changes": out, "total": len(items), "page": page, "pages": pages, "limit": limit,
            "note": vtext("changes_cut", lang, n=CHANGES_READ) if len(found) >= CHANGES_READ else None}
