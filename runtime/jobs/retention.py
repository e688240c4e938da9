"""Retention as a scheduled job: `banyan archive` every BANYAN_ARCHIVE_SECONDS (6 hours), moving
audit, alert and flow history past the `[retention]` of banyan.toml to the archive tables
(runtime/storage/archive.py); with no retention set it moves nothing."""
from __future__ import annotations

from runtime.jobs.scheduler import register_job
from runtime.storage.archive import ARCHIVE_EVERY, archive_job

register_job("archive", ARCHIVE_EVERY, archive_job)
