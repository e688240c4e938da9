"""Graph analytics of the group relationship graph: equity look-through and control,
group membership, guarantee circles (kept current under edits), exposure, contagion,
and SVG pictures.  Pure functions and in-memory classes; no I/O."""

from .concentration import Capital, CapitalTable, Concentration, ExposureBook, NoCapitalFigure
from .contagion import Affected, ContagionResult, contagion, equity_channels, guarantee_channels
from .equity import ControlEdge, EquityGraph
from .exposure import (
    GroupMoney,
    Shortfall,
    cluster_exposure,
    connected_exposure_ratio,
    group_credit_ratio,
    group_money,
    indirect_exposure,
    limit_usage,
)
from .groups import Evidence, ProposedGroup, Suggestion, diff_membership, propose_groups
from .guarantee import CrossGroupCircle, GuaranteeGraph
from .snapshot import GraphSnapshot
from .svg import equity_tree_svg, guarantee_circle_svg

__all__ = [
    "Affected", "Capital", "CapitalTable", "Concentration", "ContagionResult", "ExposureBook", "NoCapitalFigure",
    "ControlEdge", "CrossGroupCircle", "EquityGraph", "Evidence",
    "GraphSnapshot", "GroupMoney", "GuaranteeGraph", "ProposedGroup", "Shortfall", "Suggestion", "cluster_exposure",
    "connected_exposure_ratio", "contagion", "diff_membership", "equity_channels",
    "equity_tree_svg", "group_credit_ratio", "group_money", "guarantee_channels", "guarantee_circle_svg",
    "indirect_exposure", "limit_usage", "propose_groups",
]
