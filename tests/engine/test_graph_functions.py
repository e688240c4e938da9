"""The relationship graph inside validated expressions, checked on the demo bank's planted
structures: 20 mutual pairs, 5 cycles of 3–6 firms, one 40-firm circle across 4 groups."""
from __future__ import annotations

from decimal import Decimal

import pytest

from dsl.compiler import compile_texts
from engine.functions import CONTAGION_KEY, GRAPH_KEY
from engine.graph_from_records import snapshot_from_records
from examples.demo_bank import generate

FIRM = """apiVersion: banyan/v1
kind: Entity
metadata: {name: firm}
spec:
  key: credit_code
  fields:
    - {name: credit_code, type: string, required: true, unique: true}
    - {name: parent, type: string}
    - {name: in_circle, type: bool, compute: "in_guarantee_circle(credit_code)"}
    - {name: circle, type: integer, compute: "circle_size(credit_code)"}
    - {name: mutual, type: bool, compute: "mutual_guarantee(credit_code)"}
    - {name: owner, type: string, compute: "controller(credit_code)"}
    - {name: parent_share, type: percent, compute: "effective_share(parent, credit_code)"}
    - {name: risk, type: number, compute: "contagion_score(credit_code)"}
    - {name: watch, type: bool, compute: "circle_size(credit_code) >= 10 or contagion_score(credit_code) > 0.5"}
"""


@pytest.fixture(scope="module")
def bank():
    return generate(scale=0.1, seed=7)


@pytest.fixture(scope="module")
def firm():
    result = compile_texts({"firm.yaml": FIRM})
    assert result.ok, [d.message for d in result.diagnostics]
    return result.bundle.entities["firm"]


@pytest.fixture(scope="module")
def snapshot(bank):
    return snapshot_from_records(bank.records)


def evaluate(entity, name, ctx):
    return entity.field(name).compute(ctx)


def test_every_planted_circle_is_found_and_nothing_else(bank, snapshot):
    planted = [set(p) for p in bank.planted["mutual_pairs"]] + [set(c) for c in bank.planted["cycles"]]
    planted.append(set(bank.planted["big_circle"]))
    found = [set(c) for c in snapshot.guarantees.circles()]
    assert sorted(map(sorted, found)) == sorted(map(sorted, planted))
    groups = {snapshot.group_of[f] for f in bank.planted["big_circle"]}
    assert len(groups) == 4


def test_graph_functions_in_compiled_expressions(bank, firm, snapshot):
    ctx = {GRAPH_KEY: snapshot}
    big = bank.planted["big_circle"][0]
    a, b = bank.planted["mutual_pairs"][0]
    assert evaluate(firm, "in_circle", {**ctx, "credit_code": big}) is True
    assert evaluate(firm, "circle", {**ctx, "credit_code": big}) == 40
    assert evaluate(firm, "mutual", {**ctx, "credit_code": a}) is True
    assert evaluate(firm, "circle", {**ctx, "credit_code": a}) == 2
    outside = next(c["credit_code"] for c in bank.records["company"]
                   if not snapshot.in_guarantee_circle(c["credit_code"]))
    assert evaluate(firm, "in_circle", {**ctx, "credit_code": outside}) is False
    assert evaluate(firm, "circle", {**ctx, "credit_code": outside}) == 0
    assert evaluate(firm, "mutual", {**ctx, "credit_code": outside}) is False


def test_controller_and_effective_share(bank, firm, snapshot):
    holding = next(h for h in bank.records["equity_holding"]
                   if h["holder_company"] and h["share"] > Decimal("0.5"))
    ctx = {GRAPH_KEY: snapshot, "credit_code": holding["investee"], "parent": holding["holder_company"]}
    share = evaluate(firm, "parent_share", ctx)
    assert share >= holding["share"] - Decimal("0.000001")
    assert Decimal(0) <= share <= Decimal(1)
    owner = evaluate(firm, "owner", ctx)
    assert owner is not None and owner == snapshot.controller(holding["investee"])


def test_contagion_reaches_guaranteed_firms(bank, firm, snapshot):
    a, b = bank.planted["mutual_pairs"][0]
    result = snapshot.contagion({a: 1.0})
    ctx = {GRAPH_KEY: snapshot, CONTAGION_KEY: result}
    assert evaluate(firm, "risk", {**ctx, "credit_code": a}) == Decimal(1)
    assert Decimal(0) < evaluate(firm, "risk", {**ctx, "credit_code": b}) <= Decimal(1)


def test_without_graph_facts_the_functions_are_null_and_rules_do_not_fire(firm):
    ctx = {"credit_code": "x"}
    assert evaluate(firm, "in_circle", ctx) is None
    assert firm.field("watch").compute.test(ctx) is False


def test_graph_functions_are_type_checked():
    bad = FIRM.replace("circle_size(credit_code)\"}", "circle_size(credit_code, 2)\"}", 1)
    result = compile_texts({"firm.yaml": bad})
    assert [d.code for d in result.diagnostics.errors] == ["BNY304"]
