"""Small inline bundles for the kind tests: a group/company model, roles, a channel."""
from __future__ import annotations

import textwrap

from dsl.compiler import compile_texts

GROUP = """\
apiVersion: banyan/v1
kind: Entity
metadata: {name: group}
spec:
  key: code
  fields:
    - {name: code, type: string, required: true, unique: true}
    - {name: name, type: string}
    - {name: lead_branch, type: ref(org_unit)}
    - {name: tier, type: enum, values: [core, other]}
    - {name: outlook, type: enum, values: [weak, strong]}
    - {name: parent_company, type: ref(company)}
    - {name: credit, type: money}
  collections:
    - {name: members, entity: company, via: group}
"""
COMPANY = """\
apiVersion: banyan/v1
kind: Entity
metadata: {name: company}
spec:
  key: code
  fields:
    - {name: code, type: string, required: true, unique: true}
    - {name: name, type: string}
    - {name: group, type: ref(group)}
    - {name: branch, type: ref(org_unit)}
    - {name: debt_ratio, type: percent}
    - {name: overdue_days, type: integer}
  collections:
    - {name: events, entity: event, via: company}
"""
EVENT = """\
apiVersion: banyan/v1
kind: Entity
metadata: {name: event}
spec:
  time_field: occurred_on
  fields:
    - {name: company, type: ref(company)}
    - {name: kind, type: enum, values: [lawsuit, news]}
    - {name: occurred_on, type: date}
    - {name: amount, type: money}
"""


def role(name: str) -> str:
    return f"apiVersion: banyan/v1\nkind: Role\nmetadata: {{name: {name}}}\nspec: {{scope: org_unit}}\n"


IN_APP = """\
apiVersion: banyan/v1
kind: Channel
metadata: {name: in_app}
spec:
  type: in_app
  templates:
    alert_default: {subject: '{{ alert.label }}', body: '{{ subject.name }}: {{ alert.grade_label }}'}
    reminder: {body: 'Reminder: {{ task.label }}'}
    overdue: {body: 'Overdue: {{ task.label }}'}
    escalation: {body: 'Escalated: {{ task.label }}'}
    urge: {body: 'Please act: {{ task.label }}'}
    cc: {body: 'Copied: {{ flow.label }}'}
"""

BASE = {"group.yaml": GROUP, "company.yaml": COMPANY, "event.yaml": EVENT, "in_app.yaml": IN_APP,
        **{f"{r}.yaml": role(r) for r in ("credit_officer", "branch_head", "risk_manager", "credit_committee",
                                           "chief_risk_officer")}}


def compile_with_base(**files: str):
    """Compile the base bundle plus the given files ({stem: yaml text}, dedented)."""
    texts = dict(BASE)
    texts.update({f"{stem}.yaml": textwrap.dedent(text) for stem, text in files.items()})
    return compile_texts(texts)


def found(result, file: str | None = None) -> set[tuple[str, int, int]]:
    """(code, line, col) of every diagnostic (optionally only those in `file`)."""
    return {(d.code, d.span.line, d.span.col) for d in result.diagnostics
            if file is None or d.span.file == file}


def messages(result) -> list[str]:
    return [f"{d.span} {d.code} {d.message} | {d.hint}" for d in result.diagnostics]
