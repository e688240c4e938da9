"""Personal data, masked (个人信息保护法): the one place that says how a personal field's value is
shown to a reader who may not see it (an entity field's `personal:` key, dsl/kinds/entity_schema.py).
Every door — pages, the JSON API, the CLI listing, exports — shows what `mask` gives; the records
service decides who sees the real value (runtime/records/personal.py). Pure: stdlib only.

| kind | shows | e.g. |
|---|---|---|
| `id_number` | the first 4 and the last 4 characters | `3101**********1234` |
| `phone` | the first 3 and the last 4 | `138****5678` |
| `address` | the first 6 characters and `****` | `上海市浦东新****` |
| `name` | the first character | `张**` |
| `generic` (`personal: true`) | the first and the last character | `A*****Z` |

A value too short to keep that much shows only stars (as many as it has characters), so a mask
never gives away a whole short value.
"""
from __future__ import annotations

from typing import Any, Mapping

STAR = "*"


def _keep(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail:
        return STAR * len(text)
    return text[:head] + STAR * (len(text) - head - tail) + text[len(text) - tail:]


def mask(value: Any, kind: str | None) -> Any:
    """`value` as a reader without `personal.read` sees it; None and "" stay as they are, and a
    field that is not personal (`kind` None) is not masked."""
    if kind is None or value is None or value == "":
        return value
    text = str(value)
    if kind == "id_number":
        return _keep(text, 4, 4)
    if kind == "phone":
        return _keep(text, 3, 4)
    if kind == "address":
        return text[:6] + STAR * 4 if len(text) > 6 else STAR * len(text)
    if kind == "name":
        return text[:1] + STAR * (len(text) - 1) if len(text) > 1 else STAR
    return _keep(text, 1, 1)


def is_masked_echo(sent: Any, stored: Any, kind: str | None) -> bool:
    """Whether `sent` is the masked form of `stored` sent back unchanged (a form or a client that
    fetched the masked record and returns it): then the stored value is kept, never overwritten."""
    if kind is None or not isinstance(sent, str) or STAR not in sent or stored in (None, ""):
        return False
    return sent.strip() == mask(stored, kind) and sent.strip() != str(stored)


def mask_record(record: Mapping[str, Any], personal: Mapping[str, str]) -> dict[str, Any]:
    """`record` with every personal field (`personal`: field name → kind) masked."""
    return {k: mask(v, personal[k]) if k in personal else v for k, v in record.items()}
