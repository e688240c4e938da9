"""References by display name (dsl/values, runtime/records/writes.resolve_refs): a name that one
record bears names it; a name several bear, or none, is a problem naming what was written."""
from __future__ import annotations

import pytest

from runtime.auth.scope import Scope
from runtime.records.errors import InvalidRecord
from runtime.records.validation import Problem

from .bundles import entity
from .records_bundle import deploy

GROUP = entity("group", """
    - {name: code, type: string, label: {zh: 编号, en: Code}, required: true, unique: true}
    - {name: name, type: string, label: {zh: 名称, en: Name}, required: true}
""", extra="display: name")
GROUP = (GROUP[0], GROUP[1].replace("label: {zh: group, en: group}", "label: {zh: 集团, en: Group}"))
COMPANY = entity("company", """
    - {name: code, type: string, label: {en: Code}, required: true, unique: true}
    - {name: group, type: ref(group), label: {zh: 所属集团, en: Group}}
""")


@pytest.fixture
def recs(engine):
    r = deploy(engine, GROUP, COMPANY)
    r.bulk_create("group", [{"code": "G1", "name": "华东集团"}, {"code": "G2", "name": "华南集团"},
                            {"code": "G3", "name": "华南集团"}, {"code": "华北集团", "name": "Other"}], actor="a")
    return r


def test_a_unique_name_names_its_record(recs):
    c = recs.create("company", {"code": "C1", "group": "华东集团"}, actor="a")
    assert c["group"] == "G1"
    assert recs.create("company", {"code": "C2", "group": " G2 "}, actor="a")["group"] == "G2"
    assert recs.create("company", {"code": "C3", "group": "华北集团"}, actor="a")["group"] == "华北集团"   # a key first
    moved = recs.update("company", c["id"], {"group": "华北集团"}, actor="a")
    assert moved["group"] == "华北集团"


def test_a_shared_or_unknown_name_is_a_clear_problem(recs):
    with pytest.raises(InvalidRecord) as exc:
        recs.bulk_create("company", [{"code": "C1", "group": "华南集团"}, {"code": "C2", "group": "西部集团"}], actor="a")
    got = {p.path: p for p in exc.value.problems}
    shared, unknown = got[(1, "group")], got[(2, "group")]
    assert shared.code == "reference_ambiguous"
    assert shared.text("zh") == "名称为“华南集团”的集团有 2 条，请写编号"
    assert shared.text("en") == "2 Group records are named “华南集团”; write the key instead"
    assert unknown.code == "reference"
    assert unknown.text("zh") == "找不到编号或名称为“西部集团”的集团"
    assert unknown.text("en") == "No Group has the key or the name “西部集团”"
    assert recs.query("company").total == 0


# -- names within the writer's scope (runtime/auth/scope.py) ------------------------------------
def org_unit(name: str, type_: str, parent: str | None = None) -> tuple[str, str]:
    return f"{name}.yaml", f"""\
apiVersion: banyan/v1
kind: OrgUnit
metadata: {{name: {name}, label: {{zh: {name}, en: {name}}}}}
spec: {{type: {type_}{f", parent: {parent}" if parent else ""}}}
"""


LED_GROUP = entity("group", """
    - {name: code, type: string, label: {zh: 编号, en: Code}, required: true, unique: true}
    - {name: name, type: string, label: {zh: 名称, en: Name}, required: true}
    - {name: lead_branch, type: ref(org_unit), label: {zh: 主办行, en: Lead branch}}
""", extra="display: name")
LED_GROUP = (LED_GROUP[0], LED_GROUP[1].replace("label: {zh: group, en: group}", "label: {zh: 集团, en: Group}"))
BRANCH_COMPANY = entity("company", """
    - {name: code, type: string, label: {en: Code}, required: true, unique: true}
    - {name: branch, type: ref(org_unit), label: {zh: 经办行, en: Branch}}
    - {name: group, type: ref(group), label: {zh: 所属集团, en: Group}}
""")
ORG = (org_unit("head_office", "head_office"), org_unit("sh_branch", "branch", "head_office"),
       org_unit("bj_branch", "branch", "head_office"), org_unit("gz_branch", "branch", "head_office"))
SHANGHAI = Scope("sh_rm", frozenset({"sh_branch"}))
GUANGZHOU = Scope("gz_rm", frozenset({"gz_branch"}))


@pytest.fixture
def branches(engine):
    r = deploy(engine, *ORG, LED_GROUP, BRANCH_COMPANY)
    r.bulk_create("group", [{"code": "G_SH", "name": "华东集团", "lead_branch": "sh_branch"},
                            {"code": "G_BJ", "name": "华东集团", "lead_branch": "bj_branch"}], actor="a")
    return r


def _problem(call) -> Problem:
    with pytest.raises(InvalidRecord) as exc:
        call()
    (problem,) = exc.value.problems
    return problem


def test_a_name_is_unique_within_the_writers_scope(branches):
    c = branches.create("company", {"code": "C1", "branch": "sh_branch", "group": "华东集团"}, actor="sh_rm",
                        scope=SHANGHAI)
    assert c["group"] == "G_SH"                         # not "ambiguous": Beijing's group is not the writer's
    assert branches.bulk_create("company", [{"code": "C2", "branch": "sh_branch", "group": "华东集团"}],
                                actor="sh_rm", scope=SHANGHAI) == 1
    bj = branches.create("company", {"code": "C3", "branch": "bj_branch"}, actor="a")
    bj_scope = Scope("bj_rm", frozenset({"bj_branch"}))
    assert branches.update("company", bj["id"], {"group": "华东集团"}, actor="bj_rm", scope=bj_scope)["group"] == "G_BJ"
    # bank-wide, both are seen: the name is shared
    assert _problem(lambda: branches.create("company", {"code": "C4", "group": "华东集团"}, actor="a")
                    ).code == "reference_ambiguous"


def test_a_name_outside_the_scope_reads_like_a_made_up_one(branches):
    def named(group: str, code: str) -> Problem:
        return _problem(lambda: branches.create("company", {"code": code, "branch": "gz_branch", "group": group},
                                                actor="gz_rm", scope=GUANGZHOU))
    hidden, made_up = named("华东集团", "C1"), named("西部集团", "C2")
    assert hidden.code == made_up.code == "reference"
    for lang in ("zh", "en"):
        assert hidden.text(lang) == made_up.text(lang).replace("西部集团", "华东集团")
    assert hidden.text("zh") == "找不到编号或名称为“华东集团”的集团"
    gz = branches.create("company", {"code": "C5", "branch": "gz_branch"}, actor="a")
    moved = _problem(lambda: branches.update("company", gz["id"], {"group": "华东集团"}, actor="gz_rm",
                                             scope=GUANGZHOU))
    assert moved.code == "reference" and moved.text("en") == hidden.text("en")
    assert branches.query("company").total == 1
