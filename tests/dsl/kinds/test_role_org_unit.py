"""Role and OrgUnit: the org tree's shape and the role hierarchy are checked at link time."""
from __future__ import annotations

from .kinds_helpers import compile_with_base, found

HEAD = """\
apiVersion: banyan/v1
kind: OrgUnit
metadata: {name: head_office}
spec: {type: head_office, code: '100000'}
"""


def unit(name: str, kind: str, parent: str | None = None, code: str = "") -> str:
    spec = f"type: {kind}" + (f", parent: {parent}" if parent else "") + (f", code: '{code}'" if code else "")
    return f"apiVersion: banyan/v1\nkind: OrgUnit\nmetadata: {{name: {name}}}\nspec: {{{spec}}}\n"


def test_a_valid_tree_compiles_to_ir():
    result = compile_with_base(head_office=HEAD, sh_branch=unit("sh_branch", "branch", "head_office", "310000"),
                               sh_pudong=unit("sh_pudong", "sub_branch", "sh_branch"))
    assert result.ok, result.diagnostics.items
    ir = result.bundle.documents[("OrgUnit", "sh_pudong")]
    assert (ir.type, ir.parent) == ("sub_branch", "sh_branch")
    assert result.bundle.documents[("OrgUnit", "sh_branch")].code == "310000"


def test_a_branch_without_parent_and_a_sub_branch_under_the_head_office():
    result = compile_with_base(head_office=HEAD, bj=unit("bj", "branch"), sub=unit("sub", "sub_branch", "head_office"))
    assert ("BNY204", 4, 8) in found(result, "bj.yaml")
    assert ("BNY405", 4, 34) in found(result, "sub.yaml")


def test_unknown_parent_gets_a_suggestion():
    result = compile_with_base(head_office=HEAD, bj=unit("bj", "branch", "head_ofice"))
    diag = next(d for d in result.diagnostics if d.code == "BNY401")
    assert (diag.span.line, diag.span.col) == (4, 30)
    assert "head_office" in diag.hint


def test_the_head_office_has_no_parent_and_codes_are_unique():
    result = compile_with_base(head_office=HEAD, other=unit("other", "head_office", "head_office", "100000"))
    assert {c for c, _, _ in found(result, "other.yaml")} == {"BNY405", "BNY402"}


ROLE = """\
apiVersion: banyan/v1
kind: Role
metadata: {{name: {name}}}
spec:
  scope: {scope}
  {extra}
"""


def test_roles_report_upwards_without_circles():
    result = compile_with_base(a=ROLE.format(name="a", scope="org_unit", extra="reports_to: b"),
                               b=ROLE.format(name="b", scope="org_unit", extra="reports_to: a"))
    assert ("BNY405", 6, 15) in found(result, "a.yaml")
    assert "circle" in next(d.message for d in result.diagnostics if d.span.file == "a.yaml")


def test_unknown_supervisor_role_and_org_levels_on_a_global_role():
    result = compile_with_base(a=ROLE.format(name="a", scope="global", extra="org_levels: [branch]\n  reports_to: branch_hed"))
    codes = found(result, "a.yaml")
    assert ("BNY407", 6, 3) in codes and ("BNY401", 7, 15) in codes
    assert any("branch_head" in (d.hint or "") for d in result.diagnostics)


def test_role_ir():
    result = compile_with_base(a=ROLE.format(name="a", scope="org_unit", extra="org_levels: [branch, sub_branch]"))
    ir = result.bundle.documents[("Role", "a")]
    assert (ir.scope, ir.org_levels, ir.can_approve) == ("org_unit", ("branch", "sub_branch"), True)
