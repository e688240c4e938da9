"""Audit log entries as people read them in their language (`AuditView`): a person's name, the
action in words, the record type's label, the fields that changed from → to with references named
and choices labelled. One wording for every door that shows entries: the auditor's page and
`GET /audit` (runtime/http/audit.py, runtime/web/audit.py), a record's change history and the
changes section of a 360° page (runtime/views)."""
from __future__ import annotations

from typing import Any, Mapping

from dsl.bank_time import moment_text
from dsl.errors import catalog, words
from forms.display import display_text
from runtime.audit.search import Found
from runtime.auth.people import PeopleDirectory
from runtime.auth.permissions import action_words
from runtime.auth.scope import Scope, placement_of
from runtime.records.listing import record_labels_by_id, ref_labels
from runtime.records.service import Records

OTHER_ENTITIES = {"user": ("用户与权限", "Users and permissions"), "flow_instance": ("流程", "Flows"),
                  "alert": ("预警", "Alerts")}
NUMBERS = ("money", "number", "percent", "integer")
# who acts when no person does: the engine's timers and events, a rule, a tiering, an event stream
MACHINES = {"system": ("系统", "System"), "alert": ("预警规则", "Alert rule"), "tiering": ("客户分层", "Tiering"),
            "stream": ("事件流", "Event stream")}
MACHINE_KINDS = {"alert": "AlertRule", "tiering": "Tiering"}
OUTSIDE = ("其他机构的记录", "A record of another branch")


def machine_text(actor: str, bundle: Any, lang: str) -> str | None:
    """A machine actor in words — `system` 系统, `alert:RULE` 预警规则「its label」, `tiering:NAME`
    客户分层「its label」, `stream:NAME` 事件流「NAME」 — or None for a person (or an operator's
    name at the command line, shown as it is)."""
    kind, _, name = actor.partition(":")
    if kind not in MACHINES or (kind == "system") != (not name):
        return None
    zh, en = MACHINES[kind]
    what = zh if lang == "zh" else en
    if not name:
        return what
    doc = bundle.documents.get((MACHINE_KINDS.get(kind, ""), name)) if bundle is not None else None
    label = (doc.meta.label.text(lang) or name) if doc is not None else name
    return f"{what}「{label}」" if lang == "zh" else f"{what} “{label}”"


def action_text(action: str, lang: str) -> str:
    key = f"audit.action.{action}"
    return words(key, lang) if key in catalog() else action


class AuditView:
    """Entries as people read them in `lang`: names, words, labels."""

    def __init__(self, records: Records, lang: str, scope: Scope | None = None):
        """`scope`: the reader's — a referenced record outside it is never named (None: bank-wide)."""
        self.records, self.lang, self.scope = records, lang, scope
        self.people = PeopleDirectory(records.engine)
        self.bundle = records.live.bundle
        self.names: dict[tuple[str, str], str] = {}     # the `ref` values of the entries shown, named
        self.ids: dict[tuple[str, int], str] = {}       # references to records, held as ids in the log, named
        self._labels: dict[int, dict] = {}                  # an enum field's value → label, by field (held by the bundle)

    def entity_label(self, entity: str | None) -> str:
        if not entity:
            return ""
        if entity in self.bundle.entities:
            return self.bundle.entities[entity].meta.label.text(self.lang) or entity
        zh_en = OTHER_ENTITIES.get(entity)
        return (zh_en[0] if self.lang == "zh" else zh_en[1]) if zh_en else entity

    def field_label(self, entity: str | None, name: str) -> str:
        if entity == "user" and f"audit.field.{name}" in catalog():      # a security event's details
            return words(f"audit.field.{name}", self.lang)
        ent = self.bundle.entities.get(entity or "")
        f = ent.field(name) if ent is not None else None
        return (f.label.text(self.lang) or name) if f is not None else name

    def value_text(self, entity: str | None, name: str, value: Any) -> str:
        if value is None or value == "" or value == []:
            return words("audit.page.blank", self.lang)
        if entity == "user" and name == "permissions" and isinstance(value, list):
            return "、".join(action_words(str(p), self.lang) for p in value)
        if entity == "user" and name == "role" and isinstance(value, str):
            return self.role_label(value)
        ent = self.bundle.entities.get(entity or "")
        f = ent.field(name) if ent is not None else None
        if f is not None and f.type_name == "ref" and isinstance(value, int) and not isinstance(value, bool) \
                and f.ref in self.bundle.entities:
            return self.ids.get((f.ref, value), f"#{value}")       # another entity's record: its id in the log
        if f is not None and f.type_name == "ref" and not isinstance(value, (list, dict)):
            return self.names.get((f.ref, str(value)), str(value))
        if f is not None and f.values:
            labels = self._labels.get(id(f))
            if labels is None:
                labels = self._labels[id(f)] = {v.value: v.label.text(self.lang) or v.value for v in f.values}
            if isinstance(value, list):
                return "、".join(labels.get(v, str(v)) for v in value)
            return labels.get(value, str(value))
        if f is not None and f.type_name in NUMBERS and not isinstance(value, (list, dict, bool)):
            return display_text(f, value, self.lang)     # 59.08%, ¥1,200.00, 1,234: as the record page shows them
        if isinstance(value, bool):
            return ("是" if value else "否") if self.lang == "zh" else ("Yes" if value else "No")
        if isinstance(value, (list, dict)):
            return str(value)
        return str(value)

    def role_label(self, role: str) -> str:
        found = self.bundle.get("Role", role) if ("Role", role) in self.bundle.documents else None
        return (found.meta.label.text(self.lang) or role) if found is not None else role

    def changes_text(self, e: Found) -> list[str]:
        """Each changed field as `label：before → after`; a change that reads the same both ways (a
        figure stored again at a finer precision: 59.08% → 59.08%) is not one to a reader."""
        out = []
        for c in e.changes:
            before, after = self.value_text(e.entity, c.field, c.before), self.value_text(e.entity, c.field, c.after)
            if before != after:
                out.append(words("audit.page.changed", self.lang, field=self.field_label(e.entity, c.field),
                                 before=before, after=after))
        return out

    def record_text(self, e: Found) -> str:
        if e.record_id is not None and len(e.record_ids) <= 1:
            return f"#{e.record_id}"
        if len(e.record_ids) > 1:
            key = "audit.page.bulk" if e.action == "create" else "audit.page.records"
            return words(key, self.lang, n=len(e.record_ids))
        return ""

    def rows(self, entries: list[Found]) -> list[dict]:
        about = [(e.detail or {}).get("user") for e in entries if e.entity == "user"]
        names = dict(self.people.display_names([*(e.actor for e in entries), *about]))
        for e in entries:
            if names.get(e.actor, e.actor) == e.actor:          # no person of that name: a machine, or an operator
                names[e.actor] = machine_text(e.actor, self.bundle, self.lang) or e.actor
        refs = self._refs(entries)
        by_id: dict[str, set[int]] = {}
        for target, v in refs:
            if isinstance(v, int) and not isinstance(v, bool) and target in self.bundle.entities:
                by_id.setdefault(target, set()).add(v)
        self.names = ref_labels(self.records, [(t, v) for t, v in refs if not isinstance(v, int)], self.lang,
                                directory=self.people)
        self.ids = {}
        for target, ids in by_id.items():
            readable = self._readable(target, ids)
            for i, name in record_labels_by_id(self.records, target, readable).items():
                self.ids[(target, i)] = name
            for i in ids - readable:                     # never named: as an unknown record would not be
                self.ids[(target, i)] = OUTSIDE[0] if self.lang == "zh" else OUTSIDE[1]
        return [self.row(e, names) for e in entries]

    def _readable(self, target: str, ids: set[int]) -> set[int]:
        """Which referenced records the reader may read (the scope's one decision, runtime/auth/scope.py)."""
        if self.scope is None or self.scope.units is None or not ids:
            return ids
        live = self.records.refresh()
        with self.records.engine.connect() as conn:
            return placement_of(live).ids_within(conn, live, target, self.scope, ids)

    def _refs(self, entries: list[Found]) -> list[tuple[str, Any]]:
        """(target, key) of every `ref` value the entries' changes show."""
        out: list[tuple[str, Any]] = []
        for e in entries:
            ent = self.bundle.entities.get(e.entity or "")
            for c in e.changes if ent is not None else ():
                f = ent.field(c.field)
                if f is not None and f.type_name == "ref":
                    out += [(f.ref, v) for v in (c.before, c.after) if isinstance(v, (str, int))]
        return out

    def row(self, e: Found, names: Mapping[str, str]) -> dict:
        detail = e.detail or {}
        about = None
        if e.entity == "user":              # whom a security event is about: a person, or a role's permissions
            who, role = detail.get("user"), detail.get("role")
            about = names.get(who, who) if who else (self.role_label(role) if isinstance(role, str) else None)
        return {"seq": e.seq, "at": e.at, "when": moment_text(e.at, seconds=True), "actor": e.actor,
                "actor_name": names.get(e.actor, e.actor), "action": e.action,
                "action_text": action_text(e.action, self.lang), "entity": e.entity,
                "entity_label": self.entity_label(e.entity), "record_id": e.record_id,
                "record_ids": list(e.record_ids), "record_text": self.record_text(e),
                "about": about, "changes": self.changes_text(e),
                "link": f"/ui/e/{e.entity}/{e.record_id}" if e.record_id is not None
                and e.entity in self.bundle.entities else ""}

    def table(self, entries: Any) -> tuple[list[str], list[str], Any]:
        """(column names, headers in `lang`, rows) of an export, for runtime/records/tabular_export.py."""
        names = ["seq", "when", "actor_name", "actor", "action_text", "entity_label", "record", "changes"]
        head = [words(f"audit.page.{k}", self.lang) for k in ("seq", "when", "actor")] + [
            "ID", words("audit.page.action", self.lang), words("audit.page.entity", self.lang),
            words("audit.page.record", self.lang), words("audit.page.details", self.lang)]

        def rows() -> Any:
            batch: list[Found] = []
            for e in entries:
                batch.append(e)
                if len(batch) >= 500:
                    yield from self._export_rows(batch)
                    batch = []
            yield from self._export_rows(batch)
        return names, head, rows()

    def _export_rows(self, batch: list[Found]) -> list[dict]:
        out = []
        for r in self.rows(batch):
            record = ", ".join(f"#{i}" for i in r["record_ids"][:50]) + (" …" if len(r["record_ids"]) > 50 else "")
            out.append({**r, "record": record or (r["about"] or ""), "changes": "；".join(r["changes"])})
        return out
