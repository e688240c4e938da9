"""Values as people read them on the 360° view, and as the JSON carries them: money in 万/亿 (en:
million/billion) with its currency when it is not the reporting one, a percent as `106%`, an enum
its label, a reference the referenced record's name (the key kept beside it as `code`). The JSON's
`value` is what the API writes for the field (dsl/values: a percent as its points)."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Mapping

from dsl.values.writer import write_value
from forms.display import display_text, money_currency, value_text
from forms.i18n import in_wan_yi, plain_number
from runtime.views.words import vtext

REPORTING = "CNY"


def money_text(value: Any, currency: str | None, lang: str) -> str:
    """`1.06亿` / `USD 350万` (en: `1.06 billion`, `USD 3.5 million`); small amounts in full."""
    if value is None:
        return vtext("empty", lang)
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value))
    except (ArithmeticError, ValueError, TypeError):
        return str(value)
    if not d.is_finite():
        return str(value)
    figure = in_wan_yi(_to_hundredth_of_unit(d, lang), lang) or plain_number(d, 2)
    return figure if currency in (None, REPORTING) else f"{currency} {figure}"


def _to_hundredth_of_unit(d: Decimal, lang: str) -> Decimal:
    """`d` rounded to the hundredth of the unit it will read in (9,717,598 → 9,717,600: 971.76万), so
    a figure has two decimals, as bankers write them, not four."""
    a = abs(d)
    units = (Decimal(10) ** 9, Decimal(10) ** 6) if lang == "en" else (Decimal(10) ** 8, Decimal(10) ** 4)
    for unit in units:
        if a >= unit:
            step = unit / 100
            return (d / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step
    return d


def field_text(f: Any, value: Any, lang: str, record: Mapping[str, Any] | None = None) -> str:
    """A stored field's value as people read it (references are named by the caller)."""
    if value is None or value == "":
        return vtext("empty", lang)
    if f.type_name == "money":
        return money_text(value, money_currency(f, record), lang)
    return display_text(f, value, lang, record=record)


def field_value(f: Any, value: Any) -> Any:
    """A stored field's value as the API writes it."""
    return write_value(f, value)


def figure_text(value: Any, kind: str | None, lang: str) -> str:
    """A computed figure (a metric) of an expression type as people read it."""
    if value is None:
        return vtext("empty", lang)
    if kind == "money":
        return money_text(value, REPORTING, lang)
    if kind == "percent" and isinstance(value, (Decimal, int, float)) and not isinstance(value, bool):
        return share_text(float(value))
    return value_text(value, kind, lang)


def figure_value(value: Any, kind: str | None) -> Any:
    return write_value(kind or "", value)


def share_text(share: float | None) -> str:
    """A holding's share: `60%`, `33.33%`."""
    if share is None:
        return ""
    pct = (Decimal(str(share)) * 100).quantize(Decimal("0.01")).normalize()
    return f"{pct:f}%"
