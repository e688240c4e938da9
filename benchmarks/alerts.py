"""Alert rules: the scan and the evaluator (issue 13). Results → benchmarks/results/alerts.json.

scan_vs_per_subject: the scheduled scan of every shipped alert rule over the demo bank (scale 1:
  5,000 companies, 50 groups, 8 quarters; `--quick`: scale 0.1), alerts, disposal flows and
  messages written, against evaluating the same rules subject by subject through the record
  context (a fresh `Loader` per subject, as a rule engine fed one record at a time reads: a query
  per collection per subject; nothing written). Same database, one run, rounds alternating;
  value = per-subject time ÷ scan time (target >= 10). `scan_5000` (s) is the scan's median.
  The scan is run on a fresh copy of the seeded database each round (the first, writing scan);
  rescan_vs_per_subject times the same scan again right after (nothing left to write), to tell
  the reading and evaluating from the writing.
scan_demo_evals_per_s: subject·rule evaluations per second of that scan.
scan_vs_read: a portfolio of 200,000 companies with 8 quarterly statements each (`--quick`:
  5,000) — the demo bank's companies and statements copied with new ids and keys — scanned by
  every shipped rule, first scan, alerts written, on a fresh copy each round; against fetching
  into Python with the same driver exactly the columns the rules' expressions reference (their
  paths, with ids, links and time fields), one query per table, every row. Rounds alternate;
  value = scan ÷ read (target <= 3); `scan_200000` (s), `scan_evals_per_s` (that scan's
  subject·rule evaluations per second, target 300,000), `scan_peak_memory` (MiB, the whole
  process of a scan run on its own, with what the scan added). On PostgreSQL beside
  (`scan_vs_read_postgresql`; a database of its own, dropped after; one round in the full run) when
  BANYAN_BENCH_POSTGRES_URL (or BANYAN_TEST_POSTGRES_URL, or the local default) answers.
rules_vs_durable_rules: 50 threshold rules over 10 fields as AlertRules evaluated by
  engine/alerts, and the same rules as a durable-rules 2.0.28 ruleset in facts mode
  (`assert_fact`, so every matching rule fires), the same events, the firings checked equal;
  value = durable-rules time ÷ Banyan time (target >= 10). durable-rules is installed for the
  benchmark only (`make bench` does; else `pip install durable-rules==2.0.28`).
ingest_e2e: events per second from `POST /events` (batches of 100, 4 concurrent clients, the
  whole app in process through httpx's ASGI transport, SQLite) until every resulting alert,
  disposal flow and outbox row is committed (the change feed drained by the alert worker, its time
  included): a mix of negative news, litigation and 失信 listings over the demo bank's companies
  (target >= 2,000/s). `--quick`: 2,000 events over demo scale 0.1; full: 10,000 over scale 1.
backtest_21_months: `banyan alerts backtest` of one candidate rule (debt ratio 65% instead of 70%) at the
  21 month-ends 2025-01..2026-09 over the demo bank (scale 1; `--quick` 0.1), median of 3 (target < 30 s).
banyan_test_configs: wall time of `banyan test configs/ --allow-not-run` in its own process (issue 14:
  reported), median of 3 runs (`--quick`: 1).
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from _common import metric, report
from _durable import durable_available, rules_vs_durable

from engine.alerts import evaluate
from runtime.alerts.scan import subject_ids
from runtime.alerts.service import AlertService
from runtime.cli.seed import ensure_deployed, seed_demo
from runtime.records.context import Loader
from runtime.records.service import Records
from runtime.storage.db import make_engine
from runtime.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent


# -- scan_vs_per_subject ---------------------------------------------------------------------------
def seeded(path: Path, scale: float) -> None:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    ensure_deployed(engine, str(ROOT / "configs"), "bench")
    records = Records(engine)
    seed_demo(records, scale=scale, seed=42, transactions=0, actor="bench")
    from examples.demo_bank.users import seed_demo_users
    from runtime.auth.org import OrgTree
    from runtime.auth.users import UserStore
    seed_demo_users(UserStore(engine), OrgTree(records.live.bundle))
    engine.dispose()


def time_scan(path: Path) -> tuple[float, int]:
    engine = make_engine(f"sqlite:///{path}")
    service = AlertService(engine)
    service.records.refresh()                   # the live bundle, as the per-subject run has it before its clock
    start = time.perf_counter()
    counts = service.scan()
    took = time.perf_counter() - start
    engine.dispose()
    return took, counts.evaluations


def time_per_subject(path: Path) -> tuple[float, int]:
    engine = make_engine(f"sqlite:///{path}")
    service = AlertService(engine)
    live = service.records.refresh()
    rules = service.rules(live)
    by_scope: dict[str, list] = {}
    for rule in rules:
        by_scope.setdefault(rule.scope, []).append(rule)
    now = service.clock()
    done = 0
    start = time.perf_counter()
    with engine.connect() as conn:
        for entity, rs in by_scope.items():
            for id_ in subject_ids(conn, live, entity):
                loader = Loader(conn, live)
                loader.given("$now", now)
                ctx = AlertService.context_of(loader, entity, id_)     # a record, or a guarantee circle
                for rule in rs:
                    evaluate(rule, ctx)
                    done += 1
    took = time.perf_counter() - start
    engine.dispose()
    return took, done


def scan_vs_per_subject(scale: float, rounds: int) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "seeded.db"
        os.environ.setdefault("BANYAN_SECRET_FILE", str(Path(tmp) / "secret"))
        seeded(base, scale)
        scans, rescans, singles, evaluations = [], [], [], 0
        for r in range(rounds):
            copy = Path(tmp) / f"round{r}.db"
            shutil.copy(base, copy)
            order = ("scan", "single") if r % 2 == 0 else ("single", "scan")
            for who in order:
                if who == "scan":
                    took, evaluations = time_scan(copy)
                    scans.append(took)
                    rescans.append(time_scan(copy)[0])         # the same scan again: nothing left to write
                else:
                    took, _ = time_per_subject(base)
                    singles.append(took)
            copy.unlink()
    return statistics.median(scans), statistics.median(singles), evaluations, statistics.median(rescans)


# -- scan_vs_read ----------------------------------------------------------------------------------
def portfolio(url: str, base: Path, companies: int) -> int:
    """A portfolio of `companies` companies with their quarterly statements at `url`: the demo
    bank seeded at `base` (SQLite), its companies and statements copied again and again with new
    ids and keys (`INSERT … SELECT`, the clones in the same groups) until there are `companies`.
    Returns how many statements it holds."""
    import sqlalchemy as sa
    engine = make_engine(url)
    if not url.startswith("sqlite"):              # PostgreSQL: the seeded bank's rows copied over first
        copy_database(make_engine(f"sqlite:///{base}"), engine)
    with engine.begin() as conn:
        have = conn.execute(sa.text("SELECT count(*), max(id) FROM e_company")).one()
        n, top = int(have[0]), int(have[1])
        top_f = int(conn.execute(sa.text("SELECT max(id) FROM e_financial_statement")).scalar() or 0)
        company = [c for c in sa.inspect(conn).get_columns("e_company")]
        statement = [c for c in sa.inspect(conn).get_columns("e_financial_statement")]
        pg = conn.dialect.name == "postgresql"

        def code(col: str, k: int) -> str:              # a unique key of at most 18 characters
            return (f"'C' || lpad('{k}', 5, '0') || lpad(CAST(id AS TEXT), 12, '0')" if pg
                    else f"printf('C%05d%012d', {k}, id)")

        clones = 0
        for k in range(1, companies // n + 1):
            take = min(n, companies - n * k)
            if take <= 0:
                break
            cols = [c["name"] for c in company]
            exprs = [f"id + {k * top}" if c == "id" else code(c, k) if c == "credit_code"
                     else f"name || '·{k}'" if c == "name" else f'"{c}"' for c in cols]
            conn.execute(sa.text(f'INSERT INTO e_company ({", ".join(chr(34) + c + chr(34) for c in cols)}) '
                                 f'SELECT {", ".join(exprs)} FROM e_company WHERE id <= {top} '
                                 f'ORDER BY id LIMIT {take}'))
            cols = [c["name"] for c in statement]
            exprs = [f"id + {k * top_f}" if c == "id" else f"company + {k * top}" if c == "company"
                     else f"statement_no || '-{k}'" if c == "statement_no" else f'"{c}"' for c in cols]
            conn.execute(sa.text(
                f'INSERT INTO e_financial_statement ({", ".join(chr(34) + c + chr(34) for c in cols)}) '
                f'SELECT {", ".join(exprs)} FROM e_financial_statement WHERE id <= {top_f} AND company IN '
                f'(SELECT id FROM e_company WHERE id <= {top} ORDER BY id LIMIT {take})'))
            clones += take
        statements = int(conn.execute(sa.text("SELECT count(*) FROM e_financial_statement")).scalar() or 0)
    engine.dispose()
    return statements


def copy_database(source, target) -> None:
    """Every table of the seeded SQLite bank copied into an empty PostgreSQL database (Banyan's
    own tables through its migrations, the entity tables through a deploy of the same bundle)."""
    import sqlalchemy as sa
    upgrade(target)
    ensure_deployed(target, str(ROOT / "configs"), "bench")
    meta, typed = sa.MetaData(), sa.MetaData()
    meta.reflect(bind=target)
    typed.reflect(bind=source)                     # read with the column types: booleans, dates
    with warnings.catch_warnings():                # company ⇄ group ⇄ person refer to one another
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        tables = meta.sorted_tables
    with source.connect() as src, target.begin() as dst:
        for t in tables:
            if t.name.startswith("alembic") or t.name not in typed.tables:
                continue
            dst.execute(t.delete())
            rows = [dict(r) for r in src.execute(sa.select(typed.tables[t.name])).mappings()]
            if rows:
                dst.execute(t.insert(), rows)
        for t in tables:                               # sequences past the copied keys
            for c in t.primary_key.columns:
                seq = dst.execute(sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                                  {"t": f'"{t.name}"', "c": c.name}).scalar()
                if seq:
                    dst.execute(sa.text(f'SELECT setval(:s, coalesce((SELECT max("{c.name}") FROM "{t.name}"), 0) + 1, '
                                        'false)'), {"s": seq})
    source.dispose()


def referenced_columns(live, rules) -> dict[str, set[str]]:
    """Per table: the columns the rules' expressions reference (`CompiledExpr.paths`), with the
    id, the link of a collection to its parent and its time field (windows and `latest` read it)."""
    from dsl.link import CIRCLE
    from runtime.alerts.reads import read_paths
    out: dict[str, set[str]] = {}

    def walk(entity: str, path: tuple[str, ...]) -> None:
        if not path or entity not in live.model:
            return
        ent = live.entity(entity)
        cols = out.setdefault(entity, {"id"})
        name, rest = path[0], path[1:]
        fields = {f.name: f for f in ent.fields}
        collections = {c.name: c for c in ent.collections}
        if name in collections:
            c = collections[name]
            child = out.setdefault(c.entity, {"id"})
            child.add(c.via)
            if live.entity(c.entity).time_field:
                child.add(live.entity(c.entity).time_field)
            walk(c.entity, rest)
        elif name in fields and name in {col.name for col in live.model[entity].columns}:
            cols.add(name)
            if fields[name].type_name == "ref" and rest:
                walk(fields[name].ref, rest)
        elif name in live.bundle.entities and getattr(live.bundle.entities[name], "bank_wide", False):
            out.setdefault(name, {"id"})
            walk(name, rest)

    for rule in rules:
        if rule.scope == CIRCLE:
            continue
        out.setdefault(rule.scope, {"id"})
        for p in read_paths([rule]):
            walk(rule.scope, p)
    return out


def time_read(url: str) -> tuple[float, int]:
    """Fetch into Python, with the scan's driver, exactly the columns the rules reference: one
    query per table, every row (a scan reads every subject and all it points to)."""
    import sqlalchemy as sa
    engine = make_engine(url)
    service = AlertService(engine)
    live = service.records.refresh()
    wanted = referenced_columns(live, service.rules(live))
    start = time.perf_counter()
    rows = 0
    with engine.connect() as conn:
        for entity, cols in sorted(wanted.items()):
            t = live.table(entity)
            rows += len(conn.execute(sa.select(*(t.c[c] for c in sorted(cols)))).fetchall())
    took = time.perf_counter() - start
    engine.dispose()
    return took, rows


def scan_vs_read(companies: int, base_scale: float, rounds: int, postgres: str | None, pg_rounds: int = 3) -> dict:
    """The first full scan of every rule over a portfolio of `companies` (alerts written), and the
    read of what its rules reference, alternating, each scan on a fresh copy; medians."""
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("BANYAN_SECRET_FILE", str(Path(tmp) / "secret"))
        base = Path(tmp) / "seeded.db"
        seeded(base, base_scale)
        made = Path(tmp) / "portfolio.db"
        shutil.copy(base, made)
        out["statements"] = portfolio(f"sqlite:///{made}", base, companies)
        scans, reads, evaluations = [], [], 0
        for r in range(rounds):
            copy = Path(tmp) / f"scan{r}.db"
            shutil.copy(made, copy)
            for who in (("scan", "read") if r % 2 == 0 else ("read", "scan")):
                if who == "scan":
                    took, evaluations = time_scan(copy)
                    scans.append(took)
                else:
                    reads.append(time_read(f"sqlite:///{made}")[0])
            copy.unlink()
        out["sqlite"] = (statistics.median(scans), statistics.median(reads), evaluations)
        out["peak_mib"] = peak_memory(made, tmp)
        if postgres:
            out["postgresql"] = pg_scan_vs_read(postgres, base, companies, pg_rounds)
    return out


def peak_memory(path: Path, tmp: str) -> tuple[float, float]:
    """The peak resident memory (MiB) of a process that runs one full scan of a fresh copy of
    `path`, and how much of it the scan added to what the process held before (the imports and
    the bundle)."""
    copy = Path(tmp) / "peak.db"
    shutil.copy(path, copy)
    code = ("import resource, sys; sys.path[:0] = [sys.argv[2], sys.argv[3]]\n"
            "from runtime.alerts.service import AlertService\nfrom runtime.storage.db import make_engine\n"
            "s = AlertService(make_engine('sqlite:///' + sys.argv[1])); s.records.refresh()\n"
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "s.scan()\nprint(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
    done = subprocess.run([sys.executable, "-c", code, str(copy), str(ROOT), str(ROOT / "benchmarks")],
                          capture_output=True, text=True, check=True)
    before, after = (int(x) for x in done.stdout.split()[-2:])
    copy.unlink()
    return after / 1024, max(after - before, 0) / 1024


def pg_scan_vs_read(admin_url: str, base: Path, companies: int, rounds: int) -> tuple[float, float, int] | None:
    """The same on PostgreSQL: the portfolio built once in a database of its own, each scan on a
    copy of it (CREATE DATABASE … TEMPLATE), all of them dropped afterwards."""
    import uuid

    import sqlalchemy as sa
    from sqlalchemy.engine import make_url
    try:
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 2})
        with admin.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError:
        return None
    name = "bench_alerts_" + uuid.uuid4().hex[:8]
    made: list[str] = []

    def url_of(db: str) -> str:
        return make_url(admin_url).set(database=db).render_as_string(hide_password=False)

    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        made.append(name)
        portfolio(url_of(name), base, companies)
        scans, reads, evaluations = [], [], 0
        for r in range(rounds):
            copy = f"{name}_{r}"
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')
            made.append(copy)
            for who in (("scan", "read") if r % 2 == 0 else ("read", "scan")):
                if who == "scan":
                    engine = make_engine(url_of(copy))
                    service = AlertService(engine)
                    service.records.refresh()
                    start = time.perf_counter()
                    evaluations = service.scan().evaluations
                    scans.append(time.perf_counter() - start)
                    engine.dispose()
                else:
                    reads.append(time_read(url_of(name))[0])
        return statistics.median(scans), statistics.median(reads), evaluations
    finally:
        with admin.connect() as conn:
            for db in reversed(made):
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        admin.dispose()


# -- ingest_e2e ------------------------------------------------------------------------------------
def event_batch(codes: list[str], n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind = rng.choices(("negative_news", "litigation", "dishonest_debtor"), (70, 28, 2))[0]
        e = {"event_no": f"X{i + 1:06d}", "company": rng.choice(codes), "type": kind, "occurred_on": "2026-11-30",
             "title": "事件", "source": "news" if kind == "negative_news" else "court", "severity": "medium"}
        if kind == "litigation":
            e.update(amount=str(rng.randrange(10**5, 10**9)), role_in_case=rng.choice(("plaintiff", "defendant")))
        elif kind == "dishonest_debtor":
            e.update(amount=str(rng.randrange(10**6, 10**8)), source="credit_china", severity="high")
        out.append(e)
    return out


def ingest_e2e(scale: float, n: int) -> tuple[float, int]:
    import asyncio

    import httpx
    import sqlalchemy as sa

    from runtime.alerts import worker
    from runtime.http.app import create_app
    from runtime.jobs import feed
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("BANYAN_SECRET_FILE", str(Path(tmp) / "secret"))
        path = Path(tmp) / "ingest.db"
        seeded(path, scale)
        engine = make_engine(f"sqlite:///{path}")
        service = AlertService(engine)
        service.scan()                                   # the bank as it stands: later changes are the events'
        worker.use(service)
        while feed.run_once(engine, "bench", names=["alerts"]):
            pass
        with engine.connect() as conn:
            codes = list(conn.execute(sa.text("SELECT credit_code FROM e_company")).scalars())
            alerts_before = conn.execute(sa.text("SELECT count(*) FROM banyan_alerts")).scalar()
        batch = event_batch(codes, n, 9)
        app = create_app(engine)

        async def client(parts: list[list[dict]]) -> None:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as c:
                for part in parts:
                    answer = await c.post("/events", json=part)
                    body = answer.json()
                    if answer.status_code != 200 or body["rejected"]:
                        raise SystemExit(f"POST /events refused events: {answer.status_code} {body}")

        async def post_all() -> None:
            parts = [batch[i:i + 100] for i in range(0, len(batch), 100)]
            await asyncio.gather(*(client(parts[k::4]) for k in range(4)))

        start = time.perf_counter()
        asyncio.run(post_all())
        while feed.run_once(engine, "bench", names=["alerts"]):
            pass
        took = time.perf_counter() - start
        with engine.connect() as conn:
            opened = conn.execute(sa.text("SELECT count(*) FROM banyan_alerts")).scalar() - alerts_before
        engine.dispose()
    return n / took, opened


# -- backtest_21_months --------------------------------------------------------------------------
def backtest_21_months(scale: float, rounds: int) -> tuple[float, int]:
    """One candidate rule (debt_ratio_high at 65% instead of 70%) against the deployed one at the
    21 month-ends from 2025-01 to 2026-09 over the demo bank, as `banyan alerts backtest` runs it
    in process (the candidate compiled once); median of `rounds`, and the differences found."""
    from dsl.compiler import compile_path
    from runtime.alerts.backtest import backtest
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("BANYAN_SECRET_FILE", str(Path(tmp) / "secret"))
        base = Path(tmp) / "seeded.db"
        seeded(base, scale)
        candidate = Path(tmp) / "candidate"
        shutil.copytree(ROOT / "configs", candidate, ignore=shutil.ignore_patterns("tests"))
        rule = candidate / "alerts" / "debt_ratio_high.yaml"
        rule.write_text(rule.read_text(encoding="utf-8").replace("debt_ratio > 70%", "debt_ratio > 65%"),
                        encoding="utf-8")
        bundle = compile_path(str(candidate)).bundle
        engine = make_engine(f"sqlite:///{base}")
        service = AlertService(engine)
        service.records.refresh()
        times, found = [], 0
        for _ in range(rounds):
            start = time.perf_counter()
            done = backtest(service, bundle, start="2025-01", end="2026-09", rule_names=["debt_ratio_high"])
            times.append(time.perf_counter() - start)
            found = len(done.changes)
        engine.dispose()
    return statistics.median(times), found


# -- banyan test configs/ -----------------------------------------------------------------------
def business_tests(rounds: int) -> tuple[float, str]:
    """Wall time of `banyan test configs/ --allow-not-run` as an operator runs it (a process of its
    own: compiling the bundle, a throwaway database per case), median of `rounds`."""
    times, summary = [], ""
    for _ in range(rounds):
        start = time.perf_counter()
        done = subprocess.run([str(Path(sys.executable).with_name("banyan")), "test", str(ROOT / "configs"),
                               "--allow-not-run"], capture_output=True, text=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"banyan test configs/ failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
        summary = [line for line in done.stdout.splitlines() if " passed" in line][-1]
    return statistics.median(times), summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="demo scale 0.1, 2,000 events")
    args = parser.parse_args()
    rows = []
    scale, rounds = (0.1, 3) if args.quick else (1.0, 3)
    scan_s, single_s, evaluations, rescan_s = scan_vs_per_subject(scale, rounds)
    rows.append(metric("scan_vs_per_subject", single_s / scan_s, "x", "per-subject record context", single_s,
                       single_s / scan_s))
    rows.append(metric("rescan_vs_per_subject", single_s / rescan_s, "x", "per-subject record context", single_s,
                       single_s / rescan_s))
    rows.append(metric("scan_5000" if scale == 1.0 else f"scan_{int(5000 * scale)}", scan_s, "s"))
    rows.append(metric("scan_demo_evals_per_s", evaluations / scan_s, "evals/s"))
    companies = 5000 if args.quick else 200_000
    pg_url = os.environ.get("BANYAN_BENCH_POSTGRES_URL",
                            os.environ.get("BANYAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    big = scan_vs_read(companies, scale, rounds, pg_url, pg_rounds=rounds if args.quick else 1)   # PostgreSQL:
    # reported beside; its full-size scan takes long enough on a shared machine to run once
    scan_s, read_s, evaluations = big["sqlite"]
    rows.append(metric("scan_vs_read", scan_s / read_s, "x", "read of the referenced columns", read_s,
                       read_s / scan_s))
    rows.append(metric(f"scan_{companies}", scan_s, "s"))
    rows.append(metric("scan_evals_per_s", evaluations / scan_s, "evals/s"))
    rows.append(metric("scan_peak_memory", big["peak_mib"][0], "MiB"))
    print(f"(scan_peak_memory: the whole process; {big['peak_mib'][1]:.0f} MiB above its peak before the scan)")
    if big.get("postgresql"):
        pg_scan, pg_read, pg_evals = big["postgresql"]
        rows.append(metric("scan_vs_read_postgresql", pg_scan / pg_read, "x", "read of the referenced columns",
                           pg_read, pg_read / pg_scan))
        rows.append(metric("scan_evals_per_s_postgresql", pg_evals / pg_scan, "evals/s"))
    else:
        print(f"(PostgreSQL does not answer at {pg_url}: scan_vs_read_postgresql not measured)")
    print(f"(scan_vs_read: {companies:,} companies, {big['statements']:,} statements, {evaluations:,} evaluations)")
    if durable_available():
        n = 2000 if args.quick else 20000
        ours, theirs, fired = rules_vs_durable(n, 5 if args.quick else 3)
        rows.append(metric("rules_vs_durable_rules", theirs / ours, "x", "durable-rules 2.0.28 assert_fact", theirs,
                           theirs / ours))
        rows.append(metric("rules_events_per_s", n / ours, "events/s", "durable-rules events/s", n / theirs))
        print(f"(50 rules × {n} events: {fired} firings, equal in both)")
    else:
        print("durable-rules is not installed: pip install durable-rules==2.0.28 (make bench does)")
    per_s, opened = ingest_e2e(scale, 2000 if args.quick else 10000)
    rows.append(metric("ingest_e2e", per_s, "events/s"))
    print(f"(ingest: {opened} alerts opened by the events)")
    took, found = backtest_21_months(scale, 3)
    rows.append(metric("backtest_21_months", took, "s"))
    print(f"(backtest: {found} alerts the 65% candidate adds over 21 month-ends)")
    took, cases = business_tests(1 if args.quick else 3)
    rows.append(metric("banyan_test_configs", took, "s"))
    print(f"(banyan test configs/: {cases})")
    report("alerts", rows)


if __name__ == "__main__":
    main()
