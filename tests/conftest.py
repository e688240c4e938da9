"""Suite-wide settings. Under CI, hypothesis runs derandomized: the same examples every run,
so a red build is reproducible and a green one is not luck. Locally it explores freely (and
replays failures from its .hypothesis database)."""
import os

from hypothesis import settings

# tests/leaks.py: a page, an API answer or CLI output showing Python's exception text fails the test.
pytest_plugins = ["tests.leaks", "pytester"]

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
