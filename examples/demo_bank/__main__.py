"""`python -m examples.demo_bank --scale 0.1 --out DIR`: write the demo bank as CSV files."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .bank import generate
from .csv_export import write_bank


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.demo_bank", description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 50 groups, 5,000 companies")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--transactions", type=int, default=None,
                        help="total transactions (default 30,000 x scale; 2000000 for the full year)")
    parser.add_argument("--out", type=Path, required=True, help="directory for the CSV files")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be positive")
    started = time.perf_counter()
    bank = generate(scale=args.scale, seed=args.seed, transactions=args.transactions)
    files = write_bank(bank, args.out)
    for name, count in bank.summary().items():
        print(f"{name:22} {count:>9,}")
    print(f"wrote {len(files)} files to {args.out} in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
