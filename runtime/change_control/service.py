"""Change control over the deploy registry and the flow service: a deploy, rollback or promote to
a protected environment becomes a change request with its `config_change_approval` instance, and
an approved one is deployed (exactly once) by `settle`, which the worker runs as the periodic job
`change-control` (worker.py) and `banyan changes apply` runs by hand.

The first request to a database marks it the protected environment (`DeploymentRegistry.protect`,
one row in `banyan_protection` and an audit entry), a request that changes nothing included: from
then on the registry refuses a straight deploy there from every door.

The approval flow is the environment's own deployed one (its rule of who approves is in force, not
the rule of the change being approved); the maker starts it on their behalf (the database access
is the permission) with the plan and the diff as its form. The flow keeps the maker off the step
(`if_initiator: skip`); `apply` refuses a checker who is the maker all the same.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from sqlalchemy.engine import Engine

from runtime.deploy.change_requests import REFUSED, REJECTED, WAITING, ChangeError, ChangeRequest, ChangeRequests
from runtime.deploy.deployments import DataLossRefused, DeployError, DeploymentRegistry
from runtime.deploy.live import compiled
from runtime.deploy.plan import Plan, files_diff, plan_lines
from runtime.deploy.releases import Release
from runtime.flows.service import FlowService
from runtime.flows.store import FlowError
from runtime.storage.db import writing

FLOW = "config_change_approval"
APPROVALS = ("approve",)                  # the timeline's kinds that name the checker
REFUSALS = ("reject", "withdraw", "cancel")


class ChangeControl:
    """Change requests of one environment's database (`engine`)."""

    def __init__(self, engine: Engine, *, flows: FlowService | None = None):
        self.engine = engine
        self.registry = DeploymentRegistry(engine)
        self.requests = ChangeRequests(self.registry)
        self.flows = flows or FlowService(engine)

    # -- the maker ------------------------------------------------------------------------------
    def request(self, release: Release, *, environment: str, maker: str, action: str = "deploy",
                based_on: str | None = None, message: str = "", allow_data_loss: bool | Iterable[str] = False
                ) -> tuple[Plan, dict | None]:
        """Plan `release` against the environment and, when it changes anything, store it as a
        waiting change request with its approval flow started (one transaction). Returns the plan
        and the request (`id`, `instance`, `approvers`, `step`), or None when it is live already.
        A plan that could never run (a conflict, a loss not allowed) is refused now, not after
        the approval."""
        live = self.registry.current()
        if live is None:
            raise ChangeError(f"`{environment}` is protected and has nothing deployed: its first bundle (with "
                              f"configs/flows/{FLOW}.yaml) is deployed before it is marked protected",
                              code="no_approval_flow")
        bundle = compiled(live.hash, live.sources_json)
        why = bundle.unavailable.get(f"Flow/{FLOW}")
        if bundle.get("Flow", FLOW) is None or why:
            raise ChangeError(f"`{environment}` is protected but its deployment v{live.version} has no runnable "
                              f"`{FLOW}` flow{f' ({why})' if why else ''}: a second person cannot approve the change. "
                              f"Deploy a bundle with configs/flows/{FLOW}.yaml while the environment is not "
                              "protected", code="no_approval_flow")
        # the database is the protected environment from now on, whatever this request becomes: a
        # straight deploy from any door is refused even before its first change request
        self.registry.protect(environment, maker)
        plan = self.registry.plan(release)
        if plan.same:
            return plan, None
        if plan.conflicts:
            raise DeployError("the change cannot be applied: " + "; ".join(c.conflict for c in plan.conflicts), plan)
        refused = plan.unallowed_losses(allow_data_loss)
        if refused:
            raise DataLossRefused("the deploy would lose data: " + "; ".join(c.loss for c in refused)
                                  + " — rerun with --allow-data-loss to accept", plan)
        form = {"environment": environment, "action": action, "bundle_hash": release.hash,
                "planned_against": f"v{live.version} ({live.hash[:12]})", "message": message,
                "summary": "\n".join(text for text, _colour in plan_lines(plan)),
                "diff": files_diff(live.release.files, release.files)}
        with writing(self.engine) as conn:
            request_id = self.requests.open(conn, release, environment=environment, action=action,
                                            based_on=based_on, maker=maker, message=message,
                                            allow_data_loss=allow_data_loss, from_version=live.version,
                                            from_hash=live.hash)
            instance_id, _ = self.flows.start_within(conn, FLOW, actor=maker, subject=None,
                                                     form={**form, "change_request": request_id},
                                                     now=self.flows.clock())
            self.requests.link(conn, request_id, instance_id)
        view = self.flows.instance(instance_id, with_timeline=False)
        approvers = sorted({u for t in view["tasks"] for u in ([t["assignee"]] if t["assignee"] else t["candidates"])})
        step = view["current_nodes"][0] if view["current_nodes"] else None
        node = self.flows.flow(FLOW).by_id.get(step) if step else None
        return plan, {"id": request_id, "instance": instance_id, "approvers": approvers, "step": step,
                      "assignees": getattr(getattr(node, "assignees", None), "text", None)}

    # -- after the checker ----------------------------------------------------------------------
    def settle(self, request_ids: Iterable[int] | None = None,
               on_step: Callable[[str], None] | None = None) -> list[dict]:
        """Deploy every waiting request whose approval flow ended approved, close the others whose
        flow ended otherwise; leave the running ones. Safe in any number of workers at once."""
        wanted = set(request_ids) if request_ids is not None else None
        out = []
        for req in self.requests.listing([WAITING]):
            if wanted is not None and req.id not in wanted or req.instance_id is None:
                continue
            done = self._settle_one(req, on_step)
            if done is not None:
                out.append(done)
        return out

    def _settle_one(self, req: ChangeRequest, on_step: Callable[[str], None] | None) -> dict | None:
        try:
            view = self.flows.instance(req.instance_id)
        except FlowError as exc:
            self.requests.close(req.id, REFUSED, None, f"its approval flow cannot be read: {exc.message}")
            return {"request": req.id, "status": REFUSED, "reason": exc.message}
        if view["status"] == "running":
            return None
        if view["outcome"] == "approved":
            checker = _last_actor(view["timeline"], APPROVALS)
            if checker is None:
                reason = "its approval flow ended approved without anyone approving it"
                self.requests.close(req.id, REFUSED, None, reason)
                return {"request": req.id, "status": REFUSED, "reason": reason}
            try:
                outcome = self.requests.apply(req.id, checker, on_step)
            except ChangeError as exc:
                if exc.code == "settled":
                    return None                      # another worker did it
                return self._refuse(req, checker, exc)
            except DeployError as exc:
                return self._refuse(req, checker, exc)
            return {"request": req.id, "status": "deployed", "version": outcome.version, "checker": checker,
                    "maker": req.maker, "hash": req.hash}
        by = _last_actor(view["timeline"], REFUSALS)
        reason = f"the approval ended {view['outcome'] or view['status']}" + (f" by {by}" if by else "")
        if self.requests.close(req.id, REJECTED, by, reason):
            return {"request": req.id, "status": REJECTED, "reason": reason, "checker": by}
        return None

    def _refuse(self, req: ChangeRequest, checker: str, exc: DeployError) -> dict | None:
        if self.requests.close(req.id, REFUSED, checker, exc.message):
            return {"request": req.id, "status": REFUSED, "reason": exc.message, "checker": checker}
        return None


def _last_actor(timeline: list[dict], kinds: tuple[str, ...]) -> str | None:
    found = [e["actor"] for e in timeline if e["kind"] in kinds]
    return found[-1] if found else None


def settle_all(engine: Engine, flows: Any = None) -> list[dict]:
    return ChangeControl(engine, flows=flows).settle()
