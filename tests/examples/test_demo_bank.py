"""The demo bank: determinism, sizes, valid codes, records shaped like the entities, references."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from examples.demo_bank import ENTITY_ORDER, generate
from examples.demo_bank.codes import is_valid_resident_id, is_valid_uscc
from examples.demo_bank.csv_export import write_bank

from .conftest import ROOT, load_entities, stored_fields

ENTITIES = load_entities()


def csv_bytes(bank, out: Path) -> dict[str, bytes]:
    write_bank(bank, out)
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_same_seed_gives_byte_identical_csv(tmp_path):
    first = csv_bytes(generate(scale=0.1, seed=3), tmp_path / "a")
    second = csv_bytes(generate(scale=0.1, seed=3), tmp_path / "b")
    assert first == second
    other = csv_bytes(generate(scale=0.1, seed=4), tmp_path / "c")
    assert other["company.csv"] != first["company.csv"]


def test_cli_output_does_not_depend_on_the_hash_seed(tmp_path):
    outputs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / hash_seed
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run([sys.executable, "-m", "examples.demo_bank", "--scale", "0.1", "--out", str(out)],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert "company" in result.stdout
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outputs[0] == outputs[1]
    assert set(outputs[0]) == {f"{name}.csv" for name in ENTITY_ORDER} | {"org_unit.csv", "user.csv", "planted.json"}
    header = outputs[0]["loan.csv"].decode("utf-8").splitlines()[0]
    assert header.split(",") == stored_fields(ENTITIES["loan"])


def test_full_size_counts(full_bank):
    counts = full_bank.summary()
    assert {k: counts[k] for k in ("group", "company", "person", "equity_holding", "guarantee", "facility",
                                   "loan", "account")} == {
        "group": 50, "company": 5000, "person": 3000, "equity_holding": 6500, "guarantee": 8000,
        "facility": 6000, "loan": 12000, "account": 15000}
    assert counts["financial_statement"] == 8 * 5000
    assert counts["transaction"] == 30_000
    assert 8000 <= counts["rating"] <= 14000 and 500 <= counts["external_event"] <= 3000
    sizes = sorted(Counter(c["group"] for c in full_bank.records["company"]).values())
    assert 500 <= sizes[-1] <= 700 and 45 <= statistics.median(sizes) <= 80


def test_transactions_argument_and_bad_arguments():
    assert generate(scale=0.1, seed=1, transactions=5000).summary()["transaction"] == 5000
    assert generate(scale=0.1, seed=1, transactions=0).summary()["transaction"] == 0
    with pytest.raises(ValueError):
        generate(scale=0)
    with pytest.raises(ValueError):
        generate(scale=0.1, transactions=-1)


def test_records_carry_exactly_the_stored_fields(small_bank):
    assert list(small_bank.records) == list(ENTITY_ORDER)
    for name, rows in small_bank.records.items():
        expected = stored_fields(ENTITIES[name])
        assert rows, name
        assert all(list(row) == expected for row in rows), name


def test_every_code_is_valid_and_unique(full_bank):
    codes = [c["credit_code"] for c in full_bank.records["company"]]
    assert all(is_valid_uscc(c) for c in codes) and len(set(codes)) == len(codes)
    ids = [p["id_number"] for p in full_bank.records["person"]]
    assert all(is_valid_resident_id(i) for i in ids) and len(set(ids)) == len(ids)
    assert all(c["region"] == c["credit_code"][2:8] for c in full_bank.records["company"])


def _fields(name):
    return ENTITIES[name]["spec"]["fields"]


def test_values_respect_the_entity_declarations(small_bank):
    """Enums hold declared values, required fields are filled, unique keys are unique, patterns match."""
    import re
    for name, rows in small_bank.records.items():
        for field in _fields(name):
            if "compute" in field:
                continue
            values = [row[field["name"]] for row in rows]
            if field.get("required") and field["name"] != "tier":
                assert all(v is not None for v in values), (name, field["name"])
            present = [v for v in values if v is not None]
            if field["type"] == "enum":
                allowed = {v["value"] for v in field["values"]}
                assert set(present) <= allowed, (name, field["name"], set(present) - allowed)
            if field.get("unique"):
                assert len(set(present)) == len(present), (name, field["name"])
            if "pattern" in field:
                assert all(re.search(field["pattern"], v) for v in present), (name, field["name"])
            if field["type"] in ("money", "integer") and field.get("min") == 0:
                assert all(v >= 0 for v in present), (name, field["name"])
            if field["type"] == "percent" and "max" in field:
                assert all(0 <= v <= 1 for v in present), (name, field["name"])


def test_references_resolve(small_bank, full_bank):
    for bank in (small_bank, full_bank):
        keys = {name: {row[ENTITIES[name]["spec"]["key"]] for row in rows} for name, rows in bank.records.items()}
        keys["org_unit"] = {u["code"] for u in bank.org_units}
        keys["user"] = {u["code"] for u in bank.users}
        for name, rows in bank.records.items():
            for field in _fields(name):
                if field["type"].startswith("ref(") and "compute" not in field:
                    target = field["type"][4:-1]
                    missing = {row[field["name"]] for row in rows} - keys[target] - {None}
                    assert not missing, (name, field["name"], sorted(missing)[:3])
    assert {"head_office", "sh_branch", "bj_branch"} <= {u["code"] for u in full_bank.org_units}


def test_conditional_requirements_hold(full_bank):
    r = full_bank.records
    assert all(c["ticker"] for c in r["company"] if c["listed"])
    assert all(e["amount"] is not None for e in r["external_event"]
               if e["type"] in ("litigation", "dishonest_debtor", "equity_freeze", "bond_default"))
    assert all(f["borrower"] and f["parent_facility"] for f in r["facility"] if f["level"] == "member_sub")
    assert all(p["employer"] and p["position"] for p in r["person"] if p["role"] == "executive")
    assert all(p["relative_of"] and p["relation"] for p in r["person"] if p["role"] == "relative")
    assert all((h["holder_company"] is None) == (h["holder_type"] == "person") for h in r["equity_holding"])
    assert all(g["end_date"] >= g["start_date"] and g["guarantor"] != g["borrower"] for g in r["guarantee"])
    assert all(f["expiry_date"] >= f["start_date"] for f in r["facility"])
    assert all(a["closed_on"] is None or a["closed_on"] >= a["opened_on"] for a in r["account"])
    assert all(s["current_assets"] <= s["total_assets"] and s["cash"] <= s["current_assets"]
               and s["current_liabilities"] <= s["total_liabilities"] for s in r["financial_statement"])


def test_branches_and_users_exist_in_the_org_bundle(full_bank):
    import yaml
    org = {yaml.safe_load(p.read_text(encoding="utf-8"))["metadata"]["name"]
           for p in (ROOT / "configs" / "org").glob("*.yaml")}
    assert {u["code"] for u in full_bank.org_units} <= org
    assert {c["branch"] for c in full_bank.records["company"]} <= org
