"""The compiled Bundle: frozen, typed, with a content hash that tracks meaning, not layout."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from dsl.compiler import compile_path, compile_texts

ROOT = Path(__file__).resolve().parents[2]
FIRM = """apiVersion: banyan/v1
kind: Entity
metadata: {name: firm, label: {zh: 企业, en: Firm}}
spec:
  key: code
  fields:
    - {name: code, type: string, required: true, unique: true}
    - {name: group, type: ref(group)}
    - {name: amount, type: money, min: 0, max: 5亿}
    - {name: share, type: percent, max: "100%"}
"""
GROUP = """apiVersion: banyan/v1
kind: Entity
metadata: {name: group}
spec:
  fields:
    - {name: code, type: string}
  collections:
    - {name: members, entity: firm, via: group}
"""


def test_files_may_refer_to_each_other_in_any_order():
    a = compile_texts({"firm.yaml": FIRM, "group.yaml": GROUP})
    b = compile_texts({"group.yaml": GROUP, "firm.yaml": FIRM})
    assert a.ok and b.ok
    assert a.bundle.hash == b.bundle.hash


def test_hash_ignores_layout_but_not_meaning():
    base = compile_texts({"firm.yaml": FIRM, "group.yaml": GROUP}).bundle.hash
    reformatted = FIRM.replace("{name: code, type: string, required: true, unique: true}",
                               "\n      name: code\n      type: string\n      unique: true\n      required: true")
    assert compile_texts({"firm.yaml": reformatted, "group.yaml": GROUP}).bundle.hash == base
    changed = FIRM.replace("5亿", "6亿")
    assert compile_texts({"firm.yaml": changed, "group.yaml": GROUP}).bundle.hash != base


def test_ir_is_frozen_and_typed():
    bundle = compile_texts({"firm.yaml": FIRM, "group.yaml": GROUP}).bundle
    firm = bundle.entities["firm"]
    amount = firm.field("amount")
    assert amount.type_name == "money" and amount.currency == "CNY" and amount.scale == 2
    assert str(amount.max) == "500000000"
    assert firm.field("group").ref == "group"
    assert bundle.entities["group"].collections[0].entity == "firm"
    with pytest.raises(dataclasses.FrozenInstanceError):
        firm.key = "other"
    with pytest.raises(TypeError):
        bundle.documents[("Entity", "x")] = None


def test_every_problem_in_one_run():
    broken = FIRM.replace("ref(group)", "ref(grup)").replace("type: money", "type: money, currency: cny")
    result = compile_texts({"firm.yaml": broken, "group.yaml": GROUP.replace("kind: Entity", "kind: Entty")})
    files = {d.span.file for d in result.diagnostics}
    assert files == {"firm.yaml", "group.yaml"}
    assert result.bundle is None


def test_shipped_configs_compile():
    result = compile_path(ROOT / "configs")
    assert result.ok, [str(d.span) + " " + d.message for d in result.diagnostics.errors]
    assert {"group", "company", "guarantee", "loan", "financial_statement"} <= set(result.bundle.entities)
