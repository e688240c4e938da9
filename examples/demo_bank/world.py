"""The state shared by the generation stages: targets, records so far, lookups, planted facts."""
from __future__ import annotations

import random
from dataclasses import dataclass, field

# Counts at scale 1.0 (domain/NOTES.md, "A demo bank").
TARGETS = {
    "group": 50,
    "company": 5000,
    "person": 3000,
    "equity_holding": 6500,
    "guarantee": 8000,
    "facility": 6000,
    "loan": 12000,
    "account": 15000,
}
DEFAULT_TRANSACTIONS = 30_000   # at scale 1.0; pass transactions=2_000_000 for the full year
FULL_TRANSACTIONS = 2_000_000
MIN_COMPANIES = 300             # room for the planted guarantee structures (about 110 firms)
MIN_GROUPS = 8                  # 3 concentration + 3 limit-usage plants + the 2 Shanghai demo groups


@dataclass
class World:
    seed: int
    scale: float
    records: dict[str, list[dict]] = field(default_factory=dict)
    planted: dict = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)   # group code -> credit codes, parent first
    company: dict[str, dict] = field(default_factory=dict)        # credit code -> company record
    distress: dict[str, str] = field(default_factory=dict)        # credit code -> distress kind
    profile: dict[str, dict] = field(default_factory=dict)        # credit code -> latest figures (floats)
    users: list[dict] = field(default_factory=list)
    org_units: list[dict] = field(default_factory=list)
    fx: dict = field(default_factory=dict)          # currency -> yuan per unit at AS_OF (fx.py)

    def rng(self, stage: str) -> random.Random:
        """An independent, reproducible stream per stage (str seeds hash with SHA-512, not hash())."""
        return random.Random(f"banyan-demo:{self.seed}:{stage}")

    def target(self, entity: str) -> int:
        count = round(TARGETS[entity] * self.scale)
        if entity == "group":
            return max(MIN_GROUPS, count)
        if entity == "company":
            return max(MIN_COMPANIES, count)
        return max(1, count)

    def group_of(self, credit_code: str) -> str:
        return self.company[credit_code]["group"]
