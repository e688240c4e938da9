"""The 360° view page of the demo bank's largest group, through HTTP, on SQLite.

view_600_members_p95: `GET /ui/views/group_360/{code}` of the group with the most members in the
demo bank at scale 1 (629 members, with their accounts, loans, facilities, events, ratings, the
equity tree and the guarantee network), as the chief risk officer (`cro`: bank-wide, sees every
section) signed in with a session cookie, served by uvicorn in its own subprocess (one worker,
loopback) through the whole stack (sign-in gate, org scope, the views room's queries, Jinja2, the
pictures' data), warm (5 requests first), p95 of 50 requests one after another, in milliseconds
(target < 300). Beside it: the median, the server process's CPU time per page (from /proc: what the
page costs whatever else runs on the machine), the API's JSON of the same view (`GET /views/...`), and the
page for a serving branch's relationship manager (`rm_sh_01`, whose scope cuts every collection).

The bank: `banyan deploy configs/`, `banyan seed demo --scale 1` and an alert scan (so the alerts
section holds the open alerts a running bank has), in a temporary file; `--db FILE` reuses a demo
database made so. `--quick` seeds scale 0.1 and sends 20 requests (its results are not the figure:
do not commit them). The machine's CPU pressure over the last minute (Linux PSI) is printed with the
figures: on a shared machine the wall times stretch with it.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import metric, report

from runtime.storage.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 300
SERVE = """
import sys
sys.path.insert(0, {root!r})
import uvicorn
from runtime.cli.ops import served_app
from runtime.storage.db import make_engine
app = served_app(make_engine({url!r}))          # as `banyan serve` serves it
uvicorn.run(app, host="127.0.0.1", port={port}, log_level="warning", access_log=False)
"""


def build(url: str, scale: float) -> None:
    """The demo bank at `scale`, its people, and an alert scan."""
    from runtime.alerts.service import AlertService
    from runtime.cli.seed import ensure_deployed, load_demo, seed_demo, seed_demo_users
    from runtime.records.service import Records
    from runtime.storage.migrate import upgrade
    engine = make_engine(url)
    upgrade(engine)
    ensure_deployed(engine, str(ROOT / "configs"), "bench")
    records = Records(engine)
    demo = load_demo()
    started = time.perf_counter()
    seed_demo(records, scale=scale, actor="bench", demo=demo)
    seed_demo_users(engine, records.live.bundle, demo)
    print(f"  seeded the demo bank at scale {scale} in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    AlertService(engine, records=records).scan()
    print(f"  alert scan in {time.perf_counter() - started:.0f} s", flush=True)
    engine.dispose()


def largest_group(url: str) -> tuple[str, int]:
    from runtime.records.service import Records
    engine = make_engine(url)
    group = Records(engine).query("group", order_by="-member_count", limit=1).items[0]
    engine.dispose()
    return group["code"], int(group["member_count"] or 0)


class Served:
    """uvicorn in a subprocess (one worker) on a free loopback port."""

    def __init__(self, url: str, tmp: str):
        import socket
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.code = SERVE.format(root=str(ROOT), url=url, port=self.port)
        self.env = {**os.environ, "BANYAN_SCHEDULER": "0", "BANYAN_FLOW_WORKER": "0",
                    "BANYAN_SECRET_FILE": str(Path(tmp) / "secret")}

    def __enter__(self) -> "Served":
        import subprocess

        import httpx
        self.proc = subprocess.Popen([sys.executable, "-c", self.code], env=self.env)
        deadline = time.monotonic() + 90
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


def signed_in(port: int, user: str):
    import httpx

    from examples.demo_bank.users import DEMO_PASSWORD
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/ui/signin").text).group(1)
    r = client.post("/ui/signin", data={"csrf_token": token, "username": user, "password": DEMO_PASSWORD,
                                        "next": "/ui/"})
    if r.status_code != 303:
        raise SystemExit(f"{user} could not sign in: {r.status_code}")
    return client


def timings(client, path: str, n: int, warm: int = 5) -> tuple[list[float], int]:
    """Milliseconds of `n` GETs of `path` after `warm` unmeasured ones, and the last answer's size;
    any answer but 200 stops the run."""
    times, size = [], 0
    for i in range(warm + n):
        start = time.perf_counter()
        r = client.get(path)
        took = (time.perf_counter() - start) * 1000
        if r.status_code != 200:
            raise SystemExit(f"{path}: {r.status_code} {r.text[:300]}")
        size = len(r.content)
        if i >= warm:
            times.append(took)
    return times, size


def cpu_ms(pid: int) -> float | None:
    """The CPU time (user + system) process `pid` has used, in ms (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def cpu_pressure() -> float | None:
    """The share of the last minute some task waited for a CPU (Linux PSI), in percent: the machine
    is shared, and wall times stretch with it."""
    try:
        line = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    return float(dict(kv.split("=") for kv in line.split()[1:])["avg60"])


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="scale 0.1 and 20 requests (not the figure)")
    parser.add_argument("--db", help="a demo database made already (deploy, seed demo, alerts scan)")
    parser.add_argument("--requests", type=int, default=None)
    args = parser.parse_args()
    n = args.requests or (20 if args.quick else 50)
    with tempfile.TemporaryDirectory() as tmp:
        if args.db:
            from runtime.storage.migrate import upgrade
            url = f"sqlite:///{Path(args.db).resolve()}"
            upgrade(make_engine(url))                           # Banyan's own tables as this tree has them
        else:
            url = f"sqlite:///{Path(tmp) / 'views.db'}"
            build(url, 0.1 if args.quick else 1.0)
        code, members = largest_group(url)
        print(f"  the largest group: {code}, {members} members; {n} requests each", flush=True)
        page = f"/ui/views/group_360/{code}"
        with Served(url, tmp) as served:
            cro = signed_in(served.port, "cro")
            timings(cro, page, 5, warm=0)                       # warm: the graph built, templates compiled
            before = cpu_ms(served.proc.pid)
            page_ms, page_bytes = timings(cro, page, n, warm=0)
            after = cpu_ms(served.proc.pid)
            api_ms, api_bytes = timings(cro, f"/views/group_360/{code}", n)
            rm = signed_in(served.port, "rm_sh_01")
            rm_ms, _ = timings(rm, page, n)
    rows = [
        metric("view_600_members_p95", p95(page_ms), "ms", "target <", TARGET_MS, TARGET_MS / p95(page_ms)),
        metric("view_600_members_median", statistics.median(page_ms), "ms"),
        metric("view_members", members, "members"),
        metric("view_page_kib", page_bytes / 1024, "KiB"),
        metric("view_json_p95", p95(api_ms), "ms"),
        metric("view_json_kib", api_bytes / 1024, "KiB"),
        metric("view_serving_branch_p95", p95(rm_ms), "ms"),
    ]
    if before is not None and after is not None:      # the server's own CPU time per page, whatever the load
        rows.insert(2, metric("view_600_members_server_cpu", (after - before) / n, "ms"))
    pressure = cpu_pressure()
    if pressure is not None:
        rows.append(metric("cpu_pressure_avg60", pressure, "%"))
    report("views", rows)


if __name__ == "__main__":
    main()
