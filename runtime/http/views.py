"""HTTP endpoint of the 360° views (`/views/...`), included by `runtime.http.app.create_app`:
`GET /views/{view}/{key}` is the View document `view` rendered for the subject `key` — the same
answer the page /ui/views/{view}/{key} shows (runtime/views/service.py), cut to the asker's org
scope: a subject they may not read is the 404 an unknown one gets, inside it only the records they
may read, the pictures cut as the graph API cuts them. Texts (`text`, labels, notes) are in the
caller's language (the signed-in person's choice, else `Accept-Language`, else English); `value`s are
written as the records API writes them (a percent as its points, money as a decimal string)."""
from __future__ import annotations

from typing import Callable

from fastapi import APIRouter, Query, Request

from runtime.auth.scope import Scope
from runtime.http.errors import BanyanJSON, request_lang
from runtime.http.routes import JsonRoute
from runtime.views.service import ViewService


def roles_of(request: Request) -> frozenset[str] | None:
    """The asker's roles when sign-in is on (an administrator, or no sign-in: every section)."""
    user = getattr(request.state, "user", None)
    if user is None or getattr(user, "is_admin", False):
        return None
    return frozenset(r for r, _ in user.roles)


def views_router(service: ViewService, scope_of: Callable[[Request], Scope | None]) -> APIRouter:
    router = APIRouter(prefix="/views", tags=["views"], route_class=JsonRoute)

    @router.get("/{view}/{key}", response_class=BanyanJSON,
                responses={200: {"description": "The view's sections for the subject, as the asker may see them",
                                 "content": {"application/json": {"schema": {"type": "object"}}}},
                           404: {"description": "No such view, or no such subject (or one outside the asker's "
                                               "org scope: the same answer)"}})
    def view(request: Request, view: str, key: str,
             page: list[str] = Query([], max_length=50, description="a page of a table, timeline or alerts "
                                                                    "section: `members:2` (repeat for more)")
             ) -> BanyanJSON:
        """The view's sections for the subject: `fields` (each with `value`, `text` and, for a
        reference, its `code`), `metrics` (`warn` when its `warn_when` holds; `withheld` for a
        figure over records the asker may not all read), `table`/`timeline` (`columns`, one page of
        `rows` of `cells`, `total`, `page`, `pages`), `alerts` (the open alerts on the subject and the
        records of its `on` collections) and `graph` (`tree`: the equity structure; `network`: the
        guarantees; `rows`: the same as a table). `access` says how the asker sees the subject."""
        pages: dict[str, int] = {}
        for item in page:
            sid, _, number = item.partition(":")
            if sid and number.isdigit():
                pages[sid[:100]] = max(1, min(int(number), 100_000))
        # sent as it is (a page of a large group is a few hundred KB: no second pass through a response model)
        return BanyanJSON(service.page(view, key, scope=scope_of(request), lang=request_lang(request),
                                       roles=roles_of(request), pages=pages))

    return router
