"""The OrgUnit kind: the bank's organisation tree (总行, 分行, 支行, departments). Entities
point to it with `ref(org_unit)`; flows find people by role within a unit (the lead branch)."""
from __future__ import annotations

from dataclasses import dataclass

from dsl.diagnostics import a
from dsl.ir import Metadata
from dsl.kinds.common import LABEL, NAME, envelope
from dsl.kinds.meta import metadata_of
from dsl.kinds.parts import spec_of
from dsl.kinds.registry import KindDef, register
from dsl.link import LinkContext
from dsl.loader import Document
from dsl.source import Span

ORG_TYPES = ["head_office", "branch", "sub_branch", "department"]
# the kinds of unit each kind of unit may sit under
_PARENTS = {"branch": {"head_office"}, "sub_branch": {"branch"}, "department": {"head_office", "branch"}}

ORG_UNIT_SPEC = {
    "type": "object",
    "required": ["type"],
    "additionalProperties": False,
    "properties": {
        "type": {"enum": ORG_TYPES, "description": "head_office (总行), branch (分行), sub_branch (支行), "
                                                    "or department (a department of the head office or a branch)."},
        "code": {"type": "string", "pattern": "^[0-9A-Z]{2,20}$",
                 "description": "The bank's institution code (机构号), e.g. '310000'. Quote it.",
                 "x-hint": "quote the code, e.g. code: '310000'"},
        "parent": {**NAME, "description": "The unit above: a branch's parent is the head office, a sub-branch's "
                                          "parent is a branch. The head office has none."},
        "region": {**NAME, "description": "The region the unit covers, e.g. east_china, north_china."},
        "city": {**LABEL, "description": "The city, e.g. {zh: 上海, en: Shanghai}."},
    },
}


@dataclass(frozen=True)
class OrgUnit:
    meta: Metadata
    type: str
    code: str | None
    parent: str | None
    region: str | None
    span: Span

    @property
    def name(self) -> str:
        return self.meta.name


def _build(doc: Document, ctx: LinkContext) -> OrgUnit:
    spec = spec_of(doc)
    kind, parent = spec["type"], spec.get("parent")
    if kind == "head_office" and parent is not None:
        ctx.diags.add("BNY405", "the head office has no parent unit", doc.key_span(("spec", "parent")),
                      "remove `parent`")
    elif kind != "head_office" and parent is None:
        ctx.diags.add("BNY204", f"`spec` is missing the required key `parent` ({a(kind)} sits under another unit)",
                      doc.key_span(("spec", "type")), f"add `parent:` naming {a(' or '.join(sorted(_PARENTS[kind])))}")
    elif parent is not None and ctx.resolve("OrgUnit", parent, doc, ("spec", "parent")):
        parent_doc = ctx.decls.documents[("OrgUnit", parent)]
        parent_type = spec_of(parent_doc).get("type")
        if parent_type not in _PARENTS.get(kind, set()):
            ctx.diags.add("BNY405", f"`{parent}` is {a(str(parent_type))}; {a(kind)} sits under "
                                    f"{a(' or '.join(sorted(_PARENTS[kind])))}",
                          doc.span(("spec", "parent")), f"name {a(' or '.join(sorted(_PARENTS[kind])))}")
    code = spec.get("code")
    if code is not None:
        _, name = doc.ref
        others = [d for (k, n), d in ctx.decls.documents.items()
                  if k == "OrgUnit" and n < name and spec_of(d).get("code") == code]
        if others:
            ctx.diags.add("BNY402", f"institution code {code} is also used by `{others[0].name}`",
                          doc.span(("spec", "code")), "each unit has its own code")
    return OrgUnit(metadata_of(doc), kind, code, parent, spec.get("region"), doc.span(("metadata", "name")))


ORG_UNIT = register(KindDef(
    kind="OrgUnit", schema=envelope("OrgUnit", ORG_UNIT_SPEC, "A unit of the bank's organisation tree."),
    build=_build, order=11,
    summary="A unit of the bank (head office, branch, sub-branch, department) and where it sits in the tree.",
    scaffold="""\
spec:
  type: head_office
  code: '100000'
  region: north_china
""",
))
