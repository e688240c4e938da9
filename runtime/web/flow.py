"""The approval pages: my inbox, start a flow (with the route preview), a task page, an
instance page with its timeline and diagram. `install_flow_pages(app, web)` is called by
`runtime.web.app.install_web`; the pages call `FlowService` (runtime/flows/service.py), the
people directory (runtime/auth/people.py) and the records' labels (runtime/records/listing.py)
and run no SQL of their own, with the signed-in person as the actor, so the engine's checks
(who holds a task, four eyes, versions) are the pages' checks too.

What the pages share lives here: the service, labels of flows, nodes, people and subject
records, the narrowed form specs, a fresh idempotency key for every action form, and the
outcome of a command (a redirect, or the page again with the refusal in words)."""
from __future__ import annotations

import threading
import uuid
from typing import Any, Iterable

from fastapi import Request
from fastapi.responses import HTMLResponse

from dsl.kinds.flow.ir import INITIATOR
from engine.flow.commands import SYSTEM
from engine.flow.plan import INITIATOR_LABEL
from forms import FormSpec
from runtime.auth.people import PeopleDirectory
from runtime.auth.users import User
from runtime.flows.service import FlowService
from runtime.flows.store import FlowError
from runtime.records.listing import record_labels
from runtime.web.context import WebContext
from runtime.web.flow_text import ftext, refusal_of

PAGE_SIZE = 25


class FlowPages:
    def __init__(self, web: WebContext, service: FlowService | None = None):
        self.web = web
        self.service = service or FlowService(web.engine)
        self.directory = PeopleDirectory(web.engine)
        self._flows: dict[tuple[str, int], Any] = {}
        self._specs: dict[tuple[int, str], FormSpec | None] = {}
        self._counted = threading.local()      # the inbox page's counts, reused by its own nav badge

    # -- the flows and their forms, per deployment version -------------------------------------
    def flow(self, name: str, version: int | None = None) -> Any:
        if version is None:
            return self.service.flow(name)
        key = (name, version)
        if key not in self._flows:
            self._flows[key] = self.service.flow(name, version)
        return self._flows[key]

    def current_flows(self) -> dict[str, Any]:
        return {n: f for (k, n), f in self.web.live().bundle.documents.items() if k == "Flow"}

    def form_spec(self, version: int, form: str | None) -> FormSpec | None:
        if form is None:
            return None
        key = (version, form)
        if key not in self._specs:
            doc = self.service.form(form, version)
            self._specs[key] = FormSpec.of_form(doc) if doc is not None else None
        return self._specs[key]

    # -- labels ----------------------------------------------------------------------------------
    @staticmethod
    def node_label(flow: Any, node: str | None, lang: str) -> str:
        if flow is None or node is None:
            return node or ""
        n = flow.by_id.get(node)
        if n is None and node == INITIATOR:          # back with the initiator, to edit and resubmit
            return INITIATOR_LABEL.text(lang)
        return (n.label.text(lang) or node) if n is not None else node

    def flow_label(self, name: str, lang: str) -> str:
        f = self.current_flows().get(name)
        return (f.meta.label.text(lang) or name) if f is not None else name

    def people(self, names: Iterable[str | None]) -> dict[str, str]:
        """{user name: the name people see}."""
        return self.directory.display_names(names)

    def who(self, name: str | None, names: dict[str, str], lang: str) -> str:
        """A person as people see them; the system (a timer, an alert's disposal) in words."""
        if name == SYSTEM:
            return ftext("actor_system", lang)
        return names.get(name or "", name or "")

    def subject_labels(self, entity: str | None, keys: Iterable[str | None]) -> dict[str, str]:
        """{key: display text} of subject records (the key itself when there is no display field)."""
        return record_labels(self.web.records, entity, keys)

    # -- acting ----------------------------------------------------------------------------------
    @staticmethod
    def new_key() -> str:
        """An idempotency key for one rendered action form: a double click sends it twice, the
        service answers the second with the first's answer and does nothing twice."""
        return uuid.uuid4().hex

    @staticmethod
    def request_key(form: Any) -> str | None:
        key = str(form.get("_request") or "").strip()
        return key if 8 <= len(key) <= 64 and key.isalnum() else None

    @staticmethod
    def version_of(form: Any) -> int | None:
        text = str(form.get("_version") or "").strip()
        return int(text) if text.isdigit() and len(text) < 10 else None

    def refused(self, request: Request, exc: FlowError, what: str) -> HTMLResponse:
        """A page that cannot be drawn for a flow error other than "not found" (nothing deployed
        …): the status the flow API gives it (runtime/http/flows.py), its words, no exception text.
        `what` names the page: `task_unavailable`, `instance_unavailable`."""
        lang = self.web.lang(request)
        return self.web.page(request, "message.html", exc.status, title=ftext(what, lang),
                             message=refusal_of(exc, lang))

    def counted(self, user: str, counts: dict) -> None:
        """The inbox page has just counted every box: its badge need not count again."""
        self._counted.value = (user, counts)

    def open_count(self, user: User) -> int | None:
        known, self._counted.value = getattr(self._counted, "value", None), None
        counts = known[1] if known is not None and known[0] == user.name else \
            self.service.inbox(user.name, "mine", limit=1)["counts"]
        return counts["mine"] + counts["pool"]
