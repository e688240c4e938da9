"""The link step's context: names declared across the bundle, the type environment, and
helpers each kind's builder uses to resolve references and compile expressions."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from .diagnostics import Diagnostics, a, did_you_mean
from .expr.types import BOOL, DATETIME, INTEGER, STRING, FieldInfo, Type, TypeEnv, list_of, record
from .loader import Document, Path

# Built-in record types that entities may reference without declaring them.
BUILTIN_RECORDS: dict[str, dict[str, FieldInfo]] = {
    "org_unit": {"name": FieldInfo(STRING, False), "label": FieldInfo(STRING), "type": FieldInfo(STRING),
                 "level": FieldInfo(INTEGER), "parent": FieldInfo(record("org_unit")), "region": FieldInfo(STRING)},
    "user": {"name": FieldInfo(STRING, False), "display_name": FieldInfo(STRING),
             "org_unit": FieldInfo(record("org_unit")), "email": FieldInfo(STRING), "mobile": FieldInfo(STRING),
             "supervisor": FieldInfo(record("user"))},
    # the alert an alert rule's action runs for (`alert.message` fills a disposal flow's form)
    # and a record's open alerts (`subject.alerts`, `core_enterprise.alerts`)
    "alert": {"id": FieldInfo(INTEGER, False), "rule": FieldInfo(STRING, False), "label": FieldInfo(STRING, False),
              "grade": FieldInfo(STRING, False), "message": FieldInfo(STRING, False),
              "evidence": FieldInfo(STRING, False), "link": FieldInfo(STRING, False),
              "opened_at": FieldInfo(DATETIME, False)},
    # a guarantee circle (担保圈): firms guaranteeing one another round a loop, as the graph room
    # finds them among the companies' guarantees; an alert rule may watch circles (`scope:
    # guarantee_circle`, runtime/alerts/circles.py). `name` says its size, never a member's name.
    "guarantee_circle": {"key": FieldInfo(STRING, False), "name": FieldInfo(STRING, False),
                         "size": FieldInfo(INTEGER, False), "groups": FieldInfo(INTEGER, False),
                         "spans_groups": FieldInfo(BOOL, False),
                         "members": FieldInfo(list_of(record("company")), False)},
}
CIRCLE = "guarantee_circle"
CIRCLE_FIRM = "company"             # the entity a circle's members are records of


class Declarations:
    """Pass 1: every document's (kind, name), and the record types entities and forms declare."""

    def __init__(self, diags: Diagnostics):
        self.diags = diags
        self.documents: dict[tuple[str, str], Document] = {}
        self.records: dict[str, dict[str, FieldInfo]] = {k: dict(v) for k, v in BUILTIN_RECORDS.items()}
        self.time_fields: dict[str, str] = {}
        self.bank_wide: set[str] = set()          # entities any rule reads by name (entity `bank_wide: true`)

    def add_document(self, doc: Document) -> bool:
        key = doc.ref
        if key in self.documents:
            first = self.documents[key]
            self.diags.add("BNY402", f"{a(key[0])} named `{key[1]}` is already defined in {first.file}",
                           doc.span(("metadata", "name")),
                           f"rename one of them; names are unique within a kind (first at {first.span(('metadata', 'name'))})")
            return False
        self.documents[key] = doc
        return True

    def names(self, kind: str) -> list[str]:
        return sorted(n for k, n in self.documents if k == kind)


class LinkContext:
    """Pass 2: what a kind's builder needs to resolve references and compile expressions."""

    def __init__(self, decls: Declarations):
        self.decls = decls
        self.diags = decls.diags
        self.env = TypeEnv(decls.records, time_fields=decls.time_fields)
        self.built: dict[tuple[str, str], Any] = {}
        self.references: dict[tuple[str, str], set[tuple[str, str]]] = {}   # document -> documents it names

    # -- references -------------------------------------------------------------------------
    def exists(self, kind: str, name: str) -> bool:
        return (kind, name) in self.decls.documents

    def resolve(self, kinds: str | Iterable[str], name: Any, doc: Document, path: Path,
                builtins: Iterable[str] = ()) -> bool:
        """Check that `name` names a document of one of `kinds` (or a built-in); report if not."""
        kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
        if not isinstance(name, str):
            return False
        found = [(k, name) for k in kinds if self.exists(k, name)]
        if found:
            self.references.setdefault(doc.ref, set()).update(found)
        if found or name in builtins:
            return True
        wanted = " or ".join(kinds)
        other = [k for (k, n) in self.decls.documents if n == name]
        if other:
            self.diags.add("BNY405", f"`{name}` is {a(other[0])}, but {a(wanted)} is needed here",
                           doc.span(path), f"name {a(wanted)} instead")
            return False
        candidates = [n for k in kinds for n in self.decls.names(k)] + list(builtins)
        hint = did_you_mean(name, candidates) or (f"define {a(kinds[0])} named `{name}`, "
                                                  f"or use one of: {', '.join(candidates[:8])}" if candidates
                                                  else f"define {a(kinds[0])} named `{name}`")
        self.diags.add("BNY401", f"unknown {wanted} `{name}`", doc.span(path), hint)
        return False

    # -- expressions ------------------------------------------------------------------------
    def expr(self, doc: Document, path: Path, scope: Mapping[str, FieldInfo], expected: Type | None = None):
        """Compile the expression written at `path` in doc; None (with diagnostics) if it is wrong."""
        from .expr import compile_expression
        text = _get(doc.data, path)
        if not isinstance(text, str):
            return None
        return compile_expression(text, span=doc.expr_span(path), scope=scope, env=self.env,
                                  diags=self.diags, expected=expected)

    def literal(self, doc: Document, path: Path, expected: Type | None) -> Any:
        """A literal written with units (5亿, 70%, 2d, 2026-03-31) or plainly, as a runtime value."""
        value = _get(doc.data, path)
        if not isinstance(value, str) or expected == STRING:
            return value
        compiled = self.expr(doc, path, {}, expected)
        return compiled({}) if compiled is not None else None


def _get(data: Any, path: Path) -> Any:
    for p in path:
        try:
            data = data[p]
        except (KeyError, IndexError, TypeError):
            return None
    return data
