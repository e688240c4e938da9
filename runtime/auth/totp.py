"""The second factor: a time-based one-time password (RFC 6238, pyotp) from an authenticator app.
A person enrols on their own page: a new secret is shown as an `otpauth://` URI, a QR code
(segno, SVG, drawn on the server) and the secret in groups of four for typing; it is kept only
once they type a code it makes. A code is good for its 30-second step and one step either side,
once (the last step used is stored: a code seen by someone else cannot be replayed)."""
from __future__ import annotations

import io
import re
import time

import pyotp
import segno

ISSUER = "Banyan"


def new_secret() -> str:
    return pyotp.random_base32()


def uri(secret: str, user: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user, issuer_name=ISSUER)


def grouped(secret: str) -> str:
    """The secret as one types it: groups of four."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def qr_svg(text: str) -> str:
    """`text` as an inline SVG QR code (no script, no external reference)."""
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=4, border=2, xmldecl=False, svgns=True,
                                     title="otpauth", dark="#000", light="#fff")
    return out.getvalue().decode()


def matching_step(secret: str, code: str, last_step: int | None, at: float | None = None) -> int | None:
    """The time step `code` belongs to (now, or one step either side) if it is right and newer
    than `last_step`; else None."""
    code = re.sub(r"\s", "", code or "")
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if at is None else at
    step = int(now // totp.interval)
    for candidate in (step, step - 1, step + 1):
        if last_step is not None and candidate <= last_step:
            continue
        if pyotp.utils.strings_equal(totp.generate_otp(candidate), code):
            return candidate
    return None
