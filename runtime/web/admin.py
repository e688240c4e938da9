"""Admin pages: people (create, change, roles held in org units, deactivate, hand a departing
person's clients and open tasks to another — 客户移交; lift a sign-in lockout, sign them out
everywhere) and what each role may do. Only for holders of `users.admin` (and administrators).
Every change is audited under the signed-in administrator's name and address."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from dsl.errors import catalog, words
from runtime.auth.people import PeopleDirectory
from runtime.auth.users import PERMISSIONS, UserError
from runtime.flows.service import FlowService
from runtime.people.hand_over import HandOverError, hand_over
from runtime.web.context import WebContext, redirect
from runtime.web.forms import posted
from runtime.web.text import text


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def admin_router(web: WebContext) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    def allowed(request: Request) -> bool:
        return web.user(request).can("users.admin")

    def role_labels(lang: str) -> list[tuple[str, str, str]]:
        tree = web.tree()
        return [(n, r.meta.label.text(lang) or n, r.scope) for n, r in sorted(tree.roles.items())]

    def units(lang: str) -> list[tuple[str, str]]:
        tree = web.tree()
        return [(u, "　" * d + tree.label(u, lang)) for u, d in tree.ordered()]

    @r.get("/ui/admin/users")
    def users(request: Request) -> HTMLResponse:
        if not allowed(request):
            return web.denied(request)
        lang = web.lang(request)
        tree = web.tree()
        people = [(u, tree.label(u.org_unit, lang),
                   [tree.roles[r].meta.label.text(lang) if r in tree.roles else r for r, _ in u.roles])
                  for u in web.users.list()]
        return web.page(request, "admin_users.html", title=text("users", lang), people=people,
                        locked=web.users.locked_until(), hw=lambda key, **slots: words("web.admin." + key, lang, **slots))

    def user_form(request: Request, person, status: int = 200, errors=None, values=None, hand=None) -> HTMLResponse:
        lang = web.lang(request)
        directory = PeopleDirectory(web.engine)
        others = [(n, d) for n, d in directory.search("", 1000) if person is None or n != person.name]
        hand = {"values": {"to": "", "reason": ""}, "plan": None, "done": False, "error": "", **(hand or {})}
        if hand["plan"] is not None:
            hand["names"] = directory.display_names([hand["plan"]["to"]])
        values = values or ({"name": person.name, "display_name": person.display_name, "org_unit": person.org_unit,
                             "email": person.email or "", "is_admin": person.is_admin, "active": person.active,
                             "roles": {r: u for r, u in person.roles}} if person else
                            {"name": "", "display_name": "", "org_unit": "", "email": "", "is_admin": False,
                             "active": True, "roles": {}})
        security = ({"locked": web.users.locked_until().get(person.name), "sessions": web.users.live_sessions(person.name)}
                    if person else None)
        return web.page(request, "admin_user.html", status, title=person.display_name if person else text("new_user", lang),
                        person=person, values=values, errors=errors or {}, roles=role_labels(lang), units=units(lang),
                        hand=hand, people=others, security=security,
                        hw=lambda key, **slots: words("web.admin." + key, lang, **slots))

    @r.get("/ui/admin/users/new")
    def new_user(request: Request) -> HTMLResponse:
        return user_form(request, None) if allowed(request) else web.denied(request)

    @r.get("/ui/admin/users/{name}")
    def edit_user(request: Request, name: str) -> HTMLResponse:
        if not allowed(request):
            return web.denied(request)
        person = web.users.get(name)
        return user_form(request, person) if person else web.not_found(request, name)

    @r.post("/ui/admin/users/{name}")
    def save_user(request: Request, name: str, form: FormData = Depends(posted)) -> Response:
        if not allowed(request):
            return web.denied(request)
        lang = web.lang(request)
        if not web.check_csrf(request, form):
            return web.denied(request, text("signin_csrf", lang))
        new = name == "new"
        person = None if new else web.users.get(name)
        if not new and person is None:
            return web.not_found(request, name)
        if not new and form.get("action") in ("hand_over_preview", "hand_over_do"):
            return hand_over_form(request, person, form, lang)
        me = web.user(request)
        if not new and form.get("action") == "unlock":
            web.users.unlock(person.name, by=me.name, address=_address(request))
            request.session["flash"] = words("web.admin.unlocked", lang, name=person.display_name)
            return redirect(f"/ui/admin/users/{person.name}")
        if not new and form.get("action") == "sign_out_everywhere":
            n = web.users.sign_out_everywhere(person.name, by=me.name, address=_address(request))
            if person.name == me.name:
                return redirect("/ui/signin")
            request.session["flash"] = words("web.admin.signed_out_everywhere", lang, name=person.display_name, n=n)
            return redirect(f"/ui/admin/users/{person.name}")
        target = str(form.get("name") or "").strip() if new else name
        roles = {}
        for role, _label, scope in role_labels(lang):
            if form.get(f"role.{role}"):
                unit = str(form.get(f"unit.{role}") or "")
                roles[role] = "" if scope == "global" else (unit or str(form.get("org_unit") or ""))
        values = {"name": target, "display_name": str(form.get("display_name") or "").strip(),
                  "org_unit": str(form.get("org_unit") or ""), "email": str(form.get("email") or "").strip(),
                  "is_admin": bool(form.get("is_admin")), "active": bool(form.get("active")), "roles": roles}
        if not new and name == me.name and (not values["active"] or (me.is_admin and not values["is_admin"])):
            return user_form(request, person, 422, {"active": "you cannot lock yourself out"}, values)
        try:
            web.users.save(target, display_name=values["display_name"], org_unit=values["org_unit"],
                           email=values["email"] or None, password=str(form.get("password") or "") or None,
                           is_admin=values["is_admin"], active=values["active"], roles=list(roles.items()),
                           tree=web.tree(), new=new, by=me.name, address=_address(request))
        except UserError as exc:
            errors: dict[str, str] = {}
            for field, message in exc.problems:
                errors.setdefault(field, message)
            return user_form(request, person, 422, errors, values)
        request.session["flash"] = text("saved", lang)
        return redirect("/ui/admin/users")

    def hand_over_form(request: Request, person, form, lang: str) -> HTMLResponse:
        """客户移交 from the person's admin page: a preview (a dry run) or the real thing; all or nothing."""
        values = {"to": str(form.get("to") or "").strip(), "reason": str(form.get("reason") or "").strip()}
        dry_run = form.get("action") != "hand_over_do"
        pages = web.flow_pages
        flows = pages.service if pages is not None else FlowService(web.engine)
        try:
            done = hand_over(flows, person.name, values["to"], by=web.user(request).name, dry_run=dry_run,
                             reason=values["reason"] or None)
        except HandOverError as exc:
            problems = [p["msg"] for p in exc.detail(lang)]
            return user_form(request, person, 422, hand={"values": values, "error": exc.render(lang),
                                                         "problems": problems})
        plan = done.to_dict()
        for p in plan["problems"]:
            p["message"] = words(f"flows.{p['code']}", lang) if f"flows.{p['code']}" in catalog() else p["message"]
        return user_form(request, person, hand={"values": values, "plan": plan, "done": not dry_run})

    @r.get("/ui/admin/roles")
    def roles(request: Request) -> HTMLResponse:
        if not allowed(request):
            return web.denied(request)
        lang = web.lang(request)
        return web.page(request, "admin_roles.html", title=text("role_permissions", lang), roles=role_labels(lang),
                        grants=web.users.grants(), permissions=PERMISSIONS)

    @r.post("/ui/admin/roles")
    def save_roles(request: Request, form: FormData = Depends(posted)) -> Response:
        if not allowed(request):
            return web.denied(request)
        lang = web.lang(request)
        if not web.check_csrf(request, form):
            return web.denied(request, text("signin_csrf", lang))
        me = web.user(request)
        for role, _label, _scope in role_labels(lang):
            web.users.set_grants(role, {p for p in PERMISSIONS if form.get(f"{role}:{p}")}, by=me.name,
                                 address=_address(request))
        request.session["flash"] = text("saved", lang)
        return redirect("/ui/admin/roles")

    return r
