"""What is deployed right now, ready to run: the compiled bundle, its tables, its version.

Loaded from the newest deployment (compiled once per process per bundle hash), so a process
always runs exactly what the database holds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.releases import load_bundle
from runtime.deploy.table_model import TableModel, TableSpec, metadata_for

_BUNDLES: dict[str, Any] = {}


class NothingDeployed(Exception):
    """No bundle is deployed yet in this database."""


class UnknownEntity(Exception):
    def __init__(self, name: str, known: list[str]):
        from dsl.diagnostics import did_you_mean
        hint = did_you_mean(name, known) or ("known: " + ", ".join(known) if known else "nothing is deployed")
        super().__init__(f"no entity `{name}` in the deployed bundle; {hint}")
        self.name = name


@dataclass(frozen=True)
class LiveModel:
    version: int
    hash: str
    bundle: Any
    model: TableModel
    tables: dict[str, sa.Table]

    def entity(self, name: str) -> Any:
        ent = self.bundle.entities.get(name)
        if ent is None:
            raise UnknownEntity(name, sorted(self.bundle.entities))
        return ent

    def spec(self, name: str) -> TableSpec:
        self.entity(name)
        return self.model[name]

    def table(self, name: str) -> sa.Table:
        self.entity(name)
        return self.tables[name]

    @property
    def entity_names(self) -> list[str]:
        return sorted(self.bundle.entities)


def load_live(engine: Engine, registry: DeploymentRegistry | None = None) -> LiveModel:
    registry = registry or DeploymentRegistry(engine)
    head = registry.current()
    if head is None:
        raise NothingDeployed("nothing is deployed in this database yet; run `banyan deploy configs` first")
    bundle = _BUNDLES.get(head.hash)
    if bundle is None:
        release = head.release
        bundle = _BUNDLES[head.hash] = load_bundle(head.hash, release.sources)
    model = head.model
    _md, tables = metadata_for(model)
    return LiveModel(head.version, head.hash, bundle, model, tables)


def live_from_bundle(bundle: Any, version: int, model: TableModel) -> LiveModel:
    """A LiveModel for a bundle compiled in this process (tests and `banyan seed` after a deploy)."""
    _BUNDLES[bundle.hash] = bundle
    _md, tables = metadata_for(model)
    return LiveModel(version, bundle.hash, bundle, model, tables)
