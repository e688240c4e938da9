"""The audit chain an auditor can rely on (issue 16, part 4): keyed with a key held outside the
database, anchored outside it, and failing on a wiped, cut-short or rewritten log — on SQLite and
PostgreSQL. Chains written before the key keep verifying, and say so."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import hypothesis
import hypothesis.strategies as st
import pytest
import sqlalchemy as sa
from alembic import command

from runtime.audit import log as audit
from runtime.storage.migrate import _config, upgrade

from .records_bundle import FILES, deploy
from .test_cli import run


@pytest.fixture(autouse=True)
def own_key_place(tmp_path, monkeypatch):
    """Every test's key beside its own secret file (PostgreSQL too: never the home directory)."""
    for name in ("BANYAN_AUDIT_KEY", "BANYAN_AUDIT_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "secret"))


def _some_history(engine, n: int = 3):
    recs = deploy(engine, *FILES)
    for i in range(n):
        recs.create("group", {"code": f"G{i}", "name": f"g{i}"}, actor=f"p{i}")
    return recs


def _verify(engine) -> audit.VerifyResult:
    with engine.connect() as conn:
        return audit.verify(conn)


def test_a_wiped_log_fails_while_deployments_exist(engine, db_url):
    _some_history(engine)
    assert _verify(engine).ok
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM banyan_audit"))
        conn.execute(sa.text("DELETE FROM banyan_audit_head"))
    res = _verify(engine)
    assert not res.ok and any("the log is empty, but 1 deployment(s) exist" in p for p in res.problems)
    r = run(db_url, "audit", "verify")
    assert r.exit_code == 1 and "the log is empty" in r.output and "intact" not in r.output


def test_a_cut_tail_with_the_head_moved_back_fails_against_the_anchor(engine, db_url, tmp_path):
    _some_history(engine)
    anchors = tmp_path / "anchors.jsonl"
    r = run(db_url, "audit", "anchor", "--out", str(anchors))
    assert r.exit_code == 0 and "anchored entry 4" in r.output, r.output
    mark = json.loads(anchors.read_text().splitlines()[-1])
    with engine.connect() as conn:
        assert mark["seq"] == 4 and mark["mac"] == conn.execute(sa.text("SELECT hash FROM banyan_audit_head")).scalar()
    with engine.begin() as conn:                     # someone with the database removes the last two entries
        conn.execute(sa.text("DELETE FROM banyan_audit WHERE seq > 2"))
        kept = conn.execute(sa.text("SELECT hash FROM banyan_audit WHERE seq = 2")).scalar()
        conn.execute(sa.text("UPDATE banyan_audit_head SET seq = 2, hash = :h"), {"h": kept})
    r = run(db_url, "audit", "verify", "--anchors", str(anchors))
    assert r.exit_code == 1, r.output
    assert "the log ends at entry 2, but entry 4 was anchored" in r.output and "entries 3–4 were deleted" in r.output
    assert "Traceback" not in r.output


def test_a_log_that_differs_at_its_anchor_fails(engine, db_url, tmp_path):
    _some_history(engine)
    anchors = tmp_path / "anchors.jsonl"
    assert run(db_url, "audit", "anchor", "--out", str(anchors)).exit_code == 0
    _some_history_more(engine)
    assert run(db_url, "audit", "anchor", "--out", str(anchors)).exit_code == 0
    assert len(anchors.read_text().splitlines()) == 2                        # appended, one JSON a line
    assert run(db_url, "audit", "verify", "--anchors", str(anchors)).exit_code == 0
    first = json.loads(anchors.read_text().splitlines()[0])
    lines = anchors.read_text().splitlines()
    lines[0] = json.dumps({**first, "mac": "f" * 64})                      # the entry anchored is not this one
    anchors.write_text("\n".join(lines) + "\n")
    r = run(db_url, "audit", "verify", "--anchors", str(anchors))
    assert r.exit_code == 1 and f"entry {first['seq']} is not the entry anchored" in r.output


def _some_history_more(engine):
    with engine.begin() as conn:
        audit.append(conn, [audit.AuditEntry("later", "create", "group", 99, None, "{}")], 1)


def test_recomputing_the_hashes_without_the_key_does_not_verify(engine):
    """The old chain was plain SHA-256: an edit followed by recomputing every hash verified."""
    _some_history(engine)
    with engine.begin() as conn:
        rows = conn.execute(sa.select(audit.audit_log).order_by(audit.audit_log.c.seq)).all()
        prev = audit.GENESIS
        for r in rows:
            actor = "mallory" if r.seq == 3 else r.actor
            h = audit.entry_hash(prev, r.seq, r.at, actor, r.bundle_version, r.action, r.entity, r.record_id,
                                 r.before, r.after)
            conn.execute(audit.audit_log.update().where(audit.audit_log.c.seq == r.seq)
                         .values(actor=actor, prev_hash=prev, hash=h))
            prev = h
        conn.execute(audit.audit_head.update().values(hash=prev))
    res = _verify(engine)
    assert not res.ok
    assert "entry 1 (deploy) was edited: its contents do not match its hash" in res.problems
    assert any("none of the 4 keyed entries checked matches the audit key" in p for p in res.problems)


def test_another_key_is_told_apart(engine, monkeypatch):
    _some_history(engine, 1)
    assert _verify(engine).ok
    monkeypatch.setenv("BANYAN_AUDIT_KEY", "another key of at least thirty-two characters")
    res = _verify(engine)
    assert not res.ok and "this is not the key it was written with" in res.problems[0]


def test_a_chain_from_before_the_key_keeps_verifying_and_says_so(engine, db_url):
    cfg = _config()
    with engine.begin() as conn:                     # a database of the previous Banyan: plain SHA-256
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0009_change_rows")
    at = datetime(2026, 1, 5, 9, 30, tzinfo=timezone.utc)
    prev = audit.GENESIS
    with engine.begin() as conn:
        for seq in (1, 2):
            h = audit.entry_hash(prev, seq, at, "old", None, "create", "group", seq, None, "{}")
            conn.execute(audit.audit_log.insert().values(seq=seq, at=at, actor="old", bundle_version=None,
                                                         action="create", entity="group", record_id=seq,
                                                         before=None, after="{}", prev_hash=prev, hash=h))
            prev = h
        conn.execute(audit.audit_head.insert().values(id=1, seq=2, hash=prev))
    upgrade(engine)
    with engine.begin() as conn:
        audit.append(conn, [audit.AuditEntry("new", "create", "group", 3, None, "{}")], None)
    res = _verify(engine)
    assert res.ok, res.problems
    assert (res.checked, res.plain, res.keyed_from) == (3, 2, 3)
    r = run(db_url, "audit", "verify")
    assert r.exit_code == 0 and "1 keyed (HMAC-SHA256" in r.output
    assert "2 before the key was introduced (plain SHA-256, entries 1–2)" in r.output
    with engine.begin() as conn:                     # a plain entry edited is still caught
        conn.execute(sa.text("UPDATE banyan_audit SET actor = 'x' WHERE seq = 1"))
    assert _verify(engine).problems == ["entry 1 (create group 1) was edited: its contents do not match its hash"]


def test_a_missing_table_is_a_clear_failure_not_a_traceback(engine, db_url):
    _some_history(engine, 1)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE banyan_audit"))
    r = run(db_url, "audit", "verify")
    assert r.exit_code == 1, r.output
    assert "the audit table(s) banyan_audit are missing (dropped)" in r.output
    assert "Traceback" not in r.output and "internal" not in r.output
    r = run(db_url, "audit", "anchor", "--out", "x.jsonl")
    assert r.exit_code != 0 and "banyan_audit are missing" in r.output and "Traceback" not in r.output


def test_anchor_and_anchors_problems_are_clear(engine, db_url, tmp_path):
    _some_history(engine, 1)
    r = run(db_url, "audit", "anchor")
    assert r.exit_code == 2 and "--out FILE" in r.output
    r = run(db_url, "audit", "anchor", "--url", "http://127.0.0.1:9/anchors")
    assert r.exit_code == 2 and "could not be sent to http://127.0.0.1:9/anchors" in r.output
    assert "Traceback" not in r.output
    r = run(db_url, "audit", "verify", "--anchors", str(tmp_path / "none.jsonl"))
    assert r.exit_code == 2 and "no anchors file" in r.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"seq": 1, "mac": "ab"}\nnot json\n')
    r = run(db_url, "audit", "verify", "--anchors", str(bad))
    assert r.exit_code == 2 and "bad.jsonl line 2 is not an anchor" in r.output


@hypothesis.given(st.one_of(st.none(), st.text()))
def test_an_entrys_text_fields_are_escaped_as_json_dumps_escapes_them(value):
    # the chain hashes json.dumps of actor, entity, before and after: the faster escaping must
    # give the same characters, or every entry written before it would fail to verify
    assert audit._text(value) == json.dumps(value)
