"""The one error the flow engine raises: a command it refuses, with a stable code.

A refused command changes nothing: `apply` builds the new state on a working copy and
returns it only when the whole command went through."""
from __future__ import annotations

from dsl.errors import BanyanError
from dsl.expr.runtime import has_own_words


class CommandRejected(BanyanError):
    """An illegal command: `code` is stable (for the API's 4xx body and for tests), `message`
    says what was wrong in words a bank clerk understands (its catalogue key: `flows.<code>`)."""
    status, namespace = 422, "flows"

    def __init__(self, code: str, message: str):
        super().__init__(message, code=code)
        self.args = (f"{code}: {message}",)


def reject(code: str, message: str) -> CommandRejected:
    return CommandRejected(code, message)


def evaluation_failed(text: str, exc: Exception) -> CommandRejected:
    """An expression of the flow failed on this instance's data: refused as `evaluation_failed`,
    in the words of the expression's own error (never Python's text; that stays on `__cause__`)."""
    reason = getattr(exc, "reason", None) or "failed"
    why = exc.message if isinstance(exc, BanyanError) else "a function failed on this data"
    rejected = CommandRejected("evaluation_failed", f"`{text}` could not be evaluated: {why}")
    if has_own_words(exc):                      # the function's own words (no capital figure, no rate)
        rejected.key, rejected.params = exc.message_key, dict(exc.params)       # type: ignore[attr-defined]
    else:
        rejected.key, rejected.params = f"dsl.evaluation.{reason}", {"text": text}
    return rejected
