"""Logs for running Banyan as a service: one format for every process of `banyan serve`, and the
request id on every line written while a request is being handled.

`BANYAN_LOG_FORMAT=json` (servers: one JSON object a line, python-json-logger) or `text` (the
default, for a developer's terminal). `logging_config()` is a `logging.config.dictConfig` dict:
`banyan serve` hands it to uvicorn, so each worker process sets its logging up the same way.
`request_id` is a context variable the HTTP door sets per request (runtime/http/observe.py); a
filter on the handler copies it onto every record, whichever logger wrote it."""
from __future__ import annotations

import logging
import logging.config
import os
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from runtime.storage.db import ConfigError

FORMATS = ("text", "json")
request_id: ContextVar[str | None] = ContextVar("banyan_request_id", default=None)
# What a caller's X-Request-ID may be: what tracing systems send (UUIDs, hex, dotted or dashed
# ids), nothing that could break a log line or a header.
_VALID_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")


class LogFormatError(ConfigError):
    """BANYAN_LOG_FORMAT holds something else than `text` or `json`."""

    def __init__(self, value: str):
        super().__init__(f"BANYAN_LOG_FORMAT={value!r} is not a log format; use `text` or `json`")


def log_format(value: str | None = None) -> str:
    """The chosen format: `value`, else `BANYAN_LOG_FORMAT`, else text."""
    text = (value if value is not None else os.environ.get("BANYAN_LOG_FORMAT", "")).strip().lower() or "text"
    if text not in FORMATS:
        raise LogFormatError(text)
    return text


def given_or_new_id(given: str | None) -> str:
    """The caller's request id when it is a plausible one (1–128 of letters, digits, `._:-`), else a new one."""
    if given and _VALID_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


class RequestContext(logging.Filter):
    """Puts the current request's id on every record (`-` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get() or "-"
        return True


class BanyanJsonFormatter(JsonFormatter):
    """One JSON object a line: time (ISO 8601, UTC), level, logger, pid (which server process),
    message, request_id, and the
    record's `extra` fields (the request line's method, route, status, ms, user)."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger", "process": "pid"})
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__("%(levelname)s %(name)s %(process)s %(message)s %(request_id)s", *args, **kwargs)

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        log_data["time"] = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        log_data.pop("color_message", None)           # uvicorn's copy of its message with terminal colours


class StderrHandler(logging.StreamHandler):
    """A StreamHandler on whatever `sys.stderr` is when it writes (not the one it was made with,
    which a test runner may have closed since)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def logging_config(fmt: str | None = None, level: str = "INFO") -> dict[str, Any]:
    """The dictConfig for a server process: Banyan's, uvicorn's and every other logger to stderr in
    one format; uvicorn's own access line is off (the HTTP door writes one line per request)."""
    chosen = log_format(fmt)
    formatter: dict[str, Any] = ({"()": f"{__name__}.BanyanJsonFormatter"} if chosen == "json" else
                                 {"format": "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"})
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request": {"()": f"{__name__}.RequestContext"}},
        "formatters": {"banyan": formatter},
        "handlers": {"stderr": {"()": f"{__name__}.StderrHandler", "formatter": "banyan", "filters": ["request"]}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.error": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
            # a line per job run and per schema check; the jobs log what they did (banyan.jobs)
            "apscheduler": {"level": "WARNING"},
            # "skipped: maximum number of running instances reached" every turn a job is still busy: by
            # design (max_instances=1, coalesce); a failing job is logged by banyan.jobs
            "apscheduler.scheduler": {"level": "ERROR"},
            "alembic": {"level": "WARNING"},
        },
    }


def configure(fmt: str | None = None, level: str = "INFO") -> str:
    """Set this process's logging up (what uvicorn does with `logging_config` in each worker)."""
    config = logging_config(fmt, level)
    logging.config.dictConfig(config)
    return log_format(fmt)
