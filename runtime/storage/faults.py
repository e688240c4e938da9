"""Crashes on purpose, at named step boundaries: how the tests prove that a command killed between
two of its steps leaves the database as if it never ran (or as if it ran whole).

`point(name)` marks a boundary inside a command (`faults.point("deploy.after_migrate")`). It does
nothing — one lookup in an empty dict — unless a fault is armed for that name:

* `BANYAN_FAULT=name` (or `name:n`, the n-th time the point is reached; read once, when this module
  is imported) arms it for a whole process, such as a `banyan` command a test runs;
* `arm(name, n=1, mode=…)` arms it inside a process, `disarm()` takes every fault back.

An armed point, reached, either kills its own process with SIGKILL (`kill`, the default: no
`finally`, no rollback, no flush but the operating system's — a power cut as far as the process
knows; the database's own recovery is all there is) or raises `InjectedFault` (`raise`, or
`BANYAN_FAULT_MODE=raise`: an error at that spot, for the handlers and rollbacks to deal with).

Every point is listed in `POINTS` with what is written when it is reached, so a test can go
through all of them; a name not listed cannot be armed, and tests/runtime/test_crash_points.py
fails on a point placed in the code but not listed, or listed but not exercised."""
from __future__ import annotations

import os
import signal

POINTS: dict[str, str] = {
    "deploy.after_migrate": "a deploy changed the tables; its deployment row is not written yet",
    "deploy.after_record": "a deploy wrote its deployment row; no audit entry yet",
    "deploy.before_commit": "a deploy wrote everything (tables, deployment row, audit entry); the commit is next",
    "records.after_batch": "a bulk write (an import) inserted one batch with its audit entry and changes; "
                           "the next batch is not read yet",
    "records.before_commit": "a bulk write inserted every row and recomputed what depends on them; the commit is next",
    "flow.after_state": "a flow command wrote the instance's new state; its events, tasks, timers, outbox rows "
                        "and audit entry are not written yet",
    "flow.after_effects": "a flow command wrote its events, tasks, timers and outbox rows; no audit entry yet",
    "flow.before_commit": "a flow command wrote everything, its request id too; the commit is next",
    "alerts.after_evaluate": "the alert worker evaluated a batch of the change feed (alerts, actions, disposal "
                             "flows, outbox rows written); its cursor has not moved past the batch yet",
    "outbox.after_claim": "an outbox worker committed its claim on a batch of messages; none is sent yet",
    "outbox.after_send": "an outbox worker handed a message to its receiver (the SMTP server …); it is not "
                         "marked sent yet",
}
MODES = ("kill", "raise")
ENV, ENV_MODE = "BANYAN_FAULT", "BANYAN_FAULT_MODE"


class InjectedFault(RuntimeError):
    """Raised by an armed point in `raise` mode."""


class _Armed:
    __slots__ = ("left", "mode")

    def __init__(self, n: int, mode: str):
        self.left, self.mode = n, mode


_armed: dict[str, _Armed] = {}


def point(name: str) -> None:
    """A step boundary called `name` (listed in POINTS): nothing happens unless a fault is armed here."""
    armed = _armed.get(name)
    if armed is not None:
        _reached(name, armed)


def _reached(name: str, armed: _Armed) -> None:
    armed.left -= 1
    if armed.left > 0:
        return
    del _armed[name]
    if armed.mode == "raise":
        raise InjectedFault(f"fault injected at {name}")
    os.write(2, f"banyan: fault injected at {name}: killing this process\n".encode())
    os.kill(os.getpid(), signal.SIGKILL)


def arm(name: str, n: int = 1, mode: str = "kill") -> None:
    """Make point `name` fail the `n`-th time it is reached from now on (once)."""
    if name not in POINTS:
        raise ValueError(f"no fault point named `{name}`; known: {', '.join(sorted(POINTS))}")
    if mode not in MODES:
        raise ValueError(f"a fault kills or raises (`kill`, `raise`), not `{mode}`")
    if n < 1:
        raise ValueError("a fault is injected at the first reach of its point or later (n >= 1)")
    _armed[name] = _Armed(n, mode)


def disarm() -> None:
    _armed.clear()


def arm_from_environment(environ: "os._Environ[str] | dict[str, str]" = os.environ) -> None:
    """`BANYAN_FAULT=name[:n]` and `BANYAN_FAULT_MODE=kill|raise`, when set."""
    text = environ.get(ENV, "").strip()
    if not text:
        return
    name, _, count = text.partition(":")
    try:
        n = int(count) if count else 1
    except ValueError:
        raise ValueError(f"{ENV}={text}: after the point's name, `:n` counts its reaches (n a number)") from None
    arm(name, n, environ.get(ENV_MODE, "kill").strip() or "kill")


arm_from_environment()
