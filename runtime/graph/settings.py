"""The bank's own figures the graph's exposure ratios divide by, from `[bank]` in banyan.toml.

```toml
[bank]
net_capital = "300亿"      # 资本净额 — group credit limit base (CBRC 2003 No.5: 15%)
tier1_capital = "240亿"    # 一级资本 — large-exposure base (CBIRC 2018 No.1: 15% / 20%)
```

Amounts are numbers (yuan) or money literals as the expression language writes them
(`300亿`, `2500万`). Without a `[bank]` table the demo bank's figures apply (domain/NOTES.md).
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from dsl.expr.literals import LiteralError, read_money
from runtime.storage.db import ENV_FILE, ConfigError

DEFAULT_NET_CAPITAL = 30_000_000_000.0
DEFAULT_TIER1_CAPITAL = 24_000_000_000.0


@dataclass(frozen=True)
class BankSettings:
    net_capital: float = DEFAULT_NET_CAPITAL
    tier1_capital: float = DEFAULT_TIER1_CAPITAL
    group_credit_limit: float = 0.15        # of net capital (CBRC 2003 No.5)
    connected_exposure_limit: float = 0.20  # of tier-1 capital (CBIRC 2018 No.1, connected clients)
    source: str = "defaults (domain/NOTES.md)"


def _amount(value: object, where: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        amount = Decimal(str(value))
    elif isinstance(value, str):
        try:
            amount = read_money(value.strip())
        except (LiteralError, KeyError, InvalidOperation):
            raise ConfigError(f"{where} must be an amount such as 300亿 or 30000000000, got {value!r}") from None
    else:
        raise ConfigError(f"{where} must be an amount such as 300亿 or 30000000000, got {value!r}")
    if not amount > 0:
        raise ConfigError(f"{where} must be positive, got {value!r}")
    return float(amount)


def bank_settings(config_file: str | os.PathLike | None = None) -> BankSettings:
    """The `[bank]` figures of banyan.toml (`BANYAN_CONFIG` names another file); defaults without one."""
    path = Path(config_file or os.environ.get("BANYAN_CONFIG", ENV_FILE))
    if not path.exists():
        return BankSettings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    bank = data.get("bank")
    if bank is None:
        return BankSettings()
    if not isinstance(bank, dict):
        raise ConfigError(f"{path}: [bank] must be a table with net_capital and tier1_capital")
    unknown = sorted(set(bank) - {"net_capital", "tier1_capital"})
    if unknown:
        raise ConfigError(f"{path}: [bank] has unknown keys {', '.join(unknown)}; known: net_capital, tier1_capital")
    return BankSettings(
        net_capital=_amount(bank.get("net_capital", DEFAULT_NET_CAPITAL), f"{path}: [bank] net_capital"),
        tier1_capital=_amount(bank.get("tier1_capital", DEFAULT_TIER1_CAPITAL), f"{path}: [bank] tier1_capital"),
        source=str(path),
    )
