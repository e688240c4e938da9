"""One CSV per entity (UTF-8, header = field names), plus org_unit.csv, user.csv and planted.json.

Values: money as plain decimals, a percent as `51%` (what every door reads back as 51%: a bare
number would be percent points), dates and datetimes in ISO 8601, booleans `true`/`false`, null as
an empty cell. Which fields are percents comes from the shipped entities (configs/entities).
"""
from __future__ import annotations

import csv
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from dsl.compiler import compile_path
from dsl.values import percent_fields, write_record

from .bank import DemoBank

ENTITIES = Path(__file__).resolve().parents[2] / "configs" / "entities"


def _percents() -> dict[str, tuple[str, ...]]:
    bundle = compile_path(ENTITIES).bundle
    return {name: percent_fields(e.fields) for name, e in bundle.entities.items()} if bundle else {}


def cell(value) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def write_table(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        if rows:
            writer.writerow(list(rows[0]))
        for row in rows:
            writer.writerow([cell(v) for v in row.values()])


def _json_default(value):
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def write_bank(bank: DemoBank, out: Path) -> list[Path]:
    """Write every table of `bank` into `out` (created if missing); return the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    tables = {**bank.records, "org_unit": bank.org_units, "user": bank.users}
    percents = _percents()
    for name, rows in tables.items():
        path = out / f"{name}.csv"
        mine = percents.get(name, ())
        write_table(path, [write_record(mine, r, target="text") for r in rows] if mine else rows)
        written.append(path)
    planted = out / "planted.json"
    planted.write_text(json.dumps(bank.planted, ensure_ascii=False, indent=1, default=_json_default) + "\n",
                       encoding="utf-8")
    written.append(planted)
    return written
