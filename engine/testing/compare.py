"""What a business test case expected against what the run produced: the differences, each
with the line of the case it belongs to, and the path a flow instance took. Pure: the runtime
(runtime/testing/) runs the case and hands in what it saw."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping, Sequence

from dsl.source import Span

PASSED, FAILED, NOT_RUN, ERROR = "passed", "failed", "not run", "error"
REJECTED = "(rejected)"             # an approval without `on_reject`: a reject ends the flow


@dataclass(frozen=True)
class SeenAlert:
    """An open alert the case's run left: rule, grade, and the record it is on (`rolled_up`: the
    rule's alert on the record its subjects roll up to, a group)."""
    rule: str
    grade: str
    entity: str
    key: str
    rolled_up: bool = False


@dataclass(frozen=True)
class Difference:
    """One way the run differs from the case: what was expected, what came, where it was written."""
    what: str                       # alerts | flow.path | flow.outcome | given | now | run
    expected: str
    got: str
    span: Span

    def to_dict(self) -> dict[str, Any]:
        return {"what": self.what, "expected": self.expected, "got": self.got,
                "at": f"{self.span.file}:{self.span.line}"}


@dataclass
class CaseResult:
    suite: str
    case: str
    span: Span
    status: str = PASSED
    differences: list[Difference] = field(default_factory=list)
    reason: str | None = None       # not run / error: why, in words
    seconds: float = 0.0

    def fail(self, difference: Difference) -> None:
        self.differences.append(difference)
        if self.status == PASSED:
            self.status = FAILED

    def to_dict(self) -> dict[str, Any]:
        return {"suite": self.suite, "case": self.case, "at": f"{self.span.file}:{self.span.line}",
                "status": self.status, "reason": self.reason, "seconds": round(self.seconds, 3),
                "differences": [d.to_dict() for d in self.differences]}


def _alert(rule: str, grade: str, entity: str | None = None, key: str | None = None) -> str:
    return f"{rule} {grade}" + (f" on {entity}/{key}" if entity else "")


def compare_alerts(expected: Sequence[Any], seen: Iterable[SeenAlert], span: Span) -> list[Difference]:
    """`expected`: the case's alert expectations (rule, grade, span, on), `grade: none` meaning
    the rule raises nothing (on that record, with `on`); the list is the whole story, so an alert
    nobody expected is a difference, shown at `span` (the case's `expect`). An expectation with
    `on: entity/key` takes the rule's alert on that record; one without takes the rule's alerts
    the others left on the records it watches, and all of them must be in its grade. A roll-up
    (the rule's alert on a group its subjects belong to) is checked only where a case names it
    with `on: group/…`; otherwise it is the rule's business, not the case's."""
    left: dict[str, list[SeenAlert]] = {}
    for a in seen:
        left.setdefault(a.rule, []).append(a)
    out: list[Difference] = []
    ordered = sorted(enumerate(expected), key=lambda ie: (getattr(ie[1], "on", None) is None, ie[0]))
    for _, e in ordered:
        on = getattr(e, "on", None)
        mine = left.get(e.rule, [])
        got = [a for a in mine if f"{a.entity}/{a.key}" == on] if on is not None else \
            [a for a in mine if not a.rolled_up]
        left[e.rule] = [a for a in mine if a not in got]
        if e.grade == "none":
            for a in got:
                out.append(Difference("alerts", f"{e.rule}: no alert" + (f" on {on}" if on else ""),
                                      _alert(a.rule, a.grade, a.entity, a.key), e.span))
            continue
        if not got:
            out.append(Difference("alerts", _alert(e.rule, e.grade) + (f" on {on}" if on else ""),
                                  f"{e.rule}: no alert" + (f" on {on}" if on else ""), e.span))
            continue
        for a in got:
            if a.grade != e.grade:
                out.append(Difference("alerts", _alert(e.rule, e.grade) + (f" on {on}" if on else ""),
                                      _alert(a.rule, a.grade, a.entity, a.key), e.span))
    for rule in sorted(left):
        for a in left[rule]:
            if a.rolled_up:
                continue
            out.append(Difference("alerts", "no such alert (the case's list names every alert it expects)",
                                  _alert(a.rule, a.grade, a.entity, a.key), span))
    return out


def compare_flow(path: Sequence[str] | None, outcome: str | None, got_path: Sequence[str], got_outcome: str | None,
                 status: str, span: Span) -> list[Difference]:
    out = []
    if path is not None and list(path) != list(got_path):
        out.append(Difference("flow.path", " → ".join(path), " → ".join(got_path) or "(nothing)", span))
    if outcome is not None and outcome != got_outcome:
        got = got_outcome if got_outcome is not None else f"not finished ({status})"
        out.append(Difference("flow.outcome", outcome, str(got), span))
    return out


def _get(event: Any, key: str) -> Any:
    return event.get(key) if isinstance(event, Mapping) else getattr(event, key, None)


# An instance comes to a node with one of these events, and leaves it with one of the others (a
# gateway, an action or an end does both at once); a join's first branch arriving enters it.
_ENTER = frozenset({"step_opened", "step_reopened", "split", "branch", "arrived", "joined", "finished", "cancelled",
                    "action", "subflow_started", "waiting", "skipped", "auto_approved"})
_LEAVE = frozenset({"step_passed", "skipped", "auto_approved", "joined", "subflow_ended", "event_received",
                    "timeout_approved", "timeout_rejected", "step_rejected", "split", "branch", "finished",
                    "cancelled", "returned", "withdrawn"})


def flow_path(flow: Any, events: Iterable[Any]) -> list[str]:
    """The nodes of `flow` an instance came to, in the order it first came to them: parallel
    steps each once, a join once however many branches arrive, and a step again only when the
    instance comes back to it after leaving it (a returned application shows the step twice).
    Events about no node (start) add nothing."""
    nodes = {n.id for n in flow.nodes}
    out: list[str] = []
    here: set[str] = set()                 # the nodes the instance is at now
    acting: str | None = None              # an action node: one event per action, left when the next begins
    for e in events:
        nid, kind = _get(e, "node"), _get(e, "kind")
        if nid not in nodes:
            continue
        if acting is not None and nid != acting:
            here.discard(acting)
            acting = None
        if kind == "action":
            acting = nid
        if kind in _ENTER and nid not in here:
            out.append(nid)
            here.add(nid)
        if kind in _LEAVE:
            here.discard(nid)
    return out


@dataclass
class Coverage:
    """What the cases exercised, against what the bundle has: grades of alert rules, actions of
    alert rules (start_flow, update), and the branches of flows (an edge out of a node with more
    than one way on)."""
    grades: dict[tuple[str, str], bool] = field(default_factory=dict)
    actions: dict[tuple[str, int, str], bool] = field(default_factory=dict)
    branches: dict[tuple[str, str, str], bool] = field(default_factory=dict)
    tiers: dict[tuple[str, str, int], bool] = field(default_factory=dict)    # (tiering, row | cap, index)

    def missing(self) -> dict[str, list[str]]:
        return {"grades": [f"{r} {g}" for (r, g), hit in sorted(self.grades.items()) if not hit],
                "actions": [f"{r} action {i + 1} ({k})" for (r, i, k), hit in sorted(self.actions.items()) if not hit],
                "branches": [f"{f}: {a} → {b}" for (f, a, b), hit in sorted(self.branches.items()) if not hit],
                "tiers": [f"{t} {k} {i + 1}" for (t, k, i), hit in sorted(self.tiers.items()) if not hit]}

    def summary(self) -> dict[str, tuple[int, int]]:
        return {name: (sum(1 for hit in table.values() if hit), len(table))
                for name, table in (("grades", self.grades), ("actions", self.actions), ("branches", self.branches),
                                    ("tier rows and caps", self.tiers))}


def coverage_of(rules: Iterable[Any], flows: Iterable[Any], graded: Iterable[tuple[str, str]],
                acted: Iterable[tuple[str, int]], taken: Iterable[tuple[str, str, str]],
                tierings: Iterable[Any] = (), tiered: Iterable[tuple[str, str, int]] = ()) -> Coverage:
    """`graded`: (rule, grade) of every alert a case's run opened; `acted`: (rule, action index)
    of every start_flow or update that ran; `taken`: (flow, from node, to node) of every edge a
    case's instance took; `tiered`: (tiering, "row" or "cap", index) of every decision table row
    that chose a case's tier and every cap that lowered it."""
    cov = Coverage()
    hit_tiers = set(tiered)
    for t in tierings:
        for kind, items in (("row", t.rules), ("cap", t.caps)):
            for i, _ in enumerate(items):
                cov.tiers[(t.name, kind, i)] = (t.name, kind, i) in hit_tiers
    hit_grades, hit_actions, hit_edges = set(graded), set(acted), set(taken)
    for rule in rules:
        for g in rule.grades:
            cov.grades[(rule.name, g.name)] = (rule.name, g.name) in hit_grades
        for i, a in enumerate(rule.actions):
            if a.kind in ("start_flow", "update"):
                cov.actions[(rule.name, i, a.kind)] = (rule.name, i) in hit_actions
    for flow in flows:
        for a, b in branches_of(flow):
            cov.branches[(flow.name, a, b)] = (flow.name, a, b) in hit_edges
    return cov


def branches_of(flow: Any) -> list[tuple[str, str]]:
    """The edges out of a flow's decision points: every way on from a node that has more than one
    (a gateway's branches and default, an approval's next and its reject — `REJECTED` when a
    reject ends the flow —, a deadline's timeout goto)."""
    out: dict[str, list[str]] = {}
    for node in flow.nodes:
        ways: list[str] = []
        for case in getattr(node, "cases", None) or ():          # a gateway's branches, then its default
            ways.append(case.goto)
        default = getattr(node, "default", None)
        if isinstance(default, str):
            ways.append(default)
        if hasattr(node, "countersign"):                          # an approval: on, or back (or out) on reject
            if node.next:
                ways.append(node.next)
            ways.append(node.on_reject or REJECTED)
        timing = getattr(node, "timing", None)
        if timing is not None and timing.on_timeout == "goto" and timing.timeout_goto:
            if not ways and node.next:
                ways.append(node.next)
            ways.append(timing.timeout_goto)
        ways = list(dict.fromkeys(ways))
        if len(ways) > 1:
            out[node.id] = ways
    return [(a, b) for a, ways in out.items() for b in ways]


def edges_taken(flow: Any, walk: Any) -> list[tuple[str, str]]:
    """The decision edges an instance took, from its walk (engine/flow/svg.walked): the edges it
    went along, and an approval's reject that ended the flow."""
    out = [(a, b) for a, b in walk.taken]
    out += [(n, REJECTED) for n in walk.rejected if walk.outcome == "rejected"]
    return out


def compare_tier(expected: Any, result: Any, subject: str) -> list[Difference]:
    """A tier case (`expect.tier`) against what engine/tiering decided for `subject`: the tier,
    and each dimension score it names (exactly, as written: 70 is 70.0)."""
    out = []
    label = f"{subject}: "
    if result is None:
        return [Difference("tier", f"{label}{expected.tier}", f"{label}not found", expected.span)]
    got = result.tier or f"not tiered ({result.problem})"
    if result.tier != expected.tier:
        rule = result.decisive_rule
        why = f" (row {rule.index + 1})" if rule is not None and result.tier else ""
        cap = result.decisive_cap
        why += f" (capped by cap {cap.index + 1})" if cap is not None else ""
        out.append(Difference("tier", f"{label}{expected.tier}", f"{label}{got}{why}", expected.span))
    scores = {d.name: d.value for d in result.dimensions}
    scores["score"] = result.score
    for name, text in expected.scores:
        value = scores.get(name)
        try:
            same = value is not None and Decimal(text) == value
        except InvalidOperation:                 # the schema lets a text through: "62.5" is fine, "high" is not
            same = False
        if not same:
            shown = "null" if value is None else format(value.normalize(), "f")
            out.append(Difference(f"tier.scores.{name}", text, shown, expected.span))
    return out
