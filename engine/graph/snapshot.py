"""One bank's relationship graph at a point in time, with per-firm queries.

This is the face the expression language and the runtime call
(``in_guarantee_circle``, ``circle_size``, ``controller``, ``effective_share``,
``contagion_score``): build it from plain lists of tuples, ask per firm.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .contagion import ContagionResult, contagion, equity_channels, guarantee_channels
from .equity import EquityGraph
from .guarantee import GuaranteeGraph


class GraphSnapshot:
    def __init__(
        self,
        *,
        holdings: Iterable[Sequence[Any]] = (),
        guarantees: Iterable[Sequence[Any]] = (),
        persons: Iterable[str] = (),
        agreements: Iterable[Sequence[str]] = (),
        relatives: Iterable[Sequence[str]] = (),
        group_of: Mapping[str, str] | None = None,
        net_assets: Mapping[str, float] | None = None,
        exposure: Any = None,
    ) -> None:
        self.equity = EquityGraph(holdings, persons=persons, agreements=agreements, relatives=relatives)
        self.guarantees = GuaranteeGraph(guarantees)
        self.group_of = dict(group_of or {})
        self.net_assets = dict(net_assets or {})
        # the money and capital the concentration functions read (an ExposureBook), when given
        self.exposure = exposure

    def in_guarantee_circle(self, firm: str) -> bool:
        return firm in self.guarantees and self.guarantees.in_circle(firm)

    def circle_size(self, firm: str) -> int:
        return self.guarantees.circle_size(firm) if firm in self.guarantees else 0

    def controller(self, firm: str) -> str | None:
        return self.equity.ultimate_controller(firm) if firm in self.equity else None

    def effective_share(self, holder: str, firm: str) -> float:
        if holder not in self.equity or firm not in self.equity:
            return 0.0
        return self.equity.effective_share(holder, firm)

    def contagion(
        self, distressed: Mapping[str, float] | Iterable[str], *, guarantee_default: float = 0.5,
        control_rate: float = 0.3, holding_rate: float = 0.3, min_score: float = 0.01,
        model: str = "debtrank",
    ) -> ContagionResult:
        channels = guarantee_channels(self.guarantees, self.net_assets, guarantee_default)
        channels += equity_channels(self.equity, control_rate, holding_rate)
        return contagion(channels, distressed, min_score=min_score, model=model)

    def contagion_score(self, firm: str, distressed: Mapping[str, float] | Iterable[str]) -> float:
        return self.contagion(distressed).score(firm)
