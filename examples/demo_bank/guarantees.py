"""The guarantee graph (guarantor -> borrower) with planted mutual pairs, cycles and one big circle.

Background guarantees form a DAG: every company gets a rank in one random order and a
background edge always runs from the lower rank to the higher. The firms of each planted
structure sit on consecutive ranks and get no background edge among themselves, so contracting
each structure to one node leaves a DAG: the strongly connected components of size >= 2 are
exactly the planted structures, and the only cycles are the planted ones.
"""
from __future__ import annotations

from datetime import timedelta

from .parties import SHANGHAI_GROUPS
from .values import AS_OF, cumulative, lognormal, money_wan, random_date
from .world import World

MUTUAL_PAIRS = 20
CYCLE_LENGTHS = (3, 4, 5, 6)        # plus one more of random length 3..6
BIG_CIRCLE_GROUPS, BIG_CIRCLE_PER_GROUP = 4, 10
WITHIN_GROUP = 0.85


def plant_structures(world: World) -> None:
    rng = world.rng("guarantee-plant")
    groups = world.records["group"]
    free = {g["code"]: list(world.members[g["code"]]) for g in groups}
    for members in free.values():
        rng.shuffle(members)
    sizes = [len(world.members[g["code"]]) for g in groups]

    def take(count: int, group: str | None = None) -> list[str]:
        if group is not None and len(free[group]) < count:
            raise ValueError(f"group {group} is too small for a planted structure of {count} firms")
        while group is None or len(free[group]) < count:
            group = rng.choices(groups, sizes)[0]["code"]
        return [free[group].pop() for _ in range(count)]

    large = [g["code"] for g in groups if g["code"] not in SHANGHAI_GROUPS]   # the demo's own groups stay out
    big_groups = rng.sample(large[:max(BIG_CIRCLE_GROUPS, len(groups) // 2)], BIG_CIRCLE_GROUPS)
    big_circle = [code for g in big_groups for code in take(BIG_CIRCLE_PER_GROUP, g)]
    pairs = [tuple(take(2)) for _ in range(MUTUAL_PAIRS)]
    cycles = [take(n) for n in (*CYCLE_LENGTHS, rng.randint(3, 6))]
    world.planted.update({"mutual_pairs": pairs, "cycles": cycles, "big_circle": big_circle,
                          "big_circle_groups": big_groups})


def planted_edges(world: World) -> list[tuple[str, str]]:
    edges: list[tuple[str, str]] = []
    for a, b in world.planted["mutual_pairs"]:
        edges += [(a, b), (b, a)]
    for ring in [*world.planted["cycles"], world.planted["big_circle"]]:
        edges += [(ring[i], ring[(i + 1) % len(ring)]) for i in range(len(ring))]
    return edges


def build_edges(world: World) -> list[tuple[str, str]]:
    """All guarantee edges, planted and background, in a shuffled order."""
    rng = world.rng("guarantee-edges")
    blocks = [list(p) for p in world.planted["mutual_pairs"]] + world.planted["cycles"] + [world.planted["big_circle"]]
    block_of = {code: i for i, block in enumerate(blocks) for code in block}
    loose = [c["credit_code"] for c in world.records["company"] if c["credit_code"] not in block_of]
    rng.shuffle(loose)
    slots = sorted(rng.randint(0, len(loose)) for _ in blocks)
    order: list[str] = []
    previous = 0
    for slot, block in zip(slots, blocks, strict=True):
        order += loose[previous:slot] + block
        previous = slot
    order += loose[previous:]
    rank = {code: i for i, code in enumerate(order)}

    activity = {c["credit_code"]: rng.paretovariate(1.5) for c in world.records["company"]}
    for g in world.records["group"]:
        activity[g["parent_company"]] *= 15
    groups = world.records["group"]
    group_cum = cumulative([len(world.members[g["code"]]) for g in groups])
    member_cum = {g["code"]: cumulative([activity[m] for m in world.members[g["code"]]]) for g in groups}
    everyone = [c["credit_code"] for c in world.records["company"]]
    everyone_cum = cumulative([activity[c] for c in everyone])

    edges = planted_edges(world)
    seen = {frozenset(e) for e in edges}
    target = max(world.target("guarantee"), len(edges))
    within = sum(world.group_of(a) == world.group_of(b) for a, b in edges)
    while len(edges) < target:
        if within < WITHIN_GROUP * (len(edges) + 1):
            group = rng.choices(groups, cum_weights=group_cum)[0]["code"]
            a, b = rng.choices(world.members[group], cum_weights=member_cum[group], k=2)
        else:
            a, b = rng.choices(everyone, cum_weights=everyone_cum, k=2)
            if world.group_of(a) == world.group_of(b):
                continue
        pair = frozenset((a, b))
        if a == b or pair in seen or (a in block_of and block_of[a] == block_of.get(b)):
            continue
        seen.add(pair)
        within += world.group_of(a) == world.group_of(b)
        edges.append((a, b) if rank[a] < rank[b] else (b, a))
    rng.shuffle(edges)
    return edges


def build_guarantees(world: World, edges: list[tuple[str, str]]) -> None:
    """Contracts for the edges; a guarantee usually secures one of the borrower's loans."""
    rng = world.rng("guarantee-contracts")
    loans_by_borrower: dict[str, list[dict]] = {}
    for loan in world.records.get("loan", []):
        loans_by_borrower.setdefault(loan["borrower"], []).append(loan)
    planted = set(planted_edges(world))
    records = []
    for i, (guarantor, borrower) in enumerate(edges):
        loans = loans_by_borrower.get(borrower)
        loan = rng.choice(loans) if loans and rng.random() < 0.8 else None
        if loan is not None:
            amount = loan["principal"]
            start = loan["disbursed_on"]
            end = loan["maturity_date"] + timedelta(days=365 * rng.choice((2, 3)))
        else:
            amount = money_wan(lognormal(rng, 2e7, 1.0))
            start = random_date(rng, AS_OF - timedelta(days=3 * 365), AS_OF - timedelta(days=30))
            end = start + timedelta(days=365 * rng.randint(1, 5))
        if (guarantor, borrower) in planted and end < AS_OF + timedelta(days=180):
            end = AS_OF + timedelta(days=rng.randint(180, 1000))
        status = "active" if end >= AS_OF else "released"
        if status == "active" and world.distress.get(borrower) == "composite" and rng.random() < 0.1:
            status = "claimed" if (guarantor, borrower) not in planted else "active"
        records.append({
            "contract_no": f"GC{i + 1:07d}", "guarantor": guarantor, "borrower": borrower,
            "loan": loan["loan_no"] if loan else None,
            "type": rng.choices(["joint_liability", "general_guarantee", "mortgage", "pledge"], [60, 10, 20, 10])[0],
            "amount": amount, "start_date": start, "end_date": end, "status": status,
        })
    world.records["guarantee"] = records
