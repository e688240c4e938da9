"""What makes a repeated request the same request: a client's request id is kept with a
fingerprint of the body it was first used with (records: `banyan_requests`, flows:
`banyan_flow_requests`); the same id with another body is a conflict, never a replay."""
from __future__ import annotations

import hashlib
import json
from typing import Any


def fingerprint(body: Any) -> str:
    """A stable digest of a request body (keys sorted; values as their JSON text or repr)."""
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, default=repr, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
