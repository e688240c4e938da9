"""The JSON Schema of the Entity kind: a record type with fields, collections and validations."""
from __future__ import annotations

from typing import Any

from dsl.kinds.common import EXPRESSION, LABEL, LITERAL, NAME, envelope

FIELD_TYPE: dict[str, Any] = {
    "type": "string",
    "pattern": r"^(string|text|integer|number|money|percent|bool|date|datetime|duration|enum|multi_enum|file|ref\([a-z][a-z0-9_]*\))$",
    "description": "string | text | integer | number | money | percent | bool | date | datetime | duration | "
                   "enum | multi_enum | file | ref(ENTITY)",
    "x-code": "BNY211",
    "x-suggest": ["string", "text", "integer", "number", "money", "percent", "bool", "date", "datetime",
                  "duration", "enum", "multi_enum", "file"],
    "x-hint": "one of string, text, integer, number, money, percent, bool, date, datetime, duration, enum, "
              "multi_enum, file, ref(ENTITY)",
}

ENUM_VALUE = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        {"type": "object", "required": ["value"], "additionalProperties": False,
         "properties": {"value": {"type": "string", "minLength": 1}, "label": LABEL}},
    ],
}

FIELD: dict[str, Any] = {
    "type": "object",
    "required": ["name", "type"],
    "additionalProperties": False,
    "properties": {
        "name": NAME,
        "type": FIELD_TYPE,
        "label": LABEL,
        "help": LABEL,
        "required": {"type": "boolean", "description": "A value must be given."},
        "required_when": {**EXPRESSION, "description": "A value must be given when this condition holds."},
        "unique": {"type": "boolean"},
        "index": {"type": "boolean", "description": "Index the column for fast lookups."},
        "default": {**LITERAL, "description": "The value a new record starts with."},
        "min": LITERAL,
        "max": LITERAL,
        "min_length": {"type": "integer", "minimum": 0},
        "max_length": {"type": "integer", "minimum": 1},
        "pattern": {"type": "string", "description": "A regular expression the whole text must match."},
        "values": {"type": "array", "items": ENUM_VALUE, "minItems": 1,
                   "description": "The allowed values of an enum or multi_enum."},
        "order": {"enum": ["ascending", "descending"],
                  "description": "An enum whose values rank: `descending` when they are listed from the highest "
                                 "down (ratings: aaa, aa_plus, … d, so `grade >= 'a_minus'` means A- or better), "
                                 "`ascending` from the lowest up. Only an ordered enum may be compared with `<`, "
                                 "`<=`, `>`, `>=` (against its own values)."},
        "currency": {
            "description": "The money's currency: an ISO 4217 code (`CNY`: always that currency), or "
                           "`{field: currency}`: each record's own enum field says (amounts stay in that "
                           "currency; sums across currencies convert with `to_cny`).",
            "oneOf": [
                {"type": "string", "pattern": "^[A-Z]{3}$", "x-hint": "a three-letter ISO currency code such as CNY"},
                {"type": "object", "required": ["field"], "additionalProperties": False,
                 "properties": {"field": {**NAME, "description": "The enum field of this entity holding "
                                                                "each record's currency code."}}},
            ],
            "x-hint": "a three-letter ISO currency code such as CNY, or {field: currency}",
        },
        "scale": {"type": "integer", "minimum": 0, "maximum": 8, "description": "Decimal places kept."},
        "compute": {**EXPRESSION, "description": "Computed from other fields; read-only."},
        "check": {**EXPRESSION, "description": "A condition the value must satisfy."},
        "check_message": LABEL,
        "on_hidden": {"enum": ["clear", "keep"], "description": "What a form does with the value when the field is hidden."},
    },
}

PERSONAL_KINDS = ("id_number", "phone", "address", "name")
PERSONAL = {
    "description": "Personal information (个人信息保护法): shown masked to a reader whose role lacks "
                   "`personal.read`, exported only with `personal.export`; unmasked reads are audited. "
                   "`true` masks all but the first and last character; a kind chooses the mask: "
                   "`id_number` (first 4 and last 4), `phone` (138****5678), `address` (first 6 characters "
                   "and ****), `name` (the first character).",
    "oneOf": [{"type": "boolean"}, {"enum": list(PERSONAL_KINDS)}],
    "x-hint": "true, or one of id_number, phone, address, name",
}
# an entity's field; a flow form's fields (dsl/kinds/form_schema.py) share FIELD without `personal`
ENTITY_FIELD = {**FIELD, "properties": {**FIELD["properties"], "personal": PERSONAL}}

ENTITY_SPEC = {
    "type": "object",
    "required": ["fields"],
    "additionalProperties": False,
    "properties": {
        "key": {**NAME, "description": "The field that identifies a record to people (unique)."},
        "display": {**NAME, "description": "The field shown as a record's title."},
        "time_field": {**NAME, "description": "The date or datetime field that windows order by "
                                              "(`last 2 quarters of financials`)."},
        "bank_wide": {"type": "boolean",
                      "description": "Figures of the bank itself (its capital), not of a client: every rule, flow "
                                     "and tiering reads the records by the entity's name, those in effect on the "
                                     "day of evaluation (time field on or before it): "
                                     "`total_credit_balance / latest(bank_capital).net_capital >= 12%`. Needs a "
                                     "`time_field` (or holds one record)."},
        "events": {"type": "boolean",
                   "description": "Its records are signals from outside (court filings, listings, rating changes …) "
                                  "that arrive by `POST /events`, `banyan events import` and `banyan ingest redis`: "
                                  "each idempotent by its key (the event number), each accepted or rejected on its "
                                  "own. Needs a `key`."},
        "fields": {"type": "array", "items": ENTITY_FIELD, "minItems": 1},
        "collections": {
            "type": "array",
            "description": "One-to-many: records of another entity that point to this one.",
            "items": {"type": "object", "required": ["name", "entity", "via"], "additionalProperties": False,
                      "properties": {"name": NAME, "entity": NAME, "via": NAME, "label": LABEL}},
        },
        "validations": {
            "type": "array",
            "description": "Rules across fields; each must hold for a record to be saved.",
            "items": {"type": "object", "required": ["rule", "message"], "additionalProperties": False,
                      "properties": {"rule": EXPRESSION, "message": LABEL,
                                     "fields": {"type": "array", "items": NAME}}},
        },
    },
}

SCHEMA = envelope("Entity", ENTITY_SPEC, "A record type: its fields, their rules, and its collections.")
