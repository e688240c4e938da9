"""Shared benchmark plumbing: medians, the results JSON, and the printed table."""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def median_time(fn: Callable[[], object], repeat: int = 5) -> float:
    """Median wall time of fn() over `repeat` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def metric(name: str, value: float, unit: str, baseline: str | None = None,
           baseline_value: float | None = None, ratio: float | None = None) -> dict:
    """One row of a results file; ratio > 1 means Banyan is better than the baseline."""
    return {"metric": name, "value": round(value, 6), "unit": unit, "baseline": baseline,
            "baseline_value": None if baseline_value is None else round(baseline_value, 6),
            "ratio": None if ratio is None else round(ratio, 3)}


def report(name: str, rows: list[dict], write: bool = True) -> None:
    """Print the table; with `write`, also the results file (a --quick run's figures are not kept)."""
    if write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"{name}.json").write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    width = max(len(r["metric"]) for r in rows)
    print(f"{'metric':<{width}}  {'value':>12}  {'unit':<8}  {'baseline':<28}  {'ratio':>7}")
    for r in rows:
        base = f"{r['baseline'] or ''} {'' if r['baseline_value'] is None else r['baseline_value']}".strip()
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}"
        print(f"{r['metric']:<{width}}  {r['value']:>12.4f}  {r['unit']:<8}  {base:<28}  {ratio:>7}")
    print(f"→ {RESULTS / (name + '.json')}" if write else f"(not written to {RESULTS / (name + '.json')})")
