"""JSON Schema pieces shared by the kinds: the envelope, names, labels, expressions."""
from __future__ import annotations

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"

NAME = {"type": "string", "pattern": NAME_PATTERN, "maxLength": 63,
        "description": "An ASCII snake_case id (lower case letters, digits, underscores). Fixed once deployed.",
        "x-hint": "use lower-case ASCII snake_case, e.g. group_credit_approval"}

LABEL = {
    "description": "A display name, in Chinese and English.",
    "oneOf": [
        {"type": "string", "minLength": 1},
        {"type": "object", "properties": {"zh": {"type": "string", "minLength": 1},
                                           "en": {"type": "string", "minLength": 1}},
         "additionalProperties": False, "minProperties": 1},
    ],
}

EXPRESSION = {"type": "string", "minLength": 1,
              "description": "An expression in Banyan's expression language (see `banyan explain expressions`).",
              "x-hint": "write the expression as a plain string, e.g. \"amount > 5亿\""}

# A literal that may use business units: 5亿, 3000万, 70%, 2d, 2026-03-31, or a plain number.
LITERAL = {"type": ["string", "number", "boolean"],
           "description": "A value: a number, text, true/false, or a literal with a unit (5亿, 70%, 2d, 2026-03-31)."}

DURATION = {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(m|h|d|w|min|minutes?|hours?|days?|weeks?|months?|business days?|工作日|天|小时)\s*$",
            "description": "A duration: 30m, 24h, 2d, 1w, 3 months, 2 business days.",
            "x-hint": "write a number and a unit, e.g. 2d, 24h or 2 business days"}

ROLE_LIST = {"type": "array", "items": NAME, "uniqueItems": True}


def schema_stem(kind: str) -> str:
    """The schema file name of a kind, without `.json`: AlertRule -> alert_rule."""
    return "".join(("_" if ch.isupper() and i else "") + ch.lower() for i, ch in enumerate(kind))


def envelope(kind: str, spec: dict, description: str) -> dict:
    """The full schema of one kind: the apiVersion/kind/metadata/spec envelope around its spec.
    No `$id`: a schema's address is its file (`schema_stem(kind).json`), so banyan.json's relative
    `$ref`s resolve beside it and a validator never goes to the network for them."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Banyan {kind}",
        "description": description,
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": False,
        "properties": {
            "apiVersion": {"const": "banyan/v1", "description": "Always banyan/v1."},
            "kind": {"const": kind},
            "metadata": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": False,
                "properties": {
                    "name": NAME,
                    "label": LABEL,
                    "description": {"type": "string"},
                    "owner": {"type": "string", "description": "The team or person who owns this document."},
                },
            },
            "spec": spec,
        },
    }
