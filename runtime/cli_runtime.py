"""Attaches the runtime's commands to the `banyan` group (imported once, at the end of cli.py)."""
from . import cli_deploy, cli_ops, cli_records, flow_cli  # noqa: F401
