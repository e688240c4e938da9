"""The web app's one alert service (the alert centre, record pages and the inbox share it) and
one tiering service."""
from __future__ import annotations

from runtime.alerts.service import AlertService
from runtime.tiering.service import TieringService
from runtime.web.context import WebContext


def service_of(web: WebContext) -> AlertService:
    """The alert service of the web app (one per app)."""
    found = getattr(web, "_alerts", None)
    if found is None:
        found = web._alerts = AlertService(web.records.engine, records=web.records)   # type: ignore[attr-defined]
    return found


def tiering_of(web: WebContext) -> TieringService:
    """The tiering service of the web app (one per app: the workbench, the dashboard, the 360°
    page and the tier page share it)."""
    found = getattr(web, "_tiering", None)
    if found is None:
        found = web._tiering = TieringService(web.records.engine, records=web.records)   # type: ignore[attr-defined]
    return found
