"""The renderer's own words in zh-CN and en, and number formatting for people.

Field labels, help and enum labels come from the IR; these are the words around them
(messages, buttons). Messages are templates with `{name}` slots, shared with the browser so
a live message and the server's message read the same.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from dsl.errors import catalog

LANGS = ("zh", "en")

# The messages are the `forms.` entries of the one error catalogue (dsl/messages.yaml), so a
# value refused by a form, the API and the CLI reads the same.
MESSAGES: dict[str, dict[str, str]] = {key.removeprefix("forms."): dict(texts) for key, texts in catalog().items()
                                       if key.startswith("forms.")}

WORDS: dict[str, dict[str, str]] = {
    "add_row": {"zh": "添加一行", "en": "Add a row"},
    "remove_row": {"zh": "删除此行", "en": "Remove this row"},
    "remove": {"zh": "删除", "en": "Remove"},
    "row": {"zh": "行", "en": "Row"},
    "yes": {"zh": "是", "en": "Yes"},
    "no": {"zh": "否", "en": "No"},
    "choose": {"zh": "请选择", "en": "Choose…"},
    "required_mark": {"zh": "必填", "en": "required"},
    "computed": {"zh": "保存后自动计算", "en": "Calculated when saved"},
    "refresh": {"zh": "刷新显示与计算", "en": "Update the form"},
    "search": {"zh": "输入名称或编号搜索", "en": "Type a name or code to search"},
    "no_matches": {"zh": "没有匹配项", "en": "No matches"},
    "current_file": {"zh": "当前文件", "en": "Current file"},
    "allowed_files": {"zh": "可上传 {types}，不超过 {size}", "en": "{types}, up to {size}"},
    "empty": {"zh": "—", "en": "—"},
}


def lang_of(value: Any) -> str:
    return value if value in LANGS else "zh"


def message(code: str, lang: str, **slots: Any) -> str:
    text = MESSAGES[code][lang_of(lang)]
    return text.format(**{k: v for k, v in slots.items()}) if slots else text


def word(code: str, lang: str, **slots: Any) -> str:
    text = WORDS[code][lang_of(lang)]
    return text.format(**slots) if slots else text


def plain_number(value: Decimal | int | float, scale: int | None = None) -> str:
    """1234567.5 → '1,234,567.50' (with `scale` decimals, else as few as needed)."""
    d = Decimal(str(value)) if not isinstance(value, Decimal) else value
    if scale is not None:
        return f"{d.quantize(Decimal(1).scaleb(-scale)):,}"
    text = f"{d.normalize():,f}" if d == d.to_integral_value() or abs(d) >= 1 else f"{d:f}"
    return text


def in_wan_yi(value: Decimal | int | float, lang: str) -> str:
    """A large amount in the units Chinese bankers read: 1.5亿, 3,000万 (en: 150 million)."""
    d = Decimal(str(value)) if not isinstance(value, Decimal) else value
    a = abs(d)
    if lang_of(lang) == "en":
        for unit, word_ in ((Decimal(10) ** 9, "billion"), (Decimal(10) ** 6, "million")):
            if a >= unit:
                return f"{(d / unit).quantize(Decimal('0.01')).normalize():f} {word_}"
        return ""
    for unit, word_ in ((Decimal(10) ** 8, "亿"), (Decimal(10) ** 4, "万")):
        if a >= unit:
            return f"{(d / unit).quantize(Decimal('0.0001')).normalize():f}{word_}"
    return ""


def file_size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"


def client_messages(lang: str) -> dict[str, str]:
    """The message templates the browser needs, in one language."""
    lang = lang_of(lang)
    return {code: texts[lang] for code, texts in MESSAGES.items()}


def value_messages(lang: str) -> dict[str, str]:
    """The words of dsl/values' `BadValue` (the `values.` entries of dsl/messages.yaml) in one
    language: what the browser says about a value it cannot read, as the server says it."""
    lang = lang_of(lang)
    return {key.removeprefix("values."): texts[lang] for key, texts in catalog().items()
            if key.startswith("values.") and lang in texts}
