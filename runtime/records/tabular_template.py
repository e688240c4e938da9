"""An import template per entity: an XLSX workbook a person fills in Excel and imports as it is.

The first sheet has one column per field that can be imported (computed fields are left out),
headed by the field's label in the person's language; each header has a comment saying the type,
whether it is required, the unit (money in 元, `3000万` and `1.5亿` understood), the allowed values
and the field's help. Enums and yes/no have drop-downs of their labels (the lists live on a hidden
sheet, so a long list is no problem), money/percent/date columns are pre-formatted, required
headers are red, and the widths fit. A second sheet explains the same in a table.
"""
from __future__ import annotations

from typing import Any

from runtime.records.service import Records
from runtime.records.tabular_export import YES_NO, display_width, number_format, sheet_title

ROWS = 500                      # rows pre-formatted and given drop-downs
WORDS = {
    "zh": {"string": "文本", "text": "长文本", "integer": "整数", "number": "数字", "money": "金额（元）",
           "percent": "百分比", "date": "日期", "datetime": "日期时间", "bool": "是/否", "enum": "选项",
           "multi_enum": "多选（用顿号或分号分隔）", "duration": "时长", "ref": "引用", "file": "文件",
           "required": "必填", "optional": "选填", "default": "默认", "choices": "可选",
           "money_hint": "可写 3000万、1.5亿、2.5万元；表头也可写单位，如“{label}（万元）”",
           "percent_hint": "写 35 或 35%（均为百分之三十五）", "date_hint": "如 2018-05-01、2018/5/1、2018年5月1日",
           "ref_hint": "填写{target}的编号或名称", "org_hint": "填写机构代码", "user_hint": "填写用户名",
           "field": "字段", "type": "类型", "rule": "要求", "help": "说明", "guide": "填写说明",
           "intro": "第一行是表头，请勿修改；从第二行起每行一条记录。全部校验通过才会导入，否则一条也不导入，并逐行列出问题。"},
    "en": {"string": "Text", "text": "Long text", "integer": "Whole number", "number": "Number",
           "money": "Money (CNY)", "percent": "Percent", "date": "Date", "datetime": "Date and time", "bool": "Yes/No",
           "enum": "Choice", "multi_enum": "Choices (separated by ; or 、)", "duration": "Duration",
           "ref": "Reference", "file": "File", "required": "Required", "optional": "Optional",
           "default": "Default", "choices": "Choices",
           "money_hint": "3000万, 1.5亿 and 2.5万元 are understood; a header may carry the unit, e.g. \"{label} (万元)\"",
           "percent_hint": "write 35 or 35% (both mean thirty-five per cent)",
           "date_hint": "e.g. 2018-05-01, 2018/5/1, 2018年5月1日", "ref_hint": "the key or the name of a {target}",
           "org_hint": "the org unit's code", "user_hint": "the user name",
           "field": "Field", "type": "Type", "rule": "Rule", "help": "Help", "guide": "How to fill in",
           "intro": "Row 1 is the header: leave it as it is; one record per row from row 2. Nothing is imported "
                    "unless every row is valid; otherwise every problem is listed by row."},
}


def template_fields(entity: Any) -> list[Any]:
    return [f for f in entity.fields if not f.computed]


def _choices(f: Any, lang: str) -> list[str]:
    if f.type_name == "bool":
        return list(YES_NO[lang])
    return [v.label.text(lang) or v.value for v in f.values]


def field_notes(records: Records, f: Any, lang: str) -> list[str]:
    """What a person needs to know to fill one column, line by line."""
    w = WORDS[lang]
    label = f.label.text(lang) or f.name
    lines = [f"{label} · {w.get(f.type_name, f.type_name)} · {w['required'] if f.required else w['optional']}"]
    if f.type_name == "money":
        lines.append(w["money_hint"].format(label=label))
    elif f.type_name == "percent":
        lines.append(w["percent_hint"])
    elif f.type_name in ("date", "datetime"):
        lines.append(w["date_hint"])
    elif f.type_name == "ref":
        if f.ref == "org_unit":
            lines.append(w["org_hint"])
        elif f.ref == "user":
            lines.append(w["user_hint"])
        else:
            target = records.live.bundle.entities.get(f.ref)
            lines.append(w["ref_hint"].format(target=target.meta.label.text(lang) if target else f.ref))
    if f.type_name in ("enum", "multi_enum", "bool"):
        lines.append(f"{w['choices']}: " + ("、" if lang == "zh" else ", ").join(_choices(f, lang)))
    if f.default is not None:
        shown = next((v.label.text(lang) for v in f.values if v.value == f.default), None) if f.values else None
        if f.type_name == "bool":
            shown = YES_NO[lang][0 if f.default else 1]
        lines.append(f"{w['default']}: {shown or f.default}")
    if f.help and f.help.text(lang):
        lines.append(f.help.text(lang))
    return lines


def write_template(target: Any, records: Records, entity: str, lang: str = "zh") -> None:
    """The template of `entity` for people reading `lang`, to a path or a binary file."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation
    ent = records.live.entity(entity)
    fields = template_fields(ent)
    w = WORDS[lang]
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title(ent.meta.label.text(lang) or entity)
    lists = wb.create_sheet("_lists")
    lists.sheet_state = "hidden"
    guide = wb.create_sheet(sheet_title(w["guide"]))
    fill = PatternFill("solid", fgColor="DDEBF7")
    list_col = 0
    for i, f in enumerate(fields, start=1):
        letter = get_column_letter(i)
        label = f.label.text(lang) or f.name
        head = ws.cell(row=1, column=i, value=label)
        head.font = Font(bold=True, color="C00000" if f.required else None)
        head.fill, head.alignment = fill, Alignment(vertical="center")
        notes = field_notes(records, f, lang)
        head.comment = Comment("\n".join(notes), "Banyan", width=320, height=40 + 18 * len(notes))
        fmt = number_format(f)
        if fmt or f.type_name in ("string", "text"):
            for r in range(2, ROWS + 2):
                ws.cell(row=r, column=i).number_format = fmt or "@"     # text stays text (codes keep zeros)
        choices = _choices(f, lang) if f.type_name in ("enum", "bool") else []
        if choices:
            list_col += 1
            col = get_column_letter(list_col)
            for r, text in enumerate(choices, start=1):
                lists.cell(row=r, column=list_col, value=text)
            dv = DataValidation(type="list", allow_blank=True, showErrorMessage=True,
                                formula1=f"{quote_sheetname('_lists')}!${col}$1:${col}${len(choices)}")
            dv.error = notes[-1] if len(notes) > 1 else label
            dv.errorTitle = label
            ws.add_data_validation(dv)
            dv.add(f"{letter}2:{letter}{ROWS + 1}")
        longest = max([display_width(label)] + [display_width(c) for c in choices]) + 4
        ws.column_dimensions[letter].width = min(max(longest, 12 if fmt else 10), 40)
    ws.freeze_panes = "A2"
    _guide(guide, records, fields, lang)
    wb.save(target)


def _guide(ws: Any, records: Records, fields: list[Any], lang: str) -> None:
    from openpyxl.styles import Alignment, Font
    w = WORDS[lang]
    ws.append([w["intro"]])
    ws.append([])
    ws.append([w["field"], w["type"], w["rule"], w["help"]])
    for c in ws[3]:
        c.font = Font(bold=True)
    for f in fields:
        notes = field_notes(records, f, lang)
        ws.append([f.label.text(lang) or f.name, w.get(f.type_name, f.type_name),
                   w["required"] if f.required else w["optional"], "\n".join(notes[1:])])
    for letter, width in zip("ABCD", (24, 16, 10, 70)):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows(min_row=4):
        row[3].alignment = Alignment(wrap_text=True, vertical="top")
