"""`generate()`: the whole demo bank, stage by stage, from one seed."""
from __future__ import annotations

from dataclasses import dataclass, field

from . import banking, capital, credit, equity, financials, fx, guarantees, market, parties, risk
from .history import History, build_history
from .world import DEFAULT_TRANSACTIONS, World

# The order of entities in `records`, in the CSV export and in `summary()`.
ENTITY_ORDER = ("group", "company", "person", "equity_holding", "guarantee", "fx_rate", "facility", "loan",
                "account", "transaction", "financial_statement", "rating", "external_event", "bank_capital",
                "credit_inquiry", "collateral", "collateral_valuation", "share_price")


@dataclass
class DemoBank:
    """A generated bank. `records` maps an entity name to its records (keys = the entity's stored
    fields, references hold the referenced record's key); `planted` holds the structures a
    detector or an alert rule must find; `org_units` and `users` are the built-in org units and
    relationship managers the records refer to; `history` how the loans stood at each of the 24
    month-ends before (`records` are today's)."""

    seed: int
    scale: float
    records: dict[str, list[dict]]
    planted: dict
    org_units: list[dict] = field(default_factory=list)
    users: list[dict] = field(default_factory=list)
    history: History | None = None          # the month-ends before today (history.py); records are today

    def summary(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.records.items()}


def generate(scale: float = 1.0, seed: int = 42, transactions: int | None = None) -> DemoBank:
    """Build the demo bank of domain/NOTES.md at `scale` (1.0 = 5,000 companies).

    `transactions` is the total number of transactions; None means a quick default
    (30,000 x scale); pass 2_000_000 for the full year.
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    if transactions is not None and transactions < 0:
        raise ValueError(f"transactions must be >= 0, got {transactions!r}")
    world = World(seed=seed, scale=scale)
    parties.build_org(world)
    parties.build_groups_and_companies(world)
    parties.build_persons(world)
    equity.build_equity(world)
    guarantees.plant_structures(world)
    edges = guarantees.build_edges(world)
    contagion_seeds = [world.planted["big_circle"][0], world.planted["big_circle"][20],
                       world.planted["mutual_pairs"][0][0]]
    financials.choose_distressed(world, contagion_seeds)
    financials.build_financials(world)
    fx.build_rates(world)
    capital.build_capital(world)
    credit.build_credit(world)
    guarantees.build_guarantees(world, edges)
    banking.build_accounts(world)
    count = round(DEFAULT_TRANSACTIONS * scale) if transactions is None else transactions
    banking.build_transactions(world, count)
    risk.build_ratings(world)
    risk.build_events(world)
    market.build_market(world)
    records = {name: world.records[name] for name in ENTITY_ORDER}
    return DemoBank(seed=seed, scale=scale, records=records, planted=world.planted,
                    org_units=world.org_units, users=world.users, history=build_history(world))
