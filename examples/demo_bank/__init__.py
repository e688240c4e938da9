"""The synthetic demo bank of domain/NOTES.md: `generate(scale, seed, transactions) -> DemoBank`."""
from .bank import ENTITY_ORDER, DemoBank, generate

__all__ = ["DemoBank", "ENTITY_ORDER", "generate"]
