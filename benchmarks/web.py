"""Web page latency and the task-completion endpoint's throughput, on SQLite.

Pages: the list and detail pages of the generated record UI with 10,000 companies, and the
inbox and task pages with 10,000 open tasks (10,000 group credit applications waiting at the
Shanghai credit officer's document review), rendered through the whole stack (session cookie,
sign-in check, org scope, Jinja2, nav badge) by an in-process ASGI client.
page_p95: the largest of the pages' 95th percentiles (records pages, inbox, task page), in
milliseconds (target < 200 ms); each page's own p95 is reported beside it.

complete_vs_bare_fastapi: the task-completion endpoint (`POST /flow-instances/{id}/complete`
as a signed-in page's script calls it — session cookie and X-CSRF-Token — through the sign-in
gate, the flow API guard and the flow service's one transaction)
against a bare FastAPI endpoint (`POST /bare` returning a small JSON), each served by uvicorn in
its own subprocess (one worker, loopback), driven by the same async httpx client with bounded
concurrency; requests per second, side by side, bare measured before and after (the median
is used). Target ≥ 0.3.

complete_http_vs_service: the same endpoint's completions per second (concurrency 8, one uvicorn
worker) ÷ the same completions through the flow service in-process (`FlowService.act`, one after
another), same flow, same database, in three alternating rounds of each (medians). Target ≥ 0.5.
`--quick` uses 2,000 companies and 2,000 open tasks.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import metric, report

from dsl.compiler import compile_path
from examples.demo_bank.users import DEMO_PASSWORD, seed_demo_users
from runtime.auth.org import OrgTree
from runtime.auth.users import UserStore
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.releases import release_of
from runtime.records.service import Records
from runtime.storage.db import make_engine
from runtime.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
BRANCHES = ("sh_branch", "bj_branch", "gz_branch", "sz_branch", "hz_branch", "sh_pudong_sub_branch", "head_office")


def build(url: str, n: int, open_tasks: int = 0) -> None:
    from records import companies
    engine = make_engine(url)
    upgrade(engine)
    bundle = compile_path(str(ROOT / "configs")).bundle
    DeploymentRegistry(engine).deploy(release_of(bundle), author="bench")
    records = Records(engine, batch_size=2000)
    rng = random.Random(7)
    rows = companies(n, 7)
    for r in rows:
        r["branch"] = rng.choice(BRANCHES)
    records.bulk_create("company", rows, actor="bench")
    seed_demo_users(UserStore(engine), OrgTree(records.live.bundle))
    if open_tasks:
        open_applications(engine, records, open_tasks)
    engine.dispose()


GROUP = "G9001"
FORM = {"credit_type": "new", "amount": 2 * 10**8, "term_months": 12, "products": ["working_capital"],
        "purpose": "营运资金", "guarantee_mode": "credit"}


def open_applications(engine, records: Records, n: int) -> None:
    """n credit applications by the Shanghai RM, each waiting at the credit officer's document review."""
    from runtime.flows.service import FlowService
    records.create("group", {"code": GROUP, "name": "基准测试集团", "industry": "manufacturing", "lead_branch": "sh_branch",
                             "recognized_on": "2020-01-01", "tier": "stable_cooperation"}, actor="bench")
    service = FlowService(engine)
    start = time.perf_counter()
    for i in range(n):
        service.start("group_credit_approval", actor="rm_sh_01", subject=GROUP, form=FORM)
        if i and i % 2000 == 0:
            print(f"  {i} applications ({i / (time.perf_counter() - start):.0f}/s)", flush=True)


def signed_in(app, user: str):
    from fastapi.testclient import TestClient
    client = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/ui/signin").text).group(1)
    r = client.post("/ui/signin", data={"csrf_token": token, "username": user, "password": DEMO_PASSWORD},
                    follow_redirects=False)
    if r.status_code != 303:
        raise SystemExit(f"cannot sign in as {user}: {r.status_code}")
    return client


def timed(client, path: str) -> float:
    start = time.perf_counter()
    r = client.get(path)
    elapsed = (time.perf_counter() - start) * 1000
    if r.status_code != 200:
        raise SystemExit(f"{path}: {r.status_code}")
    return elapsed


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def flow_pages(app, rng: random.Random) -> dict[str, list[float]]:
    """The inbox (first page, a deep page, the other boxes) and task pages of the credit officer
    holding every open task, and the RM's inbox (the requests they started)."""
    out: dict[str, list[float]] = {"inbox": [], "task": []}
    co = signed_in(app, "co_sh")
    inbox = co.get("/ui/inbox").text
    tasks = re.findall(r'href="/ui/tasks/(\w+/\d+)"', inbox)
    pages = int(re.search(r"data-box=\"mine\">[^<]*<span class=\"count[^\"]*\">(\d+)", inbox).group(1)) // 25 + 1
    paths = ["/ui/inbox", f"/ui/inbox?page={max(1, pages // 2)}", f"/ui/inbox?page={pages}", "/ui/inbox?box=done",
             "/ui/inbox?box=overdue", "/ui/inbox?box=pool"]
    deep = co.get(f"/ui/inbox?page={max(1, pages // 2)}").text
    tasks += re.findall(r'href="/ui/tasks/(\w+/\d+)"', deep)
    rm = signed_in(app, "rm_sh_01")
    for _ in range(3):
        timed(co, paths[0])
        timed(co, f"/ui/tasks/{tasks[0]}")
    for _ in range(15):
        for p in paths:
            out["inbox"].append(timed(co, p))
        out["inbox"].append(timed(rm, "/ui/inbox?box=started"))
        for _ in range(4):
            out["task"].append(timed(co, f"/ui/tasks/{rng.choice(tasks)}"))
    return out


SERVE = """
import os, sys, uvicorn
sys.path.insert(0, {root!r})
if {bare!r}:
    from fastapi import FastAPI, Body
    app = FastAPI()
    @app.post("/bare")
    def bare(body: dict = Body(default_factory=dict)) -> dict:
        return {{"ok": True, "task": body.get("task")}}
else:
    from runtime.cli.ops import served_app
    from runtime.storage.db import make_engine
    app = served_app(make_engine({url!r}))      # as `banyan serve` serves it
uvicorn.run(app, host="127.0.0.1", port={port}, log_level="warning", access_log=False)
"""


class Served:
    """uvicorn in a subprocess (one worker) on a free loopback port."""

    def __init__(self, url: str, bare: bool, tmp: str):
        import socket
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.code = SERVE.format(root=str(ROOT), bare=bare, url=url, port=self.port)
        self.env = {**os.environ, "BANYAN_FLOW_WORKER": "0", "BANYAN_SECRET_FILE": str(Path(tmp) / "secret")}

    def __enter__(self) -> "Served":
        import subprocess

        import httpx
        self.proc = subprocess.Popen([sys.executable, "-c", self.code], env=self.env)
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1)
                return self
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.proc.kill()
                    raise SystemExit("the benchmark server did not start") from None
                time.sleep(0.2)

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


def load(port: int, requests: list[tuple[str, dict]], headers: dict, concurrency: int) -> float:
    """Send every (path, body) with at most `concurrency` in flight; requests per second.
    Any answer but 200/201 stops the run: the figure counts only work that was done."""
    import asyncio

    import httpx

    async def run() -> float:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, limits=limits,
                                     timeout=60) as client:
            queue = list(reversed(requests))

            async def worker() -> None:
                while queue:
                    path, body = queue.pop()
                    r = await client.post(path, json=body)
                    if r.status_code not in (200, 201):
                        raise SystemExit(f"{path}: {r.status_code} {r.text[:300]}")
            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return len(requests) / (time.perf_counter() - start)
    return asyncio.run(run())


def session_headers(port: int, user: str) -> dict[str, str]:
    """Sign in as a browser does; the session cookie and the CSRF header a page's script sends."""
    import httpx
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/ui/signin").text).group(1)
        r = client.post("/ui/signin", data={"csrf_token": token, "username": user, "password": DEMO_PASSWORD})
        if r.status_code not in (200, 303):
            raise SystemExit(f"cannot sign in as {user}: {r.status_code}")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/ui/inbox").text).group(1)
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    return {"Cookie": cookie, "X-CSRF-Token": csrf}


def in_process(service, work: list[tuple[str, dict]]) -> float:
    """The same completions through the flow service in this process, one after another; per second."""
    start = time.perf_counter()
    for path, body in work:
        service.act(path.split("/")[2], "complete", actor="co_sh", **body)
    return len(work) / (time.perf_counter() - start)


def completion_throughput(url: str, tmp: str, completions: int, concurrency: int = 8) -> dict[str, float]:
    from runtime.flows.service import FlowService
    engine = make_engine(url)
    work: list[tuple[str, dict]] = []
    offset = 0
    while len(work) < completions + 200:
        page = FlowService(engine).inbox("co_sh", "mine", limit=500, offset=offset)["items"]
        if not page:
            break
        work += [(f"/flow-instances/{t['instance']}/complete", {"task": t["task"], "fields": {"review_opinion": "ok"}})
                 for t in page]
        offset += 500
    engine.dispose()
    warm, rest = work[:200], work[200:]
    per = completions // 6                  # three alternating rounds of HTTP and in-process completions
    http_rounds = [rest[i * 2 * per:(i * 2 + 1) * per] for i in range(3)]
    service_rounds = [rest[(i * 2 + 1) * per:(i * 2 + 2) * per] for i in range(3)]
    bare_work = [("/bare", body) for _, body in rest[:completions // 2]]
    with Served(url, True, tmp) as bare:
        load(bare.port, bare_work[:200], {}, concurrency)
        bare_before = load(bare.port, bare_work, {}, concurrency)
        with Served(url, False, tmp) as full:
            auth = session_headers(full.port, "co_sh")
            load(full.port, warm, auth, concurrency)
            service = FlowService(make_engine(url))
            in_process(service, rest[-20:])                          # warm: the bundle, the statements
            http, direct = [], []
            for h, d in zip(http_rounds, service_rounds):
                http.append(load(full.port, h, auth, concurrency))
                direct.append(in_process(service, d))
            complete = statistics.median(http)
            service_rate = statistics.median(direct)
        bare_after = load(bare.port, bare_work, {}, concurrency)
    bare_rate = statistics.median([bare_before, bare_after])
    return {"complete": complete, "service": service_rate, "bare": bare_rate, "bare_before": bare_before,
            "bare_after": bare_after}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n = 2000 if args.quick else 10_000
    open_tasks = 2000 if args.quick else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'web.db'}"
        build(url, n, open_tasks)
        os.environ.setdefault("BANYAN_SECRET_FILE", str(Path(tmp) / "secret"))
        from runtime.web.app import create_app
        app = create_app(make_engine(url))
        times: dict[str, list[float]] = {"list": [], "detail": []}
        rng = random.Random(1)
        for user in ("rm_sh_01", "ho_credit"):
            client = signed_in(app, user)
            listing = client.get("/ui/e/company").text
            ids = re.findall(r'href="/ui/e/company/(\d+)"', listing)
            pages = int(re.search(r"(\d+) / (\d+)</span>", listing).group(2))
            paths = ["/ui/e/company", "/ui/e/company?industry=energy", "/ui/e/company?order=-registered_capital",
                     "/ui/e/company?q=测试企业7-0001", f"/ui/e/company?page={max(1, pages // 2)}",
                     f"/ui/e/company?page={pages}"]
            for _ in range(3):                                  # warm up
                timed(client, paths[0])
            for _ in range(15):
                for p in paths:
                    times["list"].append(timed(client, p))
                for _ in range(3):
                    times["detail"].append(timed(client, f"/ui/e/company/{rng.choice(ids)}"))
        records_p95 = p95(times["list"] + times["detail"])
        flows = flow_pages(app, rng)
        inbox_p95, task_p95 = p95(flows["inbox"]), p95(flows["task"])
        worst = max(records_p95, inbox_p95, task_p95)
        rates = completion_throughput(url, tmp, 1500 if args.quick else 6000)
        ratio = rates["complete"] / rates["bare"]
        rows = [metric("page_p95", worst, "ms", "target < 200 ms", 200.0, 200.0 / worst),
                metric("records_page_p95", records_p95, "ms"),
                metric("inbox_p95", inbox_p95, "ms", "target < 200 ms", 200.0, 200.0 / inbox_p95),
                metric("task_page_p95", task_p95, "ms", "target < 200 ms", 200.0, 200.0 / task_p95),
                metric("complete_vs_bare_fastapi", ratio, "ratio", "bare FastAPI req/s; target >= 0.3",
                       rates["bare"], ratio),
                metric("complete_http_vs_service", rates["complete"] / rates["service"], "ratio",
                       "in-process FlowService completions/s; target >= 0.5", rates["service"],
                       rates["complete"] / rates["service"]),
                metric("complete_per_second", rates["complete"], "req/s"),
                metric("service_complete_per_second", rates["service"], "req/s"),
                metric("bare_fastapi_per_second", rates["bare"], "req/s"),
                metric("list_page_median", statistics.median(times["list"]), "ms"),
                metric("detail_page_median", statistics.median(times["detail"]), "ms"),
                metric("inbox_median", statistics.median(flows["inbox"]), "ms"),
                metric("task_page_median", statistics.median(flows["task"]), "ms"),
                metric("companies", n, "records"),
                metric("open_tasks", open_tasks, "tasks")]
        report("web", rows)


if __name__ == "__main__":
    main()
