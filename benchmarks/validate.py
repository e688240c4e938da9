"""How fast `banyan validate` answers, as a fresh process (start-up included): a generated
bundle of 1,000 entity files with expressions (target < 10 s) and the shipped configs/
(target < 1 s). Usage: python benchmarks/validate.py [--quick]"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import ROOT, median_time, metric, report

from dsl.compiler import compile_path

FIELDS = """\
    - {{name: code, type: string, label: {{zh: 编号, en: Code}}, required: true, unique: true}}
    - {{name: name, type: string, label: {{zh: 名称, en: Name}}, required: true}}
    - {{name: parent, type: ref(entity_{parent})}}
    - {{name: amount, type: money, currency: CNY, scale: 2, min: 0, max: {cap}亿}}
    - {{name: limit, type: money, min: 0}}
    - {{name: ratio, type: percent, min: 0, max: "100%"}}
    - {{name: status, type: enum, values: [{{value: active, label: {{zh: 有效}}}}, {{value: closed, label: {{zh: 关闭}}}}]}}
    - {{name: opened, type: date}}
    - {{name: closed_on, type: date, required_when: "status == 'closed'"}}
    - {{name: headroom, type: money, compute: "if limit > amount then limit - amount else 0"}}
    - {{name: large, type: bool, compute: "amount >= {big}亿 or ratio > {pct}%"}}
  validations:
    - rule: "closed_on == null or opened == null or closed_on >= opened"
      message: {{zh: 关闭日期不能早于开立日期, en: Closed before opened}}
      fields: [closed_on]
"""


def write_bundle(root: Path, n: int) -> None:
    for i in range(n):
        parent = max(i - 1, 0)
        text = (f"apiVersion: banyan/v1\nkind: Entity\nmetadata:\n  name: entity_{i}\n"
                f"  label: {{zh: 实体{i}, en: Entity {i}}}\nspec:\n  key: code\n  display: name\n  fields:\n"
                + FIELDS.format(parent=parent, cap=100 + i, big=1 + i % 50, pct=50 + i % 40))
        (root / f"entity_{i}.yaml").write_text(text, encoding="utf-8")


def check(path: Path) -> None:
    result = compile_path(path)
    if not result.ok:
        raise SystemExit(f"benchmark bundle {path} does not validate: {result.diagnostics.sorted()[:3]}")


def cli_run(path: Path) -> None:
    """`banyan validate PATH` as an operator runs it: a fresh process, start-up included."""
    banyan = Path(sys.executable).parent / "banyan"
    done = subprocess.run([str(banyan), "validate", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"banyan validate {path} failed:\n{done.stdout[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    repeat = 3 if args.quick else 5
    with tempfile.TemporaryDirectory() as tmp:
        write_bundle(Path(tmp), 1000)
        check(Path(tmp))
        big = median_time(lambda: cli_run(Path(tmp)), repeat=repeat)
    configs = ROOT / "configs"
    check(configs)
    shipped = median_time(lambda: cli_run(configs), repeat=repeat)
    report("validate", [
        metric("validate_1000_files", big, "s", "target", 10.0, 10.0 / big),
        metric("validate_configs", shipped, "s", "target", 1.0, 1.0 / shipped),
    ])


if __name__ == "__main__":
    main()
