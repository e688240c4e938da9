"""The web app on top of the API: session and sign-in in front of everything, security headers
on every response, static files (served here, never from a CDN) and the pages.

`install_web(app, engine)` is called by `api.create_app(engine, web=True)`; afterwards every
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

from .auth.session import SESSION_COOKIE, SESSION_SECONDS, secret_key, secure_cookies
from .live import NothingDeployed
from .web_admin import admin_router
from .web_api_guard import ApiGuard
from .web_context import TEMPLATES, PermissionDenied, WebContext
from .web_lookup import lookup_router
from .web_middleware import AuthGate, SecurityHeaders
from .web_pages import pages_router
from .web_records import records_router
from .web_text import text
from .web_transfer import transfer_router

STATIC = TEMPLATES.parent / "static"


def install_web(app: FastAPI, engine: Engine) -> WebContext:
    web = WebContext(engine)
    app.state.web = web
    app.state.guard = ApiGuard(web)
    app.mount("/static/forms", StaticFiles(directory=str(FORMS_STATIC)), name="forms-static")
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for router in (pages_router(web), transfer_router(web), records_router(web), admin_router(web),
                   lookup_router(web)):
        app.include_router(router)
    from .web_flow import install_flow_pages
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
        from .api import _error
        return _error(409, "nothing_deployed", str(exc))

    # added last = outermost: headers → session → auth → the app
    app.add_middleware(AuthGate, users=web.users)
    app.add_middleware(SessionMiddleware, secret_key=secret_key(), session_cookie=SESSION_COOKIE,
                       max_age=SESSION_SECONDS, same_site="lax", https_only=secure_cookies())
    app.add_middleware(SecurityHeaders)
    return web
