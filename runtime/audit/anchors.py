"""Anchors kept outside the database: `banyan audit anchor` appends the head's sequence number
and MAC to a file (one JSON object a line) or POSTs it to a webhook; `banyan audit verify
--anchors FILE` reads them back (runtime/audit/log.py checks the log against them)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import httpx

from runtime.audit.log import Anchor, AnchorError


def write_anchor(path: str | os.PathLike, mark: Anchor) -> None:
    """Append `mark` to the anchors file `path` (one JSON object a line)."""
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(mark.to_json()) + "\n")
    except OSError as exc:
        raise AnchorError(f"cannot write the anchor to {path} ({exc.strerror}); give a writable file") from None


def send_anchor(url: str, mark: Anchor, timeout: float = 10.0) -> None:
    """POST `mark` as JSON to `url` (a webhook that keeps it); a 2xx answer is success."""
    try:
        answer = httpx.post(url, json=mark.to_json(), timeout=timeout)
    except httpx.InvalidURL:
        raise AnchorError(f"{url} is not a URL the anchor can be sent to; give http(s)://…") from None
    except httpx.HTTPError as exc:
        raise AnchorError(f"the anchor could not be sent to {url} ({exc.__class__.__name__}); "
                          f"check the address, or write it to a file with --out") from None
    if not 200 <= answer.status_code < 300:
        raise AnchorError(f"{url} refused the anchor (HTTP {answer.status_code}); nothing was kept there")


def read_anchors(path: str | os.PathLike) -> list[Anchor]:
    """Every anchor in the file at `path`, in order."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise AnchorError(f"no anchors file {path}; give the file `banyan audit anchor --out` writes") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AnchorError(f"cannot read the anchors file {path} "
                          f"({getattr(exc, 'strerror', None) or 'not UTF-8 text'})") from None
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            seq, mac = data["seq"], data["mac"]
            first = data.get("keyed_from")
            if not isinstance(seq, int) or seq < 0 or not isinstance(mac, str) or \
                    (first is not None and not isinstance(first, int)):
                raise ValueError
        except (ValueError, TypeError, KeyError):
            raise AnchorError(f"{path} line {n} is not an anchor (a JSON object with `seq` and `mac`, "
                              "as `banyan audit anchor` writes)") from None
        out.append(Anchor(seq, mac, first, str(data.get("at", "")), f"{path}:{n}"))
    if not out:
        raise AnchorError(f"the anchors file {path} holds no anchor")
    return out
