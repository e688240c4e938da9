"""The audit log, read only, through the API: `GET /audit` with the audit page's filters
(`actor`, `action`, `entity`, `record` — a key or a record number —, `from`, `to` as bank days,
`limit`, `offset`), and what both doors share: reading the filters, and an entry as people read
it (a person's name, the action in words, the record type's label, the fields that changed).

The query is runtime/audit/search.py's; the permission is `audit.read` (an administrator holds it),
and personal fields in the entries are masked for a reader without `personal.read`.
"""
from __future__ import annotations

from datetime import date
from typing import Callable, Mapping

from fastapi import APIRouter, Request

from dsl.errors import BanyanError
from runtime.audit.search import MAX_ID, AuditQuery, iter_search, search
from runtime.auth.scope import Scope
from runtime.http.errors import request_lang
from runtime.http.routes import JsonRoute
from runtime.records.audit_text import OTHER_ENTITIES, AuditView
from runtime.records.errors import NotFound
from runtime.records.service import Records

PERMISSION = "audit.read"
MAX_LIMIT = 500


class BadAuditFilter(BanyanError):
    """A filter of the audit search that cannot be read (a date, a record, a page size)."""
    code, status, namespace, key = "bad_filter", 422, "audit", "audit.bad_filter"


def _day(text: str, what: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadAuditFilter(params={"what": f"{what} = {text[:40]}"}) from None


def audit_query(records: Records, params: Mapping[str, str], scope: Scope | None) -> AuditQuery:
    """The filters as given (a page's query string, the API's): a record by its key (within what
    the asker may read) or its record number; days as YYYY-MM-DD on the bank's clock."""
    def get(name: str) -> str | None:
        value = (params.get(name) or "").strip()
        return value[:200] or None
    entity, record = get("entity"), get("record")
    if entity is not None and entity not in records.live.bundle.entities and entity not in OTHER_ENTITIES:
        raise BadAuditFilter(params={"what": f"entity = {entity[:40]}"})
    record_id = None
    if record is not None:
        if record.isdigit() and int(record) <= 2**63 - 1:
            record_id = int(record)
        if entity in records.live.bundle.entities:
            try:                                    # a key first: a numeric key is a key, not an id
                record_id = records.find(entity, record, scope=scope)["id"]
            except NotFound:
                pass
        if record_id is None:
            raise BadAuditFilter(params={"what": f"record = {record[:40]}"})
    since, until = _day(params.get("from") or "", "from"), _day(params.get("to") or "", "to")
    return AuditQuery(get("actor"), get("action"), entity, record_id, since, until)


def audit_router(records: Callable[[], Records], scope: Callable[[Request], Scope | None],
                 permit: Callable[[Request, str], None]) -> APIRouter:
    r = APIRouter(tags=["audit"], route_class=JsonRoute)

    @r.get("/audit")
    def audit_search(request: Request, limit: int = 50, offset: int = 0) -> dict:
        """Audit entries, newest first: `actor` (user name), `action`, `entity`, `record` (a key or a
        record number; a bulk create is found by any record it holds), `from`/`to` (bank days,
        YYYY-MM-DD), `limit` (1–500), `offset`; `lang` for the words. Needs `audit.read`."""
        permit(request, PERMISSION)
        if not 1 <= limit <= MAX_LIMIT or not 0 <= offset <= MAX_ID:     # a 64-bit offset at most
            raise BadAuditFilter(params={"what": "limit 1–500, offset ≥ 0"})
        recs = records()
        who = scope(request)
        q = audit_query(recs, request.query_params, who)
        lang = request.query_params.get("lang") or request_lang(request, "en")
        found = search(recs.engine, q, limit=limit, offset=offset, personal=recs.masked_personal(who))
        view = AuditView(recs, lang if lang in ("zh", "en") else "en", who)
        items = []
        for e, row in zip(found.entries, view.rows(found.entries)):
            items.append({"seq": e.seq, "at": e.at, "actor": e.actor, "actor_name": row["actor_name"],
                          "action": e.action, "action_text": row["action_text"], "entity": e.entity,
                          "record_id": e.record_id, "record_ids": list(e.record_ids),
                          "bundle_version": e.bundle_version,
                          "changes": [{"field": c.field, "before": c.before, "after": c.after} for c in e.changes],
                          "detail": e.detail})
        return {"items": items, "total": found.total, "limit": limit, "offset": offset}

    return r


__all__ = ["AuditQuery", "AuditView", "BadAuditFilter", "audit_query", "audit_router", "iter_search",
           "search"]
