"""The one scope decision: which records a person may read, and which they may write.

A person's `Scope` is a set of org units (None: the whole bank). Records sit in the org tree
by their entity's placement, worked out once per deployed bundle from the entities' fields:

* **placed directly** — an entity with its own `ref(org_unit)` field (a company's branch, a
  group's lead branch 主办行, a loan's booking branch) sits in that unit;
* **placed by its parties** — an entity without one sits wherever the records it refers to
  sit (a rating through its company or its group; a guarantee through its guarantor, its
  borrower and its loan; a transaction through its account and its counterparty): a record
  linking two parties belongs to the branches of either.

Reading: a record is readable where it is placed, and also — read-only — by the branches
of directly placed records that refer to it: a group by every branch serving one of its
members (协办行; what it reads of the group's members is cut to the members it serves, since
the members are records of their own, and the group's figures over all its members are
blank for it), a company by the branch that booked its loan, a person by the branches of
the firms naming them. Writing: a new or changed record must be
placed inside the writer's scope (after its values are normalised and its references
resolved — never on the raw input), and only a record placed there may be changed or
deleted. Out of scope reads as "no such record" (404) at every door; a record that may be
read but not changed is a 403; a new record placed outside is a 422 naming the field.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.auth.org import OrgTree


@dataclass(frozen=True)
class Scope:
    """What part of the bank `who` sees: `units` (None: all of it)."""
    who: str
    units: frozenset[str] | None

    @property
    def bank_wide(self) -> bool:
        return self.units is None

    def holds(self, unit: str | None) -> bool:
        return self.units is None or (unit is not None and unit in self.units)


def scope_for(tree: OrgTree, user: Any) -> Scope:
    """A signed-in person's scope: their unit's and their roles' subtrees; everything for an
    administrator or the holder of a bank-wide role (Role `scope: global`)."""
    bank_wide = bool(user.is_admin) or any(
        tree.roles.get(r) is not None and tree.roles[r].scope == "global" for r, _ in user.roles)
    return Scope(user.name, tree.scope([user.org_unit] + [u for _, u in user.roles], bank_wide))


@dataclass(frozen=True)
class Anchor:
    """Where a record sits: its own org field (`target` None), or a reference `field` to a
    directly placed `target` entity whose org field is `org`."""
    field: str
    target: str | None = None
    org: str | None = None


@dataclass(frozen=True)
class Referrer:
    """Records of the directly placed `entity` whose `field` refers here (readers, not owners)."""
    entity: str
    field: str
    org: str


@dataclass(frozen=True)
class Placed:
    anchors: tuple[Anchor, ...]
    referrers: tuple[Referrer, ...]
    aggregates: frozenset[str] = frozenset()     # computed over collections: blank for read-only readers


class Placement:
    """How each entity of a bundle sits in the org tree, and the SQL and checks that follow."""

    def __init__(self, entities: Mapping[str, Any]):
        self._built: dict[tuple, tuple[sa.Table, list]] = {}
        direct: dict[str, str] = {}
        for name, e in entities.items():
            org = next((f.name for f in e.fields
                        if f.type_name == "ref" and f.ref == "org_unit" and not f.computed), None)
            if org:
                direct[name] = org
        self.entities: dict[str, Placed] = {}
        for name, e in entities.items():
            if name in direct:
                anchors: tuple[Anchor, ...] = (Anchor(direct[name]),)
            else:
                anchors = tuple(Anchor(f.name, f.ref, direct[f.ref]) for f in e.fields
                                if f.type_name == "ref" and f.ref in direct and not f.computed)
            referrers = tuple(Referrer(other, f.name, direct[other])
                              for other in direct for f in entities[other].fields
                              if f.type_name == "ref" and f.ref == name and not f.computed)
            self.entities[name] = Placed(anchors, referrers, _aggregates(e))

    def of(self, entity: str) -> Placed:
        return self.entities.get(entity) or Placed((), ())

    # -- SQL --------------------------------------------------------------------------------
    def _anchor_sql(self, live: Any, t: sa.Table, a: Anchor, units: list[str]) -> Any:
        if a.target is None:
            return t.c[a.field].in_(units)
        tt = live.table(a.target)
        return t.c[a.field].in_(sa.select(tt.c.id).where(tt.c[a.org].in_(units)).scalar_subquery())

    def writable(self, live: Any, entity: str, scope: Scope | None, table: sa.Table | None = None) -> list:
        """WHERE conditions keeping `entity`'s records to those placed inside `scope`."""
        return self._conditions(live, entity, scope, table, referrers=False)

    def readable(self, live: Any, entity: str, scope: Scope | None, table: sa.Table | None = None) -> list:
        """WHERE conditions keeping `entity`'s records to those `scope` may read."""
        return self._conditions(live, entity, scope, table, referrers=True)

    def _conditions(self, live: Any, entity: str, scope: Scope | None, table: sa.Table | None,
                    referrers: bool) -> list:
        if scope is None or scope.units is None:
            return []
        placed = self.of(entity)
        if not placed.anchors:
            return []                   # an entity placed nowhere is the whole bank's
        t, units = table if table is not None else live.table(entity), sorted(scope.units)
        # The same conditions serve every request of the same person: built once per (table, units).
        # Keyed on the table object, which belongs to one live model (and is held, so its id stays its own).
        key = (id(t), entity, referrers, tuple(units)) if t is live.table(entity) else None
        found = self._built.get(key) if key else None
        if found is not None:
            return list(found[1])          # a caller may add to its list
        conds = [self._anchor_sql(live, t, a, units) for a in placed.anchors]
        for r in placed.referrers if referrers else ():
            rt = live.table(r.entity)
            conds.append(t.c.id.in_(sa.select(rt.c[r.field]).where(rt.c[r.org].in_(units),
                                                                      rt.c[r.field].is_not(None))
                                    .scalar_subquery()))
        out = [sa.or_(*conds)]
        if key:
            if len(self._built) > 512:
                self._built.clear()
            self._built[key] = (t, out)
        return list(out)

    def ids_within(self, conn: Connection, live: Any, entity: str, scope: Scope | None, ids: Iterable[int],
                   *, write: bool = False) -> set[int]:
        """Which of `ids` the scope may read (or, with `write`, change)."""
        ids = sorted(set(ids))
        conds = (self.writable if write else self.readable)(live, entity, scope)
        if not conds:
            return set(ids)
        t, out = live.table(entity), set()
        for start in range(0, len(ids), 500):
            out |= set(conn.execute(sa.select(t.c.id).where(t.c.id.in_(ids[start:start + 500]), *conds)).scalars())
        return out

    # -- writes, on normalised values -----------------------------------------------------------
    def outside(self, conn: Connection, live: Any, entity: str, scope: Scope | None,
                rows: list[tuple[Any, Mapping[str, Any]]]) -> dict[Any, "Outside"]:
        """The rows that would sit outside `scope`, by position. `rows` hold normalised values
        with references already resolved to ids. When what places a row is a record the writer
        may not even read, the answer must be the one an unknown reference gets (`hidden`), or
        the write would tell them the record exists."""
        if scope is None or scope.units is None:
            return {}
        placed = self.of(entity)
        if not placed.anchors:
            return {}
        units_of: dict[str, dict[int, str | None]] = {}
        for a in placed.anchors:
            if a.target is None:
                continue
            wanted = sorted({v[a.field] for _, v in rows if isinstance(v.get(a.field), int)})
            tt, found = live.table(a.target), units_of.setdefault(a.field, {})
            for start in range(0, len(wanted), 500):
                found.update(conn.execute(sa.select(tt.c.id, tt.c[a.org])
                                          .where(tt.c.id.in_(wanted[start:start + 500]))).all())
        out: dict[Any, Outside] = {}
        for pos, values in rows:
            given = [a for a in placed.anchors if values.get(a.field) is not None]
            units = [values[a.field] if a.target is None else units_of[a.field].get(values[a.field])
                     for a in given]
            if any(scope.holds(u) for u in units if u is not None):
                continue
            if not given:
                names = " or ".join(f"`{a.field}`" for a in placed.anchors)
                out[pos] = Outside(placed.anchors[0].field, f"give {names} inside your org scope, or the record "
                                                            "would be placed nowhere you can see it")
                continue
            hidden = next((a for a in given if a.target is not None and not self.ids_within(
                conn, live, a.target, scope, [values[a.field]])), None)
            out[pos] = Outside(hidden.field, "", hidden.target) if hidden is not None else \
                Outside(given[0].field, "outside your org scope")
        return out


def _aggregates(entity: Any) -> frozenset[str]:
    """Computed fields that read a collection, directly or through another such field (a group's
    `total_credit_balance`, and `limit_usage` computed from it): figures over every member, which
    a branch that may only read the record (协办行) does not see."""
    names = {c.name for c in entity.collections}
    out: set[str] = set()
    grew = True
    while grew:
        grew = False
        for f in entity.fields:
            if f.compute is not None and f.name not in out and set(f.compute.names) & (names | out):
                out.add(f.name)
                grew = True
    return frozenset(out)


@dataclass(frozen=True)
class Outside:
    """Why a row may not be written: the `field` that places it, and either `why` (the person may
    see what it names, just not write there) or the `hidden` entity it names, which the person
    may not read — to be answered exactly as an unknown reference."""
    field: str
    why: str
    hidden: str | None = None


_CACHE: dict[str, Placement] = {}


def placement_of(live: Any) -> Placement:
    """The placement of the deployed bundle `live` (worked out once per bundle hash)."""
    found = _CACHE.get(live.hash)
    if found is None:
        if len(_CACHE) > 16:
            _CACHE.clear()
        found = _CACHE[live.hash] = Placement(live.bundle.entities)
    return found
