"""The catalogue of diagnostic codes. Codes are stable: never renumber, only add.

`banyan explain BNY123` prints the entry; tests/dsl/test_codes.py keeps this table and the
golden broken files in step.

Ranges: 0xx files and bundles · 1xx YAML · 2xx envelope and schema · 3xx expressions ·
4xx references and links · 5xx flow soundness · 6xx tiering, alerts and tests.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    code: str
    title: str
    explanation: str


_TABLE = [
    # 0xx — files and bundles
    ("BNY001", "cannot read file", "The file could not be opened or is not UTF-8 text. Save it as UTF-8."),
    ("BNY002", "no YAML files", "The path holds no .yaml or .yml files. Point `banyan validate` at a bundle directory or a file."),
    ("BNY003", "path not found", "The path given on the command line does not exist."),
    # 1xx — YAML
    ("BNY101", "YAML syntax error", "The file is not valid YAML. Common causes: a tab used for indentation, an unclosed quote or bracket, an ASCII colon followed by a space inside an unquoted value (quote the value), `{{ }}` around an expression (write the expression as a plain string)."),
    ("BNY102", "duplicate key", "A mapping names the same key twice; YAML would silently keep the last one. Remove or rename one of them."),
    ("BNY103", "more than one document", "Each file holds exactly one document (one `kind`). Split the file at `---`."),
    ("BNY104", "ambiguous boolean", "YAML 1.1 reads yes/no/on/off/y/n (any case) as a boolean. Write `true` or `false` for a boolean, or quote the word when you mean text (e.g. the country code 'NO')."),
    ("BNY105", "leading-zero number", "YAML 1.1 reads 0012 as an octal number (10). Quote it when it is a code ('0012'), or drop the zeros when it is a number."),
    ("BNY106", "number where text is expected", "An unquoted value such as 1.10 or 2026 is read as a number, losing trailing zeros or the text form. Quote it where an id, code, version or enum value is meant."),
    ("BNY107", "empty file", "The file holds no document. Delete it or add a kind."),
    ("BNY108", "YAML feature not allowed", "Anchors, aliases, merge keys and custom tags are not allowed in Banyan files: they hide where a value comes from. Write the value out."),
    ("BNY109", "nested too deeply", "Mappings and lists nest deeper than Banyan reads (64 levels; real files need fewer than 15). The file is not read further: flatten the structure."),
    # 2xx — envelope and schema
    ("BNY201", "not a Banyan document", "The top level must be a mapping with apiVersion, kind, metadata and spec."),
    ("BNY202", "unknown apiVersion", "Only `apiVersion: banyan/v1` is supported."),
    ("BNY203", "unknown kind", "The kind is not one Banyan knows. `banyan explain kinds` lists them."),
    ("BNY204", "missing required key", "A key the kind requires is missing. `banyan explain KIND.path` shows what the key holds."),
    ("BNY205", "unknown key", "This key is not part of the kind's schema (often a typo). `banyan explain KIND.path` lists the keys allowed here."),
    ("BNY206", "wrong value type", "The value has the wrong type for this key (for example a list where a mapping is expected)."),
    ("BNY207", "value not allowed", "The value is not one of the allowed values for this key."),
    ("BNY208", "value does not match the required format", "The value does not have the required form (for example a name that is not snake_case)."),
    ("BNY209", "value out of range", "A number or a list length is outside the allowed range."),
    ("BNY210", "invalid value", "The value breaks a schema rule (a combination of keys that is not allowed, or a constraint not covered by a more specific code)."),
    ("BNY211", "invalid field type", "A field's type is not one of string, text, integer, number, money, percent, bool, date, datetime, duration, enum, multi_enum, ref(ENTITY), file."),
    # 3xx — expressions
    ("BNY301", "expression syntax error", "The expression cannot be parsed. Check brackets, quotes and operators; `banyan explain expressions` shows the language."),
    ("BNY302", "unknown name", "The expression names a field, variable or record that is not declared where it is used."),
    ("BNY303", "unknown function", "The expression calls a function that is not registered."),
    ("BNY304", "wrong number of arguments", "The function is called with too few or too many arguments."),
    ("BNY305", "type mismatch", "An operator or a function gets a value of the wrong type (for example comparing a date with money, or adding text to a number)."),
    ("BNY306", "condition is not boolean", "A condition (`when`, `check`, `required_when`, a filter) must be true or false."),
    ("BNY307", "unknown field of a record", "The record type has no field with this name."),
    ("BNY308", "invalid literal", "A literal value is malformed: a money amount, percentage, duration or date that cannot be read."),
    ("BNY309", "unknown enum value", "The text compared with an enum field is not one of that enum's values."),
    ("BNY310", "not a collection", "Aggregates (sum, count, avg, min, max, any, all) and windows need a collection (a list of records)."),
    ("BNY311", "expression result has the wrong type", "The expression's value does not have the type this key needs (for example a score must be a number)."),
    # 4xx — references and links
    ("BNY401", "unknown reference", "A reference names something (entity, form, role, flow, channel, org unit, template) that no file in the bundle defines."),
    ("BNY402", "duplicate name", "Two documents of the same kind have the same metadata.name, or two items in one list share an id."),
    ("BNY403", "cycle among computed fields", "Computed fields depend on each other in a circle, so none can be computed first. Break the circle."),
    ("BNY404", "unknown field", "A key names a field that the entity does not declare (key, display, index, a collection's `via`)."),
    ("BNY405", "reference to the wrong kind", "The name exists, but it is of a different kind than this place needs."),
    ("BNY406", "invalid enum definition", "An enum needs at least one value and its values must be unique."),
    ("BNY407", "incompatible or ineffective options", "Options that do not fit where they are written: a field option that does not fit its type (`currency` on a date, `values` on a string), a field both editable and hidden, or a step key that nothing on that step can use (`return_to` without a `return` action, `added_signer_reject` without `add_signer`, `on_reject` where nothing can reject, an `escalation` nothing starts). `if_initiator: skip` over a single assignee is a warning: the step goes to the initiator's supervisor instead of passing unapproved."),
    ("BNY408", "file name does not match metadata.name", "Name each file after the document it holds (metadata.name), so a bundle stays navigable. This is a warning."),
    ("BNY409", "channel has no template for a message", "A flow or an alert rule sends a message kind (a `notify` template, or a step's own reminder, overdue, escalation, urge or cc message) through a channel that has no template of that name, so it could not be rendered. Add the template to the Channel document, in zh and en."),
    ("BNY410", "invalid message template", "A Channel template is not valid Jinja2 (an unclosed `{{` or `{% if %}`, a stray `}}`), or still uses the old `${path}` placeholders. Write variables as {{ subject.name }} and quote the whole text in YAML."),
    # 5xx — flow soundness
    ("BNY501", "unknown node", "A transition or a return target names a node id that the flow does not define."),
    ("BNY502", "unreachable node", "No path from the start reaches this node."),
    ("BNY503", "node cannot reach an end", "Once here, the flow can never finish: no path leads to an end node."),
    ("BNY504", "join can deadlock", "This join waits for branches that an exclusive choice makes mutually exclusive, so it would wait forever."),
    ("BNY505", "unguarded loop", "A cycle has no condition that can leave it, so an instance could loop forever."),
    ("BNY506", "branch conditions not exhaustive", "Some values reach no case of this exclusive branch. Add a `default`."),
    ("BNY507", "illegal return target", "A task may only be returned to a node that always runs before it on every path."),
    ("BNY508", "flow has no end", "A flow needs at least one end node."),
    ("BNY509", "invalid countersign", "The countersign settings do not fit (a ratio outside (0, 1], a ratio without `pass`). A warning when a percentage or a decimal sits next to a simple fraction of the signers but is not it: with 3 signers `pass: 2/3` needs 2 approvals, `67%` or `0.67` needs all 3 — write the fraction you mean."),
    ("BNY510", "approval deadline in calendar days", "A warning: `deadline: 1d` (or `2w`, `3天`) counts weekends and public holidays, so across a weekend or National Day an approver may get no working time at all. Write `1 business day` (or `工作日`) to count the bank's working days, or keep calendar time if that is what you mean."),
    # 6xx — tiering, alerts, tests
    ("BNY601", "weights do not add up", "The tiering dimensions' weights must add up to 100, every dimension has one or none has, and `score` (their weighted total) needs them."),
    ("BNY602", "unknown tier", "A tiering rule names a tier that the tiering does not declare."),
    ("BNY603", "decision table leaves a gap", "Some subjects get no tier: no rule of the decision table holds for the values the message names (found by the interval analysis of BNY506). A rule with no `when` at the end catches everyone."),
    ("BNY604", "grades out of order", "Alert grades go yellow, orange, red."),
    ("BNY605", "invalid test case", "A test case names a rule, tier or flow that is not in the bundle, or its expectation is malformed."),
    ("BNY606", "a rule does not hear what it reads", "A rule without a `schedule:` reads a collection or field that no event in its `on:` announces (a computed field: what it is computed from), so the alert would wait for the next scan. A warning."),
    ("BNY608", "not a subject an alert rule can watch", "An alert rule watches the records of an entity, or guarantee circles (`scope: guarantee_circle`, found among the companies' guarantees); users, org units and alerts are not subjects. A circle's alert stands for the circle: it has no `roll_up` and starts no flow."),
    ("BNY609", "decision table rules overlap", "Two rules hold for the same subject where the hit policy forbids it: `unique` (no two rules together) or `any` (rules that hold together must give the same tier). The message names such a value."),
    ("BNY610", "a table condition that cannot be analysed", "A warning: a decision-table condition compares two values or calls a function the gap and overlap analysis cannot see into, so gaps and overlaps are not checked. Compare a dimension, field or number with a constant where you can."),
    ("BNY611", "a service request step without a deadline", "The step a tiering's `service_requests` names is due within the client's tier's `response_within`; a client with no tier, or a package that promises nothing, needs the step's own `deadline:`."),
    ("BNY607", "a grade that is never raised", "An alert grade whose condition holds only where a higher grade's holds too (a yellow stricter than its orange) is never raised, since the highest grade that holds wins. A warning."),
]

CODES: dict[str, Code] = {c: Code(c, t, e) for c, t, e in _TABLE}
