"""The TestSuite kind: cases a business expert writes — given records, expected alerts,
tiers and flow paths — run by `banyan test`. Every name a case uses is checked when the
bundle compiles (BNY605), so a test can never silently test nothing."""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from dsl.ir import Metadata
from dsl.kinds.common import LITERAL, NAME, envelope
from dsl.kinds.meta import metadata_of
from dsl.kinds.parts import ID, spec_of
from dsl.kinds.registry import KindDef, register
from dsl.kinds.test_suite_checks import check_case_names, check_expectations, typed_records
from dsl.link import LinkContext
from dsl.loader import Document
from dsl.source import Span

_RECORD = {"type": "object", "propertyNames": NAME, "additionalProperties": {
    "description": "A field value: a literal (5亿, 70%, 2026-03-31), a ref's key, or a list.",
    "oneOf": [LITERAL, {"type": "null"}, {"type": "array"}]}}

CASE = {
    "type": "object", "required": ["name", "expect"], "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "description": "What the case shows, in a sentence."},
        "now": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$",
                "description": "The clock for the case (windows such as `last 2 quarters` count back from it).",
                "x-hint": "write a date, e.g. '2026-03-31'"},
        "given": {"type": "object", "propertyNames": NAME, "minProperties": 1,
                  "description": "Records by entity name (company: {…}) or by a collection of a given record "
                                 "(financials: [{…}, …]); one record or a list.",
                  "additionalProperties": {"oneOf": [_RECORD, {"type": "array", "items": _RECORD}]}},
        "flow": {"type": "object", "required": ["name"], "additionalProperties": False,
                 "description": "Run a flow on the given subject.",
                 "properties": {"name": NAME, "form": _RECORD,
                                "decisions": {"type": "object", "propertyNames": NAME,
                                              "additionalProperties": {"enum": ["approve", "reject", "return",
                                                                                "complete", "timeout"]},
                                              "description": "{node: action}; steps not listed approve (or complete)."}}},
        "expect": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "alerts": {"type": "array", "description": "Exactly these alerts are raised ([] means none at all).",
                           "items": {"type": "object", "required": ["rule", "grade"], "additionalProperties": False,
                                     "properties": {"rule": NAME,
                                                    "grade": {"enum": ["yellow", "orange", "red", "none"]}}}},
                "tier": {"type": "object", "required": ["tiering", "tier"], "additionalProperties": False,
                         "properties": {"tiering": NAME, "tier": NAME}},
                "flow": {"type": "object", "additionalProperties": False, "minProperties": 1,
                         "properties": {"path": {"type": "array", "items": ID, "minItems": 1,
                                                 "description": "The node ids visited, in order."},
                                        "outcome": NAME}},
            },
        },
    },
}

TEST_SUITE_SPEC = {"type": "object", "required": ["cases"], "additionalProperties": False,
                   "properties": {"cases": {"type": "array", "items": CASE, "minItems": 1}}}


@dataclass(frozen=True)
class AlertExpectation:
    rule: str
    grade: str                       # yellow | orange | red | none
    span: Span


@dataclass(frozen=True)
class FlowRun:
    flow: str
    form: Mapping[str, Any]
    decisions: Mapping[str, str]
    span: Span


@dataclass(frozen=True)
class TestCase:
    name: str
    now: str | None
    given: Mapping[str, tuple[Mapping[str, Any], ...]]
    flow: FlowRun | None
    alerts: tuple[AlertExpectation, ...] | None    # None: alerts not checked; (): none may fire
    tier: tuple[str, str] | None                  # (tiering, tier)
    flow_path: tuple[str, ...] | None
    flow_outcome: str | None
    span: Span


@dataclass(frozen=True)
class TestSuite:
    meta: Metadata
    cases: tuple[TestCase, ...]

    @property
    def name(self) -> str:
        return self.meta.name


def _build(doc: Document, ctx: LinkContext) -> TestSuite:
    cases = []
    check_case_names(doc, ctx)
    for i, c in enumerate(spec_of(doc)["cases"]):
        path = ("spec", "cases", i)
        given, entities = typed_records(doc, ctx, path, c)
        check_expectations(doc, ctx, path, c, entities)
        expect = c["expect"]
        run = c.get("flow")
        flow_run = FlowRun(run["name"], MappingProxyType(dict(run.get("form") or {})),
                           MappingProxyType(dict(run.get("decisions") or {})), doc.span(path + ("flow",))) if run else None
        alerts = tuple(AlertExpectation(a["rule"], a["grade"], doc.span(path + ("expect", "alerts", j)))
                       for j, a in enumerate(expect["alerts"])) if "alerts" in expect else None
        tier = (expect["tier"]["tiering"], expect["tier"]["tier"]) if "tier" in expect else None
        fexp = expect.get("flow") or {}
        cases.append(TestCase(c["name"], c.get("now"), MappingProxyType(given), flow_run, alerts, tier,
                              tuple(fexp["path"]) if "path" in fexp else None, fexp.get("outcome"), doc.span(path)))
    return TestSuite(metadata_of(doc), tuple(cases))


TEST_SUITE = register(KindDef(
    kind="TestSuite", schema=envelope("TestSuite", TEST_SUITE_SPEC, "Given/expect cases for alert rules, tiers and flows."),
    order=90, build=_build,
    summary="Test cases: given records, expected alerts (rule and grade), tier, and flow path and outcome.",
    scaffold="""\
spec:
  cases:
    - name: a quiet head office raises no alert
      given:
        org_unit: {name: head_office, type: head_office}
      expect:
        alerts: []
""",
))
