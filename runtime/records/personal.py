"""Personal data on the way out (个人信息保护法): who sees an entity's personal fields (`personal:` in
its YAML) unmasked, and the audit entry of every such read.

The mask itself is dsl/values/mask.py (one function, pure); this module decides when it applies:

* a person (a `Scope`) whose roles lack `personal.read` reads the masked value — on the pages, the
  JSON API and the CLI with `--as`, since all of them read through `Records.output`;
* an export shows them unmasked only with `personal.export` (runtime/records/tabular_export.py);
* the operator and the system (`scope=None`: the command line without `--as`, flows, jobs) read
  the stored value, as they read every record.

Every unmasked read by a person of records with personal fields leaves one audit entry
(`read_personal`: the actor, the entity, the record — or, for a list, `{"ids": […]}` in `after`),
written in a short transaction of its own after the read; exports leave `export_personal`.
"""
from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from sqlalchemy.engine import Connection, Engine

from dsl.values.mask import is_masked_echo, mask
from runtime.audit import log as audit
from runtime.auth.scope import Scope
from runtime.auth.users import UserStore
from runtime.storage.db import writing

READ = "personal.read"
EXPORT = "personal.export"
READ_ACTION, EXPORT_ACTION = "read_personal", "export_personal"


def personal_fields(entity: Any) -> dict[str, str]:
    """{field name: its mask kind} of `entity`'s personal fields (empty when it has none)."""
    return {f.name: f.personal for f in entity.fields if getattr(f, "personal", None)}


def may(users: UserStore, conn: Connection, scope: Scope | None, permission: str = READ) -> bool:
    """Whether the reader sees personal fields unmasked: the operator and the system always; a
    person when one of their roles grants `permission` (an administrator holds every one)."""
    if scope is None:
        return True
    user = users.get(scope.who, conn)
    return user is not None and user.active and user.can(permission)


def masked(items: list[dict], personal: Mapping[str, str]) -> list[dict]:
    """`items` with their personal fields masked, in place (and returned)."""
    for item in items:
        for name, kind in personal.items():
            if name in item:
                item[name] = mask(item[name], kind)
    return items


def drop_masked_echoes(personal: Mapping[str, str], old: Mapping[str, Any], changes: dict[str, Any]) -> None:
    """Take out of `changes` every personal field sent back as the mask of its stored value (a
    form or client that read the masked record returns it): the stored value stays."""
    for name, kind in personal.items():
        if name in changes and is_masked_echo(changes[name], old.get(name), kind):
            del changes[name]


def audit_read(engine: Engine, scope: Scope | None, entity: str, ids: Iterable[int], version: int | None,
               *, action: str = READ_ACTION, details: Mapping[str, Any] | None = None) -> None:
    """One audit entry for a person's unmasked read of `entity` records `ids` (one record: its id;
    several: their ids listed in the entry). Nothing for the operator or an empty read."""
    ids = list(ids)
    if scope is None or (not ids and action == READ_ACTION):
        return
    one = ids[0] if len(ids) == 1 and not details else None
    after = None if one is not None else json.dumps({"ids": ids, **(details or {})}, ensure_ascii=False, default=str,
                                                    separators=(",", ":"))    # the ids indexed too (banyan_audit_holds)
    with writing(engine) as conn:
        audit.append(conn, [audit.AuditEntry(scope.who, action, entity, one, None, after,
                                             tuple(ids) if one is None else ())], version)
