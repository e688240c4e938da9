"""Record pages for any deployed entity, generated from its IR: list (search, filters,
paging), detail, create, edit, delete. Every page checks the person's org scope and
permission; bad input comes back as the form with a message beside each field (422)."""
from __future__ import annotations

import math
from dataclasses import replace
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from dsl.bank_time import zone_name
from forms import read_view, render_form
from forms.display import display_text
from runtime.deploy.live import UnknownEntity
from runtime.http.params import DbId
from runtime.records.errors import Forbidden, InvalidRecord, NotFound, RecordError, VersionConflict
from runtime.records.listing import list_records
from runtime.web.alerts import record_alerts
from runtime.web.audit import history
from runtime.web.context import WebContext, redirect
from runtime.web.forms import check, options_for, posted, record_problems, submitted, with_service_problems
from runtime.web.names import ref_text
from runtime.web.text import text
from runtime.web.views import view_links

PAGE_SIZE = 25
LIST_TYPES = ("string", "enum", "money", "ref", "integer", "percent", "date", "bool", "number")


def list_columns(entity) -> list:
    names = list(dict.fromkeys(n for n in (entity.display, entity.key) if n))         # the name first, once
    first = [f for name in names for f in entity.fields if f.name == name]
    rest = [f for f in entity.fields if f not in first and f.type_name in LIST_TYPES]
    return (first + rest)[:7]


def filter_fields(entity) -> list:
    return [f for f in entity.fields if f.type_name in ("enum", "bool") and not f.computed][:4]


def cell(f, item: dict, labels: dict, lang: str, own_code: bool = False) -> dict:
    """A list cell: the text people read (a `ref` value: the referenced record's name), the code
    behind a name (shown as secondary detail), and whether the text is itself the record's code
    (its key, beside its name: drawn as a code)."""
    found = ref_text(labels, f, item.get(f.name))
    if found is not None:
        return {"text": found[0], "code": found[1], "is_code": False}
    return {"text": display_text(f, item.get(f.name), lang, record=item), "code": "", "is_code": own_code}


def masked_fields(web: WebContext, user, entity: str) -> set[str]:
    """The personal fields `user` reads masked (runtime/records/personal.py): on the edit form they
    are shown read-only and never sent back, so the stored value stays."""
    kinds = web.records.personal(entity)
    return set() if not kinds or user.can("personal.read") else set(kinds)


def read_only_spec(spec, names: set[str]):
    return replace(spec, fields=tuple(replace(f, readonly=True) if f.name in names else f for f in spec.fields)) \
        if names else spec


def records_router(web: WebContext) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    def entity_or_none(name: str):
        try:
            return web.live().entity(name)
        except UnknownEntity:
            return None

    @r.get("/ui/e/{entity}")
    def list_page(request: Request, entity: str, q: str = "", page: int = 1, order: str = "") -> HTMLResponse:
        lang, user = web.lang(request), web.user(request)
        ent = entity_or_none(entity)
        if ent is None:
            return web.not_found(request, entity)
        fields = filter_fields(ent)
        stored = {f.name for f in ent.fields if not f.computed}
        filters = {f.name: request.query_params.get(f.name, "") for f in fields}
        filters.update({k: v for k, v in request.query_params.items() if k in stored and v and k not in filters})
        page = max(1, min(page, 100000))
        try:
            listing = list_records(web.records, entity, web.scope(user), search=q[:200], filters=filters,
                                   order=order or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
            problem = ""
        except InvalidRecord as exc:
            listing, problem = None, "; ".join(p.message for p in exc.problems) or exc.render(lang)
        cols = list_columns(ent)
        items = listing.items if listing else []
        labels = web.names.record_labels(cols, items, lang)          # one query per referenced entity
        own_code = ent.key if ent.display and ent.display != ent.key else None     # the record's own code, beside its name
        rows = [{"id": item["id"], "cells": [cell(f, item, labels, lang, f.name == own_code) for f in cols]}
                for item in items]
        total = listing.total if listing else 0
        pages = max(1, math.ceil(total / PAGE_SIZE))
        keep = {k: v for k, v in {"q": q, "order": order, **filters}.items() if v}
        return web.page(request, "list.html", 422 if problem else 200, title=ent.meta.label.text(lang) or entity,
                        entity=ent, cols=cols, rows=rows, total=total, page=page, pages=pages, q=q, order=order,
                        filters=[(f, filters[f.name]) for f in fields], keep=keep,
                        other_filters=[(ent.field(k).label.text(lang) or k, k, v) for k, v in filters.items()
                                       if v and k not in {f.name for f in fields}], problem=problem,
                        first=(page - 1) * PAGE_SIZE + 1 if total else 0, last=min(page * PAGE_SIZE, total))

    def form_page(request: Request, ent, *, values, record=None, raw=None, outcome=None, status=200, flash=""):
        lang, user = web.lang(request), web.user(request)
        spec = web.spec(ent.name)
        new = record is None
        if not new:
            spec = read_only_spec(spec, masked_fields(web, user, ent.name))
        action = f"/ui/e/{ent.name}/new" if new else f"/ui/e/{ent.name}/{record['id']}/edit"
        hidden = {"csrf_token": request.session.get("csrf", "")}
        if not new:
            hidden["_version"] = str(record["version"])
        # names of the stored record's references only: a key the person typed may name a record
        # outside their scope, and its name must not come back on the page
        labels = web.names.record_labels(spec.fields, [record], lang) if record is not None else {}
        html = render_form(spec, values, raw=raw, outcome=outcome, options=options_for(web, user, lang, labels), action=action,
                           hidden=hidden, submit_label=text("create" if new else "save", lang), new=new,
                           cancel_url=f"/ui/e/{ent.name}" if new else f"/ui/e/{ent.name}/{record['id']}")
        title = f"{text('new' if new else 'edit', lang)} · {ent.meta.label.text(lang)}"
        return web.page(request, "edit.html", status, title=title, entity=ent, form_html=html, record=record,
                        flash=flash)

    @r.get("/ui/e/{entity}/new")
    def new_page(request: Request, entity: str) -> HTMLResponse:
        ent = entity_or_none(entity)
        if ent is None:
            return web.not_found(request, entity)
        if not web.user(request).can("records.write"):
            return web.denied(request)
        return form_page(request, ent, values={})

    @r.post("/ui/e/{entity}/new")
    def create(request: Request, entity: str, form: FormData = Depends(posted)) -> Response:
        return save(request, form, entity, None)

    def save(request: Request, form: FormData, entity: str, record_id: int | None) -> Response:
        lang, user = web.lang(request), web.user(request)
        ent = entity_or_none(entity)
        if ent is None:
            return web.not_found(request, entity)
        if not user.can("records.write"):
            return web.denied(request)
        record, scope = None, web.scope(user)
        if record_id is not None:
            try:
                record = web.records.get(entity, record_id, scope=scope)
            except NotFound:
                return web.not_found(request, text("no_such_record", lang))
            if not web.records.can_change(entity, record_id, scope):
                return web.denied(request, text("read_only", lang))
        if not web.check_csrf(request, form):
            return web.denied(request, text("signin_csrf", lang))
        sub = submitted(form)
        values, outcome = check(web, entity, sub, lang, user)
        if form.get("_action") != "save":        # "refresh" or "add_row:…": show the form again, unsaved
            outcome.errors = []
            return form_page(request, ent, values=values, record=record, raw=sub, outcome=outcome)
        hide = masked_fields(web, user, entity) if record is not None else set()
        if hide:                                # shown masked and read-only: the stored value stays
            outcome.errors = [e for e in outcome.errors if not (e.path and e.path[0] in hide)]
        editable = {f.name: values.get(f.name) for f in web.spec(entity).fields if f.editable and f.name not in hide}
        if outcome.errors:                      # and what saving would refuse besides, all at once
            found = web.records.problems(entity, editable, actor=user.name, scope=scope,
                                         id_=record["id"] if record is not None else None)
            outcome = with_service_problems(outcome, found, lang)
            return form_page(request, ent, values=values, record=record, raw=sub, outcome=outcome, status=422)
        try:
            if record is None:
                saved = web.records.create(entity, editable, actor=user.name, scope=scope)
            else:
                version = str(form.get("_version") or "")
                saved = web.records.update(entity, record["id"], editable, actor=user.name, scope=scope,
                                           expected_version=int(version) if version.isdigit() else None)
        except NotFound:
            return web.not_found(request, text("no_such_record", lang))
        except Forbidden:
            return web.denied(request, text("read_only", lang))
        except VersionConflict:
            return form_page(request, ent, values=values, record=record, raw=sub, outcome=outcome, status=409,
                             flash=text("conflict", lang))
        except RecordError as exc:
            outcome.errors = record_problems(exc, lang)
            return form_page(request, ent, values=values, record=record, raw=sub, outcome=outcome, status=422)
        request.session["flash"] = text("created" if record is None else "saved", lang)
        return redirect(f"/ui/e/{entity}/{saved['id']}")

    @r.get("/ui/e/{entity}/key/{key}")
    def by_key(request: Request, entity: str, key: str) -> Response:
        try:
            found = web.records.find(entity, key, scope=web.scope(web.user(request)))
        except (NotFound, UnknownEntity, RecordError):
            return web.not_found(request, text("no_such_record", web.lang(request)))
        return redirect(f"/ui/e/{entity}/{found['id']}")

    @r.get("/ui/e/{entity}/{record_id}")
    def detail(request: Request, entity: str, record_id: DbId) -> HTMLResponse:
        lang, user = web.lang(request), web.user(request)
        ent = entity_or_none(entity)
        if ent is None:
            return web.not_found(request, entity)
        scope = web.scope(user)
        try:
            record = web.records.get(entity, record_id, scope=scope)
        except NotFound:
            return web.not_found(request, text("no_such_record", lang))
        entities = web.live().bundle.entities

        def ref_url(target, key):
            return f"/ui/e/{target}/key/{key}" if target in entities else ""
        spec = web.spec(entity)
        sections = web.names.sections(spec, read_view(spec, record, lang, tz=zone_name(), ref_url=ref_url), record, lang)
        key_value = record.get(ent.key) if ent.key else record["id"]
        related = [(c.label.text(lang) or c.name, f"/ui/e/{c.entity}?{c.via}={quote(str(key_value))}")
                   for c in ent.collections if c.entity in entities]
        title = str(record.get(ent.display) or key_value)
        return web.page(request, "detail.html", title=title, entity=ent, record=record, sections=sections,
                        related=related, changeable=web.records.can_change(entity, record_id, scope),
                        history=history(web, user, entity, record_id, lang),
                        alerts=record_alerts(web, entity, record_id, lang),
                        views=view_links(web, entity, record, ent.key, lang))     # the 360° pages about it

    @r.get("/ui/e/{entity}/{record_id}/edit")
    def edit_page(request: Request, entity: str, record_id: DbId) -> HTMLResponse:
        lang, user = web.lang(request), web.user(request)
        ent = entity_or_none(entity)
        if ent is None:
            return web.not_found(request, entity)
        if not user.can("records.write"):
            return web.denied(request)
        scope = web.scope(user)
        try:
            record = web.records.get(entity, record_id, scope=scope)
        except NotFound:
            return web.not_found(request, text("no_such_record", lang))
        if not web.records.can_change(entity, record_id, scope):
            return web.denied(request, text("read_only", lang))
        return form_page(request, ent, values=record, record=record)

    @r.post("/ui/e/{entity}/{record_id}/edit")
    def update(request: Request, entity: str, record_id: DbId, form: FormData = Depends(posted)) -> Response:
        return save(request, form, entity, record_id)

    @r.post("/ui/e/{entity}/{record_id}/delete")
    def delete(request: Request, entity: str, record_id: DbId, form: FormData = Depends(posted)) -> Response:
        lang, user = web.lang(request), web.user(request)
        if entity_or_none(entity) is None:
            return web.not_found(request, entity)
        if not user.can("records.delete"):
            return web.denied(request)
        if not web.check_csrf(request, form):
            return web.denied(request, text("signin_csrf", lang))
        version = str(form.get("_version") or "")
        try:
            web.records.delete(entity, record_id, actor=user.name, scope=web.scope(user),
                               expected_version=int(version) if version.isdigit() else None)
        except NotFound:
            return web.not_found(request, text("no_such_record", lang))
        except Forbidden:
            return web.denied(request, text("read_only", lang))
        except RecordError as exc:
            request.session["flash"] = exc.render(lang) if not isinstance(exc, VersionConflict) else text("conflict", lang)
            return redirect(f"/ui/e/{entity}/{record_id}")
        request.session["flash"] = text("deleted", lang)
        return redirect(f"/ui/e/{entity}")

    return r
