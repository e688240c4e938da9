"""Equity holdings: a control tree per group, individual holders, cross-holdings and minority stakes.

Every company's shareholders together hold at most 100%. Cross-holdings are stakes a company
takes in one of its own (direct or indirect) parents, so each one closes an ownership cycle;
they are listed in `planted["cross_holdings"]`.
"""
from __future__ import annotations

import random
from datetime import date

from .values import percent, random_date
from .world import World

CROSS_HOLDING_SHARE = 0.03


class _Book:
    """The holdings written so far, and what is left of each investee's 100%."""

    def __init__(self, world: World, rng: random.Random):
        self.world, self.rng = world, rng
        self.records: list[dict] = []
        self.left: dict[str, float] = {code: 1.0 for code in world.company}
        self.pairs: set[tuple[str, str]] = set()

    def add(self, holder: str, investee: str, share: float, person: bool = False,
            control_agreement: bool = False) -> bool:
        share = round(share, 4)
        if (holder, investee) in self.pairs or holder == investee or share <= 0 or share > self.left[investee] + 1e-9:
            return False
        self.pairs.add((holder, investee))
        self.left[investee] = max(0.0, self.left[investee] - share)
        start = self.world.company[investee]["established_on"]
        if not person:
            start = max(start, self.world.company[holder]["established_on"])
        self.records.append({
            "holding_no": f"E{len(self.records) + 1:06d}",
            "holder_type": "person" if person else "company",
            "holder_company": None if person else holder,
            "holder_person": holder if person else None,
            "investee": investee, "share": percent(share), "control_agreement": control_agreement,
            "since": random_date(self.rng, start, max(start, date(2025, 12, 31))),
        })
        return True


def build_equity(world: World) -> None:
    rng = world.rng("equity")
    book = _Book(world, rng)
    target = world.target("equity_holding")
    parent_of: dict[str, str] = {}
    for group in world.records["group"]:
        members = world.members[group["code"]]
        book.add(group["actual_controller"], members[0], rng.uniform(0.40, 0.90), person=True)
        for k in range(1, len(members)):
            parent = members[0] if rng.random() < 0.35 else members[rng.randrange(k)]
            parent_of[members[k]] = parent
            roll = rng.random()
            if roll < 0.35:
                book.add(parent, members[k], 1.0)
            elif roll < 0.90:
                book.add(parent, members[k], rng.uniform(0.51, 0.99))
            else:
                book.add(parent, members[k], rng.uniform(0.30, 0.50), control_agreement=True)
    _individuals(world, rng, book)
    cross = _cross_holdings(world, rng, book, parent_of, round(target * CROSS_HOLDING_SHARE))
    _minority_stakes(world, rng, book, target)
    world.records["equity_holding"] = book.records
    world.planted["cross_holdings"] = cross


def _individuals(world: World, rng: random.Random, book: _Book) -> None:
    """Relatives of controllers hold a slice of the parent; individual shareholders hold members."""
    parent_by_controller = {g["actual_controller"]: g["parent_company"] for g in world.records["group"]}
    companies = world.records["company"]
    for person in world.records["person"]:
        if person["role"] == "relative" and person["relative_of"] in parent_by_controller and rng.random() < 0.5:
            book.add(person["person_no"], parent_by_controller[person["relative_of"]],
                     rng.uniform(0.02, 0.10), person=True)
        elif person["role"] == "shareholder":
            for _ in range(5):
                if book.add(person["person_no"], rng.choice(companies)["credit_code"],
                            rng.uniform(0.01, 0.20), person=True):
                    break


def _ancestors(code: str, parent_of: dict[str, str]) -> list[str]:
    chain = []
    while code in parent_of:
        code = parent_of[code]
        chain.append(code)
    return chain


def _cross_holdings(world: World, rng: random.Random, book: _Book, parent_of: dict[str, str],
                    count: int) -> list[tuple[str, str]]:
    children = sorted(parent_of)
    made: list[tuple[str, str]] = []
    attempts = 0
    while len(made) < count and attempts < count * 50:
        attempts += 1
        child = rng.choice(children)
        ancestors = _ancestors(child, parent_of)
        target = ancestors[0] if rng.random() < 0.5 else rng.choice(ancestors)
        if book.add(child, target, rng.uniform(0.01, 0.08)):
            made.append((child, target))
    return made


def _minority_stakes(world: World, rng: random.Random, book: _Book, target: int) -> None:
    """Fill up to the target with stakes that are not cross-holdings: within a group, only from an
    earlier member to a later one (so never from a descendant to its parent); or across groups."""
    companies = world.records["company"]
    attempts = 0
    while len(book.records) < target and attempts < target * 20:
        attempts += 1
        investee = rng.choice(companies)
        members = world.members[investee["group"]]
        if rng.random() < 0.8:
            position = members.index(investee["credit_code"])
            if position < 2:
                continue
            holder = members[rng.randrange(position)]
        else:
            holder = rng.choice(companies)["credit_code"]
            if world.group_of(holder) == investee["group"]:
                continue
        book.add(holder, investee["credit_code"], rng.uniform(0.02, 0.25))
