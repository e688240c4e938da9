"""A two-entity bundle with every kind of rule, for the records tests."""
from __future__ import annotations

from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.live import live_from_bundle
from runtime.deploy.releases import release_of
from runtime.records.service import Records

from .bundles import bundle, entity

GROUP = entity("group", """
    - {name: code, type: string, label: {en: Code}, required: true, unique: true, max_length: 20}
    - {name: name, type: string, label: {en: Name}, required: true}
    - {name: member_count, type: integer, label: {en: Members}, compute: "count(members)"}
    - {name: total_capital, type: money, label: {en: Capital}, compute: "sum(members, m -> m.capital)"}
""", extra="""
collections:
  - {name: members, entity: company, via: group, label: {en: Members}}
""")

COMPANY = entity("company", """
    - {name: code, type: string, label: {en: Code}, required: true, unique: true, min_length: 3, max_length: 20, pattern: "^C[0-9]+$"}
    - {name: name, type: string, label: {en: Name}, required: true, index: true}
    - {name: group, type: ref(group), label: {en: Group}}
    - {name: capital, type: money, label: {en: Capital}, min: 0}
    - {name: debt, type: money, label: {en: Debt}, min: 0}
    - {name: debt_ratio, type: percent, label: {en: Debt ratio}, compute: "if capital > 0 then debt / capital else null"}
    - {name: employees, type: integer, label: {en: Employees}, min: 1, max: 100000}
    - {name: founded, type: date, label: {en: Founded}}
    - {name: listed, type: bool, label: {en: Listed}, default: false}
    - {name: ticker, type: string, label: {en: Ticker}, required_when: "listed"}
    - {name: size, type: enum, label: {en: Size}, values: [large, medium, small], default: small}
    - {name: branch, type: ref(org_unit), label: {en: Branch}}
""", extra="""
validations:
  - rule: "debt <= capital * 10"
    message: {en: debt is more than ten times the capital}
    fields: [debt]
""")

FILES = (GROUP, COMPANY)


def deploy(engine, *files):
    b = bundle(*(files or FILES))
    reg = DeploymentRegistry(engine)
    out = reg.deploy(release_of(b), author="test")
    return Records(engine, live_from_bundle(b, out.version, reg.current().model))
