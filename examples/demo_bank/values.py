"""Value helpers and the fixed calendar of the demo bank.

Runtime value contract (dsl/expr/types.py): money is Decimal yuan with 2 places, percent is
a Decimal fraction (51% -> Decimal('0.5100')), dates are datetime.date.
"""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

AS_OF = date(2026, 6, 30)          # the demo bank's "today": end of 2026Q2
NET_CAPITAL = Decimal("30000000000")   # 资本净额 RMB 30bn
TIER1_CAPITAL = Decimal("24000000000")  # 一级资本 RMB 24bn


def money(yuan: float) -> Decimal:
    """Yuan rounded to the fen, as a Decimal with exactly two places."""
    return Decimal(int(round(yuan * 100))).scaleb(-2)


def money_wan(yuan: float) -> Decimal:
    """Rounded to whole 万 (10,000 yuan), as registered capital and limits usually are."""
    return Decimal(int(round(yuan / 10_000)) * 10_000).quantize(Decimal("0.01"))


def percent(fraction: float, places: int = 4) -> Decimal:
    """A fraction as a Decimal percent value: 0.51234 -> Decimal('0.5123')."""
    return Decimal(int(round(fraction * 10**places))).scaleb(-places)


def quarters(count: int = 8, last: date = AS_OF) -> list[tuple[str, date]]:
    """The last `count` quarters ending at `last` (a quarter end), oldest first: ('2026Q2', date)."""
    result = []
    year, quarter = last.year, (last.month - 1) // 3 + 1
    for _ in range(count):
        result.append((f"{year}Q{quarter}", _quarter_end(year, quarter)))
        quarter -= 1
        if quarter == 0:
            year, quarter = year - 1, 4
    return result[::-1]


def _quarter_end(year: int, quarter: int) -> date:
    month = quarter * 3
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    return next_month - timedelta(days=1)


def random_date(rng: random.Random, start: date, end: date) -> date:
    """Uniform on [start, end]."""
    return start + timedelta(days=rng.randint(0, (end - start).days))


def lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return rng.lognormvariate(0.0, sigma) * median


def cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out
