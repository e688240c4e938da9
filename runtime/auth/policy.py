"""The sign-in and password policy (等保 2.0 level 3): `[security]` in banyan.toml, each key
overridable by an environment variable `BANYAN_<KEY>` (upper case), e.g.
`BANYAN_REQUIRE_TOTP_FOR_ADMINS=0`.

```toml
[security]
password_min_length = 12        # characters
password_min_classes = 3        # of lower case, upper case, digits, other characters
passphrase_length = 20          # a password this long needs only the length (0: always the classes)
password_history = 5            # the last N passwords cannot be used again
idle_minutes = 30               # a session unused this long ends
session_hours = 8               # and every session ends this long after sign-in
max_failures = 5                # failed sign-ins for one user name within the window lock it
max_failures_per_address = 30   # … and this many from one address lock the address
failure_window_minutes = 15
lock_minutes = 15
token_days = 90                 # an API token's default lifetime
max_token_days = 365
require_totp_for_admins = true  # an administrator without TOTP is sent to enrol after sign-in
```
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

from runtime.storage.db import ENV_FILE, ConfigError


@dataclass(frozen=True)
class SecurityPolicy:
    password_min_length: int = 12
    password_min_classes: int = 3
    passphrase_length: int = 20
    password_history: int = 5
    idle_minutes: int = 30
    session_hours: int = 8
    max_failures: int = 5
    max_failures_per_address: int = 30
    failure_window_minutes: int = 15
    lock_minutes: int = 15
    token_days: int = 90
    max_token_days: int = 365
    require_totp_for_admins: bool = True

    def password_problem(self, password: str, user_name: str | None = None) -> tuple[str, dict]:
        """("", {}) when `password` is acceptable, else (why, slots): a key of auth.password.* and its slots."""
        if len(password) < self.password_min_length:
            return "too_short", {"limit": self.password_min_length}
        classes = sum(any(test(c) for c in password) for test in
                      (str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum()))
        long_enough = self.passphrase_length and len(password) >= self.passphrase_length
        if classes < self.password_min_classes and not long_enough:
            return "too_simple", {"classes": self.password_min_classes, "limit": self.passphrase_length}
        if user_name and user_name.lower() in password.lower():
            return "has_name", {}
        return "", {}


def _value(field_type: str, raw: object, where: str) -> int | bool:
    if field_type == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{where} must be true or false, got {raw!r}")
    try:
        number = int(str(raw).strip()) if not isinstance(raw, bool) else None
    except ValueError:
        number = None
    if number is None or number < 0:
        raise ConfigError(f"{where} must be a whole number ≥ 0, got {raw!r}")
    return number


def load_policy(config_file: str | os.PathLike | None = None) -> SecurityPolicy:
    """The policy of banyan.toml's `[security]` (`BANYAN_CONFIG` names another file), then `BANYAN_<KEY>`."""
    path = Path(config_file or os.environ.get("BANYAN_CONFIG", ENV_FILE))
    table: dict = {}
    if path.exists():
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8")).get("security") or {}
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}") from exc
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [security] must be a table")
    known = {f.name: str(f.type) for f in fields(SecurityPolicy)}
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError(f"{path}: [security] has unknown keys {', '.join(unknown)}; known: {', '.join(known)}")
    values: dict = {k: _value(known[k], v, f"{path}: [security] {k}") for k, v in table.items()}
    for name, kind in known.items():
        env = os.environ.get("BANYAN_" + name.upper())
        if env is not None and env.strip():
            values[name] = _value(kind, env, "BANYAN_" + name.upper())
    policy = replace(SecurityPolicy(), **values)
    if policy.password_min_length < 8 or policy.session_hours < 1 or policy.max_failures < 1 \
            or policy.max_failures_per_address < 1 or policy.idle_minutes < 1:
        raise ConfigError("[security]: password_min_length ≥ 8, session_hours, idle_minutes and max_failures ≥ 1")
    return policy
