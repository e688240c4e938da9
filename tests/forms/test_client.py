"""Expressions shipped to the browser as JSON trees (and the ones kept for the server)."""
from __future__ import annotations

import json

from forms import FormSpec, program
from forms.client import scope_of, translate


def test_conditions_become_json_trees(bundle):
    p = program(FormSpec.of_form(bundle.get("Form", "credit_application")), "en")
    assert p["fields"]["collateral_description"]["visible"] == [
        "or", ["cmp", "==", ["var", "guarantee_mode"], ["lit", "mortgage"], True],
        ["cmp", "==", ["var", "guarantee_mode"], ["lit", "pledge"], True]]        # required: no null guard
    guarantor = p["fields"]["sub_limits"]["columns"]["guarantor"]
    assert guarantor["required_when"] == ["var", "guaranteed"]
    assert guarantor["check"] == ["cmp", "!=", ["var", "guarantor"], ["var", "borrower"]]
    assert p["validations"][0]["rule"][2][0] == "agg"
    assert p["fields"]["urgent_reason"]["on_hidden"] == "keep"
    json.dumps(p)                                       # plain JSON, nothing else


def test_what_only_the_server_knows_is_not_translated(bundle):
    company = bundle.entities["company"]
    spec = FormSpec.of_entity(company)
    scope = scope_of(spec.fields)
    assert translate(company.field("credit_code").check, scope) == ["call", "is_uscc", ["var", "credit_code"]]
    # latest(financials) reads the database: the browser leaves it to the server
    assert translate(company.field("debt_ratio").compute, scope) is None
    person = program(FormSpec.of_entity(bundle.entities["person"]), "en")
    assert [v["rule"] for v in person["validations"]] == [None]      # it reads a referenced person's fields
