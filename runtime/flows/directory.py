"""Who is who for the flow engine: its `Directory` protocol over the database.

The engine asks three questions (holders of a role within an org unit and the units below it,
a user's supervisor, whether a user holds a role), and a fourth when it makes a task: who stands
in for an assignee who is out of office (`deputy`, from sign-in's deputies table). `TableDirectory` answers them from
`banyan_flow_people` and `banyan_flow_role_holders`, with the org hierarchy taken from the
bundle's OrgUnit documents, a few indexed queries per command, cached for that command.

The service asks a `DirectoryFactory` — `(connection, bundle) -> Directory & user_record` —
for a directory inside each transaction; sign-in's user table plugs in by passing its own
factory to `FlowService(directory=...)`. `put_people` loads people and role assignments."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterable, Mapping, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dsl.bank_time import bank_today
from runtime.auth.deputies import deputy_on
from runtime.auth.org import OrgTree
from runtime.auth.tables import people, role_holders
from runtime.storage.prepared import Prepared

BANK_WIDE = ""


class FlowDirectory(Protocol):
    def holders(self, role: str, org_unit: str | None) -> list[str]: ...

    def supervisor(self, user: str) -> str | None: ...

    def has_role(self, user: str, role: str) -> bool: ...

    def user_record(self, user: str) -> Mapping[str, Any]:
        """What `initiator` is in expressions: at least {"name": user}."""


DirectoryFactory = Callable[[Connection, Any], FlowDirectory]


_TREES: dict[int, tuple[Any, OrgTree]] = {}       # id(bundle) → (bundle, its org tree): bundles never change


def org_tree(bundle: Any) -> OrgTree:
    """The bundle's org tree (auth's one definition of units and subtrees), worked out once per
    bundle; the last few dozen are kept."""
    known = _TREES.get(id(bundle))
    if known is not None and known[0] is bundle:
        return known[1]
    if len(_TREES) > 64:
        _TREES.clear()
    tree = OrgTree(bundle)
    _TREES[id(bundle)] = (bundle, tree)
    return tree


_BANK_HOLDERS = Prepared(sa.select(role_holders.c.user_name).where(role_holders.c.role == sa.bindparam("k_role"))
                         .order_by(role_holders.c.user_name))
_HOLDERS_WITH_UNITS = Prepared(sa.select(role_holders.c.user_name, role_holders.c.org_unit)
                               .where(role_holders.c.role == sa.bindparam("k_role")).order_by(role_holders.c.user_name))
_HAS_ROLE = Prepared(sa.select(role_holders.c.user_name).where(role_holders.c.user_name == sa.bindparam("k_user"),
                                                               role_holders.c.role == sa.bindparam("k_role")).limit(1))
_PERSON = Prepared(sa.select(people).where(people.c.name == sa.bindparam("k_name")))


class TableDirectory:
    def __init__(self, conn: Connection, tree: OrgTree):
        self.conn, self.tree = conn, tree
        self._cache: dict[tuple, Any] = {}

    def holders(self, role: str, org_unit: str | None) -> list[str]:
        key = ("holders", role, org_unit)
        if key not in self._cache:
            if org_unit is None:
                users = [r.user_name for r in _BANK_HOLDERS.all(self.conn, {"k_role": role})]
            else:          # a role's holders are a few dozen: one prepared query, the subtree kept here
                units = self.tree.subtree(str(org_unit))
                users = [r.user_name for r in _HOLDERS_WITH_UNITS.all(self.conn, {"k_role": role}) if r.org_unit in units]
            self._cache[key] = list(dict.fromkeys(users))
        return list(self._cache[key])

    def supervisor(self, user: str) -> str | None:
        return self.user_record(user).get("supervisor")

    def has_role(self, user: str, role: str) -> bool:
        key = ("has", user, role)
        if key not in self._cache:
            self._cache[key] = _HAS_ROLE.first(self.conn, {"k_user": user, "k_role": role}) is not None
        return self._cache[key]

    def deputy(self, user: str, at: datetime) -> str | None:
        """Who takes `user`'s new tasks at `at` (out of office, runtime/auth/deputies.py), on the
        bank's calendar day; the engine decides whether they may (engine/flow/deputies.py)."""
        day = bank_today(at)
        key = ("deputy", user, day)
        if key not in self._cache:
            self._cache[key] = deputy_on(self.conn, user, day)
        return self._cache[key]

    def user_record(self, user: str) -> Mapping[str, Any]:
        key = ("user", user)
        if key not in self._cache:
            row = _PERSON.first(self.conn, {"k_name": user})
            self._cache[key] = {"name": user, **({k: v for k, v in row._asdict().items() if k != "name"} if row else {})}
        return self._cache[key]


def table_directory(conn: Connection, bundle: Any) -> TableDirectory:
    """The default DirectoryFactory."""
    return TableDirectory(conn, org_tree(bundle))


def put_people(conn: Connection, users: Iterable[Mapping[str, Any]] = (),
               roles: Iterable[Mapping[str, Any]] = ()) -> tuple[int, int]:
    """Insert or replace people ({name, display_name, org_unit, supervisor, email, phone}) and
    role assignments ({user, role, org_unit (absent: bank-wide)}); returns the counts."""
    users, roles = list(users), list(roles)
    cols = [c.name for c in people.c]
    for u in users:
        if not isinstance(u.get("name"), str) or not u["name"]:
            raise ValueError(f"a person needs a name: {dict(u)}")
        conn.execute(people.delete().where(people.c.name == u["name"]))
        conn.execute(people.insert().values({c: u.get(c) for c in cols}))
    for r in roles:
        if not r.get("user") or not r.get("role"):
            raise ValueError(f"a role assignment needs user and role: {dict(r)}")
        row = {"user_name": r["user"], "role": r["role"], "org_unit": r.get("org_unit") or BANK_WIDE}
        conn.execute(role_holders.delete().where(*(role_holders.c[k] == v for k, v in row.items())))
        conn.execute(role_holders.insert().values(row))
    return len(users), len(roles)
