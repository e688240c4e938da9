"""Fixtures: the entity bundle (configs/entities) and generated demo banks, built once per session."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from examples.demo_bank import generate

ROOT = Path(__file__).resolve().parents[2]
ENTITY_DIR = ROOT / "configs" / "entities"


def load_entities() -> dict[str, dict]:
    return {path.stem: yaml.safe_load(path.read_text(encoding="utf-8"))
            for path in sorted(ENTITY_DIR.glob("*.yaml"))}


def stored_fields(entity: dict) -> list[str]:
    """The fields a record carries: every declared field that is not computed."""
    return [f["name"] for f in entity["spec"]["fields"] if "compute" not in f]


@pytest.fixture(scope="session")
def entities() -> dict[str, dict]:
    return load_entities()


@pytest.fixture(scope="session")
def small_bank():
    return generate(scale=0.2, seed=7)


@pytest.fixture(scope="session")
def tiny_bank():
    """The smallest bank (the minimum group and company counts), as the flow tests use it."""
    return generate(scale=0.01, seed=42, transactions=0)


@pytest.fixture(scope="session")
def demo_bank():
    """The bank `make demo` loads (`banyan seed demo --scale 0.1`)."""
    return generate(scale=0.1, seed=42, transactions=0)


@pytest.fixture(scope="session")
def full_bank():
    return generate()
