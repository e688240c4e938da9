"""The flow JSON API under the web app's sign-in: reading an instance, a task or an instance's
diagram, or sending an instance a command, needs the same right as its page
(runtime/flows/access.py) — else the very 404 an unknown instance or task gets, so nobody
learns what exists outside their reach; moving instances to another deployment
(`POST /flows/{name}/migrations`) is for administrators. Beyond seeing the instance, the
engine decides who may act: the gate sets the actor to the signed-in person and the engine
refuses a task that is not theirs.

A command (`POST /flow-instances/{id}/{action}`) is checked by its endpoint, in the worker thread
it runs in anyway, before anything else (`flow_command_check` in the request's state, set here):
one trip to the threadpool per command instead of two. Reads are checked here, before routing.

A pure ASGI middleware inside the sign-in gate; any other path passes straight through."""
from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from runtime.flows.access import can_see, involved_in
from runtime.flows.store import FlowError
from runtime.http.errors import BanyanJSON, request_lang


class FlowApiGuard:
    def __init__(self, app: Any, pages: Any):
        self.app, self.pages = app, pages

    def _instances_of(self, scope: dict) -> list[tuple[str, FlowError]]:
        """Every instance a request names, each with the error an unknown one would get (all of a
        repeated `instance` parameter: the framework reads the last, so each one is checked)."""
        path, method = scope["path"], scope["method"]
        parts = path.split("/")
        if path.startswith("/flow-instances/") and (
                (method == "GET" and len(parts) == 3) or (method == "POST" and len(parts) == 4)):
            return [(parts[2], FlowError("not_found", f"no flow instance `{parts[2]}`"))]
        if method == "GET" and path.startswith("/flow-tasks/"):
            task_id = path[len("/flow-tasks/"):]
            return [(task_id.split("/")[0], FlowError("unknown_task", f"no task `{task_id}`"))]
        if method == "GET" and path.startswith("/flows/") and path.endswith("/graph.svg"):
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            return [(v, FlowError("not_found", f"no flow instance `{v}`")) for v in query.get("instance", []) if v]
        return []

    def _may_see(self, user: Any, instance_id: str) -> bool:
        """Whether `user` may see the instance (an unknown one passes: the API answers it). The
        common case — a person acting on their own task — is one query, not a loaded instance."""
        if user.is_admin:
            return True
        if involved_in(self.pages.web.engine, instance_id, user.name):
            return True
        try:
            view = self.pages.service.instance(instance_id, with_timeline=False)
        except FlowError:
            return True
        return can_see(self.pages.web, user, view)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(("/flow-instances/", "/flow-tasks/", "/flows/")):
            await self.app(scope, receive, send)
            return
        user = scope.get("state", {}).get("user")
        if user is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "POST" and scope["path"].endswith("/migrations") and not user.is_admin:
            await _answer(scope, receive, send, FlowError(
                "forbidden", "moving instances to another deployment is for administrators"), 403)
            return
        found = self._instances_of(scope)
        if scope["method"] == "POST" and found:
            # A command's endpoint runs in the threadpool anyway: it runs this check there first
            # (`flow_command_check`), one trip off the event loop instead of two.
            (instance_id, unknown), = found
            scope.setdefault("state", {})["flow_command_check"] = lambda: self._check(user, instance_id, unknown)
            await self.app(scope, receive, send)
            return
        for instance_id, unknown in found:
            if not await run_in_threadpool(self._may_see, user, instance_id):     # queries: off the event loop
                await _answer(scope, receive, send, unknown)      # exactly what an unknown one gets
                return
        await self.app(scope, receive, send)

    def _check(self, user: Any, instance_id: str, unknown: FlowError) -> None:
        """Raise what an unknown instance gets (the API's one handler renders it) unless `user` may see it."""
        if not self._may_see(user, instance_id):
            raise unknown


async def _answer(scope: dict, receive: Any, send: Any, error: FlowError, status: int | None = None) -> None:
    """The error as the API's one handler renders it (runtime/http/errors.py), byte for byte."""
    body = error.to_dict(request_lang(Request(scope)))
    await BanyanJSON(body, status_code=status or error.status)(scope, receive, send)
