"""Tiering over the IR (pure): a subject's dimension scores, the weighted score, the decision
table under its hit policy, the caps, and why (engine/tiering/explain.py)."""
from .decide import DimensionScore, RuleCheck, TierResult, tier_subject
from .table import Hit, TableProblem, apply_policy

__all__ = ["DimensionScore", "Hit", "RuleCheck", "TableProblem", "TierResult", "apply_policy", "tier_subject"]
