"""The JSON Schema of the Form kind: an entity-like field list plus layout for the renderer."""
from __future__ import annotations

from dsl.kinds.common import EXPRESSION, LABEL, NAME, envelope
from dsl.kinds.entity_schema import FIELD, FIELD_TYPE
from dsl.kinds.parts import ID

FORM_FIELD_TYPE = {
    **FIELD_TYPE,
    "pattern": FIELD_TYPE["pattern"].replace("|file|", "|file|table|"),
    "description": FIELD_TYPE["description"] + " | table (a repeating sub-table with its own `columns`)",
    "x-suggest": FIELD_TYPE["x-suggest"] + ["table"],
    "x-hint": FIELD_TYPE["x-hint"] + ", or table",
}

_SHOWN = {
    "visible_when": {**EXPRESSION, "description": "Show the field only while this condition holds. A hidden field is "
                                                  "never required and its value follows `on_hidden`; the server "
                                                  "re-checks the same compiled condition."},
    "readonly": {"type": "boolean", "description": "Shown but not editable (a flow step may also make it read-only)."},
    "placeholder": {**LABEL, "description": "Grey hint text inside an empty input."},
    "width": {"type": "integer", "minimum": 1, "maximum": 4, "description": "How many layout columns the field spans."},
    "widget": {"enum": ["input", "textarea", "select", "radio", "checkbox", "switch", "user_picker", "org_picker",
                        "upload"], "description": "Override the input the renderer picks from the type."},
}

COLUMN = {**FIELD, "properties": {**FIELD["properties"], **_SHOWN},
          "description": "A column of a sub-table: a field of each row. Its conditions see the row's columns "
                         "and `form` (the whole form)."}

FORM_FIELD = {
    **FIELD,
    "properties": {
        **FIELD["properties"], **_SHOWN,
        "type": FORM_FIELD_TYPE,
        "columns": {"type": "array", "items": COLUMN, "minItems": 1,
                    "description": "For a `table` field: the columns of each row."},
        "min_rows": {"type": "integer", "minimum": 0, "description": "For a `table` field: the fewest rows."},
        "max_rows": {"type": "integer", "minimum": 1, "description": "For a `table` field: the most rows."},
    },
}

SECTION = {
    "type": "object", "required": ["id", "fields"], "additionalProperties": False,
    "properties": {
        "id": ID, "label": LABEL,
        "columns": {"type": "integer", "minimum": 1, "maximum": 4, "description": "Fields per row (default 2)."},
        "fields": {"type": "array", "items": NAME, "minItems": 1, "description": "The fields shown here, in order."},
        "visible_when": {**EXPRESSION, "description": "Show the whole section only while this condition holds."},
        "collapsed": {"type": "boolean", "description": "Start folded."},
    },
}

TAB = {"type": "object", "required": ["id", "sections"], "additionalProperties": False,
       "properties": {"id": ID, "label": LABEL,
                      "sections": {"type": "array", "items": NAME, "minItems": 1, "description": "Section ids, in order."}}}

FORM_SPEC = {
    "type": "object",
    "required": ["fields"],
    "additionalProperties": False,
    "properties": {
        "fields": {"type": "array", "items": FORM_FIELD, "minItems": 1,
                   "description": "The form's fields, written like an Entity's, plus visible_when, width, widget; "
                                  "`type: table` makes a repeating sub-table with `columns`."},
        "layout": {
            "type": "object", "additionalProperties": False,
            "description": "How the renderer arranges the fields. Fields in no section follow at the end.",
            "properties": {"sections": {"type": "array", "items": SECTION, "minItems": 1},
                           "tabs": {"type": "array", "items": TAB, "minItems": 1,
                                    "description": "Group sections into tabs; sections in no tab come first."}},
        },
        "validations": {
            "type": "array", "description": "Rules across fields, checked on submit (and in the browser).",
            "items": {"type": "object", "required": ["rule", "message"], "additionalProperties": False,
                      "properties": {"rule": EXPRESSION, "message": LABEL, "fields": {"type": "array", "items": NAME}}},
        },
    },
}

SCHEMA = envelope("Form", FORM_SPEC, "A form people fill in a flow: fields, conditional display, sub-tables, layout.")
