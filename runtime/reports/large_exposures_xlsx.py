"""The large-exposure report as an XLSX workbook in the regulator's layout: one sheet per part
(I 总体情况, II 非同业单一客户, III 非同业集团客户/关联客户), each with a title row (the bank, the
report date, the capital figure used, the unit), Chinese headers (and English ones with `lang=en`),
amounts in 万元 as numbers with the number format `#,##0.00` (never text), ratios as `0.00%`, and
notes below saying which parts of the regulator's layout the data model does not hold.

Text a spreadsheet would run as a formula (a client named `=…`) is stored as text (OWASP's advice,
as runtime/records/tabular_export.py does). `save_report` writes a file whole or not at all: into a
temporary file beside the target, renamed over it once complete.
"""
from __future__ import annotations

import io
import os
import tempfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from dsl.errors import BanyanError
from runtime.records.tabular_export import FORMULA_START
from runtime.reports.large_exposures import Report

WAN = Decimal(10_000)
CENT = Decimal("0.01")
MONEY, PERCENT = "#,##0.00", "0.00%"

T = {
    "title": ("大额风险暴露报表", "Large exposures report"),
    "date": ("报告日期", "Report date"),
    "capital": ("一级资本净额", "Tier-1 capital"),
    "capital_of": ("{period}，{day} 起适用", "{period}, effective {day}"),
    "unit": ("单位：万元", "Unit: 10k CNY"),
    "unit_word": ("万元", "10k CNY"),
    "scope": ("范围", "Scope"),
    "bank_wide": ("全行", "Whole bank"),
    "part1": ("I 总体情况", "I Summary"),
    "part2": ("II 非同业单一客户", "II Single clients"),
    "part3": ("III 非同业集团客户", "III Connected clients"),
    "category": ("类别", "Category"),
    "count": ("户数", "Number"),
    "total": ("风险暴露总和", "Total exposure"),
    "ratio": ("占一级资本净额比例", "Share of tier-1 capital"),
    "single": ("非同业单一客户", "Non-interbank single clients"),
    "connected": ("非同业集团客户（关联客户）", "Non-interbank groups (connected clients)"),
    "rank": ("序号", "No."),
    "client": ("客户名称", "Client"),
    "code": ("统一社会信用代码", "Unified social credit code"),
    "general": ("其中：一般风险暴露", "of which: general exposure"),
    "potential": ("潜在风险暴露（备查，未计入风险暴露总和）", "Potential exposure (memo, not in the total)"),
    "limit": ("限额", "Limit"),
    "over": ("是否超过限额", "Over the limit"),
    "group": ("集团名称", "Group"),
    "group_code": ("集团编号", "Group code"),
    "members": ("成员数", "Members"),
    "yes": ("是", "Yes"),
    "no": ("否", "No"),
    "unknown": ("—", "—"),
    "notes": ("说明", "Notes"),
}

NOTES = {
    "basis": ("风险暴露按本行集中度函数（connected_credit_ratio 等，预警规则与授信审批路由所用）"
              "同一口径计算：贷款余额按报告日或之前最近汇率折算为人民币；集团为成员及其控制关联企业的贷款余额合计。",
              "Exposures are computed as the bank's concentration functions (connected_credit_ratio and the others, "
              "used by the alert rules and the credit route) compute them: loan balances in CNY at the latest rate on "
              "or before the report date; a group is its members and the firms control links to them."),
    "threshold": ("列入标准：风险暴露总和不低于一级资本净额的 10%（银保监会 2018 年第 1 号令）；按风险暴露总和由大到小排列。",
                  "Listed: total exposure at least 10% of tier-1 capital (CBIRC 2018 No.1); largest first."),
    "not_held": ("本行数据模型未保存以下类别，表中不列示（并非为零）："
                 "特定风险暴露（资产管理产品、资产证券化产品）、交易账簿风险暴露、交易对手信用风险暴露、其他风险暴露；"
                 "风险缓释（保证金、质押存单、国债）扣减；同业客户（模型不区分同业客户，全部按非同业列示）；"
                 "经济依存客户。",
                 "The bank's data model does not hold these categories, so they are not shown (they are not zero): "
                 "specific exposures (asset-management and securitisation products), trading-book exposures, "
                 "counterparty credit exposures, other exposures; credit-risk mitigation (margin deposits, pledged CDs, "
                 "government bonds); interbank clients (the model does not mark them: every client is reported as "
                 "non-interbank); economically dependent clients."),
    "potential": ("潜在风险暴露为有效成员分项额度的未使用部分（额度金额减已用额度），仅供参考，"
                  "未计入风险暴露总和与比例：本行集中度函数只计贷款余额，计入须先修改该函数，使预警与本表同步。",
                  "Potential exposure is the unused part of active member sub-limits (limit amount less used), for "
                  "reference only, and is not in the total or the share: the bank's concentration functions count "
                  "loan balances only; counting it is a change to those functions, so that the alerts and this report "
                  "move together."),
    "no_potential": ("本行数据模型未保存授信额度（金额、已用额度），潜在风险暴露不列示。",
                     "The data model holds no credit facilities (amount, used): potential exposure is not shown."),
    "scope": ("本表仅含您机构范围内的客户与由本机构主办的集团。",
              "This report holds only the clients in your org scope and the groups your units lead."),
}


def _t(key: str, lang: str, table: dict = T) -> str:
    zh, en = table[key]
    return en if lang == "en" else zh


def _header(key: str, lang: str) -> str:
    return f"{T[key][0]}\n{T[key][1]}" if lang == "en" else T[key][0]


def _text(ws: Worksheet, row: int, col: int, value: str) -> None:
    c = ws.cell(row=row, column=col, value=value)
    if value.startswith(FORMULA_START):
        c.data_type = "s"               # text, never a formula


def _num(ws: Worksheet, row: int, col: int, value: Decimal | None, fmt: str) -> None:
    if value is None:
        ws.cell(row=row, column=col, value="—")
        return
    c = ws.cell(row=row, column=col, value=value)
    c.number_format = fmt


def _wan(value: Decimal) -> Decimal:
    """An amount in 万元, to the cent of a 万 as the regulator's tables keep it (金额保留两位小数)."""
    return (value / WAN).quantize(CENT, rounding=ROUND_HALF_UP)


def _sheet(wb: Workbook, report: Report, part: str, lang: str, heads: list[str], widths: list[int]) -> Worksheet:
    ws = wb.create_sheet(_t(part, lang)[:31])
    d = report.data
    capital = _t("capital_of", lang).format(period=d.capital.key or "", day=d.capital.effective_on.isoformat())
    scope = report.scope_label or _t("bank_wide", lang)
    title = f"{report.bank} {_t('title', lang)} — {_t(part, lang)}"
    _text(ws, 1, 1, title)
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    colon = ": " if lang == "en" else "："
    ws.cell(row=2, column=1, value=f"{_t('date', lang)}{colon}{d.as_of.isoformat()}    "
                                   f"{_t('capital', lang)}{colon}{capital}    "
                                   f"{_t('scope', lang)}{colon}{scope}    {_t('unit', lang)}")
    ws.cell(row=3, column=1, value=f"{_t('capital', lang)}（{_t('unit_word', lang)}）")
    _num(ws, 3, 2, _wan(d.capital.tier1_capital), MONEY)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for i, (h, w) in enumerate(zip(heads, widths), 1):
        c = ws.cell(row=5, column=i, value=_header(h, lang))
        c.font, c.fill = bold, fill
        c.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = "A6"
    return ws


def _notes(ws: Worksheet, report: Report, lang: str, keys: list[str]) -> None:
    row = ws.max_row + 2
    ws.cell(row=row, column=1, value=_t("notes", lang)).font = Font(bold=True)
    if report.scope_label is not None:
        keys = keys + ["scope"]
    for i, key in enumerate(keys, 1):
        ws.cell(row=row + i, column=1, value=f"{i}. {_t(key, lang, NOTES)}")


def workbook(report: Report, lang: str = "zh") -> Workbook:
    """The report as a workbook (three sheets, in the order of the regulator's layout)."""
    lang = "en" if lang == "en" else "zh"
    d = report.data
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.title = _t("title", lang)
    common = ["basis", "threshold", "not_held", "potential" if report.potential else "no_potential"]

    ws = _sheet(wb, report, "part1", lang, ["category", "count", "total", "ratio"], [40, 10, 20, 20])
    for r, s in enumerate(d.summary, 6):
        ws.cell(row=r, column=1, value=_t(s.category, lang))
        ws.cell(row=r, column=2, value=s.count)
        _num(ws, r, 3, _wan(s.total), MONEY)
        _num(ws, r, 4, s.ratio, PERCENT)
    _notes(ws, report, lang, common)

    heads = ["rank", "client", "code", "total", "general"] + (["potential"] if report.potential else []) + \
        ["ratio", "limit", "over"]
    widths = [8, 36, 24, 18, 18] + ([24] if report.potential else []) + [16, 10, 12]
    ws = _sheet(wb, report, "part2", lang, heads, widths)
    for r, c in enumerate(d.clients, 6):
        values: list[tuple[Any, str | None]] = [(c.rank, None), (c.name, "text"), (c.key, "text"),
                                                (_wan(c.total), MONEY), (_wan(c.general), MONEY)]
        if report.potential:
            values.append((None if c.potential is None else _wan(c.potential), MONEY))
        values += [(c.ratio, PERCENT), (c.limit, PERCENT), (_t("yes" if c.over_limit else "no", lang), "text")]
        _row(ws, r, values)
    _notes(ws, report, lang, common)

    ws = _sheet(wb, report, "part3", lang, ["rank", "group", "group_code", "members", "total", "ratio", "limit", "over"],
                [8, 36, 14, 10, 18, 16, 10, 12])
    for r, g in enumerate(d.groups, 6):
        _row(ws, r, [(g.rank, None), (g.name, "text"), (g.key, "text"), (g.members, None), (_wan(g.total), MONEY),
                     (g.ratio, PERCENT), (g.limit, PERCENT), (_t("yes" if g.over_limit else "no", lang), "text")])
    _notes(ws, report, lang, common)
    return wb


def _row(ws: Worksheet, row: int, values: list[tuple[Any, str | None]]) -> None:
    for col, (v, kind) in enumerate(values, 1):
        if kind == "text":
            _text(ws, row, col, str(v))
        elif kind is None:
            ws.cell(row=row, column=col, value=v)
        else:
            _num(ws, row, col, v, kind)


def report_bytes(report: Report, lang: str = "zh") -> bytes:
    out = io.BytesIO()
    workbook(report, lang).save(out)
    return out.getvalue()


class ReportFileError(BanyanError):
    """The report cannot be written where asked (a folder that does not exist, no permission, not
    an .xlsx name): a usage error (the CLI's exit 2), said with the path and what to do."""
    status, code, namespace = 400, "report_unwritable", "reports"


def save_report(report: Report, path: str | Path, lang: str = "zh") -> Path:
    """Write the workbook to `path` whole or not at all (a temporary file beside it, renamed over it)."""
    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        raise ReportFileError(f"{target}: the report is an .xlsx workbook; give a file name ending in .xlsx")
    data = report_bytes(report, lang)            # computed before anything touches the disk
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise ReportFileError(f"{target}: cannot write in {folder} ({exc.strerror or 'not writable'}): "
                              "give a path in an existing folder you may write to") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ReportFileError(f"{target}: cannot write the file ({exc.strerror or 'not writable'}): "
                              "give a path you may write to") from None
    return target
