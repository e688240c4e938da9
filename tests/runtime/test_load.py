"""Load (issue 17): the locust scenario of benchmarks/load.py — relationship managers browsing and
applying, credit officers completing reviews, an import and an outside event feed — against
`banyan serve --workers 2` and a `banyan worker` on the demo bank, briefly (10 users, 15 s): no
answer but 2xx (a race between two sessions of one officer for one task is a 409 `task_closed`,
counted apart), and every kind of request was made. The full run's latencies are the benchmark's
(benchmarks/results/load.json), not a test's."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.runtime.conftest import _pg_available

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_a_short_load_has_no_errors(db, tmp_path):
    if db == "postgresql" and not _pg_available():
        pytest.skip("PostgreSQL does not answer")
    out = tmp_path / "load.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "load.py"), "--quick", "--db", db,
                           "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [run] = json.loads(out.read_text(encoding="utf-8"))
    assert run["failures"] == 0, run["errors"]
    made = {e["name"] for e in run["endpoints"]}
    for kind in ("page /ui/ (workbench)", "page /ui/views/group_360/[G]", "api /inbox", "command post events"):
        assert kind in made, (kind, sorted(made))
    assert run["total"] >= 20
