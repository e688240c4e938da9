"""The jobs room: the change feed (changes.py, feed.py), due work under leases (leases.py), the
one scheduler (scheduler.py), and the outbox with its senders and Channel templates. See README.md."""
from runtime.jobs.scheduler import register_job

__all__ = ["register_job"]
