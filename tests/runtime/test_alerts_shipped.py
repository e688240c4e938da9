"""The shipped alert rules over the demo bank (issue 13): a scan opens alerts with messages in
zh and en, tells the people nearest the subject once per (alert, action, recipient, channel) —
the Shanghai relationship manager of a Shanghai client, not the Beijing one; a raise to orange
also tells the risk manager, nobody twice — and every message renders with its channel's
template in both languages."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from runtime.alerts.service import AlertService
from runtime.alerts.tables import alerts
from runtime.cli.seed import ensure_deployed, seed_demo
from runtime.jobs.outbox import deployed_channels
from runtime.jobs.outbox_tables import outbox
from runtime.jobs.templates import render
from runtime.records.service import Records
from runtime.storage.db import make_engine
from runtime.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("alerts-demo")
    mp = pytest.MonkeyPatch()
    mp.setenv("BANYAN_SECRET_FILE", str(tmp / "secret"))
    engine = make_engine(f"sqlite:///{tmp / 'demo.db'}")
    upgrade(engine)
    ensure_deployed(engine, str(ROOT / "configs"), "test")
    records = Records(engine)
    seed_demo(records, scale=0.01, seed=42, transactions=0, actor="test")
    from examples.demo_bank.users import seed_demo_users
    from runtime.auth.org import OrgTree
    from runtime.auth.users import UserStore
    seed_demo_users(UserStore(engine), OrgTree(records.live.bundle))
    yield engine, records, AlertService(engine, records=records)
    engine.dispose()
    mp.undo()


def messages(engine, source_like="alert:%"):
    with engine.connect() as conn:
        return list(conn.execute(sa.select(outbox).where(outbox.c.source.like(source_like))).mappings())


def test_a_scan_of_the_shipped_rules_tells_each_person_once(demo):
    engine, records, service = demo
    first = service.scan()
    assert first.steps.get("open", 0) >= 1 and first.errors == []
    sent = messages(engine)
    assert len(sent) == first.messages == len({m["message_id"] for m in sent})
    again = service.scan()
    assert dict(again.steps) == {} and again.messages == 0 and len(messages(engine)) == len(sent)
    channels = deployed_channels(engine)
    for m in sent[:40]:
        payload = json.loads(m["payload"])
        payload["recipient"] = {"name": m["recipient"], "display_name": m["recipient"], "email": "", "mobile": ""}
        for lang in ("zh", "en"):
            text = render(channels[m["channel"]], m["kind"], payload, lang)
            assert text.body and "{{" not in text.body


def test_a_shanghai_client_reaches_the_shanghai_team_and_a_raise_tells_the_risk_manager(demo):
    engine, records, service = demo
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT l.loan_no, c.credit_code FROM e_loan l JOIN e_company c ON c.id = l.borrower "
            "WHERE c.branch = 'sh_branch' AND COALESCE(c.max_overdue_days, 0) = 0 LIMIT 1").first()
    assert row is not None, "the demo bank has a Shanghai borrower without overdue loans"
    loan_no, code = row
    loan = records.find("loan", loan_no)
    records.update("loan", loan["id"], {"overdue_days": 10, "classification": "special_mention"}, actor="test")
    service.scan(["loan_overdue"])
    with engine.connect() as conn:
        (alert,) = conn.execute(sa.select(alerts).where(alerts.c.rule == "loan_overdue", alerts.c.subject_key == code,
                                                        alerts.c.status == "open")).mappings()
    assert alert["grade"] == "yellow"
    told = {(m["recipient"], m["channel"]) for m in messages(engine, f"alert:{alert['id']}")}
    assert ("rm_sh_01", "in_app") in told and not any(r.startswith("rm_bj") for r, _ in told)
    assert not any(r.startswith("risk") for r, _ in told)           # yellow: the relationship manager only
    records.update("loan", loan["id"], {"overdue_days": 40}, actor="test")
    counts = service.scan(["loan_overdue"])
    assert counts.steps.get("raise") == 1
    now = [(m["recipient"], m["channel"]) for m in messages(engine, f"alert:{alert['id']}")]
    assert len(now) == len(set(now))                                # nobody twice
    assert ("risk_sh", "in_app") in now and ("risk_sh", "email") in now
    assert {x for x in now if x[0] == "rm_sh_01"} == {x for x in told if x[0] == "rm_sh_01"}


def test_every_alert_a_scan_opens_is_confirmed_subject_by_subject(demo):
    """The batch's set-based reads (subjects, collections primed for the whole batch) give what
    a direct evaluation of the rule on that one subject gives."""
    from datetime import datetime, timezone

    from engine.alerts import evaluate
    from runtime.records.context import Loader
    engine, records, service = demo
    service.scan()
    live = records.refresh()
    rules = {r.name: r for r in service.rules(live)}
    with engine.connect() as conn:
        opened = list(conn.execute(sa.select(alerts).where(alerts.c.status == "open")).mappings())
        members = [a for a in opened if a["subject_entity"] == rules[a["rule"]].scope]
        assert len(members) >= 5
        for a in members:
            loader = Loader(conn, live)
            loader.given("$now", datetime.now(timezone.utc))
            finding = evaluate(rules[a["rule"]], service.context_of(loader, a["subject_entity"], a["subject_id"]))
            assert finding.grade == a["grade"], (a["rule"], a["subject_key"])
