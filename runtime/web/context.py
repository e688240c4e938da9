"""What every page handler shares: the services, the page templates, the signed-in user,
the language, the navigation (other parts — the approval pages — add entries with
`register_nav`), and the per-deployment caches (org tree, form specs)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.engine import Engine

from dsl.errors import BanyanError, words
from forms import FormSpec
from forms.i18n import lang_of
from runtime.auth.org import OrgTree
from runtime.auth.scope import Scope, scope_for
from runtime.auth.session import csrf_ok, csrf_token
from runtime.auth.users import User, UserStore
from runtime.deploy.deployments import DeploymentRegistry
from runtime.records.service import Records
from runtime.web.names import Names
from runtime.web.text import text, times_note, when

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class NavItem:
    key: str
    label: dict                  # {"zh": ..., "en": ...}
    path: str
    order: int = 50
    permission: str | None = None
    count: Callable[[Any, User], int | None] | None = None     # a badge (e.g. open tasks), or None


NAV: list[NavItem] = [
    NavItem("home", {"zh": "首页", "en": "Home"}, "/ui/", 0),
    NavItem("deployments", {"zh": "部署历史", "en": "Deployments"}, "/ui/deployments", 80, "deployments.read"),
    NavItem("admin", {"zh": "用户与角色", "en": "Users & roles"}, "/ui/admin/users", 90, "users.admin"),
]


def register_nav(item: NavItem) -> None:
    """Add a navigation entry (the flow pages add Inbox and Start a flow)."""
    NAV[:] = [n for n in NAV if n.key != item.key] + [item]
    NAV.sort(key=lambda n: n.order)


class PermissionDenied(BanyanError):
    """A page the person may not use; the missing permission is kept for the log, not shown."""
    code, status, key = "forbidden", 403, "web.denied"

    def __init__(self, permission: str = ""):
        super().__init__()                     # the catalogue's words; the permission is for the log
        self.permission = permission


class WebContext:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.records = Records(engine)
        self.users = UserStore(engine)
        self.registry = DeploymentRegistry(engine)
        self.env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True),
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.env.globals["t"] = text
        self.env.globals["w"] = words            # a message catalogue entry (dsl/messages.yaml)
        self.env.filters["urlencode_except"] = _urlencode_except
        self.env.filters["when"] = when
        self.env.globals["times_note"] = times_note
        self._trees: dict[str, OrgTree] = {}
        self._specs: dict[tuple[str, str], FormSpec] = {}
        self.names = Names(self)            # names, never codes (runtime/web/names.py)
        self.env.globals["role_label"] = self.names.role
        self.flow_pages: Any = None         # set by the approval pages (runtime/web_flow.py), if installed

    # -- the deployed bundle ---------------------------------------------------------------
    def live(self):
        return self.records.refresh()

    def tree(self) -> OrgTree:
        live = self.live()
        if live.hash not in self._trees:
            self._trees[live.hash] = OrgTree(live.bundle)
        return self._trees[live.hash]

    def spec(self, entity: str) -> FormSpec:
        live = self.live()
        key = (live.hash, entity)
        if key not in self._specs:
            self._specs[key] = FormSpec.of_entity(live.entity(entity))
        return self._specs[key]

    # -- the person asking -----------------------------------------------------------------
    @staticmethod
    def user(request: Request) -> User:
        return request.state.user

    def require(self, request: Request, permission: str) -> User:
        user = self.user(request)
        if not user.can(permission):
            raise PermissionDenied(permission)
        return user

    def scope(self, user: User) -> Scope:
        """What the person sees (runtime/auth/scope.py decides; every service applies it)."""
        return scope_for(self.tree(), user)

    @staticmethod
    def lang(request: Request) -> str:
        return lang_of(request.session.get("lang", "zh"))

    @staticmethod
    def check_csrf(request: Request, form: Any) -> bool:
        return csrf_ok(request.session, form.get("csrf_token"))

    # -- pages -----------------------------------------------------------------------------
    def page(self, request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        lang = self.lang(request)
        user = getattr(request.state, "user", None)
        nav = [n for n in NAV if user is not None and (n.permission is None or user.can(n.permission))]
        badges = {}
        for n in nav:
            if n.count is not None:
                badges[n.key] = n.count(self, user)
        ctx.setdefault("flash", request.session.pop("flash", "") if user is not None else "")
        html = self.env.get_template(template).render(
            request=request, lang=lang, user=user, nav=nav, badges=badges, csrf=csrf_token(request.session),
            path=request.url.path, unit_label=(self.tree().label(user.org_unit, lang) if user else ""), **ctx)
        return HTMLResponse(html, status_code=status, media_type="text/html; charset=utf-8")

    def denied(self, request: Request, message: str | None = None) -> HTMLResponse:
        lang = self.lang(request)
        return self.page(request, "message.html", 403, title=text("denied_title", lang),
                         message=message or text("denied", lang))

    def not_found(self, request: Request, message: str) -> HTMLResponse:
        return self.page(request, "message.html", 404, title=text("not_found", self.lang(request)), message=message)


def _urlencode_except(params: dict, name: str) -> str:
    """`a=1&b=2&` without `name` (the caller appends `name=...`)."""
    from urllib.parse import urlencode
    rest = {k: v for k, v in params.items() if k != name and k != "page"}
    return urlencode(rest) + "&" if rest else ""


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)
