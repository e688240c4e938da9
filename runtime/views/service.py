"""The 360° view of one subject (a View document of the live bundle), as one JSON-ready answer for
one reader: the page (runtime/web/views.py) and the API (runtime/http/views.py) show the same.

    ViewService(engine).page("group_360", "G0001", scope=scope, lang="zh", roles=None, pages={"loans": 2})

* **Scope.** The subject is read through the records service (`Records.find`): unknown and out of
  scope are the same 404 (`NotFound`). Everything else the view shows is cut to what the reader may
  read (`ScopedLoader`, `runtime/auth/scope.py`): a serving branch (协办行) sees the members it
  serves and their records, and figures summed over all members are withheld from it (the subject's
  aggregate fields blank, metrics reading a collection or such a field withheld). Pictures are cut
  to the reader's sight as the graph API cuts them; alerts come from the alerts room, which applies
  the same scope (the list kept while the audit chain's head does not move: `_open_alerts`).
* **Queries.** One for the subject, one per collection the view reads (per 500 parents), one to cut
  each to the scope, one per referenced entity for names, one for the alerts, and the graph room's
  cached graph (its one-row freshness check). Never one per member.
* **Sections** a reader's roles do not include (`roles:`), or whose `visible_when` does not hold,
  are left out. `pages` picks a page of a table, timeline or alerts section by its id.
"""
from __future__ import annotations

import threading
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dsl.expr import EvaluationError
from dsl.kinds.view import View, ViewSection
from runtime.alerts.service import AlertService
from runtime.auth.org import OrgTree
from runtime.auth.people import PeopleDirectory
from runtime.auth.scope import Scope, placement_of
from runtime.graph.load import GraphUnavailable
from runtime.graph.scope import sight_of
from runtime.graph.service import graph_service
from runtime.records.context import RecordContext
from runtime.records.errors import NotFound
from runtime.records.service import Records
from runtime.records.validation import Problem
from runtime.storage.tables import audit_head
from runtime.views.activity import changes_section, flows_section, shown_records
from runtime.views.load import ScopedLoader, collection_paths, fields_of, fields_read, plain_paths, plain_record, prime
from runtime.views.pictures import equity_section, guarantee_section
from runtime.views.tables import Namer, alerts_section, fields_section, metrics_section, rows_section
from runtime.views.words import vtext

ALERTS_READ = 5000           # open alerts read for one page (worst first), before keeping the subject's own


class ViewService:
    def __init__(self, engine: Engine, records: Records | None = None, alerts: AlertService | None = None):
        self.engine = engine
        self.records = records or Records(engine)
        self.alerts = alerts or AlertService(engine, records=self.records)
        self.directory = PeopleDirectory(engine)
        self._trees: dict[str, OrgTree] = {}
        self._open: dict[tuple[str, Any, int], Any] = {}      # (what, scope units, audit head) → answer
        self._lock = threading.Lock()

    def view(self, name: str) -> View:
        """The deployed View `name`; NotFound (404) for one that is not deployed."""
        found = self.records.refresh().bundle.documents.get(("View", name))
        if not isinstance(found, View):
            raise NotFound(f"no view `{name}`", [Problem(("path", "view"), f"unknown view `{name}`", "not_found")])
        return found

    def _tree(self) -> OrgTree:
        live = self.records.refresh()
        if live.hash not in self._trees:
            self._trees = {live.hash: OrgTree(live.bundle)}
        return self._trees[live.hash]

    def page(self, name: str, key: str, *, scope: Scope | None, lang: str = "zh",
             roles: frozenset[str] | None = None, pages: Mapping[str, int] | None = None) -> dict[str, Any]:
        """The view `name` of the subject `key` as `scope` may see it (see the module docstring);
        `roles`: the reader's roles (None: every section)."""
        view = self.view(name)
        if view.roles and roles is not None and not set(view.roles) & roles:
            raise NotFound(f"no view `{name}`", [Problem(("path", "view"), f"unknown view `{name}`", "not_found")])
        record = self.records.find(view.subject, key, scope=scope)      # 404 alike: unknown, out of scope
        live = self.records.refresh()
        entity = live.entity(view.subject)
        pages = pages or {}
        sections = [s for s in view.sections if _allowed(s, roles)]
        exprs = [s.rows for s in sections] + [m.value for s in sections for m in s.metrics] + \
            [view.title] + [s.visible_when for s in sections]
        tree = collection_paths(e for e in exprs if e is not None)
        for s in sections:
            for c in s.on:
                tree.setdefault(c, {})
        with self.engine.connect() as conn:
            loader = ScopedLoader(conn, live, scope, _fields_shown(live, view.subject, tree, sections))
            raw = dict(loader.rows(view.subject, [record["id"]]).get(record["id"]) or {})
            placement = placement_of(live)
            aggregates = placement.of(view.subject).aggregates
            lead = not loader.cut or bool(placement.ids_within(conn, live, view.subject, scope, [record["id"]],
                                                               write=True))
            for name_ in aggregates:
                if record.get(name_) is None:
                    raw[name_] = None                       # blank for a serving branch, as the record says
            withheld = set() if lead else set(aggregates) | {c.name for c in entity.collections}
            context = RecordContext(view.subject, raw, loader, record["id"])
            sections = [s for s in sections if _visible(s, context)]
            prime(loader, view.subject, [record["id"]], tree)
            # plain dicts of the loaded rows answer the expressions as record contexts would, faster,
            # when every path runs through collections to stored fields (else: the record contexts)
            subject: Any = context
            if plain_paths(live, view.subject, exprs) and all(
                    plain_paths(live, s.row_entity, [s.where]) for s in sections if s.row_entity and s.where):
                subject = plain_record(loader, view.subject, {"id": record["id"], **raw}, tree)
            namer = Namer(conn, live, self._tree(), self.directory, lang, scope, loader.seen)
            out = []
            for s in sections:
                body = self._section(s, subject, record, entity, namer, withheld, scope, lang,
                                     max(1, int(pages.get(s.id, 1))))
                out.append({"id": s.id, "type": s.type, "label": s.label.text(lang) or s.id, "width": s.width,
                            **body})
        title = _title(view, subject) or record.get(entity.display or "") or key
        access = "bank_wide" if scope is None or scope.units is None else "lead_branch" if lead else "serving_branch"
        return {"view": view.name, "label": view.meta.label.text(lang) or view.name, "title": title,
                "subject": {"entity": view.subject, "key": record.get(entity.key or "id"), "id": record["id"],
                            "name": record.get(entity.display or "") or key,
                            "link": f"/ui/e/{view.subject}/{record['id']}"},
                "access": access, "access_note": vtext(f"access_{access}", lang), "lang": lang, "sections": out}

    def _section(self, s: ViewSection, subject: Mapping[str, Any], record: dict, entity: Any, namer: Namer,
                 withheld: set[str], scope: Scope | None, lang: str, page: int) -> dict[str, Any]:
        if s.type == "fields":
            return fields_section(s, record, entity, namer)
        if s.type == "metrics":
            return metrics_section(s, subject, withheld, lang)
        if s.type in ("table", "timeline"):
            return rows_section(s, subject, namer.live, namer, page)
        if s.type == "alerts":
            return self._alerts(s, subject, record, entity, namer, scope, page, lang)
        if s.type == "graph":
            return self._graph(s, subject, record, scope, lang)
        if s.type == "flows":
            return flows_section(s, namer.conn, shown_records(s, subject, record, entity, namer.live), namer.live,
                                 namer, page, lang)
        if s.type == "changes":
            return changes_section(s, namer.conn, shown_records(s, subject, record, entity, namer.live), self.records,
                                   scope, page, lang)
        return {}

    def _alerts(self, s: ViewSection, subject: Mapping[str, Any], record: dict, entity: Any, namer: Namer,
                scope: Scope | None, page: int, lang: str) -> dict[str, Any]:
        live = namer.live
        shown = shown_records(s, subject, record, entity, live).names()
        found = self._open_alerts(scope)
        labels = {n: d.meta.label for (k, n), d in live.bundle.documents.items() if k == "AlertRule"}
        out = alerts_section(s, found, shown, labels, page, lang)
        # the scope's open alerts are read worst first up to ALERTS_READ: past it, say the list may be short
        out["cut"] = len(found) >= ALERTS_READ
        out["note"] = vtext("alerts_cut", lang, n=ALERTS_READ) if out["cut"] else None
        return out

    def _kept(self, what: str, scope: Scope | None, make: Any) -> Any:
        """`make()` — the open alerts `scope` may read, or its sight of the graph — kept while the
        audit chain's head stays where it was: every record written, every step of an alert and
        every action on one, every deploy appends to the chain in its own transaction, so an
        unmoved head means an unchanged answer (the graph room keeps its cache current the same way)."""
        key = (what, None if scope is None else scope.units, self._head())
        with self._lock:
            found = self._open.get(key)
        if found is None:
            found = make()
            with self._lock:
                if len(self._open) >= 32:
                    self._open.clear()
                self._open[key] = found
        return found

    def _head(self) -> int:
        """The audit chain's head: where the bank's data stands (one indexed row)."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(audit_head.c.seq).where(audit_head.c.id == 1)).scalar() or 0)

    def _open_alerts(self, scope: Scope | None) -> list[dict]:
        """The open alerts `scope` may read, worst first (the alerts room's list applies the scope)."""
        return self._kept("alerts", scope, lambda: self.alerts.list(status="open", order="grade", limit=ALERTS_READ,
                                                                    scope=scope))

    def _graph(self, s: ViewSection, subject: Mapping[str, Any], record: dict, scope: Scope | None,
               lang: str) -> dict[str, Any]:
        kind = s.graph or "equity"
        try:
            graph = graph_service(self.engine, self.records)
            sight = self._kept("sight", scope, lambda: sight_of(self.records, scope))
            with graph.reading() as state:
                code = str(record.get("code"))
                if kind == "guarantee":
                    # a bank-wide sight hides nothing; another is the same while the data stands still
                    seen_as = None if sight.bank_wide else (scope.units if scope else None, self._head())
                    return guarantee_section(s, state, sight, code, lang, seen_as)
                capital = {}
                for m in (subject["members"] if "members" in subject else []):
                    v = fields_of(m)
                    if v.get("credit_code") and v.get("registered_capital") is not None:
                        capital[v["credit_code"]] = float(v["registered_capital"])
                return equity_section(s, state, sight, code, record.get("parent_company"), capital, lang)
        except GraphUnavailable:
            return {"graph": kind, "unavailable": True, "note": vtext("graph_unavailable", lang), "rows": []}


def _allowed(s: ViewSection, roles: frozenset[str] | None) -> bool:
    """Whether the reader's roles include one the section names (`roles:`; none named: everyone)."""
    return not (s.roles and roles is not None and not set(s.roles) & roles)


def _fields_shown(live: Any, subject: str, tree: Mapping[str, Any], sections: list[ViewSection]) -> dict[str, set[str]]:
    """{entity: the fields the page reads of its records loaded as collections}: what the expressions
    read (`fields_read`), and of each table's or timeline's rows its columns, order, `where`, key,
    display, time field and the currency of its money; the members' credit code and registered capital
    (the equity picture's amounts). Nothing else is loaded."""
    out = fields_read(live, subject, tree)
    collections = {c.name: c.entity for c in live.entity(subject).collections}
    for s in sections:
        for target in [s.row_entity] + [collections.get(c) for c in s.on]:
            if not target:
                continue
            ent = live.entity(target)
            need = out.setdefault(target, set())
            need.update(n for n in (ent.key, ent.display, ent.time_field) if n)
            if target != s.row_entity:
                continue
            need.update(s.columns)
            if s.sort:
                need.add(s.sort[0])
            if s.where is not None:
                need.update(p[0] for p in s.where.paths if p)
                need.update(s.where.names)
            for name in s.columns:
                f = ent.field(name)
                if f is not None and getattr(f, "currency_field", None):
                    need.add(f.currency_field)
        if s.type == "graph" and "members" in collections:
            out.setdefault(collections["members"], set()).update({"credit_code", "registered_capital"})
    return out


def _visible(s: ViewSection, subject: RecordContext) -> bool:
    if s.visible_when is not None:
        try:
            return bool(s.visible_when.test(subject))
        except EvaluationError:
            return False
    return True


def _title(view: View, subject: Mapping[str, Any]) -> str | None:
    if view.title is None:
        return None
    try:
        value = view.title(subject)
    except EvaluationError:
        return None
    return None if value is None else str(value)
