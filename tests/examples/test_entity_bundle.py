"""The entity bundle in configs/entities is self-consistent (until `banyan validate` checks it all)."""
from __future__ import annotations

import re

import pytest

from .conftest import ENTITY_DIR, load_entities

ENTITIES = load_entities()
BUILT_INS = {"org_unit", "user"}
TYPES = {"string", "text", "integer", "number", "money", "percent", "bool", "date", "datetime", "duration",
         "enum", "multi_enum", "file"}
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
REF = re.compile(r"^ref\(([a-z_][a-z0-9_]*)\)$")


def fields(name):
    return {f["name"]: f for f in ENTITIES[name]["spec"]["fields"]}


def test_the_bundle_has_its_entities():
    assert set(ENTITIES) == {"group", "company", "person", "equity_holding", "guarantee", "facility", "loan",
                             "account", "transaction", "financial_statement", "rating", "external_event", "fx_rate",
                             "bank_capital", "credit_inquiry", "collateral", "collateral_valuation", "share_price"}


@pytest.mark.parametrize("name", sorted(ENTITIES))
def test_envelope(name):
    doc = ENTITIES[name]
    assert doc["apiVersion"] == "banyan/v1" and doc["kind"] == "Entity"
    assert doc["metadata"]["name"] == name
    assert set(doc["metadata"]["label"]) == {"zh", "en"}
    text = (ENTITY_DIR / f"{name}.yaml").read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../../schemas/entity.json\n")


@pytest.mark.parametrize("name", sorted(ENTITIES))
def test_fields_are_labelled_typed_and_refer_to_known_entities(name):
    seen = set()
    for field in ENTITIES[name]["spec"]["fields"]:
        assert SNAKE.match(field["name"]) and field["name"] not in seen
        seen.add(field["name"])
        assert set(field["label"]) == {"zh", "en"}, field["name"]
        ref = REF.match(field["type"])
        assert field["type"] in TYPES or (ref and ref.group(1) in set(ENTITIES) | BUILT_INS), field["type"]
        if field["type"] in ("enum", "multi_enum"):
            values = [v["value"] for v in field["values"]]
            assert all(isinstance(v, str) for v in values) and len(set(values)) == len(values)
            assert all(set(v["label"]) == {"zh", "en"} for v in field["values"])
        if field["type"] == "money":
            assert field["scale"] == 2
            held = field["currency"]          # CNY, or the record's own currency enum field
            names = {f["name"] for f in ENTITIES[name]["spec"]["fields"]}
            assert held == "CNY" or (held.keys() == {"field"} and held["field"] in names), held
        assert not ("required" in field and "required_when" in field)


@pytest.mark.parametrize("name", sorted(ENTITIES))
def test_key_display_time_field_and_collections(name):
    spec = ENTITIES[name]["spec"]
    own = fields(name)
    assert own[spec["key"]]["unique"] is True and own[spec["key"]]["required"] is True
    if "display" in spec:
        assert spec["display"] in own
    if "time_field" in spec:
        assert own[spec["time_field"]]["type"] in ("date", "datetime")
    for collection in spec.get("collections", []):
        via = fields(collection["entity"])[collection["via"]]
        assert via["type"] == f"ref({name})", collection
        assert set(collection["label"]) == {"zh", "en"}


@pytest.mark.parametrize("name", sorted(ENTITIES))
def test_validations_have_bilingual_messages_and_known_fields(name):
    own = fields(name)
    for rule in ENTITIES[name]["spec"].get("validations", []):
        assert set(rule["message"]) == {"zh", "en"}
        assert all(f in own for f in rule["fields"])


def test_the_credit_code_is_checked():
    code = fields("company")["credit_code"]
    assert code["check"] == "is_uscc(credit_code)" and code["min_length"] == code["max_length"] == 18
    assert re.match(code["pattern"], "914403001922038216")


def test_conditional_requirements_a_bank_needs():
    assert fields("company")["ticker"]["required_when"] == "listed"
    assert "litigation" in fields("external_event")["amount"]["required_when"]
    assert fields("facility")["borrower"]["required_when"] == "level == 'member_sub'"


def test_five_tier_classification_labels():
    values = fields("loan")["classification"]["values"]
    assert [v["label"]["zh"] for v in values] == ["正常", "关注", "次级", "可疑", "损失"]
