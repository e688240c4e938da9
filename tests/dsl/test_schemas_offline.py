"""The exported editor schemas resolve offline: a third-party validator (check-jsonschema) checks
configs/ against `banyan.json`, whose `$ref`s name the kinds' files beside it, with every proxy
pointing at a closed port — a schema that sent it to the network would fail here."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from runtime.cli.main import main

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
CHECK = Path(sys.executable).with_name("check-jsonschema")
OFFLINE = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}

pytestmark = pytest.mark.skipif(not CHECK.exists(), reason="check-jsonschema is a dev dependency")


def _check(schemas: Path, files: list[Path], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(CHECK), "--schemafile", str(schemas / "banyan.json"), *map(str, files)],
                          capture_output=True, text=True, cwd=cwd, env={**os.environ, **OFFLINE}, timeout=300)


def test_configs_validate_against_the_exported_schemas_with_no_network(tmp_path):
    out = CliRunner().invoke(main, ["schema", "--out", str(tmp_path / "schemas")])
    assert out.exit_code == 0, out.output
    files = sorted(CONFIGS.glob("*/*.yaml"))
    assert len(files) > 90
    done = _check(tmp_path / "schemas", files, cwd=tmp_path)       # run from elsewhere: nothing found by chance
    assert done.returncode == 0, done.stdout + done.stderr
    bad = tmp_path / "bad.yaml"
    shutil.copy(CONFIGS / "alerts" / "loan_overdue.yaml", bad)
    bad.write_text(bad.read_text(encoding="utf-8").replace("scope: company", "scoop: company"), encoding="utf-8")
    refused = _check(tmp_path / "schemas", [bad], cwd=tmp_path)
    assert refused.returncode != 0 and "scoop" in refused.stdout + refused.stderr
