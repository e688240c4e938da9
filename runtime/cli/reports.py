"""`banyan report …`: regulatory reports written to a file.

    banyan report large-exposures --out 大额风险暴露.xlsx [--lang zh|en] [--as USER]

The large-exposure report (大额风险暴露, runtime/reports/): with `--as USER`, within that person's
org scope, as the dashboard's download gives it to them; without it, the operator's whole bank.
No capital figure on record, or a path that cannot be written: an error in words, exit 2, and no
file (the workbook is written whole or not at all).
"""
from __future__ import annotations

import click

from runtime.cli.common import env_option, handle_errors
from runtime.cli.main import main
from runtime.cli.records import Door, as_option


@main.group()
def report() -> None:
    """Regulatory reports (the large-exposure report, 大额风险暴露) written as files."""


@report.command("large-exposures")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), metavar="FILE.xlsx",
              help="Where to write the workbook (.xlsx).")
@click.option("--lang", "lang", default="zh", type=click.Choice(["zh", "en"]),
              help="zh: Chinese headers; en: Chinese and English headers, English notes.")
@as_option
@env_option
@handle_errors
def large_exposures(out: str, lang: str, as_user: str | None, env: str | None) -> None:
    """Each client and group with exposure ≥ 10% of tier-1 capital (CBIRC 2018 No.1), in the
    regulator's layout, amounts in 万元, as of today against the latest bank capital figure."""
    from runtime.reports.large_exposures import large_exposure_report
    from runtime.reports.large_exposures_xlsx import save_report
    door = Door(env, as_user)
    found = large_exposure_report(door.records, door.scope, lang=lang)
    path = save_report(found, out, lang)
    d = found.data
    click.echo(f"✓ {path}: {len(d.clients)} client(s), {len(d.groups)} group(s) at or above 10% of tier-1 capital "
               f"({d.capital.key or d.capital.effective_on.isoformat()}), as of {d.as_of.isoformat()}")
