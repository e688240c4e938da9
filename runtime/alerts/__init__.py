"""Alerts: the alert tables and service over engine/alerts (see README.md)."""
