"""The periodic job `change-control`: every few seconds, deploy the approved change requests and
close the refused ones (`ChangeControl.settle`). `banyan serve` and `banyan worker` import this
module; any number of workers may run it (each request is deployed exactly once)."""
from __future__ import annotations

import logging
import weakref

from sqlalchemy.engine import Engine

from runtime.change_control.service import ChangeControl
from runtime.flows.service import FlowService
from runtime.jobs.scheduler import register_job

log = logging.getLogger("banyan.change_control")
INTERVAL_SECONDS = 5.0
_SERVICES: "weakref.WeakKeyDictionary[Engine, ChangeControl]" = weakref.WeakKeyDictionary()


def settle_changes(engine: Engine, worker_name: str) -> int:
    control = _SERVICES.get(engine)
    if control is None:
        control = _SERVICES[engine] = ChangeControl(engine, flows=FlowService(engine))
    done = control.settle()
    for d in done:
        log.info("change request %s: %s", d["request"], d)
    return len(done)


register_job("change-control", INTERVAL_SECONDS, settle_changes, drains=True)
