"""Attaches the runtime's commands to the `banyan` group (imported once, at the end of cli.py)."""
from runtime.cli import alerts, deploy, events, flows, ops, records, reports, status, testing, tiering, users  # noqa: F401
