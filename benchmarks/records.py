"""Records service throughput.

insert_vs_executemany: N company records through `Records.bulk_create` (conversion, every
field rule, checks, computed fields, uniqueness, audit chain) vs SQLAlchemy Core
`executemany` of already-typed rows into the same table of the same database, in one run;
ratio = executemany time / service time (target >= 0.5).
csv_import_100k: `banyan import company FILE.csv` of N rows into a fresh SQLite database
(target < 30 s). `--quick` uses 10k rows.
"""
from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

from _common import metric, report

from dsl.compiler import compile_path
from examples.demo_bank.codes import make_uscc
from runtime.db import make_engine
from runtime.deployments import DeploymentRegistry
from runtime.live import live_from_bundle
from runtime.records import Records
from runtime.releases import release_of
from runtime.tabular import import_file

ROOT = Path(__file__).resolve().parent.parent
DIVISIONS = ("110000", "310000", "440300", "330100", "420100", "370100")


def companies(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    codes: set[str] = set()
    while len(codes) < n:
        codes.add(make_uscc(rng, rng.choice(DIVISIONS), True))
    rows = []
    for i, code in enumerate(sorted(codes)):
        rows.append({"credit_code": code, "name": f"测试企业{seed}-{i:06d}有限公司", "legal_form": "limited_liability",
                     "industry": rng.choice(["manufacturing", "energy", "services"]),
                     "registered_capital": Decimal(rng.randrange(10**6, 10**10)) / 100,
                     "established_on": date(1990 + rng.randrange(30), 1 + rng.randrange(12), 1 + rng.randrange(28)),
                     "region": code[2:8], "branch": "head_office", "listed": False, "status": "operating"})
    return rows


def deployed(url: str):
    engine = make_engine(url)
    bundle = compile_path(ROOT / "configs" / "entities").bundle
    reg = DeploymentRegistry(engine)
    out = reg.deploy(release_of(bundle), author="bench")
    return engine, Records(engine, live_from_bundle(bundle, out.version, reg.current().model), batch_size=2000)


def insert_vs_executemany(tmp: Path, n: int) -> dict:
    engine, records = deployed(f"sqlite:///{tmp / 'insert.db'}")
    both = companies(2 * n, 1)                # distinct codes, split in two sets
    service_rows, core_rows = both[0::2], both[1::2]
    t = records.live.table("company")
    now = datetime.now(timezone.utc)
    typed = [{**r, "id": 10_000_000 + i, "version": 1, "created_at": now, "updated_at": now}
             for i, r in enumerate(core_rows)]
    start = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(t.insert(), typed)
    core = time.perf_counter() - start
    start = time.perf_counter()
    records.bulk_create("company", service_rows, actor="bench")
    service = time.perf_counter() - start
    engine.dispose()
    return metric("insert_vs_executemany", service, "s", f"Core executemany of {n:,} rows", core, core / service)


def csv_import(tmp: Path, n: int) -> dict:
    engine, records = deployed(f"sqlite:///{tmp / 'import.db'}")
    path = tmp / "companies.csv"
    rows = companies(n, 3)
    with path.open("w", newline="", encoding="utf-8") as handle:
        w = csv.DictWriter(handle, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    start = time.perf_counter()
    imported = import_file(records, "company", path, actor="bench")
    took = time.perf_counter() - start
    engine.dispose()
    if imported != n:
        raise SystemExit(f"imported {imported} of {n} rows")
    return metric("csv_import_100k", took, "s", "target 30 s", 30.0, 30.0 / took)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10k rows instead of 100k")
    args = parser.parse_args()
    n = 10_000 if args.quick else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        rows = [insert_vs_executemany(Path(tmp), n), csv_import(Path(tmp), n)]
    print(f"rows: {n:,} (SQLite)")
    report("records", rows)


if __name__ == "__main__":
    main()
