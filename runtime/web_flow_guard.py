"""The flow JSON API under the web app's sign-in: reading an instance, a task or an instance's
diagram needs the same right as its page (runtime/web_flow_access.py) — else 404, so nobody
learns what exists outside their reach; moving instances to another deployment
(`POST /flows/{name}/migrations`) is for administrators. Commands need no check here: the
gate sets the actor to the signed-in person and the engine refuses a task that is not theirs.

A pure ASGI middleware inside the sign-in gate; any other path passes straight through."""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from .flow_store import FlowError
from .web_flow_access import can_see


async def _json(send: Any, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": code, "message": message, "detail": []}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class FlowApiGuard:
    def __init__(self, app: Any, pages: Any):
        self.app, self.pages = app, pages

    def _instances_of(self, scope: dict) -> list[str]:
        """Every instance a read names (all of a repeated `instance` parameter: the framework
        reads the last, so each one is checked), or [] when this guard does not check it."""
        path, method = scope["path"], scope["method"]
        if method != "GET":
            return []
        if path.startswith("/flow-instances/") and path.count("/") == 2:
            return [path.split("/")[2]]
        if path.startswith("/flow-tasks/"):
            task_id = path[len("/flow-tasks/"):]
            return [task_id.split("/")[0] if "/" in task_id else task_id]
        if path.startswith("/flows/") and path.endswith("/graph.svg"):
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            return [v for v in query.get("instance", []) if v]
        return []

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(("/flow-instances/", "/flow-tasks/", "/flows/")):
            await self.app(scope, receive, send)
            return
        user = scope.get("state", {}).get("user")
        if user is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "POST" and scope["path"].endswith("/migrations") and not user.is_admin:
            await _json(send, 403, "forbidden", "moving instances to another deployment is for administrators")
            return
        for instance_id in self._instances_of(scope):
            try:
                view = self.pages.service.instance(instance_id, with_timeline=False)
            except FlowError:
                view = None
            if view is not None and not can_see(self.pages.web, user, view):
                await _json(send, 404, "not_found", f"no flow instance `{instance_id}`")
                return
        await self.app(scope, receive, send)
