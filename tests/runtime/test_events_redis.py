"""Events from a Redis stream (runtime/events/stream.py), when a Redis server answers (as the
PostgreSQL tests run when PostgreSQL answers): a consumer group takes each entry once, a bad
entry goes to the dead-letter stream with its problems and blocks nothing, an entry read but not
acknowledged before a crash is taken again on start and written once."""
from __future__ import annotations

import json
import os
import uuid

import pytest
import sqlalchemy as sa

from runtime.events.intake import EventIntake
from runtime.events.stream import StreamConsumer

from .demo_db import demo_bank

COMPANY = [""]
REDIS_URL = os.environ.get("BANYAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_client():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"Redis does not answer at {REDIS_URL} (set BANYAN_TEST_REDIS_URL)")
    stream = f"banyan-test-{uuid.uuid4().hex[:8]}"
    yield client, stream
    client.delete(stream, f"{stream}:rejected")
    client.close()


@pytest.fixture
def bank(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "secret"))
    engine, records = demo_bank(db_url, scale=0.01)
    with engine.connect() as conn:
        COMPANY[0] = conn.execute(sa.text("SELECT credit_code FROM e_company ORDER BY id LIMIT 1")).scalar()
    yield engine, records
    engine.dispose()


def event(no: str, **over) -> dict:
    return {"event_no": no, "company": COMPANY[0], "type": "negative_news", "occurred_on": "2026-12-01",
            "title": "媒体报道资金链紧张", "source": "news", **over}


def stored(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT event_no FROM e_external_event WHERE event_no LIKE 'X8%' "
                                         "ORDER BY event_no")).scalars())


def test_a_stream_is_taken_once_and_a_bad_entry_blocks_nothing(bank, redis_client):
    engine, records = bank
    client, stream = redis_client
    client.xadd(stream, event("X800001"))
    client.xadd(stream, {"event": json.dumps(event("X800002", company="NO-SUCH"), ensure_ascii=False)})
    client.xadd(stream, {"event": "{not json"})
    client.xadd(stream, event("X800001"))
    client.xadd(stream, event("X800003"))
    consumer = StreamConsumer(EventIntake(engine, records=records), client, stream, consumer="c1", batch=2)
    done = consumer.run_once()
    assert (done.read, done.accepted, done.duplicates, done.rejected) == (5, 2, 1, 2)
    assert stored(engine) == ["X800001", "X800003"]
    assert client.xpending(stream, "banyan")["pending"] == 0
    dead = client.xrange(f"{stream}:rejected")
    assert len(dead) == 2
    problems = json.loads(dead[0][1][b"problems"])
    assert problems[0]["loc"] == ["company"]
    assert consumer.run_once().read == 0                     # nothing twice


def test_an_entry_read_before_a_crash_is_taken_again_and_written_once(bank, redis_client):
    engine, records = bank
    client, stream = redis_client
    intake = EventIntake(engine, records=records)
    consumer = StreamConsumer(intake, client, stream, consumer="c1")
    consumer.ensure_group()
    client.xadd(stream, event("X800010"))
    entries = client.xreadgroup("banyan", "c1", {stream: ">"}, count=10)[0][1]
    intake.take([{k.decode(): v.decode() for k, v in f.items()} for _, f in entries], actor="stream")   # committed …
    # … and the consumer died before XACK: on start it reads its own pending entries first
    done = StreamConsumer(intake, client, stream, consumer="c1").run_once()
    assert (done.read, done.accepted, done.duplicates) == (1, 0, 1)
    assert stored(engine) == ["X800010"] and client.xpending(stream, "banyan")["pending"] == 0


def test_an_entry_another_consumer_left_pending_is_claimed(bank, redis_client):
    engine, records = bank
    client, stream = redis_client
    intake = EventIntake(engine, records=records)
    StreamConsumer(intake, client, stream, consumer="gone").ensure_group()
    client.xadd(stream, event("X800020"))
    client.xreadgroup("banyan", "gone", {stream: ">"}, count=10)          # read, never taken: that consumer is gone
    done = StreamConsumer(intake, client, stream, consumer="c2", claim_idle_ms=0).run_once()
    assert done.accepted == 1 and stored(engine) == ["X800020"]


def test_the_cli_takes_a_stream_once(bank, redis_client, db_url, monkeypatch):
    engine, _ = bank
    client, stream = redis_client
    client.xadd(stream, event("X800030"))
    from click.testing import CliRunner

    from runtime.cli.main import main
    monkeypatch.setenv("BANYAN_DATABASE_URL", db_url)
    monkeypatch.setenv("BANYAN_LANG", "en")
    result = CliRunner().invoke(main, ["ingest", "redis", stream, "--url", REDIS_URL, "--once"])
    assert result.exit_code == 0, result.output
    assert f"{stream}: 1 read, 1 accepted" in result.output
    assert stored(engine) == ["X800030"]
    bad = CliRunner().invoke(main, ["ingest", "redis", stream, "--url", "redis://127.0.0.1:1/0", "--once"])
    assert bad.exit_code != 0 and "does not answer" in bad.output and "Traceback" not in bad.output
