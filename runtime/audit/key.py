"""The audit chain's key: held outside the database, so that someone who can write the database
cannot recompute the chain after rewriting it.

Where it comes from, first match wins:
  1. `BANYAN_AUDIT_KEY` — the key itself (at least 32 characters; several app servers on one
     database need the same key, as with `BANYAN_SECRET_KEY`; in production a KMS puts it here);
  2. `BANYAN_AUDIT_KEY_FILE` — a file holding it;
  3. `.banyan-audit-key` in the database's data directory (beside a SQLite database file, or
     `$XDG_DATA_HOME/banyan` for a server database — where runtime/auth/session.py keeps the
     session secret unless `BANYAN_SECRET_FILE` moves that), made on the first audited change
     with mode 0600. It does not follow `BANYAN_SECRET_FILE`: a key that moved with another
     setting would make a signed log look forged.

A key file is made only while nothing in the log was signed yet: once entries are, a missing file
is an error (restore the file), never a quiet new key that would make the whole log look forged.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from dsl.errors import BanyanError
from runtime.storage.paths import data_dir

KEY_ENV = "BANYAN_AUDIT_KEY"
KEY_FILE_ENV = "BANYAN_AUDIT_KEY_FILE"
KEY_FILE_NAME = ".banyan-audit-key"
MIN_KEY = 32


class AuditKeyError(BanyanError):
    """The audit key cannot be read or made; the message says where and what to do."""
    code, status, namespace = "key", 500, "audit"


@dataclass(frozen=True)
class KeySource:
    """Where the key lives: `env` (BANYAN_AUDIT_KEY) or `file` (`path`)."""
    kind: str
    path: Path | None = None

    def describe(self) -> str:
        if self.kind == "env":
            return f"environment variable {KEY_ENV}"
        state = "" if self.path.exists() else " (made at the first audited change)"
        return f"file {self.path}{state}"


def key_source(database_url: str | sa.URL | None = None) -> KeySource:
    """Where the audit key for the database at `database_url` is held."""
    if os.environ.get(KEY_ENV):
        return KeySource("env")
    chosen = os.environ.get(KEY_FILE_ENV)
    if chosen:
        return KeySource("file", Path(chosen).expanduser())
    return KeySource("file", data_dir(database_url) / KEY_FILE_NAME)


def _check(text: str, where: str) -> bytes:
    if len(text) < MIN_KEY:
        raise AuditKeyError(f"the audit key in {where} is shorter than {MIN_KEY} characters; "
                            f"give a longer one (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)")
    return text.encode("utf-8")


def read_key(source: KeySource) -> bytes | None:
    """The key at `source`; None when its file does not exist yet."""
    if source.kind == "env":
        return _check(os.environ[KEY_ENV].strip(), f"${KEY_ENV}")
    try:
        text = source.path.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditKeyError(f"cannot read the audit key file {source.path} "
                            f"({getattr(exc, 'strerror', None) or exc.__class__.__name__}); "
                            f"make it readable, or set {KEY_FILE_ENV} or {KEY_ENV}") from None
    return _check(text, str(source.path))


def make_key(source: KeySource) -> bytes:
    """Write a new random key to `source`'s file (0600); a key another process wrote first wins."""
    text = secrets.token_hex(32)
    try:
        source.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(source.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_key(source) or _check("", str(source.path))
    except OSError as exc:
        raise AuditKeyError(f"cannot write the audit key file {source.path} ({exc.strerror}); "
                            f"set {KEY_FILE_ENV} to a writable place, or {KEY_ENV}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
    return text.encode("utf-8")
