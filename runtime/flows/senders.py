"""Who may post an `event` to a flow instance by hand: the system, and the holders of the roles the
flow names (`spec.roles`). Anyone else is refused — with the 404 of an unknown instance when they
may not see it (or are nobody the bank knows), else a 403 naming the roles that may. FlowService.act
runs the check for every door (API, CLI, pages)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from engine.flow.commands import SYSTEM
from runtime.auth.scope import scope_for
from runtime.auth.tables import people
from runtime.auth.users import UserStore
from runtime.flows.access import involved
from runtime.flows.directory import org_tree
from runtime.flows.store import FlowError, bundle_at, flow_in, load
from runtime.records.errors import NotFound

if TYPE_CHECKING:
    from runtime.flows.service import FlowService


def _known(conn: Any, name: str) -> bool:
    return conn.execute(sa.select(people.c.name).where(people.c.name == name)).first() is not None


def event_senders(flow: Any) -> tuple[str, ...]:
    """The roles whose holders may post `flow`'s events by hand (besides the system): the roles
    the flow names (`spec.roles`)."""
    return tuple(getattr(flow, "roles", ()) or ())


def check_sender(service: "FlowService", instance_id: str, actor: str) -> None:
    """Refuse an `event` command from anyone but the system and the holders of the flow's
    roles: not_found (404, as for an unknown instance) when `actor` may not see the instance or
    is nobody the bank knows, else `not_event_sender` (403)."""
    if actor == SYSTEM:
        return
    unknown = FlowError("not_found", f"no flow instance `{instance_id}`")
    with service.engine.connect() as conn:
        stored = load(conn, instance_id)
        bundle = bundle_at(conn, stored.row.deployment_version)
        flow = flow_in(bundle, stored.row.flow)
        user = UserStore(service.engine).get(actor, conn)
        if user is None and not _known(conn, actor):
            raise unknown
        directory = service.directory(conn, bundle)
        roles = event_senders(flow)
        if any(directory.has_role(actor, r) for r in roles):
            return
        sees = (user is not None and user.is_admin) or involved(conn, instance_id, actor) \
            or _subject_in_scope(service, bundle, user, stored.row)
        if not sees:
            raise unknown
    who = ", ".join(roles) if roles else "none"
    raise FlowError("not_event_sender", f"only the system and the holders of this flow's roles ({who}) may post "
                                        f"its events; `{actor}` holds none of them", status=403)


def _subject_in_scope(service: "FlowService", bundle: Any, user: Any, row: Any) -> bool:
    """Whether the signed-in person's org scope holds the instance's subject record."""
    if user is None or not row.subject_entity or row.subject_key is None:
        return False
    try:
        service.records.find(row.subject_entity, row.subject_key, scope=scope_for(org_tree(bundle), user))
    except NotFound:
        return False
    return True


