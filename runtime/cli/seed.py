"""Loading the demo bank (examples/demo_bank) through the records service, in one transaction.

References to entities that come later in the load order (a group's parent company) are
left empty at first and set once their targets exist, still inside the transaction.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from runtime.storage.db import writing
from runtime.records.errors import RecordError
from runtime.records.service import Records
from runtime.records.store import keys_to_ids

ProgressHook = Callable[[str, int, int], None]   # (entity, done, total)


class SeedError(Exception):
    pass


def seed_demo(records: Records, *, scale: float = 1.0, seed: int = 42, transactions: int | None = None,
              actor: str = "seed", on_progress: ProgressHook | None = None, bank: Any = None) -> dict[str, int]:
    ENTITY_ORDER, generate = _demo_bank()
    live = records.live
    missing = [e for e in ENTITY_ORDER if e not in live.bundle.entities]
    if missing:
        raise SeedError(f"the deployed bundle lacks entities the demo bank needs: {', '.join(missing)}; "
                        "deploy configs/ first")
    with records.engine.connect() as conn:
        t = live.table("company")
        existing = conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
    if existing:
        raise SeedError(f"the database already holds {existing:,} companies; seed an empty database "
                        "(set BANYAN_DATABASE_URL or --env)")
    bank = bank or generate(scale=scale, seed=seed, transactions=transactions)
    counts: dict[str, int] = {}
    loaded: set[str] = set()
    deferred: list[tuple[str, Any, dict]] = []
    with writing(records.engine) as conn:
        for entity in ENTITY_ORDER:
            rules = records.rules(entity)
            later = {f for f, target in rules.refs.items() if target not in loaded and target != entity}
            key = live.entity(entity).key
            rows = []
            for rec in bank.records[entity]:
                held = {f: rec[f] for f in later if rec.get(f) is not None}
                if held:
                    deferred.append((entity, rec[key], held))
                    rec = {k: v for k, v in rec.items() if k not in held}
                rows.append(rec)
            total = len(rows)

            def progress(done: int, entity: str = entity, total: int = total) -> None:
                if on_progress:
                    on_progress(entity, done, total)
            try:
                counts[entity] = records.bulk_create(entity, rows, actor=actor, conn=conn, on_progress=progress)
            except RecordError as exc:
                raise SeedError(f"the demo {entity} records do not pass the deployed rules: {exc.message}") from exc
            loaded.add(entity)
        for entity in ENTITY_ORDER:
            later = [(key, values) for e, key, values in deferred if e == entity]
            if later:
                ids = keys_to_ids(conn, live, entity, [k for k, _ in later])
                records.bulk_update(entity, [(ids[k], v) for k, v in later], actor=actor, conn=conn)
    return counts


def _demo_bank():
    """The generator lives in examples/ of the checkout (not an installed package)."""
    try:
        from examples.demo_bank import ENTITY_ORDER, generate
    except ModuleNotFoundError:
        root = Path(__file__).resolve().parents[2]
        if not (root / "examples" / "demo_bank").is_dir():
            raise SeedError("the demo bank generator (examples/demo_bank) is not here; "
                            "run `banyan seed demo` from a Banyan checkout") from None
        sys.path.insert(0, str(root))
        from examples.demo_bank import ENTITY_ORDER, generate
    return ENTITY_ORDER, generate


def ensure_deployed(engine: Engine, path: str, author: str) -> int | None:
    """Deploy `path` when nothing is deployed yet; returns the new version (None if one existed)."""
    from dsl.compiler import compile_path

    from runtime.deploy.deployments import DeploymentRegistry
    from runtime.deploy.releases import release_of
    reg = DeploymentRegistry(engine)
    if reg.current() is not None:
        return None
    result = compile_path(path)
    if not result.ok:
        raise SeedError(f"{path} does not compile; run `banyan validate {path}`")
    return reg.deploy(release_of(result.bundle), author=author, message="deployed by `banyan seed demo`").version
