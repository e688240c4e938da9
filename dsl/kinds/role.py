"""The Role kind: a job the bank's people hold (客户经理, 贷审会委员 …). Flows assign work
to roles, alerts notify them, tiering service packages name the role that leads a team."""
from __future__ import annotations

from dataclasses import dataclass

from dsl.ir import Metadata
from dsl.kinds.common import NAME, envelope
from dsl.kinds.meta import metadata_of
from dsl.kinds.parts import spec_of
from dsl.kinds.registry import KindDef, register
from dsl.link import LinkContext
from dsl.loader import Document
from dsl.source import Span

ORG_LEVELS = ["head_office", "branch", "sub_branch", "department"]

ROLE_SPEC = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "scope": {"enum": ["org_unit", "global"], "default": "org_unit",
                  "description": "org_unit: people hold the role in an org unit (a branch's credit officer), and "
                                 "`role('x', unit)` finds the holders there; global: one bank-wide set of holders."},
        "org_levels": {"type": "array", "items": {"enum": ORG_LEVELS}, "uniqueItems": True, "minItems": 1,
                       "description": "The kinds of org unit where the role may be held (head_office, branch, "
                                      "sub_branch, department). Leave out for any."},
        "reports_to": {**NAME, "description": "The role that supervises this one; escalations go there "
                                              "when a step names no one else."},
        "can_approve": {"type": "boolean", "default": True,
                        "description": "Whether holders may decide approval steps (false for a read-only role)."},
    },
}


@dataclass(frozen=True)
class Role:
    meta: Metadata
    scope: str
    org_levels: tuple[str, ...]
    reports_to: str | None
    can_approve: bool
    span: Span

    @property
    def name(self) -> str:
        return self.meta.name


def _build(doc: Document, ctx: LinkContext) -> Role:
    spec = spec_of(doc)
    reports_to = spec.get("reports_to")
    if reports_to is not None:
        if reports_to == doc.name:
            ctx.diags.add("BNY405", f"role `{doc.name}` reports to itself", doc.span(("spec", "reports_to")),
                          "name the supervising role, or remove `reports_to`")
        elif ctx.resolve("Role", reports_to, doc, ("spec", "reports_to")):
            _check_circle(doc, ctx, reports_to)
    scope = spec.get("scope", "org_unit")
    if scope == "global" and "org_levels" in spec:
        ctx.diags.add("BNY407", "`org_levels` does not apply to a global role", doc.key_span(("spec", "org_levels")),
                      "remove `org_levels`, or make the role `scope: org_unit`")
    return Role(metadata_of(doc), scope, tuple(spec.get("org_levels") or ()), reports_to,
                bool(spec.get("can_approve", True)), doc.span(("metadata", "name")))


def _check_circle(doc: Document, ctx: LinkContext, first: str) -> None:
    _, name = doc.ref
    trail: list[str] = [name]
    current: str | None = first
    while current and current not in trail:
        trail.append(current)
        other = ctx.decls.documents.get(("Role", current))
        current = spec_of(other).get("reports_to") if other is not None else None
    if current == name:
        ctx.diags.add("BNY405", "roles report to each other in a circle: " + " → ".join(trail + [name]),
                      doc.span(("spec", "reports_to")), "the top role of a chain reports to no one")


ROLE = register(KindDef(
    kind="Role", schema=envelope("Role", ROLE_SPEC, "A role people hold; flows and alerts address work to roles."),
    build=_build, order=12,
    summary="A role people hold (客户经理, 授信审批人 …): its scope and where it may be held.",
    scaffold="""\
spec:
  scope: org_unit
  org_levels: [branch, sub_branch]
""",
))
