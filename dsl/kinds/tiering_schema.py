"""The JSON Schema of the Tiering kind: a weighted scorecard and a decision table of tiers."""
from __future__ import annotations

from dsl.kinds.common import EXPRESSION, LABEL, NAME, ROLE_LIST, envelope
from dsl.kinds.events import EVENT
from dsl.kinds.parts import CONDITION, SLA
from dsl.kinds.schedule import SCHEDULE

HIT_POLICIES = ["first", "unique", "any", "priority", "rule_order", "collect"]
AGGREGATES = ["min", "max"]

DIMENSION = {"type": "object", "required": ["score"], "additionalProperties": False,
             "properties": {"weight": {"type": "number", "exclusiveMinimum": 0, "maximum": 100,
                                       "description": "The dimension's share of the weighted `score`, in points: "
                                                      "every dimension has one and they add up to 100, or none has "
                                                      "(a decision table over the dimensions themselves)."},
                            "score": {**EXPRESSION, "description": "A number from 0 to 100 for the subject. Sees the "
                                                                   "subject's fields by name and as `subject`."},
                            "label": LABEL, "description": {"type": "string"}}}

SERVICE_PACKAGE = {
    "type": "object", "additionalProperties": False,
    "description": "What the bank gives subjects of this tier; the runtime assigns it and checks it is delivered.",
    "properties": {
        "label": LABEL,
        "lead_role": {**NAME, "description": "The role that leads the client team (e.g. a senior executive's role)."},
        "team_roles": {**ROLE_LIST, "description": "Roles that make up the dedicated team."},
        "review_every": {**SLA, "description": "How often the relationship is reviewed (e.g. 3 months)."},
        "response_within": {**SLA, "description": "The service-level promise for a client request (e.g. 4h)."},
        "benefits": {"type": "array", "items": LABEL, "minItems": 1,
                     "description": "What the package offers: priority product access, research, advisory …"},
    },
}

TIER = {"type": "object", "required": ["name"], "additionalProperties": False,
        "properties": {"name": NAME, "label": LABEL, "description": {"type": "string"},
                       "service_package": SERVICE_PACKAGE}}

RULE = {"type": "object", "required": ["tier"], "additionalProperties": False,
        "properties": {"when": {**CONDITION, "description": "Sees the subject's fields and each dimension's score by "
                                                             "name, `score` (the weighted total), `alert_grade` (the subject's worst open alert: "
                                                             "yellow, orange, red or null) and `subject`. Left out: always."},
                       "tier": {**NAME, "description": "A tier declared under `tiers`."},
                       "label": LABEL}}

TIERING_SPEC = {
    "type": "object",
    "required": ["subject", "dimensions", "tiers", "table"],
    "additionalProperties": False,
    "properties": {
        "subject": {**NAME, "description": "The entity being tiered (group)."},
        "assign_to": {**NAME, "description": "An enum field of the subject that receives the tier (its values must "
                                             "include every tier)."},
        "dimensions": {"type": "object", "minProperties": 1, "propertyNames": NAME, "additionalProperties": DIMENSION,
                       "description": "Scored dimensions: {name: {weight, score}}; weights (all or none) add up to 100."},
        "tiers": {"type": "array", "items": TIER, "minItems": 1,
                  "description": "The tiers, best first (the order `priority`, `collect` and `caps` use)."},
        "table": {"type": "object", "required": ["rules"], "additionalProperties": False,
                  "description": "A decision table choosing the tier.",
                  "properties": {"hit_policy": {"enum": HIT_POLICIES, "default": "first",
                                                "description": "DMN hit policies. first: the first rule that holds; "
                                                               "unique: exactly one rule may hold (checked where "
                                                               "written); any: rules that hold together give the "
                                                               "same tier (checked); priority: the best tier among "
                                                               "those that hold; rule_order: every rule that holds, "
                                                               "in order, the first decides; collect: every rule "
                                                               "that holds, `aggregate` decides."},
                                 "aggregate": {"enum": AGGREGATES, "default": "min",
                                               "description": "With `collect`: min gives the worst tier among the "
                                                              "rules that hold, max the best (tiers are ordered best "
                                                              "first). A tier is not a number, so DMN's sum and count "
                                                              "do not apply."},
                                 "rules": {"type": "array", "items": RULE, "minItems": 1}}},
        "caps": {"type": "array", "minItems": 1,
                 "description": "Ceilings applied after the table: while `when` holds the tier is no better than "
                                "`at_most` (e.g. any red alert caps a group at opportunity_adjustment).",
                 "items": {"type": "object", "required": ["when", "at_most"], "additionalProperties": False,
                           "properties": {"when": CONDITION, "at_most": NAME, "reason": LABEL}}},
        "schedule": {**SCHEDULE, "description": "When every subject is re-tiered, e.g. `monthly 1 06:00`. " +
                     SCHEDULE["description"]},
        "on": {"type": "array", "items": EVENT, "minItems": 1, "uniqueItems": True,
               "description": "Events that re-tier one subject at once (alert.opened, facilities.updated)."},
        "override": {"type": "object", "required": ["tier"], "additionalProperties": False,
                     "description": "A person's decision that replaces the table's answer (written by an approval "
                                    "flow): the subject's fields holding the tier, the reason and the last day.",
                     "properties": {"tier": {**NAME, "description": "An enum field of the subject holding the tier."},
                                    "reason": {**NAME, "description": "A text field: why."},
                                    "until": {**NAME, "description": "A date field: the last day it is in force "
                                                                     "(empty: until withdrawn)."}}},
        "reviews": {"type": "object", "required": ["flow"], "additionalProperties": False,
                    "description": "The recurring relationship review of each tier's service package: the flow "
                                   "started about each subject every `review_every` of its tier (its form receives "
                                   "tier, service_package and lead_role, so the flow assigns the lead).",
                    "properties": {"flow": {**NAME, "description": "A Flow whose subject is the tiering's subject."}}},
        "service_requests": {
            "type": "object", "required": ["flow", "step"], "additionalProperties": False,
            "description": "How a client asks for service: the flow (about the tiering's subject or a member of it) "
                           "whose step `step` is due within the client's tier's `response_within`; a client with no "
                           "tier, or whose package promises nothing, gets the step's own deadline.",
            "properties": {"flow": {**NAME, "description": "A Flow about the subject or the records of one of its "
                                                           "collections (a group's members)."},
                           "step": {**NAME, "description": "The id of a task or approval step of that flow, with a "
                                                           "`deadline:` of its own."}}},
    },
}

SCHEMA = envelope("Tiering", TIERING_SPEC, "Client tiering: a weighted scorecard, a decision table, caps and service packages.")
