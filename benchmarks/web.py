"""Web page latency: the list and detail pages of the generated record UI with 10,000
companies on SQLite, rendered through the whole stack (session cookie, sign-in check, org
scope, Jinja2) by an in-process ASGI client, as a branch user (scoped) and a head-office user.

page_p95: the 95th percentile over every list page (search, filter, sort, paging) and detail
page request, in milliseconds (target < 200 ms). The inbox and task pages, and
complete_vs_bare_fastapi, come with the flow pages. `--quick` uses 2,000 companies.
"""
from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

from _common import metric, report

from dsl.compiler import compile_path
from runtime.auth_demo import DEMO_PASSWORD, seed_demo_users
from runtime.auth_org import OrgTree
from runtime.auth_users import UserStore
from runtime.db import make_engine
from runtime.deployments import DeploymentRegistry
from runtime.migrate import upgrade
from runtime.records import Records
from runtime.releases import release_of

ROOT = Path(__file__).resolve().parent.parent
BRANCHES = ("sh_branch", "bj_branch", "gz_branch", "sz_branch", "hz_branch", "sh_pudong_sub_branch", "head_office")


def build(url: str, n: int) -> None:
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
    engine.dispose()


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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n = 2000 if args.quick else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'web.db'}"
        build(url, n)
        import os
        os.environ.setdefault("BANYAN_SECRET_FILE", str(Path(tmp) / "secret"))
        from runtime.api import create_app
        app = create_app(make_engine(url), web=True)
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
        every = sorted(times["list"] + times["detail"])
        p95 = every[int(len(every) * 0.95) - 1]
        rows = [metric("page_p95", p95, "ms", "target < 200 ms", 200.0, 200.0 / p95),
                metric("list_page_median", statistics.median(times["list"]), "ms"),
                metric("detail_page_median", statistics.median(times["detail"]), "ms"),
                metric("companies", n, "records")]
        report("web", rows)


if __name__ == "__main__":
    main()
