"""A deploy plan: what changes between the live model and a new one, and what it would cost.

Documents are compared by the hashes of their normalized data (kinds added, changed, removed),
the stored files by their text (a comment or a moved line is stored again); tables
by their models. Each table change is additive, or names the data it would lose (counted
in the live database), or names a conflict that stops it whatever the operator allows.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Connection

from runtime.auth.tables import role_holders
from runtime.deploy.column_changes import NARROW, RETYPE, ColumnDelta, compare, describe
from runtime.deploy.table_model import ColumnSpec, TableSpec

CREATE_TABLE, DROP_TABLE = "create_table", "drop_table"
ADD_COLUMN, DROP_COLUMN, ALTER_COLUMN = "add_column", "drop_column", "alter_column"


@dataclass(frozen=True)
class Change:
    action: str
    entity: str
    column: str | None = None
    detail: str = ""
    loss: str | None = None          # what would be lost (the operator must allow it)
    conflict: str | None = None      # why it cannot be applied at all
    old: ColumnSpec | None = None
    new: ColumnSpec | None = None
    delta: ColumnDelta | None = None

    @property
    def name(self) -> str:
        return f"{self.entity}.{self.column}" if self.column else self.entity


@dataclass
class Plan:
    from_version: int | None
    from_hash: str | None
    to_hash: str
    kinds_added: list[tuple[str, str]] = field(default_factory=list)
    kinds_changed: list[tuple[str, str]] = field(default_factory=list)
    kinds_removed: list[tuple[str, str]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    files_changed: bool = False      # same documents, other file texts (or an old deployment's files)
    warnings: list[str] = field(default_factory=list)   # deployable, but worth a look (veto_warnings)

    @property
    def same(self) -> bool:
        return self.from_hash == self.to_hash and not self.changes and not self.files_changed

    @property
    def losses(self) -> list[Change]:
        return [c for c in self.changes if c.loss]

    @property
    def conflicts(self) -> list[Change]:
        return [c for c in self.changes if c.conflict]

    def unallowed_losses(self, allow: bool | Iterable[str]) -> list[Change]:
        if allow is True:
            return []
        names = set(allow or ())
        return [c for c in self.losses if c.name not in names and c.entity not in names]

    def to_dict(self) -> dict[str, Any]:
        return {"from_version": self.from_version, "from_hash": self.from_hash, "to_hash": self.to_hash,
                "same": self.same, "files_changed": self.files_changed,
                "kinds": {"added": [list(k) for k in self.kinds_added], "changed": [list(k) for k in self.kinds_changed],
                          "removed": [list(k) for k in self.kinds_removed]},
                "changes": [{"action": c.action, "name": c.name, "detail": c.detail, "loss": c.loss,
                             "conflict": c.conflict} for c in self.changes],
                "warnings": list(self.warnings)}


def veto_warnings(conn: Connection, files: Mapping[str, str]) -> list[str]:
    """A flow's countersign veto role that nobody holds in the people tables: the step would pass
    without the veto anyone expects (veto holders are signers; with none, nobody can veto)."""
    vetoes: dict[str, tuple[str, str]] = {}          # role -> (flow, step) that names it first
    for text in files.values():
        if "veto" not in text:
            continue
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError:
            continue
        if not isinstance(doc, dict) or doc.get("kind") != "Flow" or not isinstance(doc.get("spec"), dict):
            continue
        flow = str((doc.get("metadata") or {}).get("name", "?"))
        for node in doc["spec"].get("nodes") or []:
            cs = node.get("countersign") if isinstance(node, dict) else None
            veto = cs.get("veto") if isinstance(cs, dict) else None
            for role in veto if isinstance(veto, list) else ():
                vetoes.setdefault(str(role), (flow, str(node.get("id"))))
    if not vetoes or not sa.inspect(conn).has_table(role_holders.name):
        return []
    held = set(conn.execute(sa.select(role_holders.c.role).where(role_holders.c.role.in_(sorted(vetoes)))
                            .distinct()).scalars())
    return [f"nobody holds the role `{role}`, the veto of step `{step}` in flow `{flow}`: the step will pass "
            f"without it; grant it (`banyan users grant NAME {role}`) before an instance reaches that step"
            for role, (flow, step) in sorted(vetoes.items()) if role not in held]


def diff_sources(old: Mapping[tuple[str, str], str], new: Mapping[tuple[str, str], str], plan: Plan) -> None:
    """Documents added, removed and changed, given {(kind, name): document hash} before and after."""
    plan.kinds_added = sorted(k for k in new if k not in old)
    plan.kinds_removed = sorted(k for k in old if k not in new)
    plan.kinds_changed = sorted(k for k in new if k in old and old[k] != new[k])


def diff_models(old: Mapping[str, TableSpec], new: Mapping[str, TableSpec],
                probe: "Probe | None" = None) -> list[Change]:
    probe = probe or Probe(None)
    changes: list[Change] = []
    for name in sorted(new):
        if name not in old:
            changes.append(Change(CREATE_TABLE, name, detail=f"create table e_{name} ({len(new[name].columns)} fields)"))
    for name in sorted(old):
        if name not in new:
            rows = probe.rows(old[name])
            changes.append(Change(DROP_TABLE, name, detail=f"drop table e_{name}" + (" (empty)" if rows == 0 else ""),
                                  loss=None if rows == 0 else f"table e_{name} and its {_n(rows, 'record')}"))
    for name in sorted(set(old) & set(new)):
        changes.extend(_table_changes(old[name], new[name], probe))
    return changes


def _table_changes(old: TableSpec, new: TableSpec, probe: "Probe") -> list[Change]:
    out: list[Change] = []
    for col in new.columns:
        prev = old.column(col.name)
        if prev is None:
            out.append(Change(ADD_COLUMN, new.entity, col.name, f"add column {col.name} {describe(col)}", new=col))
            continue
        delta = compare(prev, col)
        if not delta.changed:
            continue
        out.append(_alter(new, prev, col, delta, probe))
    for prev in old.columns:
        if new.column(prev.name) is None:
            n = probe.nonnull(old, prev.name)
            out.append(Change(DROP_COLUMN, new.entity, prev.name, f"drop column {prev.name}" + (" (empty)" if n == 0 else ""),
                              loss=None if n == 0 else f"{new.entity}.{prev.name}: {_n(n, 'value')}", old=prev))
    return out


def _alter(spec: TableSpec, old: ColumnSpec, new: ColumnSpec, delta: ColumnDelta, probe: "Probe") -> Change:
    parts, loss, conflict = [], None, None
    where = f"{spec.entity}.{new.name}"
    if delta.type_change:
        parts.append(f"{describe(old)} → {describe(new)} ({delta.type_change})")
        if delta.type_change == RETYPE:
            loss = f"{where}: {_n(probe.nonnull(spec, old.name), 'value')} cannot convert to {describe(new)}"
        elif delta.type_change == NARROW:
            loss = f"{where}: narrowed to {describe(new)}; {_n(probe.nonnull(spec, old.name), 'value')} may be cut or rounded"
    if delta.added_values:
        parts.append("enum values added: " + ", ".join(delta.added_values))
    if delta.removed_values:
        parts.append("enum values removed: " + ", ".join(delta.removed_values))
        used = probe.using(spec, old.name, delta.removed_values)
        if used:
            loss = (loss + "; " if loss else f"{where}: ") + f"{_n(used, 'record')} hold a removed value (set to null)"
    if delta.unique_on:
        parts.append("now unique")
        dupes = probe.duplicates(spec, old.name)
        if dupes:
            conflict = f"{where}: {_n(dupes, 'value')} appear more than once; make them unique first"
    if delta.unique_off:
        parts.append("no longer unique")
    if delta.index_changed and not (delta.unique_on or delta.unique_off):
        parts.append("index " + ("added" if new.index else "removed"))
    return Change(ALTER_COLUMN, spec.entity, new.name, f"alter column {new.name}: " + "; ".join(parts),
                  loss=loss, conflict=conflict, old=old, new=new, delta=delta)


def _n(n: int | None, noun: str) -> str:
    if n is None:
        return f"the {noun}s"
    return f"{n} {noun}" + ("" if n == 1 else "s")


class Probe:
    """Counts in the live tables that a plan reports (None when planning without a database)."""

    def __init__(self, conn: Connection | None):
        self.conn = conn

    def _scalar(self, spec: TableSpec, where: str, params: dict | None = None) -> int | None:
        if self.conn is None:
            return None
        return int(self.conn.execute(sa.text(f'SELECT count(*) FROM "{spec.table}" {where}'), params or {}).scalar())

    def rows(self, spec: TableSpec) -> int | None:
        return self._scalar(spec, "")

    def nonnull(self, spec: TableSpec, column: str) -> int | None:
        return self._scalar(spec, f'WHERE "{column}" IS NOT NULL')

    def using(self, spec: TableSpec, column: str, values: tuple[str, ...]) -> int | None:
        params = {f"v{i}": v for i, v in enumerate(values)}
        return self._scalar(spec, f'WHERE "{column}" IN ({", ".join(":" + k for k in params)})', params)

    def duplicates(self, spec: TableSpec, column: str) -> int | None:
        if self.conn is None:
            return None
        sql = (f'SELECT count(*) FROM (SELECT "{column}" FROM "{spec.table}" WHERE "{column}" IS NOT NULL '
               f'GROUP BY "{column}" HAVING count(*) > 1) d')
        return int(self.conn.execute(sa.text(sql)).scalar())


def plan_lines(plan: Plan) -> list[tuple[str, str | None]]:
    """The plan as lines of text with a colour hint (green, yellow, red or None): what `banyan plan`
    prints and what a change request's approver reads."""
    head = f"v{plan.from_version} ({plan.from_hash[:12]})" if plan.from_version and plan.from_hash \
        else "an empty database"
    out: list[tuple[str, str | None]] = [(f"plan: {head} → bundle {plan.to_hash[:12]}", None)]
    out += [(f"  warning: {w}", "yellow") for w in plan.warnings]
    if plan.same:
        return out + [("  no changes", "green")]
    for label, items, colour in (("added", plan.kinds_added, "green"), ("changed", plan.kinds_changed, "yellow"),
                                 ("removed", plan.kinds_removed, "red")):
        out += [(f"  {label:8} {kind} {name}", colour) for kind, name in items]
    if plan.files_changed and not (plan.kinds_added or plan.kinds_changed or plan.kinds_removed):
        out.append(("  the files are stored again as written (their text changed, not what they mean)", None))
    if plan.changes:
        out.append(("  tables:", None))
    for c in plan.changes:
        mark, colour = ("!", "red") if c.conflict else ("-", "red") if c.loss else ("+", "green")
        out.append((f"    {mark} e_{c.entity}: {c.detail}", colour))
        if c.loss:
            out.append((f"        would lose {c.loss}", "red"))
        if c.conflict:
            out.append((f"        cannot apply: {c.conflict}", "red"))
    if plan.losses:
        out.append((f"  {len(plan.losses)} change(s) lose data; deploy needs --allow-data-loss", "red"))
    return out


def files_diff(old: Mapping[str, str], new: Mapping[str, str], *, limit: int = 60_000) -> str:
    """A unified diff of the authors' files, old release → new (what the approver reads); cut at
    `limit` characters with a note of how much was left out."""
    parts: list[str] = []
    for path in sorted(set(old) | set(new)):
        a, b = old.get(path), new.get(path)
        if a == b:
            continue
        parts.extend(difflib.unified_diff((a or "").splitlines(keepends=True), (b or "").splitlines(keepends=True),
                                          f"a/{path}" if a is not None else "/dev/null",
                                          f"b/{path}" if b is not None else "/dev/null"))
    text = "".join(line if line.endswith("\n") else line + "\n" for line in parts)
    if len(text) > limit:
        cut = text[:limit].rsplit("\n", 1)[0]
        text = f"{cut}\n… {text.count(chr(10)) - cut.count(chr(10))} more line(s) (`banyan changes show`)\n"
    return text
