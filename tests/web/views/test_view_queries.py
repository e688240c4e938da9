"""The 360° view reads a group in a few set-based statements: never one per member. Counted on the
small demo bank of tests/web/conftest.py (its largest group has dozens of members): the statements
one page runs stay under a bound that does not grow with the members, and the largest group needs
no more of them than the smallest one that shows every section."""
from __future__ import annotations

import sqlalchemy as sa

from runtime.records.service import Records
from runtime.views.service import ViewService


def _statements(engine, service: ViewService, code: str) -> int:
    count = 0

    def counted(*_args) -> None:
        nonlocal count
        count += 1
    sa.event.listen(engine, "before_cursor_execute", counted)
    try:
        service.page("group_360", code, scope=None, lang="zh")
    finally:
        sa.event.remove(engine, "before_cursor_execute", counted)
    return count


def test_a_page_is_a_few_statements_whatever_the_members(engine):
    records = Records(engine)
    groups = records.query("group", order_by="-member_count", limit=500).items
    largest = groups[0]
    assert (largest["member_count"] or 0) >= 20
    service = ViewService(engine, records)
    service.page("group_360", largest["code"], scope=None, lang="zh")        # warm: the graph, the caches
    big = _statements(engine, service, largest["code"])
    assert big <= 40, big                                      # not one (or more) per member
    small = next(g for g in reversed(groups) if (g["member_count"] or 0) >= 2)
    assert big <= _statements(engine, service, small["code"]) + 4


def test_plain_rows_answer_as_record_contexts_do(engine, monkeypatch):
    """The fast path (plain dicts of the loaded rows) gives the very answer of the record contexts."""
    from runtime.views import service as views_service
    records = Records(engine)
    code = records.query("group", order_by="-member_count", limit=1).items[0]["code"]
    fast = ViewService(engine, records).page("group_360", code, scope=None, lang="en")
    monkeypatch.setattr(views_service, "plain_paths", lambda *a, **k: False)
    slow = ViewService(engine, records).page("group_360", code, scope=None, lang="en")
    assert fast == slow


def test_plain_paths_refuse_what_only_a_record_context_answers(engine):
    from types import SimpleNamespace

    from runtime.views.load import plain_paths
    live = Records(engine).refresh()

    def reads(*paths):
        return SimpleNamespace(paths=set(paths), names={p[0] for p in paths})
    assert plain_paths(live, "group", [reads(("members", "loans", "balance"), ("unified_limit",))])
    assert not plain_paths(live, "group", [reads(("members", "branch"), ("parent_company", "name"))])  # a reference
    assert not plain_paths(live, "group", [reads(("subject", "name"))])
    assert not plain_paths(live, "group", [reads(("bank_capital", "net_capital"))])            # bank-wide figures
    assert not plain_paths(live, "group", [reads(("members", "alerts"))])                      # open alerts
    assert not plain_paths(live, "group", [SimpleNamespace(paths=set(), names={"$graph"})])
    assert plain_paths(live, "group", [reads(("members", "branch"))])                 # an org unit: its name, stored
    assert not plain_paths(live, "group", [reads(("members", "group"))])               # a record: compared by key


def test_a_metric_over_flattened_rows_loads_the_fields_it_reads():
    """A metric `sum(flatten(members.loans), l -> l.principal)` reads the loans' principal, which no
    table of the page shows: the page loads it (`flatten` keeps its argument's path, so the
    lambda's reads are paths too), as it loads what the shipped `f -> f.product` reads."""
    from pathlib import Path
    from types import SimpleNamespace

    from dsl.compiler import compile_texts, discover
    from runtime.views.load import collection_paths, fields_read
    root = Path(__file__).resolve().parents[3] / "configs"
    texts = {str(p): p.read_text(encoding="utf-8") for p in discover(root)}
    view = next(k for k in texts if k.endswith("group_360.yaml"))
    shipped = 'value: "count(distinct flatten(members.facilities), f -> f.product)"'
    assert shipped in texts[view]
    texts[view] = texts[view].replace(shipped, shipped + "}\n        - {label: {zh: 本金, en: Principal}, "
                                      'value: "sum(flatten(members.loans), l -> l.principal)"')
    result = compile_texts(texts)
    assert result.bundle is not None, [d.message for d in result.diagnostics]
    doc = next(d for (k, n), d in result.bundle.documents.items() if k == "View" and n == "group_360")
    metrics = [m.value for s in doc.sections for m in s.metrics]
    live = SimpleNamespace(entity=result.bundle.entities.__getitem__)
    read = fields_read(live, "group", collection_paths(metrics))
    assert "principal" in read["loan"] and "product" in read["facility"]
