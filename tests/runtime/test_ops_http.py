"""Operations at the HTTP door (runtime/http/observe.py, runtime/ops/): `/ready` in each of its
states, `/metrics` with the request counters and the database gauges, the request id echoed and
on every log line of its request, and the log formats."""
from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from runtime.cli.main import main
from runtime.flows.tables import timers
from runtime.http.app import create_app
from runtime.jobs.outbox_tables import outbox
from runtime.jobs.tables import db_now
from runtime.ops.logs import BanyanJsonFormatter, LogFormatError, RequestContext, given_or_new_id, log_format
from runtime.ops.ready import check
from runtime.storage.db import make_engine
from runtime.storage.migrate import VERSION_TABLE

from .records_bundle import deploy


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of a Prometheus exposition."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_ready_says_why_not_until_a_deployment_is_active(engine):
    c = TestClient(create_app(engine))
    r = c.get("/ready")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "not_ready" and body["error"] == "not_ready"
    assert body["checks"] == {"database": "ok", "migrations": "ok", "deployment": "none"}
    assert "banyan deploy" in body["message"]
    assert c.get("/health").status_code == 200            # alive all the same: liveness is not readiness
    deploy(engine)
    r = c.get("/ready")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "deployment": 1,
                        "checks": {"database": "ok", "migrations": "ok", "deployment": "ok"}}


def test_ready_is_503_behind_the_newest_migration(engine):
    deploy(engine)
    c = TestClient(create_app(engine))
    assert c.get("/ready").status_code == 200
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '0001_old'"))
    r = c.get("/ready")
    assert r.status_code == 503
    assert r.json()["checks"]["migrations"].startswith("at 0001_old, newest ")
    assert "banyan db upgrade" in r.json()["message"]


def test_ready_when_the_database_does_not_answer(tmp_path):
    gone = make_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    found = check(gone)
    assert not found.ready and found.checks == {"database": "does not answer"}
    assert found.body()["message"] == "the database does not answer"


def test_metrics_count_requests_by_route_template_and_read_the_gauges(engine):
    deploy(engine)
    c = TestClient(create_app(engine))
    before = samples(c.get("/metrics").text)
    key = ("banyan_http_requests_total", (("method", "GET"), ("route", "/records/{entity}/{record_id}"),
                                          ("status", "404")))
    for n in (11, 12, 13):                       # three raw paths, one route
        assert c.get(f"/records/company/{n}").status_code == 404
    assert c.post("/flow-instances/nope/approve", json={}, headers={"X-Banyan-Actor": "a"}).status_code >= 400
    now = db_now()
    with engine.begin() as conn:
        conn.execute(timers.insert().values(instance_id="i1", timer="t1", kind="deadline",
                                            due_at=now - timedelta(seconds=90)))
        conn.execute(timers.insert().values(instance_id="i2", timer="t1", kind="deadline",
                                            due_at=now + timedelta(hours=1)))
        conn.execute(outbox.insert().values(message_id="m1", channel="mail", kind="k", payload="{}",
                                            created_at=now, due_at=now - timedelta(seconds=30), attempts=0))
        conn.execute(outbox.insert().values(message_id="m2", channel="mail", kind="k", payload="{}",
                                            created_at=now, due_at=now, attempts=0, sent_at=now))
    r = c.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    after = samples(r.text)
    assert after[key] - before.get(key, 0) == 3
    assert not any("/records/company/11" in str(k) for k in after)        # never the raw path
    approve = ("banyan_flow_commands_total", (("action", "approve"), ("outcome", "refused")))
    assert after[approve] - before.get(approve, 0) == 1
    latency = ("banyan_http_request_duration_seconds_count", key[1])
    assert after[latency] - before.get(latency, 0) == 3
    assert after[("banyan_metrics_database_up", ())] == 1
    assert 89 <= after[("banyan_flow_timer_lag_seconds", ())] < 200     # the due one, not the future one
    assert after[("banyan_outbox_depth", ())] == 1                      # the sent one does not count
    assert 29 <= after[("banyan_outbox_lag_seconds", ())] < 200
    assert after[("banyan_deployment_version", ())] == 1
    assert after[("banyan_flow_tasks_open", ())] == 0


def test_metrics_answer_when_the_database_does_not(tmp_path, engine):
    from runtime.ops.metrics import exposition
    gone = make_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    found = samples(exposition(gone).decode())
    assert found[("banyan_metrics_database_up", ())] == 0
    assert ("banyan_outbox_depth", ()) not in found


def test_metrics_token(engine, monkeypatch):
    c = TestClient(create_app(engine))
    monkeypatch.setenv("BANYAN_METRICS_TOKEN", "s3cret-token")
    r = c.get("/metrics")
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert c.get("/metrics", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200


@pytest.fixture
def json_log():
    """What the root logger writes in the server's JSON format (the handler and filter of
    runtime/ops/logs.py's logging_config), one dict a line."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(BanyanJsonFormatter())
    handler.addFilter(RequestContext())
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(old)


def test_request_id_is_echoed_and_on_every_log_line_of_its_request(engine, json_log):
    def extend(app, _engine):
        @app.get("/_test/log")
        def logs_something() -> dict:                    # a sync endpoint: runs in the thread pool
            logging.getLogger("banyan.test").warning("inside the request")
            return {}

    c = TestClient(create_app(engine, extend=extend))
    r = c.get("/_test/log", headers={"X-Request-ID": "trace-0001.a"})
    assert r.status_code == 200 and r.headers["x-request-id"] == "trace-0001.a"
    other = c.get("/_test/log", headers={"X-Request-ID": "bad id; with spaces"})
    made = other.headers["x-request-id"]
    assert made != "bad id; with spaces" and len(made) == 32
    assert c.get("/health").headers["x-request-id"]                     # made when none is sent
    lines = json_log()
    inside = [line for line in lines if line["message"] == "inside the request"]
    assert [line["request_id"] for line in inside] == ["trace-0001.a", made]
    request = [line for line in lines if line["logger"] == "banyan.http"]
    first = request[0]
    assert first["request_id"] == "trace-0001.a" and first["route"] == "/_test/log" and first["status"] == 200
    assert first["method"] == "GET" and first["user"] is None and isinstance(first["ms"], float)
    assert first["level"] == "INFO" and first["time"].endswith("+00:00")
    assert set(first) == {"level", "logger", "pid", "message", "request_id", "time", "method", "route", "status", "ms", "user"}
    assert [line["request_id"] for line in request] == ["trace-0001.a", made]       # /health: DEBUG, not here


def test_request_ids_and_log_formats():
    assert given_or_new_id("0af7651916cd43dd8448eb211c80319c") == "0af7651916cd43dd8448eb211c80319c"
    assert given_or_new_id("a" * 129) != "a" * 129
    assert given_or_new_id("x\r\nSet-Cookie: a=b") != "x\r\nSet-Cookie: a=b"
    assert given_or_new_id("") and given_or_new_id(None)
    assert log_format("JSON") == "json" and log_format("") == "text"
    with pytest.raises(LogFormatError, match="BANYAN_LOG_FORMAT='yaml'"):
        log_format("yaml")


def test_serve_refuses_a_wrong_log_format(tmp_path):
    r = CliRunner().invoke(main, ["serve", "--port", "0"],
                           env={"BANYAN_DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}", "BANYAN_LOG_FORMAT": "yaml"})
    assert r.exit_code == 2 and "BANYAN_LOG_FORMAT='yaml' is not a log format; use `text` or `json`" in r.output
    assert "Traceback" not in r.output


def test_serve_hands_uvicorn_the_factory_the_timeout_and_the_log_config(tmp_path, monkeypatch):
    import signal

    import uvicorn

    from runtime.cli import ops
    ran: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda target, **kw: ran.update(target=target, **kw))
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_123.db").write_bytes(b"old run")
    (metrics_dir / "keep.txt").write_text("not ours")
    url = f"sqlite:///{tmp_path / 'b.db'}"
    before = signal.getsignal(signal.SIGTERM)
    r = CliRunner().invoke(main, ["serve", "--workers", "3", "--graceful-timeout", "7", "--port", "8124"],
                           env={"BANYAN_DATABASE_URL": url, "BANYAN_LOG_FORMAT": "json", "BANYAN_SCHEDULER": "0",
                                "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "BANYAN_SECRET_FILE": str(tmp_path / "s")})
    assert r.exit_code == 0, r.output
    assert ran["target"] == "runtime.cli.ops:web_app" and ran["factory"] is True and ran["workers"] == 3
    assert ran["timeout_graceful_shutdown"] == 7 and ran["port"] == 8124
    assert ran["timeout_keep_alive"] == 75              # above a load balancer's 60 s: no reset on reuse
    assert ran["log_config"]["formatters"]["banyan"] == {"()": "runtime.ops.logs.BanyanJsonFormatter"}
    assert sorted(p.name for p in metrics_dir.iterdir()) == ["keep.txt"]     # last run's counters gone
    assert signal.getsignal(signal.SIGTERM) is before
    monkeypatch.setenv("BANYAN_DATABASE_URL", url)
    app = ops.web_app()                                  # what each worker builds
    assert TestClient(app).get("/health").status_code == 200


def test_serve_says_what_is_wrong_with_the_metrics_directory(tmp_path, monkeypatch):
    import uvicorn
    monkeypatch.setattr(uvicorn, "run", lambda target, **kw: None)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    r = CliRunner().invoke(main, ["serve", "--workers", "2"],
                           env={"BANYAN_DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}", "BANYAN_SCHEDULER": "0",
                                "PROMETHEUS_MULTIPROC_DIR": str(blocker / "sub"), "BANYAN_SECRET_FILE": str(tmp_path / "s")})
    assert r.exit_code == 2 and f"PROMETHEUS_MULTIPROC_DIR={blocker / 'sub'}" in r.output
    assert "give a writable directory" in r.output and "Traceback" not in r.output
