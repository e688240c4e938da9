"""Expressions shipped to the browser as JSON trees (and the ones kept for the server)."""
from __future__ import annotations

import json

from forms import FormSpec, program
from forms.client import scope_of, translate


def test_conditions_become_json_trees(bundle):
    p = program(FormSpec.of_form(bundle.get("Form", "credit_application")), "en")
    assert p["fields"]["collateral_description"]["visible"] == [   # required: the checker says never null
        "or", ["cmp", "==", ["var", "guarantee_mode"], ["lit", "mortgage"], False, False],
        ["cmp", "==", ["var", "guarantee_mode"], ["lit", "pledge"], False, False], False, False]
    guarantor = p["fields"]["sub_limits"]["columns"]["guarantor"]
    assert guarantor["required_when"] == ["var", "guaranteed"]
    assert guarantor["check"] == ["cmp", "!=", ["var", "guarantor"], ["var", "borrower"], True, False]
    assert p["validations"][0]["rule"] == [
        "cmp", "<=", ["agg", "sum", ["var", "sub_limits"], "s", ["get", ["var", "s"], "amount", False], False, "dec"],
        ["var", "amount"], False, False]
    assert p["fields"]["urgent_reason"]["on_hidden"] == "keep"
    json.dumps(p)                                       # plain JSON, nothing else


def test_what_only_the_server_knows_is_not_translated(bundle):
    company = bundle.entities["company"]
    spec = FormSpec.of_entity(company)
    scope = scope_of(spec.fields)
    assert translate(company.field("credit_code").check, scope) == ["call", "is_uscc", [False], ["var", "credit_code"]]
    # latest(financials) reads the database: the browser leaves it to the server
    assert translate(company.field("debt_ratio").compute, scope) is None
    person = program(FormSpec.of_entity(bundle.entities["person"]), "en")
    assert [v["rule"] for v in person["validations"]] == [None]      # it reads a referenced person's fields


def test_numbers_travel_as_decimal_text_never_as_floats(bundle):
    from decimal import Decimal

    from forms.client import literal
    assert literal(Decimal("1.005")) == ["dec", "1.005"]
    assert literal(12345678901234567890) == ["int", "12345678901234567890"]
    floats: list[str] = []
    for form in bundle.of_kind("Form").values():
        json.loads(json.dumps(program(FormSpec.of_form(form), "en")), parse_float=floats.append)
    for entity in bundle.entities.values():
        json.loads(json.dumps(program(FormSpec.of_entity(entity), "en")), parse_float=floats.append)
    assert floats == []                                                     # not one float in any page's rules


def test_forms_never_parses_expression_text():
    """The browser gets the checked tree the compiler kept: nothing in forms/ imports the parser or lark."""
    import ast as pyast
    from pathlib import Path
    root = Path(__file__).resolve().parents[2] / "forms"
    for path in root.rglob("*.py"):
        for node in pyast.walk(pyast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, pyast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, pyast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for name in names:
                assert not name.startswith("lark") and not name.startswith("dsl.expr.parser"), (path, name)
                assert not name.endswith(".parse_expression"), (path, name)
