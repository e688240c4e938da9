"""When a subject's relationship review is due (pure): every `review_every` of its tier's service
package, counted from the last review started, on the bank's calendar; the first one at once."""
from __future__ import annotations

from datetime import datetime
from typing import Any


def review_due(package: Any, last_started: datetime | None, now: datetime, calendar: Any) -> bool:
    """Whether a review is due at `now` for a subject whose tier has `package` (none: never)."""
    every = getattr(package, "review_every", None)
    if every is None:
        return False
    if last_started is None:
        return True
    return bool(calendar.add(last_started, every.amount, every.unit) <= now)


def review_form(tier: Any, lang: str = "zh") -> dict[str, str]:
    """What the review flow's form receives: the tier, its package, the lead role."""
    p = tier.service_package
    return {"tier": tier.label.text(lang) or tier.name, "service_package": p.label.text(lang) if p else "",
            "lead_role": (p.lead_role or "") if p else ""}
