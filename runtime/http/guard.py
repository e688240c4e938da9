"""Who is asking the JSON API when the web app is on (`runtime.web.app.create_app`): their org scope,
which the services apply (runtime/auth/scope.py), and the permissions a door checks before
it asks a service to act (records.write, records.delete, deployments.read)."""
from __future__ import annotations

from typing import Any

from fastapi import Request

from runtime.auth.permissions import MissingPermission
from runtime.auth.scope import Scope


class ApiGuard:
    def __init__(self, web: Any):
        self.web = web

    def scope(self, request: Request) -> Scope:
        return self.web.scope(request.state.user)

    def permit(self, request: Request, permission: str) -> None:
        user = request.state.user
        if not user.can(permission):
            raise MissingPermission(permission)        # the action in the caller's words, never its code
