"""One CSV per entity (UTF-8, header = field names), plus org_unit.csv, user.csv and planted.json.

Values: money and percent as plain decimals (percent as a fraction, 0.5100 = 51%), dates and
datetimes in ISO 8601, booleans `true`/`false`, null as an empty cell.
"""
from __future__ import annotations

import csv
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from .bank import DemoBank


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
    for name, rows in tables.items():
        path = out / f"{name}.csv"
        write_table(path, rows)
        written.append(path)
    planted = out / "planted.json"
    planted.write_text(json.dumps(bank.planted, ensure_ascii=False, indent=1, default=_json_default) + "\n",
                       encoding="utf-8")
    written.append(planted)
    return written
