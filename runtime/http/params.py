"""Parameter types shared by the HTTP routers. Ids and offsets are 64-bit integers in the
database: a larger number is answered with a 422, not a driver overflow (a 500)."""
from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_ID = 2**63 - 1
DbId = Annotated[int, Path(ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=1000)]
