"""The shaping of a view's fields, metrics, tables, timelines and alerts for the reader: values with
their text in the reader's language, references as names, one query per referenced entity."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from sqlalchemy.engine import Connection

from dsl.kinds.view import ViewSection
from engine.views import field_values, metric_results, page_of, section_rows
from runtime.alerts.notify import grade_label
from runtime.auth.org import OrgTree
from runtime.auth.people import PeopleDirectory
from runtime.auth.scope import Scope, placement_of
from runtime.deploy.live import LiveModel
from runtime.records.store import keys_to_ids
from runtime.views.load import fields_of, record_names
from runtime.views.shown import field_text, field_value, figure_text, figure_value
from runtime.views.words import vtext


class Namer:
    """Names for references, read set-based: record references by id (one query per target
    entity, one more to keep those `scope` may read: a record outside it is never named, nor
    keyed), org units from the org tree, people from the directory (one query)."""

    def __init__(self, conn: Connection, live: LiveModel, tree: OrgTree, directory: PeopleDirectory, lang: str,
                 scope: Scope | None = None, readable: Mapping[str, set[int]] | None = None):
        self.conn, self.live, self.tree, self.directory, self.lang = conn, live, tree, directory, lang
        self.scope = scope
        self.readable = readable or {}          # entity → ids known readable already (loaded in scope)

    def by_id(self, target: str, ids: Iterable[int]) -> dict[int, tuple[Any, str]]:
        """{id: (key, name)} of the records `scope` may read; the others are left out."""
        ids = {i for i in ids if isinstance(i, int)}
        if self.scope is not None and self.scope.units is not None and ids:
            known = self.readable.get(target, set())
            unknown = ids - known
            ids = (ids & known) | (placement_of(self.live).ids_within(self.conn, self.live, target, self.scope, unknown)
                                   if unknown else set())
        return record_names(self.conn, self.live, target, ids)

    def by_key(self, target: str, keys: Iterable[Any]) -> dict[Any, str]:
        keys = [k for k in keys if k not in (None, "")]
        if not keys:
            return {}
        if target == "org_unit":
            return {k: self.tree.label(k, self.lang) for k in keys}
        if target == "user":
            return dict(self.directory.display_names(keys))
        ids = keys_to_ids(self.conn, self.live, target, keys)
        found = self.by_id(target, ids.values())
        return {k: found[i][1] for k, i in ids.items() if i in found}


NUMERIC = ("money", "integer", "number", "percent")


def _cell(value: Any, text: str, code: Any = None) -> dict[str, Any]:
    return {"value": value, "text": text, "code": code}


def fields_section(section: ViewSection, record: Mapping[str, Any], entity: Any, namer: Namer) -> dict:
    """The subject's fields as the reader may see them (`record`: the records service's output —
    references by key, personal data masked, figures over all members blank for a serving branch)."""
    lang, out = namer.lang, []
    refs: dict[str, set] = {}
    for f in entity.fields:
        if f.name in section.fields and f.type_name == "ref" and record.get(f.name) is not None:
            refs.setdefault(f.ref, set()).add(record[f.name])
    names = {target: namer.by_key(target, keys) for target, keys in refs.items()}
    for name, value in field_values(section, record):
        f = entity.field(name)
        if f is None:
            continue
        if f.type_name == "ref" and value is not None:
            label = names.get(f.ref, {}).get(value)
            cell = _cell(value, label, value if label != str(value) else None) if label is not None else \
                _cell(None, vtext("not_visible", lang))          # a record the reader may not read: unnamed
        else:
            cell = _cell(field_value(f, value), field_text(f, value, lang, record))
        out.append({"name": name, "label": f.label.text(lang) or name, "type": f.type_name, **cell})
    return {"fields": out}


def metrics_section(section: ViewSection, subject: Mapping[str, Any], withheld: set[str], lang: str) -> dict:
    out = []
    for m in metric_results(section, subject, withheld):
        text = vtext("withheld", lang) if m.withheld else vtext("failed", lang) if m.failed else \
            figure_text(m.value, m.type, lang)
        out.append({"label": m.label.text(lang), "value": figure_value(m.value, m.type), "type": m.type, "text": text,
                    "warn": m.warn, "withheld": m.withheld, "failed": m.failed})
    return {"metrics": out}


def rows_section(section: ViewSection, subject: Mapping[str, Any], live: LiveModel, namer: Namer, page: int) -> dict:
    """A table's or a timeline's page of rows: each row {id, key, link, cells}."""
    lang = namer.lang
    entity = live.entity(section.row_entity) if section.row_entity else None
    time_field = entity.time_field if entity is not None else None
    result = section_rows(section, subject, page=page, time_field=time_field)
    fields = [entity.field(c) for c in section.columns] if entity is not None else []
    columns = [{"name": c, "label": (f.label.text(lang) if f is not None else c) or c,
                "type": f.type_name if f is not None else None,
                "numeric": f is not None and f.type_name in NUMERIC} for c, f in zip(section.columns, fields)]
    values = [dict(fields_of(r)) for r in result.rows]
    names: dict[tuple[str, str], dict] = {}
    for f in fields:
        if f is None or f.type_name != "ref" or (f.ref, f.name) in names:
            continue
        wanted = {v[f.name] for v in values if v.get(f.name) is not None}
        names[(f.ref, f.name)] = namer.by_key(f.ref, wanted) if f.ref in ("org_unit", "user") else \
            namer.by_id(f.ref, wanted)
    key = entity.key if entity is not None else None
    rows = []
    for v in values:
        cells = []
        for f in fields:
            if f is None:
                cells.append(_cell(None, vtext("empty", lang)))
                continue
            raw = v.get(f.name)
            if f.type_name == "ref" and raw is not None:
                found = names[(f.ref, f.name)].get(raw)
                if isinstance(found, tuple):
                    cells.append(_cell(found[0], found[1], found[0] if found[1] != str(found[0]) else None))
                elif found is not None:                             # an org unit or a person
                    cells.append(_cell(raw, found, raw if found != str(raw) else None))
                else:                                               # a record the reader may not read
                    cells.append(_cell(None, vtext("not_visible", lang)))
            else:
                cells.append(_cell(field_value(f, raw), field_text(f, raw, lang, v)))
        rows.append({"id": v.get("id"), "key": v.get(key) if key else v.get("id"),
                     "link": f"/ui/e/{section.row_entity}/{v['id']}" if v.get("id") is not None else None,
                     "cells": cells})
    return {"entity": section.row_entity, "time_field": time_field, "columns": columns, "rows": rows,
            "total": result.total, "page": result.page, "pages": result.pages, "limit": result.limit,
            "failed": result.failed}


def alerts_section(section: ViewSection, found: list[dict], subjects: Mapping[tuple[str, Any], str],
                   rule_labels: Mapping[str, Any], page: int, lang: str) -> dict:
    """The open alerts on the subject and its collections' records (`found`: the alerts room's list,
    already cut to the reader's scope; `subjects`: (entity, key) → name of the records shown)."""
    mine = [a for a in found if (a["subject"]["entity"], a["subject"]["key"]) in subjects]
    limit = section.limit or 20
    shown, page, pages = page_of(mine, page, limit)
    out = []
    for a in shown:
        label = rule_labels.get(a["rule"])
        s = a["subject"]
        message = a["message"] if isinstance(a["message"], dict) else {}
        out.append({"id": a["id"], "grade": a["grade"], "grade_label": grade_label(a["grade"]).get(lang, a["grade"]),
                    "rule": a["rule"], "rule_label": (label.text(lang) if label is not None else None) or a["rule"],
                    "subject": {"entity": s["entity"], "key": s["key"], "name": subjects[(s["entity"], s["key"])]},
                    "message": message.get(lang) or message.get("zh") or message.get("en") or "",
                    "opened_at": a["opened_at"], "due_at": a["due_at"], "link": f"/ui/alerts/{a['id']}"})
    return {"alerts": out, "total": len(mine), "page": page, "pages": pages, "limit": limit}
