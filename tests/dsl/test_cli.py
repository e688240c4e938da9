"""The authoring CLI, run as an operator would: validate, schema, explain, new."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from runtime.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
GOOD = """apiVersion: banyan/v1
kind: Entity
metadata: {name: firm, label: {zh: 企业, en: Firm}}
spec:
  fields:
    - {name: code, type: string, required: true}
"""


def run(*args, cwd: Path | None = None):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_validate_shipped_configs_is_clean():
    result = run("validate", str(ROOT / "configs"))
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_validate_reports_errors_with_caret_and_exit_1(tmp_path):
    (tmp_path / "firm.yaml").write_text(GOOD.replace("required: true", "requried: true"), encoding="utf-8")
    result = run("validate", str(tmp_path))
    assert result.exit_code == 1
    assert "error[BNY205]" in result.output and "^" in result.output and "did you mean `required`" in result.output


def test_validate_json_format(tmp_path):
    (tmp_path / "firm.yaml").write_text(GOOD.replace("kind: Entity", "kind: Entiti"), encoding="utf-8")
    result = run("validate", str(tmp_path), "--format", "json")
    assert result.exit_code == 1
    (item,) = json.loads(result.output)
    assert item["code"] == "BNY203" and item["line"] == 2 and item["col"] == 7


def test_validate_missing_path_and_empty_dir(tmp_path):
    assert run("validate", str(tmp_path / "nope")).exit_code == 1
    assert "BNY002" in run("validate", str(tmp_path)).output


def test_usage_error_exit_2():
    assert run("validate", "--format", "xml").exit_code == 2
    assert run("explain", "NoSuchKind").exit_code == 2


def test_schema_export_writes_every_kind_and_editor_mapping(tmp_path):
    result = run("schema", "--out", str(tmp_path))
    assert result.exit_code == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert {"entity.json", "banyan.json", "yaml-language-server.json"} <= names
    schema = json.loads((tmp_path / "entity.json").read_text(encoding="utf-8"))
    assert schema["properties"]["kind"]["const"] == "Entity"


def test_explain_key_and_code():
    out = run("explain", "Entity.spec.fields").output
    assert "required_when" in out and "currency" in out
    assert "duplicate key" in run("explain", "BNY102").output
    assert "Entity" in run("explain", "kinds").output


def test_explain_functions_lists_every_callable_function_with_its_words():
    out = run("explain", "functions").output
    for name in ("add_months(", "to_cny(", "group_credit_ratio(", "single_borrower_ratio(", "connected_credit_ratio(",
                 "is_uscc(", "days_between("):
        assert name in out, name
    assert "CBRC 2003 No.5" in out and "Traceback" not in out


def test_new_scaffold_validates_clean(tmp_path):
    from dsl.kinds import KINDS
    for kind in KINDS:
        name = f"new_{kind.lower()}"
        result = run("new", kind, name, "--dir", str(tmp_path / kind))
        assert result.exit_code == 0, result.output
        text = (tmp_path / kind / f"{name}.yaml").read_text(encoding="utf-8")
        assert text.startswith("# yaml-language-server: $schema=")
    # a new alert rule watches the project's company entity
    shutil.copytree(Path(__file__).resolve().parents[2] / "configs" / "entities", tmp_path / "entities")
    result = run("validate", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert run("new", "Entity", "new_entity", "--dir", str(tmp_path / "Entity")).exit_code == 2
    assert run("new", "Entity", "Bad-Name").exit_code == 2
