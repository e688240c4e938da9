"""Issue 9's matrix: every route of the app × (in scope, out of scope) for a Shanghai relationship
manager (rm_sh_01), the Shanghai branch head (head_sh) and a bank-wide head-office role
(ho_credit), on SQLite and — when one answers — PostgreSQL.

The route table below (`DECISIONS`) gives every (method, path template) of the app a scope
decision; `test_every_route_has_a_scope_decision` compares it with the app's own route table,
so a new route without a decision fails. `PROBES` turns each decision into requests:

* `public`     — no data: answers alike for everyone and names no record;
* `self`       — about the signed-in person: names no record out of their scope;
* `permission` — needs a permission (deployments.read, users.admin, records.import …): 403
                 for whoever lacks it, on pages and JSON alike;
* `record`     — names a record: in scope it reaches the service (2xx/3xx, or 403/422 where
                 the user lacks the permission or the body is deliberately empty); out of scope
                 a scoped user gets the very answer a made-up key/id gets (404 on pages, JSON
                 and SVG alike), a bank-wide user the same answer as in scope;
* `listing`    — lists records: the out-of-scope record is absent for a scoped user and
                 present for the bank-wide one (JSON, HTML, CSV, XLSX alike).

Each (route, user, in/out, database) is its own test, e.g.
`GET /records/{entity}/{record_id} [company]-rm_sh_01-out-sqlite`.

Targets are found with bank-wide access: an out-of-scope company and group that nothing
Shanghai may read names (not even a guarantee or a loan), their ratings and statements, and a
flow instance (with its task) about each group — the in-scope one started by rm_sh_01, the
out-of-scope one by a relationship manager of that group's lead branch made for the test when
no administrator or bank-wide person may start it (the start rule names the lead branch's RM).
Deletes aim only at out-of-scope rows (which must survive) and, in scope, at a rating made for
the purpose. A new record naming an out-of-scope one is a 422 at that field, as for a made-up
key (the message may say "outside your org scope": runtime/auth/scope.py's documented answer).
"""
from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from engine.alerts import Step
from examples.demo_bank.users import seed_demo_users
from runtime.alerts.store import write_step
from runtime.auth.org import OrgTree
from runtime.auth.scope import scope_for
from runtime.auth.users import UserStore
from runtime.cli.seed import ensure_deployed, seed_demo
from runtime.flows.service import FlowService
from runtime.flows.store import FlowError
from runtime.records.errors import NotFound
from runtime.records.service import Records
from runtime.storage.db import make_engine, writing
from runtime.storage.migrate import upgrade
from runtime.web.app import create_app
from tests.runtime.conftest import fresh_pg_schema

from .conftest import csrf_of, signed_in

ROOT = Path(__file__).resolve().parents[2]
FLOW = "group_credit_approval"
FORM = {"amount": "100000000.00", "term_months": 12, "products": ["working_capital"], "purpose": "授信范围矩阵测试",
        "guarantee_mode": "credit"}

USERS = ("rm_sh_01", "head_sh", "ho_credit")
HOME_UNIT = "sh_branch"                       # the scoped users' branch
SIDES = ("in", "out")

# ---------------------------------------------------------------------------------------------
# The route table: every (method, path template) of the app and its scope decision. A new route
# must be added here (and given probes below) — see test_every_route_has_a_scope_decision.
# Mounts are keyed ("MOUNT", prefix).
# ---------------------------------------------------------------------------------------------
DECISIONS: dict[tuple[str, str], str] = {
    # -- no data ------------------------------------------------------------------------------
    ("GET", "/openapi.json"): "public",
    ("GET", "/docs"): "public",
    ("GET", "/health"): "public",
    ("GET", "/"): "public",
    ("GET", "/ui/signin"): "public",
    ("POST", "/ui/signin"): "public",
    ("POST", "/ui/signout"): "public",
    ("POST", "/ui/lang"): "public",
    ("GET", "/ui/lang"): "public",
    ("MOUNT", "/static"): "public",
    ("MOUNT", "/static/forms"): "public",
    ("MOUNT", "/static/swagger"): "public",
    ("GET", "/entities"): "public",                 # the deployed model, no records
    ("GET", "/flows"): "public",                    # the deployed flows, no instances
    ("GET", "/graph/status"): "public",             # counts only
    ("GET", "/ui/forms/{name}"): "public",          # try a form: nothing read, nothing saved
    ("POST", "/ui/forms/{name}"): "public",
    ("GET", "/records/{entity}/template"): "public",    # an empty import workbook: headers, notes, choices
    ("GET", "/ui/e/{name}/template"): "public",
    # -- about the signed-in person -------------------------------------------------------------
    ("GET", "/ui/"): "self",
    ("GET", "/ui/dashboard"): "self",                # counts and sums within the person's scope, no record named
    ("GET", "/ui/dashboard/large-exposures.xlsx"): "self",   # the large-exposure report within the person's scope
    ("GET", "/ui/me"): "self",
    ("POST", "/ui/me"): "self",
    ("GET", "/ui/inbox"): "self",
    ("GET", "/inbox"): "self",
    ("GET", "/messages"): "self",
    ("GET", "/ui/start"): "self",                   # the flows the person may start
    ("GET", "/ui/people"): "self",                  # the people the person may pick (active users): no records
    ("GET", "/ui/people/units"): "self",            # the org tree with how many of them sit in each unit
    # -- a permission ------------------------------------------------------------------------------
    ("GET", "/deployments"): "permission",
    ("GET", "/deployments/{version}"): "permission",
    ("GET", "/ui/deployments"): "permission",
    ("GET", "/audit"): "permission",                      # audit.read (the auditor role)
    ("GET", "/ui/audit"): "permission",
    ("GET", "/ui/audit/export"): "permission",
    ("GET", "/ui/admin/users"): "permission",
    ("GET", "/ui/admin/users/new"): "permission",
    ("GET", "/ui/admin/users/{name}"): "permission",
    ("POST", "/ui/admin/users/{name}"): "permission",
    ("GET", "/ui/admin/roles"): "permission",
    ("POST", "/ui/admin/roles"): "permission",
    ("POST", "/flows/{name}/migrations"): "permission",
    ("GET", "/ui/e/{name}/import"): "permission",
    ("GET", "/ui/e/{entity}/new"): "permission",
    # -- a record -------------------------------------------------------------------------------
    ("GET", "/records/{entity}/{record_id}"): "record",
    ("PATCH", "/records/{entity}/{record_id}"): "record",
    ("DELETE", "/records/{entity}/{record_id}"): "record",
    ("POST", "/records/{entity}"): "record",        # a new record naming another: placed by it
    ("GET", "/ui/e/{entity}/{record_id}"): "record",
    ("GET", "/ui/e/{entity}/{record_id}/edit"): "record",
    ("POST", "/ui/e/{entity}/{record_id}/edit"): "record",
    ("POST", "/ui/e/{entity}/{record_id}/delete"): "record",
    ("GET", "/ui/e/{entity}/key/{key}"): "record",
    ("POST", "/ui/e/{entity}/new"): "record",
    ("POST", "/ui/e/{name}/import"): "record",
    ("POST", "/records/{entity}/import"): "record",  # records.import; a row naming another: placed by it
    ("POST", "/events"): "record",                   # records.import; an event naming a company: placed by it
    ("GET", "/graph/firms/{key}"): "record",
    ("GET", "/graph/groups/{code}"): "record",
    ("GET", "/graph/firms/{key}/equity.svg"): "record",
    ("GET", "/graph/firms/{key}/guarantee-circle.svg"): "record",
    ("POST", "/graph/contagion"): "record",
    ("POST", "/flows/{name}/instances"): "record",
    ("POST", "/flows/{name}/preview"): "record",
    ("GET", "/flows/{name}/graph.svg"): "record",
    ("GET", "/flow-instances/{instance_id}"): "record",
    ("POST", "/flow-instances/{instance_id}/{action}"): "record",
    ("GET", "/flow-tasks/{task_id:path}"): "record",
    ("GET", "/ui/start/{name}"): "record",
    ("POST", "/ui/start/{name}"): "record",
    ("GET", "/ui/tasks/{instance_id}/{n}"): "record",
    ("POST", "/ui/tasks/{instance_id}/{n}"): "record",
    ("GET", "/ui/flow-instances/{instance_id}"): "record",
    ("GET", "/ui/flow-instances/{instance_id}/graph.svg"): "record",
    ("GET", "/ui/flow-instances/{instance_id}/print"): "record",      # the printable approval sheet
    ("POST", "/ui/flow-instances/{instance_id}"): "record",
    # -- lists of records ----------------------------------------------------------------------------
    ("GET", "/alerts/{alert_id}"): "record",
    ("GET", "/alerts/{alert_id}/explain"): "record",
    ("GET", "/ui/alert-rules/{name}"): "public",       # the bank's rule, its tests and backtest counts: no record
    ("GET", "/ui/tiering/{name}/{key}"): "record",     # a group's tier, explained
    ("GET", "/ui/views/{view}/{key}"): "record",        # a group's 360° page
    ("GET", "/views/{view}/{key}"): "record",           # the same as JSON
    ("POST", "/alerts/{alert_id}/{action}"): "record",
    ("POST", "/ui/alerts/{alert_id}"): "record",
    ("GET", "/ui/alerts/{alert_id}"): "record",
    ("GET", "/alerts"): "listing",
    ("GET", "/ui/alerts"): "listing",
    ("GET", "/records/{entity}"): "listing",
    ("GET", "/ui/e/{entity}"): "listing",
    ("GET", "/ui/e/{name}/export"): "listing",
    ("GET", "/records/{entity}/export"): "listing",
    ("GET", "/ui/lookup/{target}"): "listing",
    ("GET", "/graph/circles"): "listing",
}
KINDS = {"public", "self", "permission", "record", "listing"}


def app_routes(app) -> set[tuple[str, str]]:
    """(method, path) of every leaf route (HEAD dropped beside GET), ("MOUNT", path) of mounts."""
    out: set[tuple[str, str]] = set()

    def walk(routes) -> None:
        for r in routes:
            if type(r).__name__ == "_IncludedRouter":
                walk(r.original_router.routes)
            elif type(r).__name__ == "Mount":
                out.add(("MOUNT", r.path))
            else:
                methods = set(getattr(r, "methods", None) or ())
                if "GET" in methods:
                    methods.discard("HEAD")
                for m in methods:
                    out.add((m, r.path))
    walk(app.routes)
    return out


# ---------------------------------------------------------------------------------------------
# The world: one deployed, seeded bank per database, the targets found in it, signed-in clients.
# ---------------------------------------------------------------------------------------------
@dataclass
class Target:
    """One record (or instance/task) on one side: `in`, `out`, or `none` (made up)."""
    id: Any = None           # database id (records), instance id (flows), task id (tasks)
    key: str = ""            # the entity's key (credit code, group code, rating_no …)
    name: str = ""           # display text that must not leak


@dataclass
class World:
    db: str
    engine: Any
    app: Any
    records: Records
    clients: dict[str, TestClient]
    csrf: dict[str, str]
    t: dict[str, dict[str, Target]]              # {kind: {side: Target}}
    led: bool                                    # the in-scope group is led by Shanghai
    scoped: set[str]
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def rating_no(self) -> str:
        """A fresh rating number nobody else in this database uses (R7xxxxx)."""
        return f"R7{next(self.counter):05d}"

    def throwaway_rating(self) -> Target:
        """An in-scope rating made for a delete (a rating has no referrers)."""
        no = self.rating_no()
        made = self.records.create("rating", _rating(self.t["company"]["in"].key, no), actor="test")
        return Target(made["id"], no, no)

    def exists(self, entity: str, id_: int) -> bool:
        try:
            self.records.get(entity, id_)
        except NotFound:
            return False
        return True


def _rating(company: str, no: str) -> dict:
    return {"rating_no": no, "subject_type": "company", "company": company, "source": "internal",
            "grade": "a", "notch": 6, "rated_on": "2026-06-30"}


def _client(app, user: str) -> tuple[TestClient, str]:
    client = signed_in(app, user)
    token = csrf_of(client.get("/ui/me").text)
    client.headers["X-CSRF-Token"] = token        # the JSON API riding on the session cookie
    return client, token


def _substring_of_any(text: str, values: set[str]) -> bool:
    return any(text in v for v in values)


def _discover(engine, records: Records, admin: TestClient) -> tuple[dict[str, dict[str, Target]], bool]:
    """In- and out-of-scope targets for Shanghai, found with bank-wide access (no scope)."""
    live = records.live
    tree = OrgTree(live.bundle)
    users = UserStore(engine)
    rm_scope = scope_for(tree, users.get("rm_sh_01"))
    units = rm_scope.units
    assert units and HOME_UNIT in units, rm_scope
    # everything rm_sh_01 may read, as text: an "invisible" record is named nowhere in it
    visible: set[str] = set()
    for entity in live.bundle.entities:
        for rec in records.iter_all(entity, scope=rm_scope):
            visible.update(str(v) for v in rec.values() if v is not None)
    readable = {e: records.keys_within(e, rm_scope) for e in ("company", "group", "rating", "financial_statement")}
    companies = list(records.iter_all("company"))
    groups = list(records.iter_all("group"))
    ratings = list(records.iter_all("rating"))
    statements = list(records.iter_all("financial_statement"))
    rated = {r["company"] for r in ratings if r["company"]}
    reported = {s["company"] for s in statements}
    circle_members = {m for c in admin.get("/graph/circles").json() for m in c["members"]}

    led = [g for g in groups if g["lead_branch"] in units]
    group_in = led[0] if led else next(g for g in groups if g["code"] in readable["group"])
    hidden_groups = [g for g in groups if g["code"] not in readable["group"]
                     and not _substring_of_any(g["code"], visible) and not _substring_of_any(g["name"], visible)]
    assert hidden_groups, "no group is invisible to Shanghai at this scale"
    group_out = hidden_groups[0]

    mine = [c for c in companies if c["branch"] in units and c["credit_code"] in rated and c["credit_code"] in reported]
    company_in = sorted(mine, key=lambda c: (c["credit_code"] not in circle_members, c["id"]))[0]
    hidden = [c for c in companies if c["credit_code"] not in readable["company"]
              and c["credit_code"] in rated and c["credit_code"] in reported
              and (c["group"] is None or c["group"] not in readable["group"])
              and not _substring_of_any(c["credit_code"], visible) and not _substring_of_any(c["name"], visible)]
    assert hidden, "no company is invisible to Shanghai at this scale"
    company_out = sorted(hidden, key=lambda c: (c["group"] != group_out["code"], c["credit_code"] not in circle_members,
                                                c["id"]))[0]

    def rating_of(company: str, wanted_out: bool) -> dict:
        return next(r for r in ratings if r["company"] == company
                    and (r["rating_no"] not in readable["rating"]) == wanted_out)

    def statement_of(company: str) -> dict:
        return next(s for s in statements if s["company"] == company)

    def group_rating(code: str) -> dict:
        found = next((r for r in ratings if r["group"] == code and r["subject_type"] == "group"), None)
        if found is None:                         # the demo may rate no group of this one: rate it
            used = {r["rating_no"] for r in ratings}
            no = next(f"R6{n:05d}" for n in itertools.count(1) if f"R6{n:05d}" not in used)
            found = records.create("rating", {"rating_no": no, "subject_type": "group", "group": code,
                                              "source": "internal", "grade": "a", "notch": 6,
                                              "rated_on": "2026-06-30"}, actor="test")
        return found

    # made-up keys and ids, of the right shape, that name nothing
    from examples.demo_bank.codes import make_uscc
    rng = random.Random(20260909)
    codes = {c["credit_code"] for c in companies}
    fake_code = next(code for code in (make_uscc(rng, "310000", False) for _ in range(1000)) if code not in codes)
    group_codes = {g["code"] for g in groups}
    fake_group = next(f"G{n:04d}" for n in range(9999, 0, -1) if f"G{n:04d}" not in group_codes)
    rating_nos = {r["rating_no"] for r in ratings}
    fake_rating = next(f"R{n:06d}" for n in range(999999, 0, -1) if f"R{n:06d}" not in rating_nos)
    fake_id = 987654321
    for entity in ("company", "group", "rating", "financial_statement"):
        t = live.table(entity)
        with engine.connect() as conn:
            assert conn.execute(sa.select(t.c.id).where(t.c.id == fake_id)).first() is None

    r_in, r_out = rating_of(company_in["credit_code"], False), rating_of(company_out["credit_code"], True)
    s_in, s_out = statement_of(company_in["credit_code"]), statement_of(company_out["credit_code"])
    assert s_out["statement_no"] not in (readable["financial_statement"] or ())
    gr_in, gr_out = group_rating(group_in["code"]), group_rating(group_out["code"])

    # a firm in a guarantee circle on each side (the circles listing)
    circle_in = next((m for m in sorted(circle_members) if m in readable["company"]), "")
    circle_out = company_out["credit_code"] if company_out["credit_code"] in circle_members else \
        next((m for m in sorted(circle_members)
              if m not in readable["company"] and not _substring_of_any(m, visible)), "")

    def sides(row_in: dict, row_out: dict, key: str, label: str, fake: str) -> dict:
        """The in-scope, out-of-scope and made-up targets of one entity."""
        return {"in": Target(row_in["id"], row_in[key], row_in[label]),
                "out": Target(row_out["id"], row_out[key], row_out[label]), "none": Target(fake_id, fake, "")}

    t = {
        "company": sides(company_in, company_out, "credit_code", "name", fake_code),
        "group": sides(group_in, group_out, "code", "name", fake_group),
        "rating": sides(r_in, r_out, "rating_no", "rating_no", fake_rating),
        "group_rating": sides(gr_in, gr_out, "rating_no", "rating_no", fake_rating),
        "financial_statement": sides(s_in, s_out, "statement_no", "statement_no", "FS-none"),
        "circle": {"in": Target(None, circle_in, circle_in), "out": Target(None, circle_out, circle_out),
                   "none": Target(None, fake_code, "")},
    }
    return t, bool(led)


def _start_flows(engine, records: Records, t: dict, led: bool) -> None:
    """A flow instance about the in-scope group (started by rm_sh_01 when Shanghai leads it) and
    one about the out-of-scope group (by whoever may: an administrator or a bank-wide person if
    the start rule lets them, else a relationship manager of its lead branch made for the test)."""
    service, users = FlowService(engine), UserStore(engine)
    tree = OrgTree(records.live.bundle)

    def starter_at(unit: str) -> str:
        name = f"rm_matrix_{unit}"[:40]
        if users.get(name) is None:
            users.save(name, display_name="矩阵测试客户经理", org_unit=unit, password=uuid.uuid4().hex, is_admin=False,
                       roles=[("relationship_manager", unit)], tree=tree, new=True)
        return name

    def start(subject: str, lead: str, first: tuple[str, ...]) -> dict:
        for actor in first:
            try:
                return service.start(FLOW, actor=actor, subject=subject, form=FORM)
            except FlowError as exc:
                if exc.code not in ("not_allowed", "not_found"):
                    raise
        return service.start(FLOW, actor=starter_at(lead), subject=subject, form=FORM)

    g_in = records.get("group", t["group"]["in"].id)
    g_out = records.get("group", t["group"]["out"].id)
    inside = start(g_in["code"], g_in["lead_branch"], ("rm_sh_01",) if led else ())
    outside = start(g_out["code"], g_out["lead_branch"], ("admin", "ho_credit", "cro"))
    fake = "feedfacecafe"
    for view in (inside, outside):
        assert view["tasks"], f"the instance {view['id']} has no open task to aim at"
    t["instance"] = {"in": Target(inside["id"], inside["id"], ""), "out": Target(outside["id"], outside["id"], ""),
                     "none": Target(fake, fake, "")}
    t["task"] = {"in": Target(inside["tasks"][0]["id"], inside["tasks"][0]["id"], ""),
                 "out": Target(outside["tasks"][0]["id"], outside["tasks"][0]["id"], ""),
                 "none": Target(f"{fake}/5", f"{fake}/5", "")}


def _raise_alerts(engine, records: Records, t: dict) -> None:
    """An open alert on the in-scope and on the out-of-scope company, written as the alert service
    writes a step; its message names the company's key (a leak would show)."""
    live = records.refresh()
    out = {}
    for side in ("in", "out"):
        company = t["company"][side]
        text = f"矩阵预警 {company.key}"
        with writing(engine) as conn:
            alert_id = write_step(conn, Step("open", "yellow"), rule="loan_overdue", entity="company",
                                  subject_id=company.id, subject_key=company.key, stored=None,
                                  message={"zh": text, "en": text}, evidence="[]", errors=[], version=live.version,
                                  at=datetime.now(timezone.utc))
        out[side] = Target(alert_id, company.key, text)
    out["none"] = Target(987654321, "", "")
    t["alert"] = out


DBS = ("sqlite", "postgresql")
ON_EACH_DB = pytest.mark.parametrize("world", DBS, indirect=True, scope="module")


@pytest.fixture(scope="module")
def world(request, tmp_path_factory):
    """One deployed, seeded bank per database (parametrized indirectly: `ON_EACH_DB`)."""
    db = request.param
    with contextlib.ExitStack() as stack:
        if db == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('scope_matrix') / 'bank.db'}"
        else:
            url = stack.enter_context(fresh_pg_schema())
        os.environ.setdefault("BANYAN_SECRET_FILE", str(tmp_path_factory.mktemp("secret") / "secret"))
        engine = make_engine(url)
        stack.callback(engine.dispose)
        yield _build_world(db, engine)


def _build_world(db: str, engine) -> "World":
    upgrade(engine)
    ensure_deployed(engine, str(ROOT / "configs"), "test")
    records = Records(engine)
    seed_demo(records, scale=0.02, transactions=0, actor="test")
    seed_demo_users(UserStore(engine), OrgTree(records.live.bundle))
    missing = [u for u in USERS if UserStore(engine).get(u) is None]
    assert not missing, f"demo users missing: {missing}"
    app = create_app(engine)
    admin, _ = _client(app, "admin")
    targets, led = _discover(engine, records, admin)
    _start_flows(engine, records, targets, led)
    _raise_alerts(engine, records, targets)
    tree = OrgTree(records.live.bundle)
    scoped = {u for u in USERS if not scope_for(tree, UserStore(engine).get(u)).bank_wide}
    assert scoped == {"rm_sh_01", "head_sh"}, scoped
    clients, csrf = {}, {}
    for u in USERS:
        clients[u], csrf[u] = _client(app, u)
    return World(db, engine, app, records, clients, csrf, targets, led, scoped)


# ---------------------------------------------------------------------------------------------
# Probes: the requests each route is checked with.
# ---------------------------------------------------------------------------------------------
@dataclass
class Req:
    method: str
    url: str
    json: Any = None
    data: dict | None = None
    files: dict | None = None
    idents: tuple[str, ...] = ()     # identifiers the request names (an answer may echo them)


Build = Callable[[World, str, str], Req]        # (world, user, side) -> the request; side: in/out/none


@dataclass
class Probe:
    method: str
    path: str
    build: Build
    variant: str = ""
    ok: dict[str, int] = field(default_factory=lambda: {"*": 200})    # status in scope (and bank-wide out)
    denied: dict[str, int] = field(default_factory=dict)              # scoped out (default 404)
    sides: tuple[str, ...] = SIDES
    kind: str | None = None          # overrides the route's decision for this variant
    compare: str = "exact"           # scoped out vs made-up: "exact", "shape" (status, code, fields) or ""
    shows: str = ""                  # listing: the target kind whose key/name must show (or not)
    after: Callable[[World, str, str, Any], None] | None = None

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}" + (f" [{self.variant}]" if self.variant else "")


def status_for(table: dict[str, int], user: str, default: int) -> int:
    return table.get(user, table.get("*", default))


def T(w: World, kind: str, side: str) -> Target:
    return w.t[kind][side]


def get(url: str, *idents: str) -> Build:
    return lambda w, u, s: Req("GET", url.format(**_fmt(w, s)), idents=tuple(i.format(**_fmt(w, s)) for i in idents))


def _fmt(w: World, side: str) -> dict[str, Any]:
    """Placeholders for URL templates: {company_id}, {company_key}, {group_key}, {instance_id} …"""
    out: dict[str, Any] = {}
    for kind, sides in w.t.items():
        tgt = sides[side]
        out[f"{kind}_id"], out[f"{kind}_key"] = tgt.id, tgt.key
    out["flow"] = FLOW
    return out


def _record_gets(method_path: str, url: str, kinds: tuple[str, ...], ident: str = "id", **kw) -> list[Probe]:
    method, path = method_path.split(" ", 1)
    entity_of = {"group_rating": "rating"}
    return [Probe(method, path, (lambda k: lambda w, u, s: Req(
        method, url.format(entity=entity_of.get(k, k), id=T(w, k, s).id, key=T(w, k, s).key),
        idents=(str(T(w, k, s).id if ident == "id" else T(w, k, s).key),)))(k), variant=k, **kw) for k in kinds]


def page_post(url_of: Callable[[World, str], str], extra: Callable[[World, str, str], dict] | None = None,
              ident: Callable[[World, str], str] | None = None) -> Build:
    """A page form POST with the user's CSRF token."""
    def build(w: World, u: str, s: str) -> Req:
        data = {"csrf_token": w.csrf[u], **(extra(w, u, s) if extra else {})}
        return Req("POST", url_of(w, s), data=data, idents=(ident(w, s),) if ident else ())
    return build


def _version_of(w: World, entity: str, id_: int) -> str:
    try:
        return str(w.records.get(entity, id_)["version"])
    except NotFound:
        return "1"


def _delete_build(entity: str, page: bool) -> Build:
    def build(w: World, u: str, s: str) -> Req:
        target = w.throwaway_rating() if s == "in" else T(w, entity, s)
        if page:
            return Req("POST", f"/ui/e/{'rating' if s == 'in' else entity}/{target.id}/delete",
                       data={"csrf_token": w.csrf[u]}, idents=(str(target.id),))
        return Req("DELETE", f"/records/{'rating' if s == 'in' else entity}/{target.id}", idents=(str(target.id),))
    return build


def _still_there(entity: str) -> Callable[[World, str, str, Any], None]:
    def check(w: World, u: str, s: str, r: Any) -> None:
        if s == "out":
            assert w.exists(entity, T(w, entity, "out").id), f"{u} deleted the out-of-scope {entity}"
    return check


SAME_FIELD = {"company": "status", "rating": "outlook", "group": "status"}


def _patch_same(kind: str) -> Build:
    """PATCH a field to the value it holds: in scope it reaches the service and changes nothing."""
    def build(w: World, u: str, s: str) -> Req:
        if kind == "group" and s == "in" and not w.led:
            pytest.skip("no group is led by Shanghai at this scale: nothing rm_sh_01 may change")
        tgt, name = T(w, kind, s), SAME_FIELD[kind]
        value = w.records.get(kind, T(w, kind, "in" if s == "none" else s).id)[name]
        return Req("PATCH", f"/records/{kind}/{tgt.id}", json={name: value}, idents=(str(tgt.id),))
    return build


def _create_rating(w: World, u: str, s: str) -> Req:
    company = T(w, "company", s).key
    return Req("POST", "/records/rating", json=_rating(company, w.rating_no()), idents=(company,))


def _new_rating_page(w: World, u: str, s: str) -> Req:
    company = T(w, "company", s).key
    values = {k: str(v) for k, v in _rating(company, w.rating_no()).items()}
    data = {"csrf_token": w.csrf[u], "_action": "save", **values}
    return Req("POST", "/ui/e/rating/new", data=data, idents=(company,))


def _rating_csv(w: World, s: str) -> tuple[str, bytes]:
    company = T(w, "company", s).key
    row = _rating(company, w.rating_no())
    text = ",".join(row) + "\n" + ",".join(str(v) for v in row.values()) + "\n"
    return company, text.encode("utf-8")


def _import_rating(w: World, u: str, s: str) -> Req:
    company, data = _rating_csv(w, s)
    return Req("POST", "/ui/e/rating/import", data={"csrf_token": w.csrf[u]},
               files={"file": ("ratings.csv", data, "text/csv")}, idents=(company,))


def _import_rating_api(w: World, u: str, s: str) -> Req:
    company, data = _rating_csv(w, s)
    return Req("POST", "/records/rating/import", files={"file": ("ratings.csv", data, "text/csv")},
               idents=(company,))


_EVENT_NUMBERS = itertools.count(700001)


def _post_event(w: World, u: str, s: str) -> Req:
    company = T(w, "company", s).key
    return Req("POST", "/events", json=[{"event_no": f"X{next(_EVENT_NUMBERS):06d}", "company": company,
                                         "type": "negative_news", "occurred_on": "2026-11-30", "title": "矩阵",
                                         "source": "news"}], idents=(company,))


def _event_taken(w: World, u: str, s: str, r: Any) -> None:
    """An event about a company in scope is taken; one about a company out of scope is rejected at
    `company` exactly as one naming no company at all (never written)."""
    if r.status_code != 200:
        return
    body = r.json()
    if s == "in" or u not in w.scoped:
        assert body["accepted"] == 1, body
    else:
        assert body["accepted"] == 0 and body["rejected"][0]["problems"][0]["loc"] == ["company"], body


def _flow_graph_pair(first: str, second: str) -> Build:
    def build(w: World, u: str, s: str) -> Req:
        a, b = T(w, "instance", first).id, T(w, "instance", second).id
        return Req("GET", f"/flows/{FLOW}/graph.svg?instance={a}&instance={b}")
    return build


def _grants_form(w: World, u: str, s: str) -> dict:
    """The current grants, so that a wrongly admitted POST would change nothing."""
    grants = UserStore(w.engine).grants()
    return {f"{role}:{p}": "on" for role, perms in grants.items() for p in perms}


NOT_IMPORT = {"head_sh": 403}           # branch_head lacks records.import
NOT_DELETE = {"rm_sh_01": 403, "ho_credit": 403}     # only head_sh (branch_head) may delete
DEPLOY = {"rm_sh_01": 403, "head_sh": 403, "ho_credit": 200}

PROBES: list[Probe] = [
    # -- public -------------------------------------------------------------------------------------
    Probe("GET", "/openapi.json", get("/openapi.json")),
    Probe("GET", "/docs", get("/docs")),
    Probe("GET", "/health", get("/health")),
    Probe("GET", "/", get("/"), ok={"*": 303}),
    Probe("GET", "/ui/signin", get("/ui/signin")),
    Probe("POST", "/ui/signin", lambda w, u, s: Req("POST", "/ui/signin", data={"username": u, "password": "x"}),
          ok={"*": 400}),                                          # no CSRF token: refused, still signed in
    Probe("POST", "/ui/signout", lambda w, u, s: Req("POST", "/ui/signout", data={}),
          ok={"*": 303}),                                          # no CSRF token: still signed in
    Probe("POST", "/ui/lang", lambda w, u, s: Req("POST", "/ui/lang", data={"to": "zh"}), ok={"*": 303}),
    Probe("GET", "/ui/lang", lambda w, u, s: Req("GET", "/ui/lang"), ok={"*": 303}),
    Probe("MOUNT", "/static", get("/static/banyan.css")),
    Probe("MOUNT", "/static/forms", get("/static/forms/forms.js")),
    Probe("MOUNT", "/static/swagger", get("/static/swagger/init.js")),
    Probe("GET", "/entities", get("/entities")),
    Probe("GET", "/flows", get("/flows")),
    Probe("GET", "/graph/status", get("/graph/status")),
    Probe("GET", "/ui/forms/{name}", get("/ui/forms/credit_application")),
    Probe("GET", "/records/{entity}/template", get("/records/company/template"), variant="company"),
    Probe("GET", "/records/{entity}/template", get("/records/rating/template?lang=en"), variant="rating en"),
    Probe("GET", "/ui/e/{name}/template", get("/ui/e/company/template"), variant="company"),
    Probe("GET", "/ui/e/{name}/template", get("/ui/e/rating/template"), variant="rating"),
    Probe("POST", "/ui/forms/{name}", page_post(lambda w, s: "/ui/forms/credit_application", lambda w, u, s: {
        "_action": "refresh", "sub_limits.0.borrower": T(w, "company", s).key}, lambda w, s: T(w, "company", s).key)),
    # -- self ---------------------------------------------------------------------------------------
    Probe("GET", "/ui/", get("/ui/")),
    Probe("GET", "/ui/dashboard", get("/ui/dashboard")),
    Probe("GET", "/ui/dashboard/large-exposures.xlsx", get("/ui/dashboard/large-exposures.xlsx")),
    Probe("GET", "/ui/me", get("/ui/me")),
    Probe("POST", "/ui/me", page_post(lambda w, s: "/ui/me", lambda w, u, s: {"action": "revoke",
                                                                              "token_id": "no-such-token"})),
    Probe("GET", "/ui/inbox", get("/ui/inbox")),
    Probe("GET", "/ui/inbox", get("/ui/inbox?box=started"), variant="started"),
    Probe("GET", "/inbox", get("/inbox")),
    Probe("GET", "/messages", get("/messages")),
    Probe("GET", "/ui/start", get("/ui/start")),
    Probe("GET", "/ui/people", get("/ui/people?q=%E4%B8%8A%E6%B5%B7")),          # 上海: a unit's name
    Probe("GET", "/ui/people", get("/ui/people?unit=head_office"), variant="unit"),
    Probe("GET", "/ui/people/units", get("/ui/people/units")),
    # -- permission -----------------------------------------------------------------------------------
    Probe("GET", "/deployments", get("/deployments"), ok=DEPLOY),
    Probe("GET", "/deployments/{version}", get("/deployments/1"), ok=DEPLOY),
    Probe("GET", "/ui/deployments", get("/ui/deployments"), ok=DEPLOY),
    Probe("GET", "/audit", get("/audit"), ok={"*": 403}),
    Probe("GET", "/ui/audit", get("/ui/audit"), ok={"*": 403}),
    Probe("GET", "/ui/audit/export", get("/ui/audit/export?format=csv"), ok={"*": 403}),
    Probe("GET", "/ui/admin/users", get("/ui/admin/users"), ok={"*": 403}),
    Probe("GET", "/ui/admin/users/new", get("/ui/admin/users/new"), ok={"*": 403}),
    Probe("GET", "/ui/admin/users/{name}", get("/ui/admin/users/rm_sh_01"), ok={"*": 403}),
    Probe("POST", "/ui/admin/users/{name}", page_post(lambda w, s: "/ui/admin/users/new",
                                                       lambda w, u, s: {"name": ""}), ok={"*": 403}),
    Probe("GET", "/ui/admin/roles", get("/ui/admin/roles"), ok={"*": 403}),
    Probe("POST", "/ui/admin/roles", page_post(lambda w, s: "/ui/admin/roles", _grants_form), ok={"*": 403}),
    Probe("POST", "/flows/{name}/migrations", lambda w, u, s: Req(
        "POST", f"/flows/{FLOW}/migrations", json={"to_version": 1, "dry_run": True}), ok={"*": 403}),
    Probe("GET", "/ui/e/{name}/import", get("/ui/e/rating/import"), ok={"*": 200, **NOT_IMPORT}),
    Probe("GET", "/ui/e/{entity}/new", get("/ui/e/rating/new")),
    # -- records: JSON ------------------------------------------------------------------------------------
    *_record_gets("GET /records/{entity}/{record_id}", "/records/{entity}/{id}",
                  ("company", "group", "rating", "financial_statement", "group_rating")),
    *[Probe("PATCH", "/records/{entity}/{record_id}", _patch_same(k), variant=k)
      for k in ("company", "rating", "group")],
    Probe("DELETE", "/records/{entity}/{record_id}", _delete_build("rating", page=False), variant="rating",
          ok={"*": 204, **NOT_DELETE}, denied={"rm_sh_01": 403}, after=_still_there("rating")),
    Probe("DELETE", "/records/{entity}/{record_id}", _delete_build("company", page=False), variant="company",
          sides=("out",), ok={"*": 204, **NOT_DELETE}, denied={"rm_sh_01": 403}, after=_still_there("company")),
    Probe("POST", "/records/{entity}", _create_rating, variant="rating naming a company", ok={"*": 201},
          denied={"*": 422}, compare="shape"),
    # -- records: pages ------------------------------------------------------------------------------------
    *_record_gets("GET /ui/e/{entity}/{record_id}", "/ui/e/{entity}/{id}",
                  ("company", "group", "rating", "financial_statement")),
    *_record_gets("GET /ui/e/{entity}/{record_id}/edit", "/ui/e/{entity}/{id}/edit", ("company", "rating")),
    Probe("GET", "/ui/e/{entity}/{record_id}/edit", lambda w, u, s: (
        Req("GET", f"/ui/e/group/{T(w, 'group', s).id}/edit", idents=(str(T(w, "group", s).id),))
        if w.led or s != "in" else pytest.skip("no group is led by Shanghai at this scale: nothing to edit")),
        variant="group"),
    *[Probe("POST", "/ui/e/{entity}/{record_id}/edit", (lambda k: page_post(
        lambda w, s: f"/ui/e/{k}/{T(w, k, s).id}/edit",
        lambda w, u, s: {"_action": "refresh", "_version": _version_of(w, k, T(w, k, s).id)},
        lambda w, s: str(T(w, k, s).id)))(k), variant=k) for k in ("company", "rating")],
    Probe("POST", "/ui/e/{entity}/{record_id}/delete", _delete_build("rating", page=True), variant="rating",
          ok={"*": 303, **NOT_DELETE}, denied={"rm_sh_01": 403}, after=_still_there("rating")),
    Probe("POST", "/ui/e/{entity}/{record_id}/delete", _delete_build("company", page=True), variant="company",
          sides=("out",), ok={"*": 303, **NOT_DELETE}, denied={"rm_sh_01": 403}, after=_still_there("company")),
    *_record_gets("GET /ui/e/{entity}/key/{key}", "/ui/e/{entity}/key/{key}", ("company", "group", "rating"),
                  ident="key", ok={"*": 303}),
    Probe("POST", "/ui/e/{entity}/new", _new_rating_page, variant="rating naming a company", ok={"*": 303},
          denied={"*": 422}, compare="shape"),
    Probe("POST", "/ui/e/{name}/import", _import_rating, variant="rating naming a company",
          ok={"*": 303, **NOT_IMPORT}, denied={"*": 422, **NOT_IMPORT}, compare="shape"),
    Probe("POST", "/records/{entity}/import", _import_rating_api, variant="rating naming a company",
          ok={"*": 200, **NOT_IMPORT}, denied={"*": 422, **NOT_IMPORT}, compare="shape"),
    Probe("POST", "/events", _post_event, variant="an event naming a company", ok={"*": 200, **NOT_IMPORT},
          denied={"*": 200, **NOT_IMPORT}, compare="shape", after=_event_taken),
    # -- graph ------------------------------------------------------------------------------------------
    *_record_gets("GET /graph/firms/{key}", "/graph/firms/{key}", ("company",), ident="key"),
    *_record_gets("GET /graph/groups/{code}", "/graph/groups/{key}", ("group",), ident="key"),
    *_record_gets("GET /graph/firms/{key}/equity.svg", "/graph/firms/{key}/equity.svg", ("company",), ident="key"),
    *_record_gets("GET /graph/firms/{key}/guarantee-circle.svg", "/graph/firms/{key}/guarantee-circle.svg",
                  ("company",), ident="key"),
    Probe("POST", "/graph/contagion", lambda w, u, s: Req("POST", "/graph/contagion",
                                                          json={"distressed": [T(w, "company", s).key]},
                                                          idents=(T(w, "company", s).key,)), variant="company"),
    # -- flows: JSON --------------------------------------------------------------------------------------
    Probe("POST", "/flows/{name}/instances", lambda w, u, s: (
        Req("POST", f"/flows/{FLOW}/instances", json={"subject": T(w, "group", s).key, "form": FORM},
            idents=(T(w, "group", s).key,))
        if w.led or s != "in" else pytest.skip("no group is led by Shanghai at this scale: rm_sh_01 starts nothing")),
        variant="group", ok={"rm_sh_01": 201, "*": 403}),
    Probe("POST", "/flows/{name}/preview", lambda w, u, s: Req(
        "POST", f"/flows/{FLOW}/preview", json={"subject": T(w, "group", s).key, "form": FORM},
        idents=(T(w, "group", s).key,)), variant="group"),
    Probe("GET", "/flows/{name}/graph.svg", get("/flows/{flow}/graph.svg"), variant="no instance", kind="public"),
    Probe("GET", "/flows/{name}/graph.svg", get("/flows/{flow}/graph.svg?instance={instance_id}", "{instance_id}"),
          variant="instance"),
    Probe("GET", "/flows/{name}/graph.svg", _flow_graph_pair("out", "in"), variant="instance=out&instance=in",
          sides=("out",), compare=""),
    Probe("GET", "/flows/{name}/graph.svg", _flow_graph_pair("in", "out"), variant="instance=in&instance=out",
          sides=("out",), compare=""),
    Probe("GET", "/flow-instances/{instance_id}", get("/flow-instances/{instance_id}", "{instance_id}")),
    Probe("POST", "/flow-instances/{instance_id}/{action}", lambda w, u, s: Req(
        "POST", f"/flow-instances/{T(w, 'instance', s).id}/comment", json={"text": "scope matrix"},
        idents=(T(w, "instance", s).id,)), variant="comment", ok={"head_sh": 403, "*": 200}),
    Probe("GET", "/flow-tasks/{task_id:path}", get("/flow-tasks/{task_id}", "{task_id}", "{instance_id}")),
    # -- flows: pages ------------------------------------------------------------------------------------
    Probe("GET", "/ui/start/{name}", get("/ui/start/{flow}?subject={group_key}", "{group_key}"), variant="subject"),
    Probe("GET", "/ui/start/{name}", get("/ui/start/{flow}?q={group_key}"), variant="search", kind="listing",
          shows="group"),
    Probe("POST", "/ui/start/{name}", page_post(lambda w, s: f"/ui/start/{FLOW}", lambda w, u, s: {
        "subject": T(w, "group", s).key, "_action": "refresh"}, lambda w, s: T(w, "group", s).key), variant="subject"),
    Probe("GET", "/ui/tasks/{instance_id}/{n}", get("/ui/tasks/{task_id}", "{task_id}", "{instance_id}")),
    Probe("POST", "/ui/tasks/{instance_id}/{n}", page_post(lambda w, s: f"/ui/tasks/{T(w, 'task', s).id}",
                                                         lambda w, u, s: {"_action": ""},
                                                         lambda w, s: T(w, "task", s).id)),
    Probe("GET", "/ui/flow-instances/{instance_id}", get("/ui/flow-instances/{instance_id}", "{instance_id}")),
    Probe("GET", "/alerts/{alert_id}", get("/alerts/{alert_id}", "{alert_id}")),
    Probe("GET", "/alerts/{alert_id}/explain", get("/alerts/{alert_id}/explain", "{alert_id}")),
    Probe("GET", "/ui/alert-rules/{name}", get("/ui/alert-rules/loan_overdue"), kind="public"),
    Probe("GET", "/ui/tiering/{name}/{key}", get("/ui/tiering/group_value_matrix/{group_key}", "{group_key}")),
    Probe("GET", "/ui/views/{view}/{key}", get("/ui/views/group_360/{group_key}", "{group_key}")),
    Probe("GET", "/views/{view}/{key}", get("/views/group_360/{group_key}", "{group_key}")),
    Probe("GET", "/ui/alerts/{alert_id}", get("/ui/alerts/{alert_id}", "{alert_id}")),
    Probe("POST", "/alerts/{alert_id}/{action}", lambda w, u, s: Req(
        "POST", f"/alerts/{T(w, 'alert', s).id}/comment", json={"text": "矩阵"}, idents=(str(T(w, "alert", s).id),))),
    Probe("POST", "/ui/alerts/{alert_id}", page_post(lambda w, s: f"/ui/alerts/{T(w, 'alert', s).id}",
                                                     lambda w, u, s: {"_action": "comment", "text": "矩阵"},
                                                     lambda w, s: str(T(w, "alert", s).id)), ok={"*": 303}),
    Probe("GET", "/ui/flow-instances/{instance_id}/graph.svg",
          get("/ui/flow-instances/{instance_id}/graph.svg", "{instance_id}")),
    Probe("GET", "/ui/flow-instances/{instance_id}/print",
          get("/ui/flow-instances/{instance_id}/print", "{instance_id}")),
    Probe("POST", "/ui/flow-instances/{instance_id}", page_post(
        lambda w, s: f"/ui/flow-instances/{T(w, 'instance', s).id}", lambda w, u, s: {"_action": ""},
        lambda w, s: T(w, "instance", s).id), ok={"*": 422}),        # no action named: the page again, 422
    # -- listings -----------------------------------------------------------------------------------------
    Probe("GET", "/records/{entity}", get("/records/company?credit_code={company_key}"), variant="company by key",
          shows="company"),
    Probe("GET", "/records/{entity}", get("/records/company?limit=1000"), variant="company", shows="company"),
    Probe("GET", "/records/{entity}", get("/records/group?limit=1000"), variant="group", shows="group"),
    Probe("GET", "/records/{entity}", get("/records/rating?company={company_key}&limit=1000"),
          variant="rating by company", shows="rating"),
    Probe("GET", "/records/{entity}", get("/records/financial_statement?company={company_key}&limit=1000"),
          variant="financial_statement by company", shows="financial_statement"),
    Probe("GET", "/ui/e/{entity}", get("/ui/e/company?q={company_key}"), variant="company", shows="company"),
    Probe("GET", "/ui/e/{entity}", get("/ui/e/group?q={group_key}"), variant="group", shows="group"),
    Probe("GET", "/ui/e/{entity}", get("/ui/e/rating?company={company_key}"), variant="rating by company",
          shows="rating"),
    Probe("GET", "/ui/e/{name}/export", get("/ui/e/company/export?format=csv"), variant="company csv", shows="company"),
    Probe("GET", "/ui/e/{name}/export", get("/ui/e/company/export?format=xlsx"), variant="company xlsx",
          shows="company"),
    Probe("GET", "/ui/e/{name}/export", get("/ui/e/rating/export?format=csv"), variant="rating csv", shows="rating"),
    Probe("GET", "/records/{entity}/export", get("/records/company/export?format=csv"), variant="company csv",
          shows="company"),
    Probe("GET", "/records/{entity}/export", get("/records/company/export"), variant="company xlsx",
          shows="company"),
    Probe("GET", "/records/{entity}/export", get("/records/company/export?format=csv&lang=raw"),
          variant="company csv raw", shows="company"),
    Probe("GET", "/records/{entity}/export", get("/records/rating/export?format=csv&company={company_key}"),
          variant="rating by company", shows="rating"),
    Probe("GET", "/ui/lookup/{target}", get("/ui/lookup/company?q={company_key}"), variant="company",
          shows="company"),
    Probe("GET", "/ui/lookup/{target}", get("/ui/lookup/group?q={group_key}"), variant="group", shows="group"),
    Probe("GET", "/graph/circles", get("/graph/circles"), shows="circle"),
    Probe("GET", "/alerts", get("/alerts?limit=5000"), shows="alert"),
    Probe("GET", "/ui/alerts", get("/ui/alerts"), shows="alert"),
]


# ---------------------------------------------------------------------------------------------
# Checking one (probe, user, side)
# ---------------------------------------------------------------------------------------------
def send(w: World, user: str, req: Req):
    return w.clients[user].request(req.method, req.url, json=req.json, data=req.data, files=req.files,
                                   follow_redirects=False)


def text_of(r) -> str:
    """The answer as text: JSON unescaped, XLSX cells, anything else as decoded text."""
    ctype = r.headers.get("content-type", "")
    if "spreadsheetml" in ctype:
        from openpyxl import load_workbook
        wb = load_workbook(io.BytesIO(r.content), read_only=True)
        return "\n".join(",".join("" if c is None else str(c) for c in row)
                         for ws in wb.worksheets for row in ws.iter_rows(values_only=True))
    if "json" in ctype:
        try:
            return json.dumps(r.json(), ensure_ascii=False)
        except ValueError:
            return r.text
    return r.text


_CSRF = re.compile(r'(name="csrf_token" value=")[^"]*(")')


def _normal(text: str, idents: tuple[str, ...]) -> str:
    # The session's CSRF token is random and may happen to hold an identifier ("5_sya…"): it is not
    # part of the answer, so it is blanked before the identifiers are.
    text = _CSRF.sub(r"\1‹CSRF›\2", text)
    for ident in sorted((i for i in idents if i), key=len, reverse=True):
        text = re.sub(r"(?<![0-9A-Za-z])" + re.escape(ident) + r"(?![0-9A-Za-z])", "‹ID›", text)
    return text


def _error_of(r) -> Any:
    if "json" not in r.headers.get("content-type", ""):
        return None
    try:
        body = r.json()
    except ValueError:
        return None
    return body.get("error") if isinstance(body, dict) else None


def _locs(r) -> list:
    try:
        return sorted({json.dumps(d.get("loc")) for d in r.json().get("detail", [])})
    except (ValueError, AttributeError):
        return []


def assert_same_answer(hidden, ghost, hidden_req: Req, ghost_req: Req, how: str) -> None:
    """The out-of-scope answer must be the made-up one's: status, error code, then (exact) the
    body with the named identifiers blanked, and the content type."""
    where = f"{hidden_req.method} {hidden_req.url} vs made-up {ghost_req.url}"
    assert hidden.status_code == ghost.status_code, \
        f"{where}: out of scope gives {hidden.status_code}, unknown gives {ghost.status_code}: {hidden.text[:300]}"
    assert _error_of(hidden) == _error_of(ghost), \
        f"{where}: error code `{_error_of(hidden)}` for out of scope, `{_error_of(ghost)}` for unknown " \
        f"({hidden.text[:200]} | {ghost.text[:200]})"
    if how == "shape":
        assert _locs(hidden) == _locs(ghost), f"{where}: fields {_locs(hidden)} vs {_locs(ghost)}"
        return
    a, b = _normal(text_of(hidden), hidden_req.idents), _normal(text_of(ghost), ghost_req.idents)
    assert a == b, f"{where}: the answers differ beyond the identifier:\n{a[:600]}\n---\n{b[:600]}"
    ha, hb = hidden.headers.get("content-type"), ghost.headers.get("content-type")
    assert ha == hb, f"{where}: content-type `{ha}` for out of scope, `{hb}` for unknown"
    assert _normal(hidden.text, hidden_req.idents) == _normal(ghost.text, ghost_req.idents), \
        f"{where}: same data but different bytes (out of scope {hidden.text[:160]!r}, unknown {ghost.text[:160]!r})"


def leaks(w: World, text: str, kinds: tuple[str, ...], side: str = "out", names_only: bool = False,
          asked: tuple[str, ...] = ()) -> list[str]:
    """The targets' keys and names found in `text` (what the request itself named excepted)."""
    out = []
    for kind in kinds:
        tgt = T(w, kind, side)
        for s in ((tgt.name,) if names_only else (tgt.key, tgt.name)):
            if s and s not in asked and s in text:
                out.append(f"{kind} {s}")
    return out


RECORD_KINDS = ("company", "group", "instance")


def check(w: World, probe: Probe, user: str, side: str) -> None:
    kind = probe.kind or DECISIONS[(probe.method, probe.path)]
    scoped = user in w.scoped
    if kind == "record" and side == "out" and scoped and probe.compare:
        send(w, user, Req("GET", "/ui/me"))        # a pending flash shows on the next page only: take it now
    req = probe.build(w, user, side)
    r = send(w, user, req)
    body = text_of(r)
    if kind in ("public", "self", "permission"):
        want = status_for(probe.ok, user, 200)
        assert r.status_code == want, \
            f"{req.method} {req.url} as {user}: {r.status_code}, expected {want}: {r.text[:300]}"
        if side == "out" and (scoped or kind == "public"):
            found = leaks(w, body, RECORD_KINDS, asked=req.idents)
            assert not found, f"{req.method} {req.url} as {user} names out-of-scope records: {found}"
        if side == "in" and kind == "public":
            found = leaks(w, body, RECORD_KINDS, side="in", asked=req.idents)
            assert not found, f"{req.method} {req.url} (public) names records: {found}"
        return
    if kind == "listing":
        assert r.status_code == status_for(probe.ok, user, 200), f"{req.url} as {user}: {r.status_code} {r.text[:300]}"
        tgt = T(w, probe.shows, side)
        if not tgt.key:
            pytest.skip(f"no {side}-of-scope {probe.shows} target at this scale")
        mark = tgt.name or tgt.key          # the name: a page echoes the key it was asked for
        assert mark not in req.url, f"{probe.id}: the probe's query names what it looks for"
        shown = mark in body
        if side == "in" or not scoped:
            assert shown, f"{req.url} as {user}: the {side}-of-scope {probe.shows} {tgt.key} {tgt.name} is missing"
        else:
            assert not shown, f"{req.url} as {user}: names the out-of-scope {probe.shows} {tgt.key} {tgt.name}"
        return
    # a record
    if side == "in" or not scoped:
        want = status_for(probe.ok, user, 200)
        assert r.status_code == want, \
            f"{req.method} {req.url} as {user} ({side} of scope): {r.status_code}, expected {want}: {r.text[:400]}"
    else:
        want = status_for(probe.denied, user, 404)
        assert r.status_code == want, \
            f"{req.method} {req.url} as {user} (out of scope): {r.status_code}, expected {want}: {r.text[:400]}"
        found = leaks(w, body, ("company", "group"), names_only=True)
        assert not found, f"{req.method} {req.url} as {user} names out-of-scope records: {found}"
        if probe.compare:
            ghost_req = probe.build(w, user, "none")
            ghost = send(w, user, ghost_req)
            assert_same_answer(r, ghost, req, ghost_req, probe.compare)
    if probe.after is not None:
        probe.after(w, user, side, r)


def _cases():
    for probe in PROBES:
        for user in USERS:
            for side in probe.sides:
                yield pytest.param(probe, user, side, id=f"{probe.id}-{user}-{side}")


@ON_EACH_DB
@pytest.mark.parametrize(("probe", "user", "side"), list(_cases()))
def test_scope(world: World, probe: Probe, user: str, side: str) -> None:
    check(world, probe, user, side)


@ON_EACH_DB
def test_every_route_has_a_scope_decision(world: World) -> None:
    routes = app_routes(world.app)
    missing = sorted(routes - set(DECISIONS))
    assert not missing, (
        "routes without a scope decision: " + ", ".join(f"{m} {p}" for m, p in missing) +
        " — add each to DECISIONS in tests/web/test_scope_matrix.py as public, self, permission, record or "
        "listing, and give it probes in PROBES (record: in scope reaches the service, out of scope is the "
        "made-up key's 404)")
    gone = sorted(set(DECISIONS) - routes)
    assert not gone, "DECISIONS names routes the app no longer has: " + ", ".join(f"{m} {p}" for m, p in gone)
    assert set(DECISIONS.values()) <= KINDS
    unprobed = sorted(set(DECISIONS) - {(p.method, p.path) for p in PROBES})
    assert not unprobed, "routes with a decision but no probe: " + ", ".join(f"{m} {p}" for m, p in unprobed)
    stray = sorted({(p.method, p.path) for p in PROBES} - set(DECISIONS))
    assert not stray, "probes of routes missing from DECISIONS: " + ", ".join(f"{m} {p}" for m, p in stray)


@ON_EACH_DB
def test_the_flow_graph_guard_checks_every_instance_for_the_rm(world: World) -> None:
    """`/flows/{name}/graph.svg?instance=<out>&instance=<in>` and the reverse: 404 for rm_sh_01."""
    out, inside = T(world, "instance", "out").id, T(world, "instance", "in").id
    for query in (f"instance={out}&instance={inside}", f"instance={inside}&instance={out}"):
        r = world.clients["rm_sh_01"].get(f"/flows/{FLOW}/graph.svg?{query}")
        assert r.status_code == 404, f"{query}: {r.status_code}"


@ON_EACH_DB
def test_a_key_page_is_the_same_404_for_out_of_scope_and_made_up(world: World) -> None:
    rm = world.clients["rm_sh_01"]
    hidden = rm.get(f"/ui/e/company/key/{T(world, 'company', 'out').key}", follow_redirects=False)
    unknown = rm.get(f"/ui/e/company/key/{T(world, 'company', 'none').key}", follow_redirects=False)
    assert hidden.status_code == unknown.status_code == 404
    assert _normal(hidden.text, (T(world, "company", "out").key,)) == \
        _normal(unknown.text, (T(world, "company", "none").key,))


@ON_EACH_DB
def test_deployments_are_403_for_the_rm(world: World) -> None:
    rm = world.clients["rm_sh_01"]
    assert rm.get("/deployments").status_code == 403
    assert rm.get("/ui/deployments").status_code == 403
