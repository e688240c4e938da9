"""The bank's capital (bank_capital): four quarters of net capital and tier-1 capital, the latest
effective at AS_OF (end of 2026Q2) being the figures the planted concentrations are planned on
(values.py: RMB 30bn and 24bn), earlier quarters a little lower, as a growing bank's are."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from .values import AS_OF, NET_CAPITAL, TIER1_CAPITAL
from .world import World

# (period, effective on, share of the latest figures)
QUARTERS = (("2025Q3", date(2025, 9, 30), Decimal("0.955")), ("2025Q4", date(2025, 12, 31), Decimal("0.97")),
            ("2026Q1", date(2026, 3, 31), Decimal("0.985")), ("2026Q2", AS_OF, Decimal(1)))
_YUAN = Decimal(1)


def build_capital(world: World) -> None:
    world.records["bank_capital"] = [
        {"period": period, "effective_on": on, "net_capital": (NET_CAPITAL * share).quantize(_YUAN),
         "tier1_capital": (TIER1_CAPITAL * share).quantize(_YUAN),
         "source": f"{period[:4]}年{'一二三四'[int(period[-1]) - 1]}季度资本充足率报表（模拟）"}
        for period, on, share in QUARTERS]
