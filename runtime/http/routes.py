"""The JSON API's route class: a plain `def` endpoint's data leaves as JSON from the worker thread
the endpoint ran in.

FastAPI runs a `def` endpoint in its threadpool; when the endpoint returns data rather than a
Response, FastAPI then checks that data against the endpoint's return annotation (`-> dict`) in a
second trip to the threadpool and encodes it on the event loop. Every command of the API paid
both: about a fifth of a millisecond of CPU per request and a longer turn of the event loop,
which every other request waits for. A `JsonRoute` wraps such an endpoint so that it answers
with `BanyanJSON` (the API's one encoder: runtime/http/errors.py) itself, in the same thread, with
the route's status code; an endpoint that already returns a Response is unchanged, and the return
annotation still documents the answer in the OpenAPI schema.

Used by every router of the JSON API (`APIRouter(route_class=JsonRoute)`) and by the app's own
routes (runtime/http/app.py)."""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

from fastapi.routing import APIRoute
from fastapi.utils import is_body_allowed_for_status_code
from starlette.responses import Response

from runtime.http.errors import BanyanJSON


def answering(endpoint: Callable[..., Any], status_code: int | None) -> Callable[..., Any]:
    """`endpoint`, answering with its data encoded (status `status_code`, else 200)."""
    if inspect.iscoroutinefunction(endpoint) or getattr(endpoint, "answers_json", False):
        return endpoint

    @functools.wraps(endpoint)          # FastAPI reads the parameters and annotations through it
    def answer(*args: Any, **kwargs: Any) -> Any:
        data = endpoint(*args, **kwargs)
        if isinstance(data, Response):
            return data
        if not is_body_allowed_for_status_code(status_code):        # 204, 304: no body at all
            return Response(status_code=status_code)
        return BanyanJSON(data, status_code=status_code or 200)
    answer.answers_json = True          # type: ignore[attr-defined]
    return answer


class JsonRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, answering(endpoint, kwargs.get("status_code")), **kwargs)
