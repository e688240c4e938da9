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
from dsl.kinds.test_suite_checks import (
    check_after,
    check_case_names,
    check_defaults,
    check_expectations,
    check_now,
    typed_records,
)
from dsl.link import LinkContext
from dsl.loader import Document
from dsl.source import Span

_RECORD = {"type": "object", "propertyNames": NAME, "additionalProperties": {
    "description": "A field value: a literal (5亿, 70%, 2026-03-31), a ref's key, or a list.",
    "oneOf": [LITERAL, {"type": "null"}, {"type": "array"}]}}

_GIVEN = {"type": "object", "propertyNames": NAME, "minProperties": 1,
          "description": "Records by entity name (company: {…}) or by a collection of a given record "
                         "(financials: [{…}, …]); one record or a list.",
          "additionalProperties": {"oneOf": [_RECORD, {"type": "array", "items": _RECORD}]}}

_ALERTS = {"type": "array", "description": "Exactly these open alerts ([] means none at all).",
           "items": {"type": "object", "required": ["rule", "grade"], "additionalProperties": False,
                     "properties": {
                         "rule": NAME, "grade": {"enum": ["yellow", "orange", "red", "none"]},
                         "on": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*/.+$",
                                "description": "The record the alert is on, as entity/key: company/91310000MA1FL8XQ6G, "
                                               "group/G0001 (a roll-up). Without it, the rule's alerts on any record.",
                                "x-hint": "write entity/key, e.g. company/91310000MA1FL8XQ6G"}}}}

_NOTIFIED = {"type": "array", "description": "Messages the alerts' notify actions must have sent (others may be sent too).",
             "items": {"type": "object", "required": ["role"], "additionalProperties": False,
                       "properties": {"role": NAME, "channel": NAME}}}

_STARTED = {"type": "array", "items": NAME, "description": "Exactly the flows the alerts' actions started ([]: none)."}

_TIER = {"type": "object", "required": ["tiering", "tier"], "additionalProperties": False,
         "description": "The tier the subject gets (alert rules are evaluated first: caps read alerts).",
         "properties": {"tiering": NAME, "tier": NAME,
                        "on": {"type": "string", "minLength": 1,
                               "description": "The subject's key (G0001); needed when the case gives several."},
                        "scores": {"type": "object", "propertyNames": NAME, "minProperties": 1,
                                   "additionalProperties": {"type": ["number", "string"]},
                                   "description": "Dimension scores to check, {dimension: score}, e.g. "
                                                  "{contribution: 70, risk: 40}; `score` is the weighted total."}}}

_LATER = {"type": "object", "additionalProperties": False, "minProperties": 1,
          "properties": {"alerts": _ALERTS, "notified": _NOTIFIED, "started": _STARTED, "tier": _TIER}}

CASE = {
    "type": "object", "required": ["name", "expect"], "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "description": "What the case shows, in a sentence."},
        "now": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$",
                "description": "The clock for the case (windows such as `last 2 quarters` count back from it).",
                "x-hint": "write a date, e.g. '2026-03-31'"},
        "given": _GIVEN,
        "flow": {"type": "object", "required": ["name"], "additionalProperties": False,
                 "description": "Run a flow on the given subject.",
                 "properties": {"name": NAME, "form": _RECORD,
                                "decisions": {"type": "object", "propertyNames": NAME,
                                              "additionalProperties": {"enum": ["approve", "reject", "return",
                                                                                "complete", "timeout"]},
                                              "description": "{node: action}; steps not listed approve (or complete)."},
                                "fields": {"type": "object", "propertyNames": NAME, "additionalProperties": _RECORD,
                                           "description": "{node: {field: value}}: what the holder of a step fills in "
                                                          "when acting on it (a step of a flow this one calls too)."}}},
        "expect": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "alerts": _ALERTS, "notified": _NOTIFIED, "started": _STARTED, "tier": _TIER,
                "flow": {"type": "object", "additionalProperties": False, "minProperties": 1,
                         "properties": {"path": {"type": "array", "items": ID, "minItems": 1,
                                                 "description": "The node ids visited, in order."},
                                        "outcome": NAME}},
            },
        },
        "then": {"type": "array", "minItems": 1,
                 "description": "Later moments of the same case: the clock moves on by `after` (3 months, 2 days), "
                                "new records may arrive (`given`), the rules run again, and `expect` is checked.",
                 "items": {"type": "object", "required": ["after", "expect"], "additionalProperties": False,
                           "properties": {"after": {"type": "string", "minLength": 1,
                                                    "description": "How long after the moment before: 3 months, 2 days.",
                                                    "x-hint": "write a duration or a period, e.g. '3 months'"},
                                          "given": _GIVEN, "expect": _LATER}}},
    },
}

TEST_SUITE_SPEC = {"type": "object", "required": ["cases"], "additionalProperties": False,
                   "properties": {
                       "defaults": {"type": "object", "propertyNames": NAME, "additionalProperties": _RECORD,
                                    "description": "Field values every given record of an entity starts from "
                                                   "(company: {legal_form: …, region: …}); a case's own values win. "
                                                   "They pass the same field rules as the case's."},
                       "cases": {"type": "array", "items": CASE, "minItems": 1}}}


@dataclass(frozen=True)
class AlertExpectation:
    rule: str
    grade: str                       # yellow | orange | red | none
    span: Span
    on: str | None = None            # entity/key of the record the alert is on; None: any


@dataclass(frozen=True)
class Expectations:
    """What one moment of a case expects (None: not checked)."""
    alerts: tuple[AlertExpectation, ...] | None    # (): no alert at all
    notified: tuple[tuple[str, str | None, Span], ...] | None   # (role, channel or None, line)
    started: tuple[str, ...] | None                # the flows the alerts' actions started
    tier: "TierExpectation | None"
    span: Span


@dataclass(frozen=True)
class TierExpectation:
    """The tier a case expects: of `tiering`, on the subject `on` (None: the only one given), with
    the dimension `scores` named (their text as written: 70, "62.5")."""
    tiering: str
    tier: str
    on: str | None
    scores: tuple[tuple[str, str], ...]
    span: Span


@dataclass(frozen=True)
class Later:
    """A later moment of a case (`then:`): the clock moved on by `after`, more records given."""
    after: Any                                    # timedelta | Period
    given: Mapping[str, tuple[Mapping[str, Any], ...]]
    given_spans: Mapping[str, tuple[Span, ...]]
    expect: Expectations
    span: Span


@dataclass(frozen=True)
class FlowRun:
    flow: str
    form: Mapping[str, Any]
    decisions: Mapping[str, str]
    span: Span
    fields: Mapping[str, Mapping[str, Any]]      # node → what its holder fills in


@dataclass(frozen=True)
class TestCase:
    name: str
    now: str | None
    given: Mapping[str, tuple[Mapping[str, Any], ...]]
    flow: FlowRun | None
    alerts: tuple[AlertExpectation, ...] | None    # None: alerts not checked; (): none may fire
    tier: TierExpectation | None
    flow_path: tuple[str, ...] | None
    flow_outcome: str | None
    span: Span
    given_spans: Mapping[str, tuple[Span, ...]]    # each given record's line
    raw: Mapping[str, tuple[Mapping[str, Any], ...]]    # the given records as written (the records service reads them)
    expect: Expectations                          # alerts, notified, started, tier of the first moment
    then: tuple[Later, ...]                       # the later moments


@dataclass(frozen=True)
class TestSuite:
    meta: Metadata
    cases: tuple[TestCase, ...]
    defaults: Mapping[str, Mapping[str, Any]]     # entity → field values its given records start from

    @property
    def name(self) -> str:
        return self.meta.name


def _given(doc: Document, path: tuple, given: Any) -> tuple[dict, dict]:
    """The given records as written, and the line of each."""
    raw = {k: tuple(v) if isinstance(v, list) else (v,) for k, v in (given or {}).items()}
    spans = {k: tuple(doc.span(path + (k, j)) for j in range(len(v))) if isinstance(v, list)
             else (doc.span(path + (k,)),) for k, v in (given or {}).items()}
    return raw, spans


def _expectations(doc: Document, path: tuple, expect: Mapping[str, Any]) -> Expectations:
    alerts = tuple(AlertExpectation(a["rule"], a["grade"], doc.span(path + ("alerts", j)), a.get("on"))
                   for j, a in enumerate(expect["alerts"])) if "alerts" in expect else None
    notified = tuple((n["role"], n.get("channel"), doc.span(path + ("notified", j)))
                     for j, n in enumerate(expect["notified"])) if "notified" in expect else None
    started = tuple(expect["started"]) if "started" in expect else None
    tier = None
    if "tier" in expect:
        t = expect["tier"]
        tier = TierExpectation(t["tiering"], t["tier"], None if t.get("on") is None else str(t["on"]),
                               tuple((k, str(v)) for k, v in (t.get("scores") or {}).items()),
                               doc.span(path + ("tier",)))
    return Expectations(alerts, notified, started, tier, doc.key_span(path))


def _build(doc: Document, ctx: LinkContext) -> TestSuite:
    cases = []
    check_case_names(doc, ctx)
    for i, c in enumerate(spec_of(doc)["cases"]):
        path = ("spec", "cases", i)
        given, entities = typed_records(doc, ctx, path, c)
        check_now(doc, ctx, path, c)
        raw, spans = _given(doc, path + ("given",), c.get("given"))
        check_expectations(doc, ctx, path, c, entities)
        expect = c["expect"]
        run = c.get("flow")
        flow_run = FlowRun(run["name"], MappingProxyType(dict(run.get("form") or {})),
                           MappingProxyType(dict(run.get("decisions") or {})), doc.span(path + ("flow",)),
                           MappingProxyType({k: MappingProxyType(dict(v)) for k, v in (run.get("fields") or {}).items()})
                           ) if run else None
        first = _expectations(doc, path + ("expect",), expect)
        later = []
        for j, step in enumerate(c.get("then") or []):
            spath = path + ("then", j)
            more, more_entities = typed_records(doc, ctx, spath, step, entities)
            check_expectations(doc, ctx, spath, step, {**entities, **more_entities})
            after = check_after(doc, ctx, spath + ("after",))
            sraw, sspans = _given(doc, spath + ("given",), step.get("given"))
            later.append(Later(after, MappingProxyType(sraw), MappingProxyType(sspans),
                               _expectations(doc, spath + ("expect",), step["expect"]), doc.span(spath)))
        fexp = expect.get("flow") or {}
        cases.append(TestCase(c["name"], c.get("now"), MappingProxyType(given), flow_run, first.alerts, first.tier,
                              tuple(fexp["path"]) if "path" in fexp else None, fexp.get("outcome"), doc.span(path),
                              MappingProxyType(spans), MappingProxyType(raw), first, tuple(later)))
    defaults = check_defaults(doc, ctx)
    return TestSuite(metadata_of(doc), tuple(cases), MappingProxyType(defaults))


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
