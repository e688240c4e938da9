"""The reference lookup behind every `ref(...)` input (JSON, the person's scope), the people
picker's lookups (transfer, delegate, add a signer, CC: `/ui/people` searches by name, user name,
unit or role; `/ui/people/units` is the org tree with how many people each unit has, and
`/ui/people?unit=` a unit's people), and the "try a form" page: any deployed Form rendered, filled
and checked by every rule, nothing saved (flow steps embed the same renderer).

Who may be picked: the active users (a disabled one cannot act on a task), the asker aside. Each
comes with their name, their unit's name and their roles' names; the user name is what the
action forms post."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import FormData

from dsl.bank_time import zone_name
from forms import FormSpec, parse, render_form, validate
from forms.display import display_text
from runtime.auth.people import PeopleDirectory
from runtime.auth.users import User
from runtime.deploy.live import UnknownEntity
from runtime.records.errors import RecordError
from runtime.records.listing import list_records
from runtime.web.context import WebContext
from runtime.web.forms import options_for, posted, submitted
from runtime.web.text import text

LIMIT = 10
PEOPLE_LIMIT = 20


def pickable(web: WebContext, asker: User, lang: str) -> list[dict]:
    """Everyone `asker` may pick, in org-tree order then by name: {name, label, unit, unit_label,
    roles (names), role_codes}. UserStore.list reads the whole directory in three queries."""
    tree = web.tree()
    order = {u: i for i, (u, _) in enumerate(tree.ordered())}
    out = []
    for u in web.users.list():
        if not u.active or u.name == asker.name:
            continue
        roles = list(dict.fromkeys(web.names.role(r, lang) for r, _ in u.roles))
        out.append({"name": u.name, "label": u.display_name, "unit": u.org_unit,
                    "unit_label": tree.label(u.org_unit, lang) if u.org_unit else "", "roles": roles,
                    "role_codes": sorted({r for r, _ in u.roles})})
    out.sort(key=lambda p: (order.get(p["unit"], len(order)), p["label"], p["name"]))
    return out


def _matches(person: dict, q: str) -> bool:
    text = q.casefold()
    return any(text in (v or "").casefold() for v in
               (person["name"], person["label"], person["unit"], person["unit_label"], *person["roles"],
                *person["role_codes"]))


def _public(person: dict) -> dict:
    return {k: v for k, v in person.items() if k != "role_codes"}


def lookup_router(web: WebContext) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    directory = PeopleDirectory(web.engine)

    @r.get("/ui/lookup/{target}")
    def lookup(request: Request, target: str, q: str = "") -> JSONResponse:
        lang, user = web.lang(request), web.user(request)
        q = q.strip()[:100]
        if target == "org_unit":
            tree, scope = web.tree(), web.scope(user)
            found = [{"key": u, "label": tree.label(u, lang)} for u, _ in tree.ordered()
                     if scope.holds(u) and (q.lower() in u.lower() or q in tree.label(u, lang))]
            return JSONResponse(found[:LIMIT])
        if target == "user":
            return JSONResponse([{"key": n, "label": d} for n, d in directory.search(q, LIMIT)])
        try:
            ent = web.live().entity(target)
            page = list_records(web.records, target, web.scope(user), search=q, limit=LIMIT)
        except (UnknownEntity, RecordError):
            return JSONResponse([], status_code=404)
        out = []
        for item in page.items:
            key = item.get(ent.key) if ent.key else item["id"]
            label = item.get(ent.display) if ent.display else key
            out.append({"key": str(key), "label": str(label)})
        return JSONResponse(out)

    @r.get("/ui/people")
    def people(request: Request, q: str = "", unit: str = "") -> JSONResponse:
        """The people the asker may pick whose name, user name, unit or role holds `q`, or who sit
        in `unit` (its people directly, not the units below it); at most PEOPLE_LIMIT for a search."""
        lang, user = web.lang(request), web.user(request)
        q, unit = q.strip()[:100], unit.strip()[:100]
        everyone = pickable(web, user, lang)
        if unit:
            return JSONResponse({"people": [_public(p) for p in everyone if p["unit"] == unit], "more": False})
        if not q:
            return JSONResponse({"people": [], "more": False})
        found = [_public(p) for p in everyone if _matches(p, q)]
        return JSONResponse({"people": found[:PEOPLE_LIMIT], "more": len(found) > PEOPLE_LIMIT})

    @r.get("/ui/people/units")
    def people_units(request: Request) -> JSONResponse:
        """The org tree in order (unit, name, depth) with how many pickable people sit in each unit."""
        lang, user = web.lang(request), web.user(request)
        counts: dict[str, int] = {}
        for p in pickable(web, user, lang):
            counts[p["unit"]] = counts.get(p["unit"], 0) + 1
        tree = web.tree()
        return JSONResponse([{"unit": u, "label": tree.label(u, lang), "depth": d, "count": counts.get(u, 0)}
                             for u, d in tree.ordered()])

    def form_spec(name: str) -> FormSpec | None:
        form = web.live().bundle.get("Form", name)
        return FormSpec.of_form(form) if form is not None else None

    def page(request: Request, spec: FormSpec, status=200, **kw) -> HTMLResponse:
        lang, user = web.lang(request), web.user(request)
        html = render_form(spec, kw.pop("values", {}), raw=kw.pop("raw", None), outcome=kw.pop("outcome", None),
                           options=options_for(web, user, lang), action=f"/ui/forms/{spec.name}",
                           hidden={"csrf_token": request.session.get("csrf", "")}, submit_label=text("check", lang),
                           new=kw.pop("new", False), extra_rows=kw.pop("extra_rows", None))
        return web.page(request, "try_form.html", status, title=spec.title(lang), form_html=html,
                        **{"checked": None, **kw})

    @r.get("/ui/forms/{name}")
    def try_form(request: Request, name: str) -> HTMLResponse:
        spec = form_spec(name)
        if spec is None:
            return web.not_found(request, name)
        return page(request, spec, new=True, extra_rows={f.name: f.min_rows or 1 for f in spec.fields if f.is_table})

    @r.post("/ui/forms/{name}")
    def try_form_post(request: Request, name: str, form: FormData = Depends(posted)) -> Response:
        lang = web.lang(request)
        spec = form_spec(name)
        if spec is None:
            return web.not_found(request, name)
        if not web.check_csrf(request, form):
            return web.denied(request, text("signin_csrf", lang))
        sub = submitted(form)
        values, problems = parse(spec, sub, lang, tz=zone_name())
        outcome = validate(spec, values, lang)
        bad = {e.key for e in outcome.errors}
        outcome.errors[:0] = [p for p in problems if p.key not in bad]
        action = str(form.get("_action") or "")
        extra = {action.split(":", 1)[1]: 1} if action.startswith("add_row:") else None
        if action != "save":
            outcome.errors = []
            return page(request, spec, values=outcome.values, raw=sub, outcome=outcome, extra_rows=extra)
        checked = None
        if not outcome.errors:
            checked = [(f.label(lang), _shown(f, outcome.values.get(f.name), lang)) for f in spec.fields]
        return page(request, spec, 422 if outcome.errors else 200, values=outcome.values, raw=sub, outcome=outcome,
                    checked=checked)

    return r


def _shown(f, value, lang: str) -> str:
    if f.is_table:
        return "; ".join(", ".join(f"{c.label(lang)}={display_text(c.field, row.get(c.name), lang)}" for c in f.columns)
                         for row in value or [])
    return display_text(f.field, value, lang)
