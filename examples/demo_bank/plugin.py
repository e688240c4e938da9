"""What this package offers `banyan seed demo`: registered as the entry point `bank` of the group
`banyan.demo` (examples/pyproject.toml), so the runtime finds the demo without importing
examples/ (runtime/cli/seed.py reads the attributes below and says what it lacks).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .applications import APPLICATIONS
from .bank import ENTITY_ORDER, generate
from .users import DEMO_PASSWORD, DEMO_USERS, seed_demo_users


@dataclass(frozen=True)
class DemoBankPlugin:
    name: str
    description: str
    generate: Callable[..., Any]            # generate(scale=, seed=, transactions=) -> an object with .records
    entity_order: tuple[str, ...]           # load order: a reference's target comes first where it can
    seed_users: Callable[..., list[str]]    # seed_users(UserStore, OrgTree) -> the names made
    user_names: tuple[str, ...]             # everyone seed_users may make
    password: str                           # their documented password (`banyan serve` warns while it works)
    applications: tuple = ()                # requests left in flight: {flow, subject, initiator, form, steps}


DEMO = DemoBankPlugin(
    name="bank",
    description="the synthetic demo bank of domain/NOTES.md and its people (examples/demo_bank)",
    generate=generate,
    entity_order=tuple(ENTITY_ORDER),
    seed_users=seed_demo_users,
    user_names=tuple(name for name, *_ in DEMO_USERS),
    password=DEMO_PASSWORD,
    applications=APPLICATIONS,
)
