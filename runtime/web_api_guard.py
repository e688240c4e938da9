"""Org scope and permissions for the JSON API when the web app is on (`create_app(web=True)`):
a branch's token sees and changes only its subtree's records, like its pages do."""
from __future__ import annotations

from typing import Any, Mapping

from fastapi import Request

from .errors import InvalidRecord, NotFound, RecordError
from .records import Page
from .validation import Problem
from .web_query import list_records, unit_allowed, visible


class Forbidden(RecordError):
    status, code = 403, "forbidden"


class ApiGuard:
    def __init__(self, web: Any):
        self.web = web

    def _user(self, request: Request):
        return request.state.user

    def query(self, request: Request, entity: str, where: Mapping[str, Any], order: str | None, limit: int,
              offset: int) -> Page:
        found = list_records(self.web, entity, self.web.scope(self._user(request)), filters=dict(where),
                             order=order, limit=limit, offset=offset)
        return Page(found.items, found.total, found.limit, found.offset)

    def read(self, request: Request, entity: str, record_id: int) -> None:
        self.web.live().entity(entity)
        if not visible(self.web, entity, self.web.scope(self._user(request)), record_id):
            raise NotFound(f"no {entity} record #{record_id}")

    def write(self, request: Request, entity: str, record_id: int | None, values: Mapping[str, Any],
              permission: str = "records.write") -> None:
        user = self._user(request)
        if not user.can(permission):
            raise Forbidden(f"`{user.name}` may not {permission.split('.')[1]} records")
        if record_id is not None:
            self.read(request, entity, record_id)
        self.web.live().entity(entity)
        outside = unit_allowed(self.web, entity, self.web.scope(user), values)
        if outside is not None:
            raise InvalidRecord(f"{outside}: outside {user.name}'s org scope",
                                [Problem((outside,), "outside your org scope", "scope")])
