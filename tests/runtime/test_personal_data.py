"""Personal data (issue 16, part 7; 个人信息保护法): the shipped person's ID card number is masked for a
reader without `personal.read` at every door that reads through the records service, unmasked
reads by a person are audited (one entry per record read, one per list naming the ids), a masked
value sent back does not overwrite the stored one, and exports need `personal.export`, are audited
and — in XLSX — say who exported when. On SQLite and PostgreSQL (configs/ deployed once per backend)."""
from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from click.testing import CliRunner
from openpyxl import load_workbook

from examples.demo_bank.users import seed_demo_users
from runtime.audit.search import AuditQuery, search
from runtime.auth.org import OrgTree
from runtime.auth.scope import Scope, scope_for
from runtime.auth.users import UserStore
from runtime.cli.main import main
from runtime.cli.seed import ensure_deployed
from runtime.records.errors import InvalidRecord
from runtime.records.listing import list_records
from runtime.records.service import Records
from runtime.records.tabular import import_file
from runtime.records.tabular_export import export_chunks, export_records
from runtime.storage.db import make_engine
from runtime.storage.migrate import _config, upgrade

from .conftest import fresh_pg_schema

ROOT = Path(__file__).resolve().parents[2]
ID = "310101199001011234"
MASKED = "3101**********1234"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def bank(request, tmp_path_factory):
    """configs/ deployed, the demo people, and two persons (made by the operator)."""
    place = tmp_path_factory.mktemp("personal")
    os.environ.setdefault("BANYAN_SECRET_FILE", str(place / "secret"))
    if request.param == "sqlite":
        url, ctx = f"sqlite:///{place / 'b.db'}", None
    else:
        ctx = fresh_pg_schema()
        url = ctx.__enter__()
    engine = make_engine(url)
    upgrade(engine)
    ensure_deployed(engine, str(ROOT / "configs"), "test")
    records = Records(engine)
    users = UserStore(engine)
    seed_demo_users(users, OrgTree(records.live.bundle))
    records.bulk_create("person", [
        {"person_no": "P100001", "name": "张三", "id_number": ID, "role": "controller"},
        {"person_no": "P100002", "name": "李四", "id_number": "11010519800101002X", "role": "controller"},
    ], actor="ops")
    yield engine, records, users
    engine.dispose()
    if ctx is not None:
        ctx.__exit__(None, None, None)


def scope_of(records: Records, users: UserStore, name: str) -> Scope:
    return scope_for(OrgTree(records.live.bundle), users.get(name))


def person(records: Records, key: str) -> dict:
    return records.find("person", key)                     # the operator: the stored value


def entries(engine, action: str, after: int = 0) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT seq, actor, entity, record_id, after FROM banyan_audit "
                                    "WHERE action = :a AND seq > :s ORDER BY seq"), {"a": action, "s": after}).all()


def head(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT seq FROM banyan_audit_head")).scalar() or 0


def test_the_auditor_reads_masked_and_the_administrator_the_stored_value(bank):
    engine, records, users = bank
    p = person(records, "P100001")
    auditor, admin = scope_of(records, users, "auditor_1"), scope_of(records, users, "admin")
    assert p["id_number"] == ID                                               # the operator
    assert records.get("person", p["id"], scope=auditor)["id_number"] == MASKED
    assert records.get("person", p["id"], scope=admin)["id_number"] == ID
    page = records.query("person", {}, scope=auditor)
    assert {i["id_number"] for i in page.items} == {MASKED, "1101**********002X"}
    assert records.find("person", "P100001", scope=auditor)["id_number"] == MASKED
    assert records.get("person", p["id"], scope=auditor)["name"] == "张三"      # not personal: as stored


def test_unmasked_reads_by_a_person_are_audited_and_masked_ones_not(bank):
    engine, records, users = bank
    p = person(records, "P100001")
    start = head(engine)
    records.get("person", p["id"], scope=scope_of(records, users, "auditor_1"))       # masked: no entry
    records.get("person", p["id"], scope=None)                                       # the operator: none
    assert entries(engine, "read_personal", start) == []
    records.get("person", p["id"], scope=scope_of(records, users, "admin"))
    got = entries(engine, "read_personal", start)
    assert [(e.actor, e.entity, e.record_id) for e in got] == [("admin", "person", p["id"])]
    records.query("person", {}, scope=scope_of(records, users, "admin"))              # a list: one entry
    listed = entries(engine, "read_personal", got[-1].seq)
    assert len(listed) == 1 and listed[0].record_id is None
    ids = {r["id"] for r in records.query("person", {}).items}
    assert set(json.loads(listed[0].after)["ids"]) == ids
    records.query("org_unit" if "org_unit" in records.live.bundle.entities else "fx_rate", {},
                  scope=scope_of(records, users, "admin"))                          # no personal fields: none
    assert len(entries(engine, "read_personal", start)) == 2


def test_a_masked_value_sent_back_keeps_the_stored_one(bank):
    engine, records, users = bank
    p = person(records, "P100002")
    shown = records.get("person", p["id"], scope=scope_of(records, users, "auditor_1"))
    assert shown["id_number"] == "1101**********002X"
    # a client that read the masked record sends it back whole, with a change elsewhere
    back = {k: v for k, v in shown.items() if k not in ("created_at", "updated_at")}
    records.update("person", p["id"], {**back, "name": "李四四"}, actor="ops")
    after = person(records, "P100002")
    assert after["id_number"] == "11010519800101002X" and after["name"] == "李四四"
    # a real new value is written
    records.update("person", p["id"], {"id_number": "110105198001010038"}, actor="ops")
    assert person(records, "P100002")["id_number"] == "110105198001010038"
    records.update("person", p["id"], {"id_number": "11010519800101002X", "name": "李四"}, actor="ops")


def test_an_export_without_personal_export_is_masked_and_not_audited(bank, tmp_path):
    engine, records, users = bank
    start = head(engine)
    target = tmp_path / "p.xlsx"
    export_records(records, "person", target, "xlsx", lang="zh", scope=scope_of(records, users, "auditor_1"))
    wb = load_workbook(target)
    values = [c for row in wb.worksheets[0].iter_rows(values_only=True) for c in row]
    assert MASKED in values and ID not in values
    assert len(wb.worksheets) == 1                      # nothing unmasked: no note
    assert entries(engine, "export_personal", start) == []


def test_an_unmasked_export_is_audited_and_marked_with_who_and_when(bank, tmp_path):
    engine, records, users = bank
    start = head(engine)
    target = tmp_path / "p.xlsx"
    n = export_records(records, "person", target, "xlsx", lang="zh", scope=scope_of(records, users, "admin"))
    wb = load_workbook(target)
    values = [c for row in wb.worksheets[0].iter_rows(values_only=True) for c in row]
    assert ID in values
    assert wb.properties.creator.startswith("系统管理员") and wb.properties.created is not None
    assert [ws.title for ws in wb.worksheets][1] == "导出说明"
    note = {r[0]: r[1] for r in wb.worksheets[1].iter_rows(values_only=True)}
    assert note["导出人"] == "系统管理员 (admin)" and note["条数"] == n and "居民身份证号码" in note["个人信息字段"]
    assert "北京时间" in note or any("UTC+08:00" in str(v) for v in note.values())
    got = entries(engine, "export_personal", start)
    assert len(got) == 1 and got[0].actor == "admin" and json.loads(got[0].after)["count"] == n
    # the marked workbook still imports: the import reads the first sheet (the keys exist: refused as duplicates,
    # never as an unreadable file or a stray row)
    with pytest.raises(InvalidRecord) as refused:
        import_file(records, "person", target, actor="ops")
    assert all("unique" in p.code or "duplicate" in p.code or "exists" in str(p) for p in refused.value.problems)
    csv_text = "".join(export_chunks(records, "person", lang=None, scope=scope_of(records, users, "admin")))
    assert ID in csv_text and list(csv.reader(io.StringIO(csv_text)))[0][0] == "id"
    assert len(entries(engine, "export_personal", start)) == 2


def test_the_audit_search_finds_a_record_inside_a_bulk_create_and_masks_for_the_reader(bank):
    engine, records, users = bank
    p = person(records, "P100002")
    masked = search(engine, AuditQuery(entity="person", record_id=p["id"], action="create"),
                    personal=records.masked_personal(scope_of(records, users, "auditor_1")))
    plain = search(engine, AuditQuery(entity="person", record_id=p["id"], action="create"),
                   personal=records.masked_personal(scope_of(records, users, "admin")))
    assert masked.total == 1 and len(masked.entries[0].record_ids) == 2      # one entry, two records
    e = masked.entries[0]
    assert e.record_id == p["id"]
    change = {c.field: c.after for c in e.changes}
    assert change["person_no"] == "P100002" and change["id_number"] == "1101**********002X"
    assert {c.field: c.after for c in plain.entries[0].changes}["id_number"] == "11010519800101002X"


def holds(engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT entity, record_id, seq FROM banyan_audit_holds "
                                    "ORDER BY entity, record_id, seq")).all()


def test_a_record_history_finds_the_entries_about_several_records_by_their_index(bank):
    """A bulk create and a list read are indexed by the records they hold (banyan_audit_holds), so
    a record's history is found without searching their JSON; the migration that made the index
    indexes the entries written before it exactly as the write path does."""
    engine, records, users = bank
    p = person(records, "P100002")
    start = head(engine)
    records.query("person", {}, scope=scope_of(records, users, "admin"))              # a list read: both ids
    [listed] = entries(engine, "read_personal", start)
    ids = {r["id"] for r in records.query("person", {}).items}
    assert {(e, r, s) for e, r, s in holds(engine) if s == listed.seq} == {("person", i, listed.seq) for i in ids}
    found = search(engine, AuditQuery(entity="person", record_id=p["id"]),
                   personal=records.masked_personal(scope_of(records, users, "admin")))
    assert {e.action for e in found.entries} >= {"create", "read_personal"}
    assert all(p["id"] in e.record_ids for e in found.entries)
    assert search(engine, AuditQuery(entity="company", record_id=p["id"], action="read_personal"),
                  personal={}).total == 0                                           # another entity's id
    written = holds(engine)
    with engine.begin() as conn:                          # back to before the index, then forward again
        cfg = _config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0021_worker_heartbeats")
    upgrade(engine)
    assert holds(engine) == written and len(written) >= 4


def test_the_cli_listing_masks_for_the_person_it_acts_for(bank):
    engine, records, users = bank
    env = {"BANYAN_DATABASE_URL": str(engine.url.render_as_string(hide_password=False)), "BANYAN_ACTOR": "ops"}
    as_auditor = CliRunner().invoke(main, ["records", "list", "person", "--as", "auditor_1", "--json"], env=env)
    assert as_auditor.exit_code == 0, as_auditor.output
    assert MASKED in as_auditor.output and ID not in as_auditor.output
    operator = CliRunner().invoke(main, ["records", "list", "person", "--json"], env=env)
    assert ID in operator.output


def test_a_masked_value_is_no_search_or_filter_for_whoever_reads_it_masked(bank):
    engine, records, users = bank
    auditor, admin = scope_of(records, users, "auditor_1"), scope_of(records, users, "admin")
    assert list_records(records, "person", auditor, search=ID).total == 0          # the whole value tells nothing
    assert list_records(records, "person", auditor, search="张三").total >= 1     # other columns still searched
    assert list_records(records, "person", admin, search=ID).total == 1
    with pytest.raises(InvalidRecord):
        records.query("person", {"id_number": ID}, scope=auditor)
    assert records.query("person", {"id_number": ID}, scope=admin).total == 1
