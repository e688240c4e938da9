"""The one error of reading a person's input: `BadValue`, with a code per problem.

Its words are the `values.<code>` entries of dsl/messages.yaml (zh and en); `params` fill them.
`value` is always the input as the person wrote it (shortened when long), so a message names
what was refused, and the door adds where (the field, the row)."""
from __future__ import annotations

from typing import Any

from dsl.errors import BanyanError

SHOWN = 40                 # characters of the input a message repeats


def shown(raw: Any) -> str:
    """The input as a person reads it in a message (never Python's repr or type names)."""
    if isinstance(raw, bool):
        text = "true" if raw else "false"
    elif isinstance(raw, (list, tuple)):
        text = "、".join(shown(v) for v in raw)
    elif isinstance(raw, dict):
        text = "{…}"
    else:
        text = str(raw)
    text = " ".join(text.split())
    return text if len(text) <= SHOWN else text[:SHOWN - 1] + "…"


class BadValue(BanyanError):
    """An input that cannot be read as its field's type. `code` names the problem (`number`,
    `percent`, `date`, `choice`, …), the message key is `values.<code>`."""
    code, status, namespace = "bad_value", 422, "values"

    def __init__(self, code: str, raw: Any = None, **params: Any):
        params = {"value": shown(raw), **params}
        super().__init__("", code=code, params=params)
        self.args = (self.message,)

    @property
    def slots(self) -> dict[str, Any]:
        """The parameters, as the forms' messages call them."""
        return self.params
