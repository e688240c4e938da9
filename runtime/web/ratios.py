"""The concentration panel of a task page: what a group credit application would do to the bank's
credit to the group, to its largest single borrower and to its connected clients, against the
capital of the day (engine/graph/concentration.py, through the graph room's ExposureBook), with
the limits the flow itself writes.

A flow shows the panel when one of its branch conditions compares a concentration function
(`group_credit_ratio(subject, form.amount) > 15%` …) with a percentage: that percentage is the
limit shown, and the function's arguments say which form fields are the amount and the sub-limits.
A ratio over its limit is marked. Figures that cannot be worked out (no capital figure, no rate for
a currency) are said in words, never as an exception's text."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

from dsl.errors import BanyanError
from dsl.expr import ast
from forms.i18n import in_wan_yi, plain_number
from runtime.flows.preview import concentration_limits
from runtime.graph.context import exposure_book
from runtime.graph.service import graph_service

# function → (the ratio's key in a Concentration, its words)
FUNCTIONS = {
    "group_credit_ratio": ("group", ("集团客户授信集中度", "Group credit concentration"),
                           ("资本净额", "net capital")),
    "single_borrower_ratio": ("single", ("单一客户贷款集中度", "Single borrower concentration"),
                              ("资本净额", "net capital")),
    "connected_credit_ratio": ("connected", ("关联客户授信集中度", "Connected clients concentration"),
                               ("一级资本净额", "tier-1 capital")),
}
ORDER = ("group", "single", "connected")
WORDS = {
    "title": ("集中度测算（本笔授信后）", "Concentration after this application"),
    "ratio": ("比例", "Ratio"), "limit": ("限额", "Limit"), "credit": ("授信余额（含本笔）", "Credit incl. this"),
    "base": ("分母", "Over"), "over": ("超限", "over the limit"), "within": ("未超限", "within"),
    "capital": ("资本数据：{period}，{day} 起适用；资本净额 {net}，一级资本净额 {tier1}",
                "Capital: {period}, effective {day}; net capital {net}, tier-1 {tier1}"),
    "borrower": ("最大单一客户：", "Largest single borrower: "),
    "unavailable": ("暂时无法测算集中度：{why}", "The concentration cannot be worked out now: {why}"),
    "bad_figures": ("申请金额或分项额度不完整。", "the amount or a sub-limit is incomplete."),
}


def word(key: str, lang: str, **slots: Any) -> str:
    text = WORDS[key][1 if lang == "en" else 0]
    return text.format(**slots) if slots else text


@dataclass(frozen=True)
class Limit:
    function: str
    limit: Decimal
    arg: tuple[str, ...] | None          # the form path of the amount (or the sub-limits), e.g. ("form", "amount")


def _path(node: Any) -> tuple[str, ...] | None:
    if isinstance(node, ast.Name):
        return (node.name,)
    if isinstance(node, ast.Field):
        head = _path(node.obj)
        return None if head is None else head + (node.name,)
    return None


def limits_of(flow: Any) -> dict[str, Limit]:
    """{ratio key: the limit the flow's branch conditions compare it with} ("group", "single",
    "connected"); empty when the flow checks no concentration. The limits are read as the route
    preview reads them (runtime/flows/preview.py `concentration_limits`: one reading for both)."""
    found: dict[str, Limit] = {}
    for kind, _op, limit, call in concentration_limits(flow):
        if isinstance(limit, Decimal) and len(call.args) >= 2:
            found[kind] = Limit(call.name, limit, _path(call.args[1]))
    return found


def _at(values: Mapping[str, Any], path: tuple[str, ...] | None) -> Any:
    if not path or path[0] != "form":
        return None
    value: Any = values
    for part in path[1:]:
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def pct(value: Decimal) -> str:
    return f"{(value * 100).quantize(Decimal('0.01')):f}%"


def money(value: Decimal, lang: str) -> str:
    short = in_wan_yi(value, lang)
    return short or plain_number(value, 2)


def panel(web: Any, flow: Any, view: Mapping[str, Any], values: Mapping[str, Any], lang: str,
          company_names: Any) -> dict | None:
    """The panel's rows for the task page, or None when the flow checks no concentration or its
    subject is no group. `values`: the application's typed form values; `company_names(keys)`:
    {credit code: name}."""
    limits = limits_of(flow)
    subject = view.get("subject") or {}
    if not limits or not subject.get("key"):
        return None
    group = str(subject["key"])
    amount_limit = limits.get("group") or limits.get("connected")
    amount = _at(values, amount_limit.arg) if amount_limit is not None else None
    rows_limit = limits.get("single")
    rows = _at(values, rows_limit.arg) if rows_limit is not None else None
    try:
        applied = Decimal(str(amount)) if amount is not None else Decimal(0)
        sub_limits = [(r["borrower"], r["amount"]) for r in (rows or [])
                      if isinstance(r, Mapping) and r.get("borrower") and r.get("amount") is not None]
        book = exposure_book(graph_service(web.engine, web.records))
        found = book.concentration(group, applied, sub_limits=sub_limits)
    except BanyanError as exc:
        return {"title": word("title", lang), "problem": word("unavailable", lang, why=exc.render(lang))}
    except (ArithmeticError, ValueError, TypeError, KeyError):
        return {"title": word("title", lang), "problem": word("unavailable", lang, why=word("bad_figures", lang))}
    figures = {"group": (found.group_ratio, found.group_credit), "single": (found.single_ratio, found.single_credit),
               "connected": (found.connected_ratio, found.connected_credit)}
    out = []
    for key in ORDER:
        limit = limits.get(key)
        if limit is None:
            continue
        ratio, credit = figures[key]
        _, label, base = FUNCTIONS[limit.function]
        over = ratio > limit.limit
        row = {"key": key, "label": label[1 if lang == "en" else 0], "ratio": pct(ratio), "limit": pct(limit.limit),
               "over": over, "credit": money(credit, lang), "base": base[1 if lang == "en" else 0],
               "borrower": "", "borrower_code": ""}
        if key == "single" and found.single_borrower:
            row["borrower"] = company_names([found.single_borrower]).get(found.single_borrower, "")
            row["borrower_code"] = found.single_borrower
        out.append(row)
    cap = found.capital
    return {"title": word("title", lang), "rows": out, "problem": "",
            "capital": word("capital", lang, period=cap.key or "—", day=cap.effective_on.isoformat(),
                            net=money(cap.net_capital, lang), tier1=money(cap.tier1_capital, lang)),
            "borrower_word": word("borrower", lang),
            "heads": {k: word(k, lang) for k in ("ratio", "limit", "credit", "base", "over", "within")}}
