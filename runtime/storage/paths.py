"""Where Banyan keeps its own files for a database (the session secret, the audit key): beside a
SQLite database file, else per user (`$XDG_DATA_HOME/banyan`, default ~/.local/share/banyan)."""
from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa


def data_dir(database_url: str | sa.URL | None) -> Path:
    """Where Banyan keeps its files for this database: beside a SQLite file, else per user."""
    url = sa.make_url(database_url) if database_url else None
    if url is not None and url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
            and not url.database.startswith("file:"):
        return Path(url.database).expanduser().absolute().parent
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "banyan"
