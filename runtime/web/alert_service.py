"""The web app's one alert service (the alert centre, record pages and the inbox share it)."""
from __future__ import annotations

from runtime.alerts.service import AlertService
from runtime.web.context import WebContext


def service_of(web: WebContext) -> AlertService:
    """The alert service of the web app (one per app)."""
    found = getattr(web, "_alerts", None)
    if found is None:
        found = web._alerts = AlertService(web.records.engine, records=web.records)   # type: ignore[attr-defined]
    return found
