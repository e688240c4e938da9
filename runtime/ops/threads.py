"""How many requests a server process runs at once in its threadpool, from its connection pool.

Starlette runs every synchronous endpoint and every database lookup of the middlewares in anyio's
threadpool, 40 threads by default. A request may hold two connections at once: a page reads on its
own connection while a helper it calls opens another (the 360° page's people directory, the audit
head, the graph). On PostgreSQL the pool holds `pool_size + max_overflow` connections (10 + 10 by
default, runtime/storage/db.py); 40 threads each holding one and waiting for a second would empty
it, and every one of them would wait out the pool's timeout and fail. So on PostgreSQL the
threadpool takes half the pool's connections (at least one thread, at most anyio's 40): every
request thread can always get its two. SQLite's pool has no bound (a file's connections cost
nothing to open), and the threadpool keeps anyio's 40.
"""
from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from sqlalchemy.engine import Engine

from runtime.storage.db import pool_settings

ANYIO_DEFAULT = 40
HELD_AT_ONCE = 2             # connections one request may hold at the same time


def request_threads(engine: Engine) -> int | None:
    """The threadpool's size for a server over `engine`; None: anyio's default (SQLite)."""
    if engine.dialect.name != "postgresql":
        return None
    settings = pool_settings()
    return max(1, min(ANYIO_DEFAULT, (settings["pool_size"] + settings["max_overflow"]) // HELD_AT_ONCE))


def limit_request_threads(app: Any, engine: Engine) -> int | None:
    """Size the app's threadpool when it starts (its lifespan: anyio's limiter belongs to the
    running event loop) by `request_threads`; returns the size, or None when it keeps the default."""
    tokens = request_threads(engine)
    if tokens is None:
        return None
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(given: Any) -> AsyncIterator[Any]:
        import anyio.to_thread
        anyio.to_thread.current_default_thread_limiter().total_tokens = tokens
        async with inner(given) as state:
            yield state
    app.router.lifespan_context = lifespan
    return tokens
