"""Load: a compressed day at the bank, driven by locust against real processes on loopback.

What runs: `banyan serve --workers 2` (the jobs left to the worker: BANYAN_SCHEDULER=0) and one
`banyan worker`, over the demo bank (`banyan seed demo`: users, groups, members, loans, the
applications in flight), on PostgreSQL and on SQLite, one after the other.

Who acts (locust users, each waiting 1–3 s between actions as people do):
* relationship managers (rm_sh_01, signed in through the sign-in page): the workbench, a group's
  360° page, the inbox, the company list, and now and then a group credit application started
  through the API (`POST /flows/group_credit_approval/instances`);
* credit officers (co_sh): their inbox through the API, then the document review completed
  (`POST /flow-instances/{id}/complete`) — two of them may pick the same task: the loser's 409
  `task_closed` is the right answer and is counted as a race, not an error; and the task page;
* an operator importing a small CSV of external events (`POST /records/external_event/import`);
* an outside feed posting court and news events (`POST /events`), which the worker turns into alerts.

Figures (benchmarks/results/load.json), per database: `load_errors` (answers other than 2xx and
the counted races; target 0), `load_p95_ms` for page views (the largest p95 of the pages; target <
500 ms) and for commands (the largest p95 of the API writes; target < 1,000 ms), and every
endpoint's request count, p50 and p95. SQLite has one writer at a time: commands queue behind each
other (`busy_timeout`), which the figures show; PostgreSQL is the deployment the targets are for.

    python benchmarks/load.py [--quick] [--db postgresql|sqlite|both] [--users 50] [--seconds 60]

`--quick`: 10 users for 15 s (what tests/runtime/test_load.py runs to check for errors).
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("BANYAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BANYAN = str(Path(sys.executable).parent / "banyan")
PAGE_TARGET_MS, COMMAND_TARGET_MS = 500, 1000
SIGN_IN = ("page /ui/signin", "command sign in")
FORM = {"credit_type": "new", "amount": 2 * 10**8, "term_months": 12, "products": ["working_capital"],
        "purpose": "营运资金", "guarantee_mode": "credit"}


# -- the orchestrator: a database, the demo bank, the servers, the driver -----------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_schema() -> tuple[str, str] | None:
    """(url, schema) of a fresh PostgreSQL schema, or None when no server answers."""
    import sqlalchemy as sa
    try:
        admin = sa.create_engine(PG_URL, connect_args={"connect_timeout": 2})
        schema = "load_" + uuid.uuid4().hex[:10]
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        admin.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure to connect: PostgreSQL is not there
        print(f"PostgreSQL does not answer at {PG_URL} ({type(exc).__name__}); skipped", file=sys.stderr)
        return None
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}", schema


def _drop_schema(schema: str) -> None:
    import sqlalchemy as sa
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


def _run(args: list[str], env: dict) -> None:
    done = subprocess.run([BANYAN, *args], env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"banyan {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def _plan(url: str, tmp: Path) -> dict:
    """What the simulated people need: API tokens, the groups of rm_sh_01, companies for events."""
    from examples.demo_bank.users import DEMO_PASSWORD
    from runtime.auth.users import UserStore
    from runtime.records.service import Records
    from runtime.storage.db import make_engine
    engine = make_engine(url)
    store = UserStore(engine)
    tokens = {u: store.create_token(u, "load benchmark", days=1) for u in ("rm_sh_01", "co_sh", "admin")}
    records = Records(engine)
    groups = [g["code"] for g in records.query("group", {"lead_branch": "sh_branch"}, limit=200).items]
    companies = [c["credit_code"] for c in records.query("company", limit=500).items]
    engine.dispose()
    plan = {"tokens": tokens, "password": DEMO_PASSWORD, "groups": groups, "companies": companies}
    (tmp / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    return plan


class Servers:
    """`banyan serve --workers N` and `banyan worker`, on a free port, stopped with SIGTERM."""

    def __init__(self, url: str, tmp: Path, workers: int):
        self.port = _free_port()
        self.env = {**os.environ, "BANYAN_DATABASE_URL": url, "BANYAN_SCHEDULER": "0",
                    "BANYAN_SECRET_FILE": str(tmp / "secret"), "BANYAN_LOG_FORMAT": "json",
                    "PROMETHEUS_MULTIPROC_DIR": str(tmp / "metrics")}
        self.workers = workers
        self.logs = tmp / "servers.log"

    def __enter__(self) -> "Servers":
        import httpx
        log = self.logs.open("w")
        self.serve = subprocess.Popen([BANYAN, "serve", "--port", str(self.port), "--workers", str(self.workers)],
                                      env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        self.worker = subprocess.Popen([BANYAN, "worker"], env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/ready", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.serve.poll() is not None:
                self.__exit__()
                raise SystemExit(f"the server did not become ready; see {self.logs}")
            time.sleep(0.5)

    def __exit__(self, *exc: object) -> None:
        for proc in (self.serve, self.worker):
            if proc.poll() is None:
                proc.terminate()
        for proc in (self.serve, self.worker):
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()


def run_one(db: str, users: int, seconds: int, warm: int, workers: int, scale: float) -> dict | None:
    with tempfile.TemporaryDirectory(prefix=f"banyan-load-{db}-") as name:
        tmp = Path(name)
        schema = None
        if db == "postgresql":
            made = _pg_schema()
            if made is None:
                return None
            url, schema = made
        else:
            url = f"sqlite:///{tmp / 'bank.db'}"
        try:
            env = {**os.environ, "BANYAN_DATABASE_URL": url, "BANYAN_ACTOR": "load",
                   "BANYAN_SECRET_FILE": str(tmp / "secret")}
            started = time.perf_counter()
            _run(["deploy", "configs/", "-m", "load benchmark"], env)
            _run(["seed", "demo", "--scale", str(scale)], env)
            _plan(url, tmp)
            print(f"[{db}] demo bank ready in {time.perf_counter() - started:.0f} s; "
                  f"{users} users for {seconds} s against {workers} server processes and 1 worker", flush=True)
            with Servers(url, tmp, workers) as servers:
                out = tmp / "stats.json"
                driver = subprocess.run([sys.executable, __file__, "--drive", str(tmp / "plan.json"),
                                         "--host", f"http://127.0.0.1:{servers.port}", "--users", str(users),
                                         "--seconds", str(seconds), "--warm", str(warm), "--out", str(out)], cwd=ROOT)
                if driver.returncode != 0 or not out.exists():
                    raise SystemExit(f"the load driver failed ({driver.returncode})")
                stats = json.loads(out.read_text(encoding="utf-8"))
            if stats["failures"]:                # what the servers said about them, before the log is gone
                kept = Path(tempfile.gettempdir()) / f"banyan-load-{db}-servers.log"
                kept.write_text(servers.logs.read_text(encoding="utf-8", errors="replace"), encoding="utf-8")
                print(f"[{db}] {stats['failures']} failed; the servers' log is kept in {kept}", file=sys.stderr)
        finally:
            if schema:
                _drop_schema(schema)
    stats["database"] = db
    return stats


# -- the driver: locust in its own process (it patches the standard library with gevent) -------------
def drive(plan_path: str, host: str, users: int, seconds: int, warm: int, out: str) -> None:
    import gevent
    from locust import HttpUser, between, task
    from locust.env import Environment

    plan = json.loads(Path(plan_path).read_text(encoding="utf-8"))
    rng = random.Random(11)
    races = {"n": 0}
    # event numbers (`^X[0-9]{6}$`) the demo bank leaves free: imports from X600000, the feed from X700000
    imported, posted = itertools.count(600_000), itertools.count(700_000)

    def bearer(user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {plan['tokens'][user]}"}

    class RelationshipManager(HttpUser):
        weight = 5
        wait_time = between(1, 3)

        def on_start(self) -> None:
            page = self.client.get("/ui/signin", name="page /ui/signin")
            token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            self.client.post("/ui/signin", data={"csrf_token": token, "username": "rm_sh_01",
                                                 "password": plan["password"]}, name="command sign in")

        @task(4)
        def workbench(self) -> None:
            self.client.get("/ui/", name="page /ui/ (workbench)")

        @task(3)
        def group_360(self) -> None:
            self.client.get(f"/ui/views/group_360/{rng.choice(plan['groups'])}", name="page /ui/views/group_360/[G]")

        @task(2)
        def inbox(self) -> None:
            self.client.get("/ui/inbox", name="page /ui/inbox")

        @task(2)
        def companies(self) -> None:
            self.client.get("/ui/e/company", name="page /ui/e/company")

        @task(1)
        def apply(self) -> None:
            self.client.post("/flows/group_credit_approval/instances", headers=bearer("rm_sh_01"),
                             json={"subject": rng.choice(plan["groups"]), "form": FORM},
                             name="command start application")

    class CreditOfficer(HttpUser):
        weight = 2
        wait_time = between(1, 3)

        @task(3)
        def review(self) -> None:
            box = self.client.get("/inbox?box=mine&limit=20", headers=bearer("co_sh"), name="api /inbox")
            items = [t for t in (box.json().get("items") or []) if t.get("node") == "document_review"] \
                if box.status_code == 200 else []
            if not items:
                return
            t = rng.choice(items)
            with self.client.post(f"/flow-instances/{t['instance']}/complete", headers=bearer("co_sh"),
                                  json={"task": t["task"], "fields": {"review_opinion": "资料齐全"}},
                                  name="command complete review", catch_response=True) as r:
                if r.status_code == 409 and "task_closed" in r.text:
                    races["n"] += 1          # another session of the same officer took it first: the right answer
                    r.success()

        @task(1)
        def task_page(self) -> None:
            box = self.client.get("/inbox?box=mine&limit=5", headers=bearer("co_sh"), name="api /inbox")
            items = box.json().get("items") or [] if box.status_code == 200 else []
            if items:
                self.client.get(f"/flow-tasks/{items[0]['task']}", headers=bearer("co_sh"), name="api /flow-tasks/[id]")

    class Importer(HttpUser):
        weight = 1
        wait_time = between(5, 10)

        @task
        def import_events(self) -> None:
            lines = ["event_no,company,type,occurred_on,title,severity,source"]
            for _ in range(5):
                lines.append(f"X{next(imported)},{rng.choice(plan['companies'])},negative_news,2026-12-01,"
                             f"媒体报道经营异常,medium,news")
            body = ("\n".join(lines) + "\n").encode("utf-8")
            self.client.post("/records/external_event/import", headers=bearer("admin"),
                             files={"file": ("events.csv", body, "text/csv")}, name="command import events")

    class EventFeed(HttpUser):
        weight = 1
        wait_time = between(1, 3)

        @task
        def post_events(self) -> None:
            events = [{"event_no": f"X{next(posted)}", "company": rng.choice(plan["companies"]),
                       "type": rng.choice(["litigation", "negative_news"]), "occurred_on": "2026-12-01",
                       "title": "法院立案", "severity": "medium", "source": "court"} for _ in range(rng.randint(1, 3))]
            self.client.post("/events", headers=bearer("admin"), json=events, name="command post events")

    for cls in (RelationshipManager, CreditOfficer, Importer, EventFeed):
        cls.host = host
    env = Environment(user_classes=[RelationshipManager, CreditOfficer, Importer, EventFeed])
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=max(1, users // 5))
    # warm-up: every person signs in and every server process reads the bundle, the graph and its
    # caches once; what fails here still counts, the latencies do not
    gevent.sleep(warm)
    warm_errors = _errors(env)
    warm_failures = env.stats.total.num_failures
    env.stats.reset_all()
    gevent.sleep(seconds)
    runner.quit()
    endpoints = []
    for (name, method), e in sorted(env.stats.entries.items()):
        if not e.num_requests:
            continue
        endpoints.append({"name": name, "method": method, "requests": e.num_requests, "failures": e.num_failures,
                          "p50_ms": e.get_response_time_percentile(0.5), "p95_ms": e.get_response_time_percentile(0.95)})
    errors = warm_errors + _errors(env)
    Path(out).write_text(json.dumps({"users": users, "seconds": seconds, "warm": warm, "endpoints": endpoints,
                                     "errors": errors, "races": races["n"], "total": env.stats.total.num_requests,
                                     "failures": warm_failures + env.stats.total.num_failures},
                                    ensure_ascii=False), encoding="utf-8")


def _errors(env: object) -> list[dict]:
    return [{"name": e.name, "method": e.method, "error": str(e.error)[:300], "count": e.occurrences}
            for e in env.stats.errors.values()]  # type: ignore[attr-defined]


# -- the figures --------------------------------------------------------------------------------------
def figures(stats: dict) -> list[dict]:
    from _common import metric
    db = stats["database"]
    # signing in is once a session and slow on purpose (argon2): its own figure, not the pages' or the commands'
    signin = [e for e in stats["endpoints"] if e["name"] in SIGN_IN]
    pages = [e for e in stats["endpoints"] if e["name"].startswith("page ") and e["name"] not in SIGN_IN]
    commands = [e for e in stats["endpoints"] if e["name"].startswith(("command ", "api ")) and e["name"] not in SIGN_IN]
    rows = [metric(f"load_errors[{db}]", stats["failures"], "count", "target 0"),
            metric(f"load_p95_ms[{db}] pages", max((e["p95_ms"] for e in pages), default=0), "ms",
                   f"target < {PAGE_TARGET_MS}"),
            metric(f"load_p95_ms[{db}] commands", max((e["p95_ms"] for e in commands), default=0), "ms",
                   f"target < {COMMAND_TARGET_MS}"),
            metric(f"load_signin_p95_ms[{db}]", max((e["p95_ms"] for e in signin), default=0), "ms",
                   "argon2 on purpose; once a session"),
            metric(f"load_requests[{db}]", stats["total"], "count",
                   f"{stats['users']} users, {stats['seconds']} s after {stats['warm']} s warm"),
            metric(f"load_races[{db}]", stats["races"], "count", "409 task_closed, right answers")]
    for e in stats["endpoints"]:
        rows.append(metric(f"  {db} {e['method']} {e['name']} p50", e["p50_ms"], "ms"))
        rows.append(metric(f"  {db} {e['method']} {e['name']} p95", e["p95_ms"], "ms",
                           f"{e['requests']} requests, {e['failures']} failed"))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="10 users for 15 s")
    ap.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    ap.add_argument("--users", type=int, default=None)
    ap.add_argument("--seconds", type=int, default=None)
    ap.add_argument("--workers", type=int, default=2, help="server processes")
    ap.add_argument("--warm", type=int, default=None, help="seconds of load before the measured ones (default 20; --quick 10)")
    ap.add_argument("--scale", type=float, default=0.1, help="the demo bank's scale")
    ap.add_argument("--drive", help=argparse.SUPPRESS)
    ap.add_argument("--host", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--json", help="also write the raw figures here (tests read them)")
    args = ap.parse_args()
    users = args.users or (10 if args.quick else 50)
    seconds = args.seconds or (15 if args.quick else 60)
    args.warm = args.warm if args.warm is not None else (10 if args.quick else 20)
    if args.drive:
        drive(args.drive, args.host, users, seconds, args.warm, args.out)
        return
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import report
    dbs = ["postgresql", "sqlite"] if args.db == "both" else [args.db]
    runs = [s for s in (run_one(db, users, seconds, args.warm, args.workers, args.scale) for db in dbs) if s is not None]
    if args.json:
        Path(args.json).write_text(json.dumps(runs, ensure_ascii=False, indent=1), encoding="utf-8")
    for s in runs:
        for e in s["errors"]:
            print(f"[{s['database']}] {e['count']} × {e['method']} {e['name']}: {e['error']}", file=sys.stderr)
    rows = [r for s in runs for r in figures(s)]
    if not rows:
        raise SystemExit("no database answered")
    report("load", rows, write=not args.quick)


if __name__ == "__main__":
    main()
