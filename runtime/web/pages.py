"""Sign-in and out, the language switch, the home page, deployment history, my account (tokens,
password, out-of-office deputy)."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from dsl.bank_time import bank_today
from dsl.errors import words
from runtime.auth import totp
from runtime.auth.deputies import DeputyError, cancel_deputy, covering, periods
from runtime.auth.people import PeopleDirectory
from runtime.auth.session import await_second_factor, pending_user, sign_in, sign_out
from runtime.auth.users import PasswordRejected, UserError
from runtime.deploy.live import live_status
from runtime.flows.service import FlowService
from runtime.people.away import go_away
from runtime.records.listing import readable_counts
from runtime.web.context import WebContext, redirect
from runtime.web.forms import posted
from runtime.web.inbox import amount_fields, amount_text, overdue_for
from runtime.web.text import text, when
from runtime.web.workbench import workbench

TODO_SIZE = 5             # tasks on the home page; the inbox has them all


def _safe_next(target: str | None) -> str:
    """Only a path of this site (no scheme, no host, no `//`): no open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/ui/"
    parts = urlparse(target)
    return target if not parts.scheme and not parts.netloc else "/ui/"


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def pages_router(web: WebContext) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/")
    def root() -> RedirectResponse:
        return redirect("/ui/")

    def signin_form(request: Request, status: int = 200, *, error: str = "", step: str = "password",
                    next: str = "/ui/", username: str = "", notice: str = "") -> HTMLResponse:
        lang = web.lang(request)
        return web.page(request, "signin.html", status, title=text("signin", lang), error=error, step=step,
                        next=next, username=username, notice=notice,
                        sw=lambda key, **slots: words("web.signin." + key, lang, **slots))

    def locked_words(lang: str) -> str:
        return words("web.signin.locked", lang, minutes=web.users.policy.lock_minutes)

    @r.get("/ui/signin")
    def signin_page(request: Request, next: str = "/ui/", ended: str = "") -> HTMLResponse:
        lang = web.lang(request)
        return signin_form(request, next=_safe_next(next), notice=words("web.signin.ended", lang) if ended else "")

    @r.post("/ui/signin")
    def signin(request: Request, form: FormData = Depends(posted)) -> Response:
        """The password, then (for a person with a second factor) the one-time code. Throttled:
        a locked name or address gets the lockout words whether the name is someone's or not."""
        lang, address = web.lang(request), _address(request)
        name, password = str(form.get("username") or "").strip(), str(form.get("password") or "")
        nxt = _safe_next(str(form.get("next") or ""))
        if not web.check_csrf(request, form):
            return signin_form(request, 400, error=text("signin_csrf", lang), next=nxt, username=name)
        if form.get("step") == "totp":
            return second_factor(request, str(form.get("code") or ""), nxt, lang, address)
        attempt = web.users.attempt(name, password, address)
        if attempt.locked:
            return signin_form(request, 429, error=locked_words(lang), next=nxt, username=name)
        user = attempt.user
        if user is None:
            return signin_form(request, 401, error=text("signin_failed", lang), next=nxt, username=name)
        if user.totp:
            await_second_factor(request.session, user)
            return signin_form(request, step="totp", next=nxt)
        sign_in(request.session, user, web.users.open_session(user, address))
        return redirect("/ui/me#totp" if web.users.totp_needed(user) else nxt)

    def second_factor(request: Request, code: str, nxt: str, lang: str, address: str | None) -> Response:
        name = pending_user(request.session)
        if name is None:                               # too late, or never: start again
            sign_out(request.session)
            return signin_form(request, 401, error=words("web.signin.ended", lang), next=nxt)
        if web.users.is_locked(name, address):
            sign_out(request.session)
            return signin_form(request, 429, error=locked_words(lang), next=nxt)
        user = web.users.get(name)
        if user is not None and user.active and web.users.verify_totp(name, code):
            sign_in(request.session, user, web.users.open_session(user, address, second_factor=True))
            return redirect(nxt)
        if web.users.second_factor_failed(name, address):
            sign_out(request.session)
            return signin_form(request, 429, error=locked_words(lang), next=nxt)
        return signin_form(request, 401, error=words("web.signin.totp_failed", lang), step="totp", next=nxt)

    @r.post("/ui/signout")
    def signout(request: Request, form: FormData = Depends(posted)) -> Response:
        if web.check_csrf(request, form):
            web.users.sign_out(request.session.get("sid"), _address(request))
            sign_out(request.session)
        return redirect("/ui/signin")

    @r.get("/ui/lang")
    def lang_page(next: str = "/ui/") -> Response:
        """A link or a sign-in's `next` that lands here (the switch itself is a POST): go on to the
        page, never a 405."""
        target = _safe_next(next)
        return redirect(target if not target.startswith("/ui/lang") else "/ui/")

    @r.post("/ui/lang")
    def switch_lang(request: Request, form: FormData = Depends(posted)) -> Response:
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
                        roles=roles, scope_text=scope_text, todo=_todo(user, lang), w=words,
                        bench=workbench(web, user, lang))

    def _todo(user, lang: str) -> dict | None:
        """The person's to-do list first on the home page (an approver acts from a phone): the first
        few tasks of the inbox's "to do" box by due time, with what the inbox shows of each."""
        fp = web.flow_pages
        if fp is None:
            return None
        flows = fp.current_flows()
        found = fp.service.inbox_page(user.name, "mine", limit=TODO_SIZE, sort="due",
                                      amount_fields=amount_fields(fp, flows))
        counts = fp.service.inbox(user.name, "mine", limit=1)["counts"]
        fp.counted(user.name, counts)                     # the nav badge counts no second time
        items, now = found["items"], fp.service.clock()
        entities = {it["task"]: it.get("subject_entity") or getattr(flows.get(it["flow"]), "subject", None)
                    for it in items}
        subjects = {e: fp.subject_labels(e, [it.get("subject") for it in items if entities[it["task"]] == e])
                    for e in set(entities.values()) if e}
        rows = [{"href": f"/ui/tasks/{it['task']}", "step": fp.node_label(flows.get(it["flow"]), it.get("node"), lang),
                 "flow": fp.flow_label(it["flow"], lang),
                 "subject": subjects.get(entities[it["task"]] or "", {}).get(str(it.get("subject")),
                                                                              it.get("subject") or "—"),
                 "amount": amount_text(it.get("amount"), lang), "due": when(it.get("due_at")),
                 "overdue_for": overdue_for(it.get("due_at"), now, lang) if it.get("overdue") else ""}
                for it in items]
        return {"rows": rows, "total": counts["mine"], "pool": counts["pool"]}

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
        policy = web.users.policy
        return web.page(request, "me.html", status, title=text("me", lang), tokens=web.users.tokens(user.name),
                        deputies=mine, covering=covering_, person_names=names,
                        people=[(n, d) for n, d in people.search("", 1000) if n != user.name],
                        mw=lambda key, **slots: words("web.me." + key, lang, **slots),
                        enrol=_enrolment(request, user), totp_required=web.users.totp_needed(user),
                        code_label=words("web.signin.totp_code", lang),
                        policy=policy, **ctx)

    def _enrolment(request: Request, user) -> dict | None:
        """What an authenticator app needs to enrol (a secret kept in the session until confirmed)."""
        if user.totp:
            return None
        secret = request.session.get("totp_new")
        if not isinstance(secret, str) or len(secret) != 32:
            secret = request.session["totp_new"] = totp.new_secret()
        uri = totp.uri(secret, user.name)
        return {"uri": uri, "svg": totp.qr_svg(uri), "grouped": totp.grouped(secret)}

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
    def me_post(request: Request, form: FormData = Depends(posted)) -> Response:
        lang, user, address = web.lang(request), web.user(request), _address(request)
        if not web.check_csrf(request, form):
            return _me(request, 400, flash=text("signin_csrf", lang))
        action = form.get("action")
        if web.users.totp_needed(user) and action not in ("totp_enrol", "password", "sign_out_everywhere"):
            return _me(request, 403, flash=words("web.me.totp_required", lang))
        if action == "token":
            return _token(request, form, lang, user, address)
        if action == "revoke":
            web.users.revoke_token(user.name, str(form.get("token_id") or ""), by=user.name, address=address)
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
            return _password(request, form, lang, user, address)
        if action == "sign_out_everywhere":
            web.users.sign_out_everywhere(user.name, by=user.name, address=address)
            sign_out(request.session)
            return redirect("/ui/signin")
        if action == "totp_enrol":
            secret = request.session.get("totp_new")
            if not isinstance(secret, str) or not web.users.enrol_totp(user.name, secret, str(form.get("code") or ""),
                                                                     address=address):
                return _me(request, 422, errors={"totp": words("web.me.totp_wrong", lang)})
            request.session.pop("totp_new", None)
            return _me(request, flash=words("web.me.totp_enabled", lang))
        if action == "totp_remove":
            if user.is_admin and web.users.policy.require_totp_for_admins:
                return _me(request, 403, errors={"totp": words("web.me.totp_admin_keeps", lang)})
            if not web.users.verify_totp(user.name, str(form.get("code") or "")):
                return _me(request, 422, errors={"totp": words("web.me.totp_wrong", lang)})
            web.users.remove_totp(user.name, by=user.name, address=address)
            return _me(request, flash=words("web.me.totp_removed", lang))
        return _me(request, 400)

    def _token(request: Request, form, lang: str, user, address: str | None) -> HTMLResponse:
        limit = web.users.policy.max_token_days
        days_text = str(form.get("days") or web.users.policy.token_days).strip()
        scope = "read" if form.get("scope") == "read" else "write"
        if not days_text.isdigit() or not 1 <= int(days_text) <= limit:
            return _me(request, 422, errors={"token": words("web.me.token_bad_days", lang, limit=limit)})
        token = web.users.create_token(user.name, str(form.get("label") or "")[:200], days=int(days_text), scope=scope,
                                       by=user.name, address=address)
        return _me(request, new_token=token)

    def _password(request: Request, form, lang: str, user, address: str | None) -> HTMLResponse:
        """Change one's password: the current one (a wrong one counts towards the lockout), the new
        one twice; the policy applies; every other session ends, API tokens are revoked."""
        new, again = str(form.get("new") or ""), str(form.get("confirm") or "")
        attempt = web.users.attempt(user.name, str(form.get("current") or ""), address)
        if attempt.locked:
            web.users.sign_out(request.session.get("sid"), address)
            sign_out(request.session)
            return signin_form(request, 429, error=locked_words(lang))
        if attempt.user is None:
            return _me(request, 422, errors={"current": text("wrong_password", lang)})
        if new != again:
            return _me(request, 422, errors={"confirm": words("web.me.password_mismatch", lang)})
        try:
            web.users.set_password(user.name, new, by=user.name, address=address)
        except PasswordRejected as exc:
            return _me(request, 422, errors={"new": exc.render(lang)})
        except UserError as exc:
            return _me(request, 422, errors={"new": exc.problems[0][1]})
        fresh = web.users.get(user.name)
        sign_in(request.session, fresh, web.users.open_session(fresh, address, action="session_renew"))
        return _me(request, flash=text("password_changed", lang))

    return r
