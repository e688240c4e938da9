"""`banyan alerts backtest`: a candidate bundle's alert rules against the deployed ones at every
month-end of a span, over the records as they stood then (runtime/records/asof.py), and what
would have been different (engine/alerts/backtest.py). Nothing is written."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Callable, Iterable

from dsl.bank_time import bank_timezone
from engine.alerts.backtest import Change, differences, month_ends, rolled_up
from engine.alerts.evaluate import evaluate
from runtime.alerts import circles
from runtime.alerts.notify import unit_of
from runtime.alerts.store import AlertError
from runtime.records.asof import AsOfLoader, needed
from runtime.records.context import RecordContext
from runtime.records.history import History
from runtime.records.today_rows import TodayRows

NOTE_IN_PLACE = ("records with a time field (statements, events, transactions, loans by disbursement) count from "
                 "their own dates; fields changed in place (a loan's overdue days, a facility's status) read as they "
                 "stood, the audit log's changes since each month-end undone; a record written after a month-end "
                 "was not there then, except before its entity's first records were written (those stand for the "
                 "time before); computed fields are worked out again for each month-end")


@dataclass
class Backtest:
    months: list[date]
    rules: list[str]
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    subjects: int = 0


# The graph functions (engine/functions.py): they read the relationship graph as it is today.
GRAPH_FUNCTIONS = ("in_guarantee_circle", "mutual_guarantee", "circle_size", "controller", "effective_share",
                   "contagion_score")
_GRAPH_CALL = re.compile(r"\b(" + "|".join(GRAPH_FUNCTIONS) + r")\s*\(")


def read_today(rule: Any) -> list[str]:
    """What a rule reads that the backtest cannot put back as it stood: the graph (its functions read
    today's equity and guarantee graph) and other alerts (the ones open today)."""
    exprs = [g.when for g in rule.grades] + [e.value for e in rule.evidence]
    out = []
    if any(_GRAPH_CALL.search(e.text) for e in exprs):
        out.append(f"`{rule.name}` calls graph functions, which read today's equity and guarantee graph at every "
                   "month-end (the graph keeps no history)")
    if any("alerts" in path for e in exprs for path in e.paths):
        out.append(f"`{rule.name}` reads records' alerts: those open today, at every month-end")
    return out


def _reads(rule: Any) -> str:
    texts = [g.when.text for g in rule.grades] + [e.value.text for e in rule.evidence]
    return " ".join(texts)


def backtest(service: Any, candidate: Any, *, start: str, end: str, rule_names: Iterable[str] | None = None,
             progress: Callable[[date], None] | None = None) -> Backtest:
    """Every month-end from `start` to `end` (YYYY-MM): the deployed rules and `candidate`'s (a
    compiled bundle) graded over each subject as the records stood then."""
    live = service.records.refresh()
    deployed = {r.name: r for r in service.rules(live)}
    proposed = {n: d for (k, n), d in candidate.documents.items() if k == "AlertRule"}
    names = sorted(rule_names) if rule_names else sorted(set(deployed) | set(proposed))
    for n in names:
        if n not in deployed and n not in proposed:
            raise AlertError(f"no alert rule `{n}` in the candidate or the deployment", code="unknown_rule",
                             status=404)
    _same_entities(live, candidate, [proposed.get(n) or deployed[n] for n in names])
    result = Backtest(month_ends(start, end), names, notes=[NOTE_IN_PLACE])
    by_scope: dict[str, list[str]] = {}
    for n in names:
        scope = (proposed.get(n) or deployed[n]).scope
        if scope == circles.CIRCLE:
            result.notes.append(f"`{n}` watches guarantee circles, which are not replayed: the graph keeps no history")
            continue
        by_scope.setdefault(scope, []).append(n)
        for r in (deployed.get(n), proposed.get(n)):
            for note in read_today(r) if r is not None else ():
                if note not in result.notes:
                    result.notes.append(note)
    wanted: dict[str, set[str]] = {}
    for entity, rule_list in by_scope.items():
        for n in rule_list:
            for r in (deployed.get(n), proposed.get(n)):
                if r is None:
                    continue
                exprs = [g.when for g in r.grades] + [e.value for e in r.evidence]
                for ent, fields in needed(live, entity, [p for e in exprs for p in e.paths]).items():
                    wanted.setdefault(ent, set()).update(fields)
    tz = bank_timezone()
    moments = [datetime.combine(m, time(23, 59, 59), tz) for m in result.months]
    history, today = History(live, since=moments[0]), TodayRows(live)
    for month_end, at in zip(result.months, moments):
        with service.engine.connect() as conn:
            loader = AsOfLoader(conn, live, at, service.records.rules, wanted, history, today)
            for entity, rule_list in by_scope.items():
                rows = loader.rows(entity, loader.ids(entity))
                reads = " ".join(_reads(proposed.get(n) or deployed[n]) for n in rule_list)
                for c in live.entity(entity).collections:
                    if c.name in reads:
                        loader.prime(c.entity, c.via, list(rows))
                key_field = live.model[entity].key
                grades: dict[str, tuple[dict, dict]] = {n: ({}, {}) for n in rule_list}
                about: dict[str, tuple[str, str]] = {}
                for id_, row in rows.items():
                    ctx = RecordContext(entity, row, loader, id_)
                    key = str(row.get(key_field) if key_field else id_)
                    for n in rule_list:
                        before, after = grades[n]
                        before[key] = evaluate(deployed[n], ctx).grade if n in deployed else None
                        after[key] = evaluate(proposed[n], ctx).grade if n in proposed else None
                        if before[key] != after[key] and key not in about:
                            about[key] = (str(row.get("name") or ""), unit_of(live, loader, entity, row) or "")
                result.subjects += len(rows)
                for n in rule_list:
                    result.changes += differences(month_end, n, *grades[n], about, entity)
                    result.changes += _rolled_up(loader, month_end, n, deployed.get(n), proposed.get(n), rows,
                                                 key_field, grades[n])
        if progress is not None:
            progress(month_end)
    return result


def _rolled_up(loader: AsOfLoader, month_end: date, name: str, old: Any, new: Any, rows: dict[int, dict],
               key_field: str | None, grades: tuple[dict, dict]) -> list[Change]:
    """The roll-ups of rule `name` at a month-end that differ: each parent's grade from its members'
    grades then (the members' parents as they stood), under the deployed rule's roll-up and the
    candidate's."""
    live = loader.live
    targets = {r.roll_up.entity for r in (old, new) if r is not None and r.roll_up is not None and r.roll_up.entity}
    out: list[Change] = []
    for target in sorted(targets):
        sides: list[dict] = []
        for rule, graded in zip((old, new), grades):
            ru = rule.roll_up if rule is not None else None
            if ru is None or ru.entity != target:
                sides.append({})
                continue
            parents = {str(row.get(key_field) if key_field else id_): row.get(ru.to) for id_, row in rows.items()}
            sides.append(rolled_up(parents, graded, ru.grade))
        found = loader.rows(target, sorted(set(sides[0]) | set(sides[1])))
        parent_key = live.model[target].key
        keys = {i: str(row.get(parent_key) if parent_key else i) for i, row in found.items()}
        keyed = [{keys[i]: g for i, g in side.items() if i in keys} for side in sides]
        about = {keys[i]: (str(row.get("name") or ""), unit_of(live, loader, target, row) or "")
                 for i, row in found.items()}
        out += differences(month_end, name, keyed[0], keyed[1], about, target, roll_up=True)
    return out


def _same_entities(live: Any, candidate: Any, rules: list[Any]) -> None:
    """The candidate's rules read the deployed records: an entity they watch must be declared the
    same in both (the same fields), or the backtest would read what is not there."""
    differ = []
    for rule in rules:
        for name in {rule.scope} - {circles.CIRCLE}:
            mine, theirs = candidate.entities.get(name), live.bundle.entities.get(name)
            if mine is None or theirs is None or {f.name for f in mine.fields} != {f.name for f in theirs.fields}:
                differ.append(name)
    if differ:
        raise AlertError(f"the candidate declares {', '.join(sorted(set(differ)))} differently from the deployment: "
                         "deploy the entity change first, then backtest the rules", code="invalid")
