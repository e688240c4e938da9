"""The tiering room over the demo bank (SQLite and PostgreSQL): a run tiers every group, writes
the tier to the group through the records service (audited, on the change feed) and keeps the
history; a second run writes nothing; each group's stored answer is confirmed by tiering it
directly; a change a tiering hears re-tiers its group through the feed; explain is scoped."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from engine.tiering import tier_subject
from examples.demo_bank.bank import generate
from runtime.alerts.service import AlertService
from runtime.auth.scope import Scope
from runtime.cli.main import main
from runtime.records.context import Loader, RecordContext
from runtime.records.store import keys_to_ids
from runtime.tiering.explain import explain_subject, explanation_view
from runtime.tiering.service import TierError, TieringService, alert_grades, tier_columns
from runtime.tiering.tables import tier_history

from .demo_db import demo_bank

ROOT = Path(__file__).resolve().parents[2]
MORNING = datetime(2026, 7, 1, 1, 0, tzinfo=timezone.utc)


@pytest.fixture
def bank(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "secret"))
    engine, records = demo_bank(db_url, bank=generate(scale=0.03, seed=42, transactions=500))
    AlertService(engine, records=records, clock=lambda: MORNING).scan()
    yield engine, records, TieringService(engine, records=records, clock=lambda: MORNING)
    engine.dispose()


def test_a_run_tiers_every_group_writes_the_tier_and_is_idempotent(bank):
    engine, records, service = bank
    counts = service.run()
    groups = list(records.iter_all("group"))
    assert counts.subjects == len(groups) > 0 and counts.untiered == []
    assert sum(counts.by_tier.values()) == len(groups) and counts.written == len(groups)
    again = service.run()
    assert (again.changed, again.written) == (0, 0)
    live = records.refresh()
    tiering = service.tiering(live)
    with engine.connect() as conn:
        history = {r.subject_key: r for r in conn.execute(sa.select(tier_history))}
        loader = Loader(conn, live)
        loader.given("$now", MORNING)
        grades = alert_grades(conn, "group", [g["id"] for g in groups])
        for g in groups:                      # each stored tier, confirmed by a fresh, unprimed evaluation
            direct = tier_subject(tiering, RecordContext("group", loader.row("group", g["id"]), loader, g["id"]),
                                  grades.get(g["id"]))
            assert g["tier"] == direct.tier == history[g["code"]].tier
            assert json.loads(history[g["code"]].details)["score"] is not None


def test_a_run_reads_each_collection_once_a_batch_and_only_the_columns_it_reads(bank):
    """The run's loader reads of the members and their loans only what the matrix and the write of
    the tier name, and the write (the group's computed fields, over its members) reads the members
    no second time; the previous test confirms the answers against a loader that reads everything."""
    engine, records, service = bank
    live = records.refresh()
    columns = tier_columns(live, service.tiering(live))
    assert {"id", "borrower", "balance", "currency", "rate"} <= columns["loan"]
    assert not {"purpose", "maturity_date", "principal"} & columns["loan"]
    assert {"debt_ratio", "deposit_balance", "loan_balance", "group"} <= columns["company"]   # loan_balance: the write
    assert not {"address", "legal_representative"} & columns["company"]
    company, loan = live.table("company").name, live.table("loan").name
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()))
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        counts = service.run(batch=10_000)
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert counts.changed == counts.subjects > 0
    members = [s for s in statements if s.startswith("SELECT") and f"FROM {company} WHERE {company}.\"group\" IN" in s]
    loans = [s for s in statements if s.startswith("SELECT") and f"FROM {loan} WHERE" in s]
    assert len(members) == 1, members
    assert loans and not any("purpose" in s or "maturity_date" in s for s in loans)


def test_a_record_context_gets_what_it_reads(bank):
    """`RecordContext.get` (the expressions' null-safe read) answers as reading by name does: a
    stored field, a reference as the record, a collection as its records, an unknown name as the
    default."""
    engine, records, _service = bank
    live = records.refresh()
    company = next(iter(records.iter_all("company")))
    with engine.connect() as conn:
        loader = Loader(conn, live)
        ctx = RecordContext("company", loader.row("company", company["id"]), loader, company["id"])
        for name in ("credit_code", "debt_ratio", "group", "loans", "subject"):
            assert ctx.get(name) == ctx[name], name
        assert ctx.get("group").id == loader.row("company", company["id"])["group"]
        assert [r.id for r in ctx.get("loans")] == [r["id"] for r in loader.children("loan", "borrower", company["id"])]
        assert ctx.get("no_such_field") is None and ctx.get("no_such_field", 7) == 7


def test_a_record_read_by_its_key_is_the_record_read_by_its_id(bank):
    """`Loader.by_key` (how a flow command reads its subject, one prepared statement) finds a
    record by its key or its id as `keys_to_ids` does, and shapes it as `row` does."""
    engine, records, _service = bank
    live = records.refresh()
    group = next(iter(records.iter_all("group")))
    with engine.connect() as conn:
        by_id = Loader(conn, live).row("group", group["id"])
        for key in (group["code"], group["id"]):
            assert Loader(conn, live).by_key("group", key) == by_id, key
        assert Loader(conn, live).by_key("group", "G9999") is None
        assert Loader(conn, live).by_key("group", str(group["id"])) is None      # a key that is not there
        assert keys_to_ids(conn, live, "group", [str(group["id"])]) == {}
        loader = Loader(conn, live)
        assert loader.by_key("group", group["code"]) is loader.row("group", group["id"])       # kept for `row`


def test_a_change_the_tiering_hears_retiers_its_group_through_the_feed(bank):
    engine, records, service = bank
    service.run()
    live = records.refresh()
    group = next(iter(records.iter_all("group")))
    facility = next(f for f in records.iter_all("facility") if f.get("group") in (group["id"], group["code"]))
    records.update("facility", facility["id"], {"status": "frozen"}, actor="test")
    from runtime.jobs.changes import read
    with engine.begin() as conn:
        changes = [c for c in read(conn, 0, limit=100_000) if c.entity == "facility" and c.record_id == facility["id"]]
        assert changes
        heard = service.on_changes(conn, changes)
    assert heard.subjects == 1
    with pytest.raises(TierError) as refused:
        service.run(keys=["G9999"])
    assert refused.value.code == "unknown_subject" and refused.value.status == 404
    assert live.model["group"].key == "code"


def test_explain_names_the_row_and_is_out_of_scope_for_others(bank):
    engine, records, service = bank
    service.run()
    group = next(iter(records.iter_all("group")))
    tiering, exp, about = explain_subject(service, group["code"])
    view = explanation_view(tiering, exp, about, "zh")
    assert view["tier"]["name"] == group["tier"] or view["tier"]["name"] == exp.result.tier
    assert sum(r["decisive"] for r in view["rules"]) == 1 and len(view["dimensions"]) == 4
    assert all(d["weight"] for d in view["dimensions"]) and view["score"]
    outsider = Scope("elsewhere", frozenset({"no_such_branch"}))
    with pytest.raises(TierError) as hidden:
        explain_subject(service, group["code"], scope=outsider)
    assert hidden.value.status == 404


def test_cli_run_explain_and_history(bank, db_url, monkeypatch):
    engine, records, service = bank
    monkeypatch.setenv("BANYAN_DATABASE_URL", db_url)
    runner = CliRunner()
    out = runner.invoke(main, ["tier", "run"])
    assert out.exit_code == 0 and "tiered" in out.output, out.output
    code = next(iter(records.iter_all("group")))["code"]
    shown = runner.invoke(main, ["tier", "explain", code])
    assert shown.exit_code == 0 and "decision table (first)" in shown.output and "→" in shown.output
    assert runner.invoke(main, ["tier", "history", code]).exit_code == 0
    for g in records.iter_all("group"):           # "capped" is said exactly when a cap lowered the tier
        view = json.loads(runner.invoke(main, ["tier", "explain", g["code"], "--format", "json"]).output)
        text = runner.invoke(main, ["tier", "explain", g["code"]]).output
        assert ("capped" in text) == (view["table_tier"]["name"] != view["tier"]["name"])
        assert "the record says" not in text                       # the run wrote every tier
    missing = runner.invoke(main, ["tier", "explain", "G9999"])
    assert missing.exit_code != 0 and "Traceback" not in missing.output and "G9999" in missing.output


def test_whatif_moves_match_tiering_each_group_under_the_candidate(bank, tmp_path):
    import shutil

    from dsl.compiler import compile_path
    from runtime.tiering.whatif import whatif
    engine, records, service = bank
    service.run()
    candidate = tmp_path / "configs"
    shutil.copytree(ROOT / "configs", candidate)
    matrix = candidate / "tiering" / "group_value_matrix.yaml"
    matrix.write_text(matrix.read_text(encoding="utf-8").replace(
        "contribution >= 70 and potential >= 70", "contribution >= 10 and potential >= 10").replace(
        "    - when: \"any(alerts, a -> a.grade == 'red') or any(members, m -> any(m.alerts, a -> a.grade == 'red'))\"",
        "    - when: \"any(alerts, a -> a.grade == 'red' and a.rule == 'no_such_rule')\""), encoding="utf-8")
    bundle = compile_path(str(candidate)).bundle
    done = whatif(service, bundle)
    groups = {g["code"]: g for g in records.iter_all("group")}
    assert done.comparison.subjects == len(groups)
    assert all(m.after == "strategic_core" for m in done.comparison.moves)      # everyone scores at least 10
    assert {m.subject for m in done.comparison.moves} == {k for k, g in groups.items() if g["tier"] != "strategic_core"}
    assert groups == {g["code"]: g for g in records.iter_all("group")}           # nothing written


def test_reviews_start_once_per_review_every_of_each_tier(bank):
    from datetime import timedelta

    from runtime.flows.tables import instances
    from runtime.tiering.reviews import start_due_reviews
    engine, records, service = bank
    service.run()
    first = start_due_reviews(service)
    groups = list(records.iter_all("group"))
    assert first["subjects"] == len(groups) and first["started"] + first["failed"] == len(groups)
    assert first["failed"] == 0                                   # no lead in the branch: the RM takes it
    again = start_due_reviews(service)
    assert (again["started"], again["running"]) == (0, 0)          # not due yet
    later = TieringService(engine, records=records, clock=lambda: MORNING + timedelta(days=35))
    monthly = [g for g in groups if g["tier"] in ("strategic_core", "opportunity_adjustment")]
    due = start_due_reviews(later)
    assert due["running"] == len(monthly) and due["started"] == 0   # due, but the first is still open
    with engine.connect() as conn:
        about = sorted(k for (k,) in conn.execute(sa.select(instances.c.subject_key)
                                                  .where(instances.c.flow == "relationship_review")))
    assert about == sorted(g["code"] for g in groups)


def test_alerts_that_open_reach_the_tiering_through_the_feed(bank):
    """The alert steps are on the change feed (entity `alert`, keyed entity/key); the tiering,
    which hears alert.opened, re-tiers each group whose own alert or a member's moved."""
    from runtime.alerts.tables import alerts
    from runtime.jobs.changes import read
    engine, records, service = bank
    with engine.begin() as conn:
        opened = [c for c in read(conn, 0, entities=["alert"], limit=100_000) if c.op == "create"]
        assert opened and all(c.record_key.count("/") >= 1 for c in opened)
        on = {tuple(c.record_key.split("/", 1)) for c in opened}
        ids = {r.id for r in conn.execute(sa.select(alerts.c.id).where(alerts.c.status == "open"))}
        assert {c.record_id for c in opened} >= ids                     # every open alert was announced
        heard = service.on_changes(conn, opened)
    groups = {g["code"]: g for g in records.iter_all("group")}
    companies = {c["credit_code"]: c for c in records.iter_all("company")}
    reached = {k for e, k in on if e == "group"} | {companies[k]["group"] for e, k in on
                                                     if e == "company" and companies.get(k, {}).get("group")}
    assert heard.subjects == len(reached & set(groups)) > 0


def test_the_schedule_of_a_tiering_is_kept_as_due_work(bank):
    from runtime.jobs import leases
    from runtime.tiering import worker
    engine, records, service = bank
    worker.use(service)
    assert worker.keep_schedules(engine) == 1
    (item,) = leases.pending(engine, worker.RUN)
    assert item["key"] == "group_value_matrix|monthly 1 06:00"
    assert worker.keep_schedules(engine) == 1 and leases.pending(engine, worker.RUN) == [item]   # idle: unchanged
