"""The people directory as pages read it: the names people see for user names, and the search
behind a `ref(user)` picker (by user name or display name).

Names, not profiles: who a person is and what they may do is `users.py`; who holds a role
where is the flow directory's (runtime/flows/directory.py)."""
from __future__ import annotations

from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from runtime.auth.tables import people


def _like(text: str) -> str:
    """`%text%` with LIKE's own wildcards in `text` taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class PeopleDirectory:
    def __init__(self, engine: Engine):
        self.engine = engine

    def display_names(self, names: Iterable[str | None]) -> dict[str, str]:
        """{user name: the name people see} for every name given (a person without a display
        name, or unknown, shows as their user name)."""
        wanted = sorted({n for n in names if n})
        if not wanted:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(people.c.name, people.c.display_name)
                                .where(people.c.name.in_(wanted))).all()
        found = {n: (d or n) for n, d in rows}
        return {n: found.get(n, n) for n in wanted}

    def search(self, text: str, limit: int) -> list[tuple[str, str]]:
        """(user name, display name) of the people whose user name or display name contains
        `text`, by user name, at most `limit`."""
        like = _like(text)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(people.c.name, people.c.display_name)
                                .where(sa.or_(people.c.name.like(like, escape="\\"),
                                              people.c.display_name.like(like, escape="\\")))
                                .order_by(people.c.name).limit(limit)).all()
        return [(n, d or n) for n, d in rows]
