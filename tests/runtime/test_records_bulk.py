"""The records service's bulk write path: what it stores is what SQLAlchemy Core would store,
the per-entity converters and rule closures agree with the plain converters, the audit JSON
is the same text with or without orjson, and a bulk batch keeps every rule and the chain."""
from __future__ import annotations

import json
import sys
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from runtime.audit import log as audit
from runtime.records import store as record_store
from runtime.records.errors import InvalidRecord
from runtime.records.validation import EntityRules
from runtime.records.values import BadValue, converter, is_empty, loader
from runtime.storage.tables import audit_log

from .bundles import entity
from .records_bundle import deploy

EVERY_TYPE = entity("thing", """
    - {name: code, type: string, label: {en: Code}, required: true, unique: true, max_length: 20}
    - {name: note, type: text, label: {en: Note}}
    - {name: count, type: integer, label: {en: Count}, min: 0}
    - {name: amount, type: money, label: {en: Amount}}
    - {name: share, type: percent, label: {en: Share}}
    - {name: score, type: number, label: {en: Score}}
    - {name: flag, type: bool, label: {en: Flag}, default: false}
    - {name: day, type: date, label: {en: Day}}
    - {name: at, type: datetime, label: {en: At}}
    - {name: wait, type: duration, label: {en: Wait}}
    - {name: kind, type: enum, label: {en: Kind}, values: [a, b], default: a}
    - {name: tags, type: multi_enum, label: {en: Tags}, values: [x, y, z]}
    - {name: branch, type: ref(org_unit), label: {en: Branch}}
    - {name: double, type: integer, label: {en: Double}, compute: "count * 2"}
""")

THINGS = [
    {"code": "T1", "note": "多行\n文本 \"quoted\"", "count": 3, "amount": Decimal("1234.56"), "share": "70%",
     "score": 2.5, "flag": True, "day": date(2024, 2, 29), "at": datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc),
     "wait": timedelta(hours=2), "kind": "b", "tags": ["x", "z"], "branch": "head_office"},
    {"code": "T2", "count": "7", "amount": "9,999.99", "day": "2001-02-03", "at": "2020-05-06T07:08:09+08:00",
     "wait": "2d", "tags": "y;x", "flag": "no", "note": "   "},
    {"code": "T3"},
]


def _stored(conn, table: str, code: str) -> tuple:
    row = conn.exec_driver_sql(f'SELECT * FROM "{table}" WHERE code = \'{code}\'').mappings().one()
    out = {k: v for k, v in row.items() if k not in ("id", "created_at", "updated_at")}
    if conn.dialect.name == "sqlite":
        cols = ", ".join(f"typeof(\"{k}\")" for k in out)
        out["types"] = tuple(conn.exec_driver_sql(f'SELECT {cols} FROM "{table}" WHERE code = \'{code}\'').one())
    return out


def test_bulk_insert_stores_what_core_stores(engine):
    recs = deploy(engine, EVERY_TYPE)
    assert recs.bulk_create("thing", THINGS, actor="a") == 3
    rules, t = recs.rules("thing"), recs.live.table("thing")
    twin = sa.Table("e_thing_core", sa.MetaData(), *(c._copy() for c in t.columns))
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        twin.create(conn)
        for i, raw in enumerate(THINGS):
            problems = []
            vals = rules.complete(rules.convert(raw, problems))
            assert not problems
            vals["double"] = None if vals["count"] is None else vals["count"] * 2
            conn.execute(twin.insert(), {**vals, "id": 100 + i, "version": 1, "created_at": now, "updated_at": now})
    with engine.connect() as conn:
        for raw in THINGS:
            assert _stored(conn, "e_thing", raw["code"]) == _stored(conn, "e_thing_core", raw["code"])
    got = {r["code"]: r for r in recs.query("thing").items}
    assert got["T1"]["share"] == Decimal("0.70") and got["T1"]["tags"] == ["x", "z"] and got["T1"]["double"] == 6
    assert got["T2"]["note"] is None and got["T2"]["flag"] is False and got["T2"]["wait"] == timedelta(days=2)
    assert got["T3"]["flag"] is False and got["T3"]["kind"] == "a" and got["T3"]["amount"] is None


def test_bulk_batch_is_one_audit_entry_with_every_record(engine):
    recs = deploy(engine)
    recs.batch_size = 4
    rows = [{"code": f"C{i:03d}", "name": f"n{i}", "capital": Decimal(i), "founded": date(2000, 1, i)}
            for i in range(1, 11)]
    assert recs.bulk_create("company", rows, actor="a") == 10
    with engine.connect() as conn:
        entries = conn.execute(sa.select(audit_log).where(audit_log.c.entity == "company")
                               .order_by(audit_log.c.seq)).all()
        assert audit.verify(conn).ok
    created = [rec for e in entries for rec in json.loads(e.after)]
    assert len(entries) == 3 and [r["code"] for r in created] == [r["code"] for r in rows]
    assert created[0]["capital"] == "1" and created[0]["founded"] == "2000-01-01" and created[0]["listed"] is False
    assert all(set(r) == set(created[0]) for r in created) and "debt_ratio" in created[0]


def test_bulk_rules_still_apply_to_every_row(engine):
    recs = deploy(engine)
    recs.batch_size = 3
    rows = [{"code": f"C{i:03d}", "name": f"n{i}", "capital": 10, "debt": 1} for i in range(1, 10)]
    rows[1]["listed"] = True                                   # required_when
    rows[2]["code"] = "X12"                                     # pattern
    rows[4]["debt"] = 1000                                      # entity validation
    rows[5]["employees"] = "0"                                  # range
    rows[6]["name"] = "   "                                     # blank is null: required
    rows[7]["size"] = " medium "                                # enum text is trimmed: fine
    rows[8]["code"] = rows[7]["code"]                           # unique, within the batch
    with pytest.raises(InvalidRecord) as exc:
        recs.bulk_create("company", rows, actor="a")
    assert {(tuple(p.path), p.code) for p in exc.value.problems} == {
        ((2, "ticker"), "required"), ((3, "code"), "pattern"), ((5, "debt"), "validation"),
        ((6, "employees"), "min"), ((7, "name"), "required"), ((9, "code"), "unique")}
    assert recs.query("company").total == 0


SAMPLES = [None, "", "  ", "\u3000", "\t\n", " x ", "abc", "12", "1,234.5", "70%", "2d", "yes", "no", "是", "2024-02-29",
           "2020-05-06T07:08:09Z", "a", "b", " b ", "x;y", 0, 1, 7, -3, True, False, 2.0, 2.5, Decimal("1.50"),
           date(2024, 1, 1), datetime(2024, 1, 1), datetime(2024, 1, 1, 5, tzinfo=timezone.utc), timedelta(hours=1),
           ["x", "y"], ("z",), object()]


@pytest.mark.parametrize("field", ["code", "note", "count", "amount", "share", "score", "flag", "day", "at", "wait",
                                   "kind", "tags", "branch"])
def test_loader_is_converter_with_the_null_check(field):
    from .bundles import bundle
    f = bundle(EVERY_TYPE).entities["thing"].field(field)
    load, conv = loader(f), converter(f)
    for v in SAMPLES:
        try:
            want = ("ok", None if is_empty(v) else conv(v))
        except BadValue as exc:
            want = ("bad", str(exc))
        try:
            got = ("ok", load(v))
        except BadValue as exc:
            got = ("bad", str(exc))
        assert got == want and type(got[1]) is type(want[1]), (field, v)


def test_blank_means_whitespace_only():
    assert all((not chr(c).strip()) == is_empty(chr(c)) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000)


def test_convert_new_is_complete_of_convert():
    from .bundles import bundle
    rules = EntityRules(bundle(EVERY_TYPE).entities["thing"])
    for raw in THINGS + [{"code": "T9", "count": "many", "flag": "perhaps", "colour": "red", "double": 4},
                         {"flag": "", "kind": "", "count": None}]:
        p1, p2 = [], []
        assert rules.convert_new(raw, p1) == rules.complete(rules.convert(raw, p2))
        assert p1 == p2


TEXTS = ["plain", "中文 名称", "quote \" backslash \\ slash /", "\x00\x01\x1f\x7f", "\n\r\t\b\f", "\u2028\u2029",
         "😀 \U0010ffff", "é"]


@pytest.mark.skipif(record_store.orjson is None, reason="orjson is not installed")
def test_audit_json_is_the_same_text_with_or_without_orjson(monkeypatch):
    data = [{"id": 2**40, "z": t, "a": [Decimal("1.10"), date(2024, 1, 2), True, None, -5, 0.5],
             "at": datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc), "wait": timedelta(hours=1, seconds=1),
             "naive": [datetime(2024, 1, 2, 3, 4, 5), datetime(2024, 1, 2, 3, 4, 5, 120)],
             "shanghai": datetime(2024, 1, 2, 3, 4, tzinfo=ZoneInfo("Asia/Shanghai")),
             "nested": {"b": 1, "a": {"d": "x", "c": t}}} for t in TEXTS]
    fast = record_store.to_json(data)
    big = record_store.to_json({"big": 2**70})              # beyond orjson: the standard encoder takes it
    monkeypatch.setattr(record_store, "orjson", None)
    assert fast == record_store.to_json(data)
    assert big == record_store.to_json({"big": 2**70}) == '{"big":1180591620717411303424}'
