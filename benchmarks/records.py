"""Records service throughput.

insert_vs_executemany: N company records through `Records.bulk_create` (conversion, every
field rule, checks, computed fields, uniqueness, audit chain) vs SQLAlchemy Core
`executemany` of already-typed rows into the same table of the same database;
ratio = executemany time / service time (target >= 0.5). The pair is run several rounds,
each on a freshly deployed database, the order alternating (service first, then Core first),
so neither always meets the fuller table; the values are the medians over the rounds.
csv_import_100k: `banyan import company FILE.csv` of N rows into a fresh SQLite database
(target < 30 s), median over the rounds. `--quick` uses 10k rows.
"""
from __future__ import annotations

import argparse
import csv
import random
import statistics
import tempfile
import time
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

from _common import metric, report

from dsl.compiler import compile_path
from examples.demo_bank.codes import make_uscc
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.live import live_from_bundle
from runtime.deploy.releases import release_of
from runtime.records.service import Records
from runtime.records.tabular import import_file
from runtime.storage.db import make_engine

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


_BUNDLE = None


def deployed(url: str):
    global _BUNDLE
    engine = make_engine(url)
    if _BUNDLE is None:
        _BUNDLE = compile_path(ROOT / "configs" / "entities").bundle
    reg = DeploymentRegistry(engine)
    out = reg.deploy(release_of(_BUNDLE), author="bench")
    return engine, Records(engine, live_from_bundle(_BUNDLE, out.version, reg.current().model), batch_size=2000)


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def insert_vs_executemany(tmp: Path, n: int, rounds: int) -> dict:
    both = companies(2 * n, 1)                # distinct codes, split in two sets
    service_rows, core_rows = both[0::2], both[1::2]
    services, cores = [], []
    for r in range(rounds):
        path = tmp / f"insert-{r}.db"
        engine, records = deployed(f"sqlite:///{path}")
        t = records.live.table("company")
        now = datetime.now(timezone.utc)
        typed = [{**row, "id": 10_000_000 + i, "version": 1, "created_at": now, "updated_at": now}
                 for i, row in enumerate(core_rows)]

        def core(engine=engine, t=t, typed=typed) -> None:
            with engine.begin() as conn:
                conn.execute(t.insert(), typed)

        def service(records=records) -> None:
            records.bulk_create("company", service_rows, actor="bench")

        if r % 2 == 0:
            s, c = _timed(service), _timed(core)
        else:
            c, s = _timed(core), _timed(service)
        services.append(s)
        cores.append(c)
        print(f"  round {r + 1} ({'service' if r % 2 == 0 else 'Core'} first): service {s:.3f} s, "
              f"Core executemany {c:.3f} s, ratio {c / s:.3f}")
        engine.dispose()
        path.unlink()
    service, core = statistics.median(services), statistics.median(cores)
    return metric("insert_vs_executemany", service, "s",
                  f"Core executemany of {n:,} rows (median of {rounds})", core, core / service)


def csv_import(tmp: Path, n: int, rounds: int) -> dict:
    path = tmp / "companies.csv"
    rows = companies(n, 3)
    with path.open("w", newline="", encoding="utf-8") as handle:
        w = csv.DictWriter(handle, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    took = []
    for r in range(rounds):
        db = tmp / f"import-{r}.db"
        engine, records = deployed(f"sqlite:///{db}")
        start = time.perf_counter()
        imported = import_file(records, "company", path, actor="bench")
        took.append(time.perf_counter() - start)
        engine.dispose()
        db.unlink()
        if imported != n:
            raise SystemExit(f"imported {imported} of {n} rows")
    print("  csv import: " + ", ".join(f"{t:.3f} s" for t in took))
    median = statistics.median(took)
    return metric("csv_import_100k", median, "s", "target 30 s", 30.0, 30.0 / median)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10k rows instead of 100k")
    parser.add_argument("--rounds", type=int, default=None,
                        help="rounds of each measurement (default 4 for the service/Core pair, 3 for the import)")
    args = parser.parse_args()
    n = 10_000 if args.quick else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        rows = [insert_vs_executemany(Path(tmp), n, args.rounds or 4), csv_import(Path(tmp), n, args.rounds or 3)]
    print(f"rows: {n:,} (SQLite)")
    report("records", rows)


if __name__ == "__main__":
    main()
