"""Exchange rates (fx_rate) and money in other currencies.

About a tenth of the sub-limits (and the loans drawn on them) and of the accounts are in USD,
EUR or HKD. Their amounts are stored in their own currency: the generator plans every figure in
yuan (so the planted ratios hold) and stores a foreign amount as yuan ÷ the rate of AS_OF, the
rate the exposure converts it back with (the latest rate on or before the as-of date).

The rates: one per currency at every month end over the three years before AS_OF (a gentle
random walk around plausible levels: USD ≈ 7.1–7.3, EUR ≈ 7.6–8.1, HKD ≈ 0.91–0.93 yuan),
AS_OF itself being a month end.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from .values import AS_OF
from .world import World

REPORTING = "CNY"
LEVELS = {"USD": (7.18, 7.08, 7.32), "EUR": (7.85, 7.55, 8.15), "HKD": (0.9190, 0.9050, 0.9350)}  # start, low, high
PLACES = {"USD": Decimal("0.0001"), "EUR": Decimal("0.0001"), "HKD": Decimal("0.00001")}
MONTHS = 36
_CENT = Decimal("0.01")


def month_ends(last: date = AS_OF, count: int = MONTHS) -> list[date]:
    """`count` + 1 month ends up to `last` (a month end), oldest first."""
    out, day = [], last
    for _ in range(count + 1):
        out.append(day)
        day = day.replace(day=1) - timedelta(days=1)
    return out[::-1]


def build_rates(world: World) -> None:
    rng = world.rng("fx")
    rows: list[dict] = []
    latest: dict[str, Decimal] = {}
    for currency, (start, low, high) in LEVELS.items():
        level = start
        for day in month_ends():
            level = min(high, max(low, level * (1 + rng.gauss(0, 0.006))))
            rate = Decimal(repr(level)).quantize(PLACES[currency])
            rows.append({"code": f"{currency}-{day:%Y%m%d}", "currency": currency, "rate": rate,
                         "rate_date": day, "source": "中国外汇交易中心人民币汇率中间价（模拟）"})
            latest[currency] = rate
    world.records["fx_rate"] = rows
    world.fx = latest


def rate(world: World, currency: str) -> Decimal:
    """Yuan per unit of `currency` at AS_OF (1 for CNY)."""
    return Decimal(1) if currency == REPORTING else world.fx[currency]


def from_yuan(world: World, yuan: Decimal, currency: str) -> Decimal:
    """A yuan amount stored in `currency` (to the cent)."""
    return yuan if currency == REPORTING else (yuan / rate(world, currency)).quantize(_CENT)


def to_yuan(rates: dict[str, Decimal], amount: Decimal, currency: str) -> Decimal:
    """An amount of `currency` in yuan at `rates` (AS_OF), to the cent, as engine/fx.py converts it."""
    return amount if currency == REPORTING else (amount * rates[currency]).quantize(_CENT)


def rates_as_of(records: dict[str, list[dict]], as_of: date = AS_OF) -> dict[str, Decimal]:
    """The latest rate per currency on or before `as_of`, from generated fx_rate records."""
    best: dict[str, tuple[date, Decimal]] = {}
    for r in records.get("fx_rate", ()):
        if r["rate_date"] <= as_of and (r["currency"] not in best or r["rate_date"] > best[r["currency"]][0]):
            best[r["currency"]] = (r["rate_date"], r["rate"])
    return {c: v for c, (_, v) in best.items()}
