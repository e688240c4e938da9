"""Regulatory reports as pure functions over what the engine already computes (no I/O)."""
from engine.reports.large_exposures import (
    CONNECTED_LIMIT,
    LARGE_EXPOSURE,
    SINGLE_LIMIT,
    ClientRow,
    GroupRow,
    LargeExposures,
    Party,
    SummaryRow,
    large_exposures,
    with_potential,
)

__all__ = ["CONNECTED_LIMIT", "LARGE_EXPOSURE", "SINGLE_LIMIT", "ClientRow", "GroupRow", "LargeExposures", "Party",
           "SummaryRow", "large_exposures",
           "with_potential"]
