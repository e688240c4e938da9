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
from markupsafe import escape
from sqlalchemy.engine import Engine
from starlette.middleware.sessions import SessionMiddleware

from dsl.errors import BanyanError, words
from forms import STATIC_DIR as FORMS_STATIC
from runtime.auth.session import SESSION_COOKIE, SESSION_SECONDS, csrf_token, secret_key, secure_cookies
from runtime.auth.users import User
from runtime.flows.store import FlowError
from runtime.http.app import create_app as create_api
from runtime.http.flow_guard import FlowApiGuard
from runtime.http.guard import ApiGuard
from runtime.web.admin import admin_router
from runtime.web.alert_rules import alert_rule_pages
from runtime.web.alerts import alert_pages
from runtime.web.audit import audit_pages
from runtime.web.context import TEMPLATES, NavItem, WebContext, register_nav
from runtime.web.dashboard import dashboard_pages
from runtime.web.flow import FlowPages
from runtime.web.flow_text import ftext
from runtime.web.inbox import inbox_router
from runtime.web.instance import instance_router
from runtime.web.lookup import lookup_router
from runtime.web.middleware import AuthGate, SecurityHeaders
from runtime.web.pages import pages_router
from runtime.web.records import records_router
from runtime.web.sheet import sheet_router
from runtime.web.start import start_router
from runtime.web.task import task_router
from runtime.web.text import text
from runtime.web.tiering import tiering_pages
from runtime.web.transfer import transfer_router
from runtime.web.views import view_pages

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
                   lookup_router(web), audit_pages(web), alert_pages(web), alert_rule_pages(web),
                   tiering_pages(web), view_pages(web), dashboard_pages(web)):
        app.include_router(router)
    install_flow_pages(app, web)          # the approval pages (and the flow API's read checks)

    app.state.error_page = lambda request, error: error_page(web, request, error)

    # added last = outermost: headers → session → auth → the app
    app.add_middleware(AuthGate, users=web.users)
    app.add_middleware(SessionMiddleware, secret_key=secret_key(engine.url), session_cookie=SESSION_COOKIE,
                       max_age=SESSION_SECONDS, same_site="lax", https_only=secure_cookies())
    app.add_middleware(SecurityHeaders)
    return web


def error_page(web: WebContext, request: Request, error: BanyanError) -> HTMLResponse:
    """A BanyanError on a page (runtime/http/errors.py sends it here): message.html with its words
    in the person's language. When even the page cannot be drawn (the failure is in what every
    page shows), a bare page still says it."""
    lang = web.lang(request)
    titles = {403: "denied_title", 404: "not_found"}
    title = text(titles[error.status], lang) if error.status in titles else words("banyan.error", lang)
    message = error.render(lang)
    shown = {"title": title, "message": message, "code": error.code}
    try:
        return web.page(request, "message.html", error.status, **shown)
    except Exception:  # noqa: BLE001 - what every page shows (the org tree, the badges) failed too
        pass
    try:                                    # the page without the person's navigation
        html = web.env.get_template("message.html").render(
            request=request, lang=lang, user=None, nav=[], badges={}, flash="", unit_label="",
            csrf=csrf_token(request.session), path=request.url.path, **shown)
        return HTMLResponse(html, status_code=error.status, media_type="text/html; charset=utf-8")
    except Exception:  # noqa: BLE001 - not even the template: a bare page still says it
        body = (f'<!doctype html><html lang="{lang}"><meta charset="utf-8"><title>{escape(title)}</title>'
                f'<main><h1>{escape(title)}</h1><p>{escape(message)}</p><p><small>{escape(error.code)}</small></p>'
                f'<p><a href="/ui/">{escape(text("home", lang))}</a></p></main>')
        return HTMLResponse(body, status_code=error.status, media_type="text/html; charset=utf-8")


def install_flow_pages(app: FastAPI, web: WebContext) -> FlowPages:
    fp = FlowPages(web)
    app.state.flow_pages = fp
    for router in (inbox_router(fp), start_router(fp), task_router(fp), instance_router(fp), sheet_router(fp)):
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
