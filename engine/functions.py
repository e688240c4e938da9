"""Functions the engine adds to the expression language, declared to dsl/ through the
`banyan.functions` entry point (pyproject.toml), so dsl/ never imports engine/.

Graph facts come from the evaluation context, which the runtime fills:
- `$graph`: a `engine.graph.GraphSnapshot` of the bank's equity and guarantee edges, keyed
  by firm key (the company's `credit_code`);
- `$contagion`: a `ContagionResult` for the current set of distressed firms.
Without them a graph function is null ("not known"), so a rule built on it does not fire.

    in_guarantee_circle(credit_code)         bool     the firm is in a guarantee circle (担保圈)
    circle_size(credit_code)                 integer  firms in its circle, 0 when none
    mutual_guarantee(credit_code)            bool     it guarantees a firm that guarantees it back
    controller(credit_code)                  string   the ultimate controller's key, null if none
    effective_share(holder, credit_code)     percent  look-through ownership, all layers
    contagion_score(credit_code)             number   0..1, risk reaching it from distressed firms

Alerts as facts: every record's open alerts are `alerts` (the runtime's `$alerts` fills them):

    worst_grade(alerts)                      string   red, orange or yellow; null when none is open

Concentration before approval (engine/graph/concentration.py), for a flow's route: the group is
a group record (a flow's `subject`) or its key; the amounts are CNY; the date is the evaluation's
(`$now`), the capital the `bank_capital` figure effective on or before it (none: an error that says
so, never a default); an amount without an exchange rate is an error, never summed in as yuan.

    group_credit_ratio(group, amount)        percent  (members' loan balances + amount) / net capital
    single_borrower_ratio(group, sub_limits) percent  the largest one member's balances + its rows of
                                                      `sub_limits` (each with `borrower`, `amount`) / net capital
    connected_credit_ratio(group, amount)    percent  (balances of the members and the firms control links
                                                      to them + amount) / tier-1 capital

They read `$graph`'s `exposure` (an `ExposureBook`); in a flow, where the context holds only the
subject and the form, the group record brings its operation's `$graph` along. Without one they
are null, like the functions above.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Mapping

from dsl.bank_time import bank_today
from dsl.expr import functions
from dsl.expr.functions import Signature, TypeSet
from dsl.expr.runtime import NOW_KEY
from dsl.expr.types import BOOL, INTEGER, MONEY, NUMBER, PERCENT, STRING, list_of, record

if TYPE_CHECKING:                 # the graph (numpy, scipy) loads only when the runtime passes one in
    from engine.graph.concentration import Concentration, ExposureBook
    from engine.graph.contagion import ContagionResult
    from engine.graph.snapshot import GraphSnapshot

GRAPH_KEY = "$graph"
CONTAGION_KEY = "$contagion"
_PLACES = Decimal("0.000001")


def _graph(ctx: Mapping[str, Any]) -> GraphSnapshot | None:
    return ctx.get(GRAPH_KEY)


def in_guarantee_circle(ctx: Mapping[str, Any], firm: str) -> bool | None:
    g = _graph(ctx)
    return None if g is None else g.in_guarantee_circle(firm)


def circle_size(ctx: Mapping[str, Any], firm: str) -> int | None:
    g = _graph(ctx)
    return None if g is None else g.circle_size(firm)


def mutual_guarantee(ctx: Mapping[str, Any], firm: str) -> bool | None:
    g = _graph(ctx)
    if g is None:
        return None
    graph = g.guarantees
    if firm not in graph:
        return False
    return any(firm in graph.guarantees_given(other) for other in graph.guarantees_given(firm))


def controller(ctx: Mapping[str, Any], firm: str) -> str | None:
    g = _graph(ctx)
    return None if g is None else g.controller(firm)


def effective_share(ctx: Mapping[str, Any], holder: str, firm: str) -> Decimal | None:
    g = _graph(ctx)
    return None if g is None else Decimal(repr(g.effective_share(holder, firm))).quantize(_PLACES)


def contagion_score(ctx: Mapping[str, Any], firm: str) -> Decimal | None:
    result: ContagionResult | None = ctx.get(CONTAGION_KEY)
    return None if result is None else Decimal(repr(result.score(firm))).quantize(_PLACES)


# -- concentration before approval -------------------------------------------------------------

GROUP = TypeSet("a group record or its key", frozenset({"record", "string"}))
ROWS = TypeSet("a list of rows with `borrower` and `amount` (the form's sub-limits)", frozenset({"list"}))


def _book(ctx: Mapping[str, Any], group: Any) -> ExposureBook | None:
    g = ctx.get(GRAPH_KEY)
    if g is None and isinstance(group, Mapping):
        g = group.get(GRAPH_KEY)        # a flow's subject record carries its operation's context
    return None if g is None else getattr(g, "exposure", None)


def _as_of(ctx: Mapping[str, Any], book: ExposureBook) -> date | None:
    now = ctx.get(NOW_KEY)
    if isinstance(now, datetime):
        return bank_today(now)          # the bank's day, not UTC's
    return now if isinstance(now, date) else book.as_of


def _concentration(ctx: Mapping[str, Any], group: Any, amount: Any,
                   rows: Any = ()) -> Concentration | None:
    book = _book(ctx, group)
    if book is None:
        return None
    sub_limits = []
    for row in rows:
        if not isinstance(row, Mapping) or "borrower" not in row or "amount" not in row:
            raise ValueError("each sub-limit needs a `borrower` and an `amount`")
        if row["borrower"] is not None:
            sub_limits.append((row["borrower"], row["amount"]))
    return book.concentration(book.key_of(group), amount, _as_of(ctx, book), sub_limits)


def group_credit_ratio(ctx: Mapping[str, Any], group: Any, amount: Decimal) -> Decimal | None:
    found = _concentration(ctx, group, amount)
    return None if found is None else found.group_ratio


def single_borrower_ratio(ctx: Mapping[str, Any], group: Any, sub_limits: list[Any] | None) -> Decimal | None:
    if group is None:
        return None
    found = _concentration(ctx, group, 0, sub_limits or [])     # no sub-limits (an optional table): none
    return None if found is None else found.single_ratio


def connected_credit_ratio(ctx: Mapping[str, Any], group: Any, amount: Decimal) -> Decimal | None:
    found = _concentration(ctx, group, amount)
    return None if found is None else found.connected_ratio


CONCENTRATION = (
    ("group_credit_ratio", group_credit_ratio, Signature((GROUP, MONEY), PERCENT),
     "the group's credit after this amount / net capital, at the bank_capital of the day "
     "(集团客户授信集中度; CBRC 2003 No.5 limit 15%)"),
    ("single_borrower_ratio", single_borrower_ratio, Signature((GROUP, ROWS), PERCENT),
     "the largest single member's credit after these sub-limits (rows with borrower, amount) / net capital "
     "(单一客户贷款集中度; limit 10%)"),
    ("connected_credit_ratio", connected_credit_ratio, Signature((GROUP, MONEY), PERCENT),
     "the connected clients' credit (members and the firms control links to them) after this amount / "
     "tier-1 capital (关联客户风险暴露; CBIRC 2018 No.1 limit 20%)"),
)


ALERT_GRADES = ("yellow", "orange", "red")


def worst_grade(alerts: Any) -> str | None:
    """The worst grade among `alerts` (a record's open alerts), null when there is none."""
    worst = -1
    for a in alerts or ():
        grade = a.get("grade") if isinstance(a, Mapping) else None
        if grade in ALERT_GRADES:
            worst = max(worst, ALERT_GRADES.index(grade))
    return ALERT_GRADES[worst] if worst >= 0 else None


def register(registry: functions.Registry | None = None) -> None:
    reg = registry or functions.REGISTRY
    one = Signature((STRING,), BOOL)
    for name, impl, sig, doc in (
        ("in_guarantee_circle", in_guarantee_circle, one, "the firm is in a guarantee circle (担保圈)"),
        ("mutual_guarantee", mutual_guarantee, one, "the firm and another guarantee each other (互保)"),
        ("circle_size", circle_size, Signature((STRING,), INTEGER), "firms in its guarantee circle, 0 when none"),
        ("controller", controller, Signature((STRING,), STRING), "the ultimate controller's key (实际控制人)"),
        ("effective_share", effective_share, Signature((STRING, STRING), PERCENT),
         "look-through ownership of holder in firm, over every layer (穿透持股比例)"),
        ("contagion_score", contagion_score, Signature((STRING,), NUMBER),
         "0..1: how much distress reaches the firm through guarantees and control (风险传染)"),
    ):
        if reg.get(name) is None:
            reg.register(name, sig, impl, uses_context=True, doc=doc)
    if reg.get("worst_grade") is None:
        reg.register("worst_grade", Signature((list_of(record("alert")),), STRING), worst_grade,
                     doc="the worst grade (red, orange, yellow) of a list of open alerts, null when there is none "
                         "(worst_grade(core_enterprise.alerts) == 'red')")
    for cname, cimpl, csig, cdoc in CONCENTRATION:
        if reg.get(cname) is None:
            reg.register(cname, csig, cimpl, uses_context=True, doc=cdoc,
                         nulls="accept" if cname == "single_borrower_ratio" else "propagate")


register()
