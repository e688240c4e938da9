"""The JSON Schema of the AlertRule kind: graded conditions on a record, with disposal."""
from __future__ import annotations

from dsl.kinds.actions import action_schema
from dsl.kinds.channel import TEXT
from dsl.kinds.common import EXPRESSION, LABEL, NAME, envelope
from dsl.kinds.events import EVENT
from dsl.kinds.parts import CONDITION, SLA
from dsl.kinds.schedule import SCHEDULE

GRADES = ["yellow", "orange", "red"]
CATEGORIES = ["financial", "behavioural", "external", "contagion", "concentration", "opportunity"]

_GRADE_MAP = {"type": "object", "additionalProperties": False, "minProperties": 1}

ALERT_SPEC = {
    "type": "object",
    "required": ["scope", "category", "on", "grades"],
    "additionalProperties": False,
    "properties": {
        "scope": {**NAME, "description": "The entity each evaluation looks at (company, group, loan …). Conditions "
                                         "see its fields by name and the record as `subject`. Or `guarantee_circle`: "
                                         "each guarantee circle (担保圈: firms guaranteeing one another round a loop) "
                                         "among the companies, with `members` (the companies, their `alerts` "
                                         "included), `size`, `groups` and `spans_groups`; its alert is seen by "
                                         "whoever may read one member, names only those, and its `notify` reaches "
                                         "the people nearest each member."},
        "category": {"enum": CATEGORIES, "description": "financial (财务指标恶化), behavioural (经营行为异常), external "
                                                        "(外部负面信息), contagion (关联风险传导), concentration (集中度)."},
        "on": {"type": "array", "minItems": 1, "description": "When to evaluate: events (financials.updated) and/or "
                                                             "{schedule: daily 06:00}.",
               "items": {"oneOf": [EVENT, {"type": "object", "required": ["schedule"], "additionalProperties": False,
                                           "properties": {"schedule": SCHEDULE}}]}},
        "grades": {**_GRADE_MAP, "description": "A condition per grade, written yellow, orange, red; the highest grade "
                                                "whose condition holds is raised.",
                   "properties": {g: {**CONDITION, "description": f"When the alert is {g}."} for g in GRADES}},
        "message": {**TEXT, "description": "The alert's headline (Jinja2): {{ subject.… }} and {{ alert.… }}."},
        "evidence": {"type": "array", "minItems": 1,
                     "description": "Values recorded with the alert, so anyone can see why it fired.",
                     "items": {"oneOf": [EXPRESSION, {"type": "object", "required": ["value"], "additionalProperties": False,
                                                      "properties": {"label": LABEL, "value": EXPRESSION}}]}},
        "respond_within": {**_GRADE_MAP, "description": "How soon each grade must be handled, e.g. "
                                                        "{yellow: 10 business days, orange: 5 business days, red: 2 business days}.",
                           "properties": {g: SLA for g in GRADES}},
        "suppress": {"type": "object", "additionalProperties": False,
                     "description": "Against repeats: one open alert per subject and rule, lifted after a quiet spell. "
                                    "With `while_open` (the default) the open alert follows its condition: a higher "
                                    "grade raises it in place (an open yellow becomes orange; the sooner answer time "
                                    "counts), a lower grade lowers it (the answer time stays), and when no grade "
                                    "holds its quiet period starts; if a grade holds again before `lift_after` has "
                                    "passed, the same alert resumes, else it is lifted (closed, recorded). The next "
                                    "time a grade holds, a new alert opens.",
                     "properties": {"while_open": {"type": "boolean", "description": "Raise no new alert while one is "
                                                                                     "open for the subject: raise or "
                                                                                     "lower the open one (default "
                                                                                     "true). false: every change of "
                                                                                     "grade closes the open alert and "
                                                                                     "opens a new one."},
                                    "lift_after": {**SLA, "description": "Close the alert after its condition has not "
                                                                         "held for this long, e.g. 3 months "
                                                                         "(none: close it as soon as it stops "
                                                                         "holding)."}}},
        "roll_up": {"type": "object", "required": ["to"], "additionalProperties": False,
                    "description": "Raise the alert on a related record too (a member's alert on its group): the "
                                   "group's grade comes from its members' open alerts under this rule and follows "
                                   "them as they are raised, lowered and lifted; its evidence counts the members at "
                                   "each grade and names the worst.",
                    "properties": {"to": {**NAME, "description": "A ref field of the scope, e.g. group."},
                                   "grade": {"enum": ["same", "worst_minus_one"],
                                             "description": "The rolled-up grade. `worst_minus_one` (the default): "
                                                            "the worst member's grade softened one step — a red "
                                                            "member makes the group orange, an orange one yellow, "
                                                            "and yellow members alone raise nothing on the group. "
                                                            "`same`: the worst member's grade."}}},
        "actions": {"type": "array", "minItems": 1, "items": action_schema(("notify", "start_flow", "webhook", "update")),
                    "description": "What happens when the alert is raised (once per alert and action): `notify`, "
                                   "`start_flow` (a disposal flow about the subject), `update` (records changed through "
                                   "the records service, e.g. facilities frozen), `webhook`. `when` and the "
                                   "expressions see `grade`, `alert` (id, rule, label, message, evidence) and the "
                                   "scope's fields."},
    },
}

SCHEMA = envelope("AlertRule", ALERT_SPEC, "A graded warning rule: when to evaluate, the condition per grade, disposal.")
