"""The one error the flow engine raises: a command it refuses, with a stable code.

A refused command changes nothing: `apply` builds the new state on a working copy and
returns it only when the whole command went through."""
from __future__ import annotations


class CommandRejected(Exception):
    """An illegal command: `code` is stable (for the API's 4xx body and for tests), `message`
    says what was wrong in words a bank clerk understands."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def reject(code: str, message: str) -> CommandRejected:
    return CommandRejected(code, message)
