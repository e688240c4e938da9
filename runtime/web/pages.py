"""Sign-in and out, the language switch, the home page, deployment history, my account (tokens,
password, out-of-office deputy)."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dsl.bank_time import bank_today
from dsl.errors import words
from runtime.auth.deputies import DeputyError, cancel_deputy, covering, periods
from runtime.auth.people import PeopleDirectory
from runtime.auth.session import sign_in, sign_out
from runtime.auth.users import UserError
from runtime.deploy.live import live_status
from runtime.flows.service import FlowService
from runtime.people.away import go_away
from runtime.records.listing import readable_counts
from runtime.web.context import WebContext, redirect
from runtime.web.text import text


def _safe_next(target: str | None) -> str:
    """Only a path of this site (no scheme, no host, no `//`): no open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/ui/"
    parts = urlparse(target)
    return target if not parts.scheme and not parts.netloc else "/ui/"


def pages_router(web: WebContext) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/")
    def root() -> RedirectResponse:
        return redirect("/ui/")

    @r.get("/ui/signin")
    def signin_page(request: Request, next: str = "/ui/") -> HTMLResponse:
        return web.page(request, "signin.html", title=text("signin", web.lang(request)), error="",
                        next=_safe_next(next), username="")

    @r.post("/ui/signin")
    async def signin(request: Request) -> Response:
        form = await request.form()
        lang = web.lang(request)
        name, password = str(form.get("username") or "").strip(), str(form.get("password") or "")
        nxt = _safe_next(str(form.get("next") or ""))
        if not web.check_csrf(request, form):
            return web.page(request, "signin.html", 400, title=text("signin", lang), error=text("signin_csrf", lang),
                            next=nxt, username=name)
        user = web.users.authenticate(name, password) if name and password and len(password) < 1000 else None
        web.users.audit_sign_in(name, user, request.client.host if request.client else None)
        if user is None:
            return web.page(request, "signin.html", 401, title=text("signin", lang),
                            error=text("signin_failed", lang), next=nxt, username=name)
        sign_in(request.session, user)
        return redirect(nxt)

    @r.post("/ui/signout")
    async def signout(request: Request) -> Response:
        form = await request.form()
        if web.check_csrf(request, form):
            sign_out(request.session)
        return redirect("/ui/signin")

    @r.get("/ui/lang")
    def lang_page(next: str = "/ui/") -> Response:
        """A link or a sign-in's `next` that lands here (the switch itself is a POST): go on to the
        page, never a 405."""
        target = _safe_next(next)
        return redirect(target if not target.startswith("/ui/lang") else "/ui/")

    @r.post("/ui/lang")
    async def switch_lang(request: Request) -> Response:
        form = await request.form()
        if web.check_csrf(request, form) and form.get("to") in ("zh", "en"):
            request.session["lang"] = form.get("to")
        return redirect(_safe_next(str(form.get("next") or "")))

    @r.get("/ui/")
    def home(request: Request) -> HTMLResponse:
        lang, user = web.lang(request), web.user(request)
        live = web.live()
        scope = web.scope(user)
        counts = readable_counts(web.records, scope)
        entities = [{"name": name, "label": e.meta.label.text(lang) or name, "count": counts.get(name, 0)}
                    for name, e in sorted(live.bundle.entities.items())]
        forms = [{"name": n, "label": f.meta.label.text(lang) or n} for n, f in live.bundle.of_kind("Form").items()]
        tree = web.tree()
        roles = [(tree.roles[r].meta.label.text(lang) if r in tree.roles else r) +
                 (" · " + (tree.label(u, lang) if u else text("bank_wide", lang)) if u != user.org_unit else "")
                 for r, u in user.roles]
        if scope.bank_wide:
            scope_text = text("scope_all", lang)
        else:
            units = [tree.label(u, lang) for u, _ in tree.ordered() if scope.holds(u)]
            scope_text = text("scope_units", lang, n=len(units), units="、".join(units[:6]) + ("…" if len(units) > 6 else ""))
        return web.page(request, "home.html", title=text("home", lang), entities=entities, forms=forms,
                        roles=roles, scope_text=scope_text)

    @r.get("/ui/deployments")
    def deployments(request: Request) -> HTMLResponse:
        lang = web.lang(request)
        if not web.user(request).can("deployments.read"):
            return web.denied(request)
        rows = web.registry.history()
        return web.page(request, "deployments.html", title=text("deployments", lang), rows=rows,
                        unavailable=live_status(web.registry.engine).unavailable)

    @r.get("/ui/me")
    def me(request: Request) -> HTMLResponse:
        return _me(request)

    def _me(request: Request, status: int = 200, **extra) -> HTMLResponse:
        user, lang = web.user(request), web.lang(request)
        today = bank_today()
        mine, covering_ = periods(web.engine, user.name, today=today), covering(web.engine, user.name, today=today)
        people = PeopleDirectory(web.engine)
        names = people.display_names([p.deputy for p in mine] + [p.user for p in covering_])
        ctx = {"new_token": "", "errors": {}, "flash": "", "deputy_values": {"from": today.isoformat()}, **extra}
        return web.page(request, "me.html", status, title=text("me", lang), tokens=web.users.tokens(user.name),
                        deputies=mine, covering=covering_, person_names=names,
                        people=[(n, d) for n, d in people.search("", 1000) if n != user.name],
                        mw=lambda key, **slots: words("web.me." + key, lang, **slots), **ctx)

    def _flows() -> FlowService:
        pages = web.flow_pages
        return pages.service if pages is not None else FlowService(web.engine)

    def _deputy(request: Request, form, lang: str, user) -> HTMLResponse:
        """Name a deputy from the person's own page (and hand over their open tasks if asked)."""
        values: dict[str, Any] = {k: str(form.get(k) or "").strip() for k in ("deputy", "from", "until", "reason")}
        values["open_tasks"] = bool(form.get("open_tasks"))
        try:
            away = go_away(_flows(), user.name, values["deputy"], values["from"], values["until"], today=bank_today(),
                           reason=values["reason"] or None, by=user.name, with_open_tasks=values["open_tasks"])
        except DeputyError as exc:
            field = exc.problems[0][0][0] if exc.problems else "deputy"
            return _me(request, 422, errors={f"deputy.{field}": exc.render(lang)}, deputy_values=values)
        p = away.period
        names = PeopleDirectory(web.engine).display_names([p.deputy])
        return _me(request, flash=words("web.me.deputy_saved", lang, deputy=names.get(p.deputy, p.deputy),
                                        starts=p.starts.isoformat(), ends=p.ends.isoformat(), moved=len(away.moved),
                                        kept=len(away.kept)))

    @r.post("/ui/me")
    async def me_post(request: Request) -> HTMLResponse:
        form = await request.form()
        lang, user = web.lang(request), web.user(request)
        if not web.check_csrf(request, form):
            return _me(request, 400, flash=text("signin_csrf", lang))
        action = form.get("action")
        if action == "token":
            token = web.users.create_token(user.name, str(form.get("label") or "")[:200])
            return _me(request, new_token=token)
        if action == "revoke":
            web.users.revoke_token(user.name, str(form.get("token_id") or ""))
            return _me(request, flash=text("revoked", lang))
        if action == "deputy":
            return _deputy(request, form, lang, user)
        if action == "deputy_cancel":
            try:
                cancel_deputy(web.engine, user.name, int(str(form.get("period") or "0")), by=user.name)
            except (DeputyError, ValueError):
                return _me(request, 404, flash=words("auth.deputy.no_period", lang, id=str(form.get("period") or "")))
            return _me(request, flash=words("web.me.deputy_cancelled", lang))
        if action == "password":
            if web.users.authenticate(user.name, str(form.get("current") or "")) is None:
                return _me(request, 422, errors={"current": text("wrong_password", lang)})
            try:
                web.users.set_password(user.name, str(form.get("new") or ""))
            except UserError as exc:
                return _me(request, 422, errors={"new": exc.problems[0][1]})
            fresh = web.users.get(user.name)
            sign_in(request.session, fresh)
            return _me(request, flash=text("password_changed", lang))
        return _me(request, 400)

    return r
