"""The web app on top of the API: session and sign-in in front of everything, security headers
on every response, static files (served here, never from a CDN) and the pages.

`create_app(engine)` is the API (runtime/http/app.py) with `install_web` around it; then every
page and every API endpoint (except /health, the OpenAPI document and /static) needs a signed-in
person or an API token.
"""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.middleware.sessions import SessionMiddleware

from forms import STATIC_DIR as FORMS_STATIC

from runtime.auth.session import SESSION_COOKIE, SESSION_SECONDS, secret_key, secure_cookies
from runtime.deploy.live import NothingDeployed
from runtime.web.admin import admin_router
from runtime.http.app import _error, create_app as create_api
from runtime.http.guard import ApiGuard
from runtime.web.context import TEMPLATES, PermissionDenied, WebContext
from runtime.auth.users import User
from runtime.flows.store import FlowError
from runtime.http.flow_guard import FlowApiGuard
from runtime.web.context import NavItem, register_nav
from runtime.web.flow import FlowPages
from runtime.web.flow_text import ftext
from runtime.web.inbox import inbox_router
from runtime.web.instance import instance_router
from runtime.web.start import start_router
from runtime.web.task import task_router
from runtime.web.lookup import lookup_router
from runtime.web.middleware import AuthGate, SecurityHeaders
from runtime.web.pages import pages_router
from runtime.web.records import records_router
from runtime.web.text import text
from runtime.web.transfer import transfer_router

STATIC = TEMPLATES.parent / "static"


def create_app(engine: Engine) -> FastAPI:
    """What `banyan serve` runs: the API, the pages and sign-in in front of both."""
    return create_api(engine, extend=install_web)


def install_web(app: FastAPI, engine: Engine) -> WebContext:
    web = WebContext(engine)
    app.state.web = web
    app.state.guard = ApiGuard(web)
    app.mount("/static/forms", StaticFiles(directory=str(FORMS_STATIC)), name="forms-static")
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for router in (pages_router(web), transfer_router(web), records_router(web), admin_router(web),
                   lookup_router(web)):
        app.include_router(router)
    install_flow_pages(app, web)          # the approval pages (and the flow API's read checks)

    @app.exception_handler(PermissionDenied)
    async def _denied(request: Request, _exc: PermissionDenied) -> HTMLResponse:
        return web.denied(request)

    @app.exception_handler(NothingDeployed)
    async def _nothing(request: Request, exc: NothingDeployed):
        if request.url.path.startswith("/ui/"):
            lang = web.lang(request)
            return web.page(request, "message.html", 409, title=text("not_found", lang),
                            message=text("nothing_deployed", lang))
        return _error(409, "nothing_deployed", str(exc))

    # added last = outermost: headers → session → auth → the app
    app.add_middleware(AuthGate, users=web.users)
    app.add_middleware(SessionMiddleware, secret_key=secret_key(), session_cookie=SESSION_COOKIE,
                       max_age=SESSION_SECONDS, same_site="lax", https_only=secure_cookies())
    app.add_middleware(SecurityHeaders)
    return web


def install_flow_pages(app: FastAPI, web: WebContext) -> FlowPages:
    fp = FlowPages(web)
    app.state.flow_pages = fp
    for router in (inbox_router(fp), start_router(fp), task_router(fp), instance_router(fp)):
        app.include_router(router)
    app.add_middleware(FlowApiGuard, pages=fp)
    web.flow_pages = fp          # the badge is counted by the app that renders the page (NAV is shared)
    register_nav(NavItem("inbox", {"zh": ftext("inbox", "zh"), "en": ftext("inbox", "en")}, "/ui/inbox", 10,
                         count=lambda page_web, user: _badge(page_web.flow_pages, user)))
    register_nav(NavItem("start_flow", {"zh": ftext("start_flow", "zh"), "en": ftext("start_flow", "en")},
                         "/ui/start", 11))
    return fp


def _badge(fp: FlowPages, user: User) -> int | None:
    try:
        return fp.open_count(user) or None
    except FlowError:
        return None
