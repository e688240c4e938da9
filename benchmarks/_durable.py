"""rules_vs_durable_rules, for benchmarks/alerts.py: 50 threshold rules over a stream of events, Banyan's
compiled alert rules (`engine.alerts.evaluate`) against durable-rules 2.0.28 (`assert_fact`, as its users
feed it), the firings checked equal. durable-rules is the baseline only (make bench installs it)."""
from __future__ import annotations

import random
import statistics
import time
from types import MappingProxyType

from dsl.diagnostics import Diagnostics
from dsl.expr import compile_expression
from dsl.expr.types import NUMBER, FieldInfo, TypeEnv
from dsl.ir import Label, Metadata
from dsl.kinds.alert_rule import AlertRule, Grade
from dsl.source import Span
from engine.alerts import evaluate

FIELDS = [f"f{i}" for i in range(10)]


# -- rules_vs_durable_rules ----------------------------------------------------------------------
def threshold_rules(n: int, seed: int) -> list[tuple[str, str, int]]:
    """(field, operator, threshold) for each of `n` rules."""
    rng = random.Random(seed)
    return [(FIELDS[i % len(FIELDS)], rng.choice((">", "<")), rng.randrange(50, 950)) for i in range(n)]


def banyan_rules(spec: list[tuple[str, str, int]]) -> list[AlertRule]:
    env = TypeEnv({"reading": {f: FieldInfo(NUMBER, False) for f in FIELDS}})
    scope = env.fields("reading")
    span = Span("bench.yaml", 1, 1)
    out = []
    for i, (field, op, limit) in enumerate(spec):
        diags = Diagnostics()
        when = compile_expression(f"{field} {op} {limit}", span=span, scope=scope, env=env, diags=diags)
        assert when is not None, diags
        meta = Metadata("AlertRule", f"r{i}", Label(), None, None, span, "bench.yaml")
        out.append(AlertRule(meta, "reading", "behavioural", (), (), (Grade("red", when, span),), Label(), (),
                             MappingProxyType({}), True, None, None, ()))
    return out


def events(n: int, seed: int, start: int = 0) -> list[dict]:
    rng = random.Random(seed)
    return [{"id": start + i, **{f: rng.randrange(0, 1000) for f in FIELDS}} for i in range(n)]


def run_banyan(rules: list[AlertRule], facts: list[dict]) -> list[tuple[int, int]]:
    fired = []
    for fact in facts:
        for i, rule in enumerate(rules):
            if evaluate(rule, fact).holds:
                fired.append((fact["id"], i))
    return fired


def run_durable(name: str, spec: list[tuple[str, str, int]], facts: list[dict]) -> list[tuple[int, int]]:
    from durable.lang import assert_fact, m, ruleset, when_all
    fired: list[tuple[int, int]] = []

    def action(i: int):
        def fire(c):
            fired.append((c.m.id, i))
        fire.__name__ = f"r{i}"
        return fire

    with ruleset(name):
        for i, (field, op, limit) in enumerate(spec):
            cond = getattr(m, field) > limit if op == ">" else getattr(m, field) < limit
            when_all(cond)(action(i))
    for fact in facts:
        assert_fact(name, fact)
    return fired


def durable_available() -> bool:
    try:
        import durable.lang  # noqa: F401
    except ImportError:
        return False
    return True


def rules_vs_durable(n_events: int, rounds: int) -> tuple[float, float, int]:
    spec = threshold_rules(50, 7)
    rules = banyan_rules(spec)
    ours, theirs = [], []
    for r in range(rounds):
        facts = events(n_events, 100 + r, start=r * n_events)
        order = ("banyan", "durable") if r % 2 == 0 else ("durable", "banyan")
        got = {}
        for who in order:
            start = time.perf_counter()
            got[who] = run_banyan(rules, facts) if who == "banyan" else run_durable(f"bench{r}", spec, facts)
            (ours if who == "banyan" else theirs).append(time.perf_counter() - start)
        if sorted(got["banyan"]) != sorted(got["durable"]):
            raise SystemExit(f"round {r}: Banyan fired {len(got['banyan'])} times, durable-rules "
                             f"{len(got['durable'])}: the rules disagree")
    return statistics.median(ours), statistics.median(theirs), len(got["banyan"])
