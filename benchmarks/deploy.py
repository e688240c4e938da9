"""Deploy speed on a database that holds the demo bank.

plan_and_deploy: compile configs/, plan against the live database and deploy it, where the
live version differs from configs/ by a widened company field (so e_company is really
migrated: a table rebuild on SQLite) — target under 5 s. `--quick` seeds the demo bank at
scale 0.1 instead of 1.0.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import metric, report

from dsl.compiler import compile_path, compile_texts
from runtime.cli.seed import seed_demo
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.live import live_from_bundle
from runtime.deploy.releases import release_of
from runtime.records.service import Records
from runtime.storage.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"


def previous_version() -> object:
    """configs/ as it was "before": the company address limited to 150 characters, not 200."""
    texts = {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in sorted(CONFIGS.rglob("*.yaml"))}
    key = str((CONFIGS / "entities" / "company.yaml").relative_to(ROOT))
    before = texts[key].replace("      max_length: 200\n", "      max_length: 150\n", 1)
    if before == texts[key]:
        raise SystemExit("configs/entities/company.yaml no longer has `max_length: 200`; update the benchmark")
    texts[key] = before
    result = compile_texts(texts)
    if not result.ok:
        raise SystemExit("configs/ does not compile; run `banyan validate configs`")
    return result.bundle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="seed the demo bank at scale 0.1")
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bank.db'}")
        reg = DeploymentRegistry(engine)
        before = previous_version()
        out = reg.deploy(release_of(before), author="bench")
        records = Records(engine, live_from_bundle(before, out.version, reg.current().model), batch_size=2000)
        counts = seed_demo(records, scale=scale, actor="bench")
        start = time.perf_counter()
        result = compile_path(CONFIGS)
        plan = reg.plan(release_of(result.bundle))
        done = reg.deploy(release_of(result.bundle), author="bench", message="benchmark")
        took = time.perf_counter() - start
        engine.dispose()
    if not done.applied or not plan.changes:
        raise SystemExit("the benchmark deploy changed nothing; it measures nothing")
    print(f"demo bank: {sum(counts.values()):,} records (scale {scale}); plan: "
          + "; ".join(c.detail for c in plan.changes))
    report("deploy", [metric("plan_and_deploy", took, "s", "target 5 s", 5.0, 5.0 / took)])


if __name__ == "__main__":
    main()
