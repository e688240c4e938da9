"""Suite-wide settings. Under CI, hypothesis runs derandomized: the same examples every run,
so a red build is reproducible and a green one is not luck. Locally it explores freely (and
replays failures from its .hypothesis database)."""
import gc
import logging
import os

import pytest
from hypothesis import settings

# tests/leaks.py: a page, an API answer or CLI output showing Python's exception text fails the test.
pytest_plugins = ["tests.leaks", "pytester"]

# The demo's administrator signs in without a second factor in tests (the policy's default is
# on: runtime/auth/policy.py); tests/auth/ turn it on where they check it.
os.environ.setdefault("BANYAN_REQUIRE_TOTP_FOR_ADMINS", "0")

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _logging_as_it_was():
    """`banyan serve` run in-process (tests hand uvicorn a fake) sets the process's logging up as a
    server's — a root handler writing every INFO line to stderr: put it back after each test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    if root.handlers != handlers or root.level != level:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.fixture(autouse=True)
def _heap_thawed():
    """`banyan serve` built in-process freezes the heap as a server process does (runtime/ops/memory.py):
    thaw it after each test, so the test process's collector sees everything again."""
    yield
    if gc.get_freeze_count():
        gc.unfreeze()
