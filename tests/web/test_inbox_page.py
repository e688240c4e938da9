"""The inbox page: amount in 万/亿, search by subject / initiator / step text, sort by due, received
and amount, paging by 20 that keeps the filters, overdue marked with how long, and `urge` offered
only where the engine allows it (the initiator, a running request at a step that offers urge)."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from runtime.records.service import Records

from .conftest import signed_in

YI = Decimal(100_000_000)
FORM = {"credit_type": "new", "term_months": 12, "products": ["working_capital"], "purpose": "营运资金",
        "guarantee_mode": "credit"}


@pytest.fixture(scope="module")
def two_groups(engine) -> list[dict]:
    return Records(engine).query("group", {"lead_branch": "sh_branch"}, limit=2).items


@pytest.fixture(scope="module")
def started(app, two_groups) -> list[dict]:
    svc = app.state.flow_pages.service
    big = svc.start("group_credit_approval", actor="rm_sh_01", subject=two_groups[0]["code"],
                    form={**FORM, "amount": 4 * YI + 1234 * 10_000})
    small = svc.start("group_credit_approval", actor="rm_sh_01", subject=two_groups[1]["code"],
                      form={**FORM, "amount": 3000 * 10_000})
    yield [big, small]
    for v in (big, small):           # the session's other tests share co_sh's inbox
        svc.act(v["id"], "cancel", actor="rm_sh_01", reason="test done")


def rows(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)


def test_amount_subject_initiator_by_name_and_search(app, started, two_groups):
    co = signed_in(app, "co_sh")
    page = co.get("/ui/inbox").text
    assert "4.1234亿" in page and "3000万" in page            # 万/亿 as bankers read them
    assert two_groups[0]["name"] in page and "陈思远" in page and "rm_sh_01" not in page
    found = co.get("/ui/inbox", params={"q": two_groups[0]["name"]}).text
    assert two_groups[0]["name"] in found and two_groups[1]["name"] not in "".join(rows(found))
    assert "4.1234亿" in found and "3000万" not in found
    by_person = co.get("/ui/inbox", params={"q": "陈思远"}).text      # the initiator's name
    assert len(rows(by_person)) >= 2
    by_step = co.get("/ui/inbox", params={"q": "资料审核"}).text      # the step's label
    assert len(rows(by_step)) >= 2 and "资料审核" in by_step
    none = co.get("/ui/inbox", params={"q": "没有这个词"}).text
    assert "这里没有事项" in none and "Traceback" not in none


def test_sort_by_amount_and_received(app, started, two_groups):
    co = signed_in(app, "co_sh")
    by_amount = rows(co.get("/ui/inbox", params={"sort": "amount"}).text)
    amounts = [re.search(r'class="num"[^>]*>([^<]*)<', r).group(1) for r in by_amount]
    assert amounts.index("4.1234亿") < amounts.index("3000万")
    newest = rows(co.get("/ui/inbox", params={"sort": "received"}).text)
    assert two_groups[1]["name"] in newest[0]                  # started last, arrived last: first
    assert co.get("/ui/inbox", params={"sort": "nonsense"}).status_code == 200


def test_paging_by_20_keeps_the_search_and_sort(app, started, two_groups):
    svc = app.state.flow_pages.service
    more = [svc.start("group_credit_approval", actor="rm_sh_01", subject=two_groups[1]["code"],
                      form={**FORM, "amount": (i + 1) * 1000 * 10_000})["id"] for i in range(21)]
    try:
        pages_keep_filters(app, two_groups)
    finally:
        for instance in more:
            svc.act(instance, "cancel", actor="rm_sh_01", reason="test done")


def pages_keep_filters(app, two_groups) -> None:
    co = signed_in(app, "co_sh")
    first = co.get("/ui/inbox", params={"q": two_groups[1]["name"], "sort": "amount"}).text
    assert len(rows(first)) == 20
    nxt = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "q=" in nxt and "sort=amount" in nxt and "page=2" in nxt
    second = co.get(nxt).text
    assert 1 <= len(rows(second)) <= 20 and two_groups[0]["name"] not in "".join(rows(second))
    assert 'rel="prev"' in second


def test_overdue_is_marked_red_with_how_long(app, started):
    svc = app.state.flow_pages.service
    real = svc.clock
    svc.clock = lambda: real() + timedelta(days=30)
    try:
        page = signed_in(app, "co_sh").get("/ui/inbox").text
    finally:
        svc.clock = real
    assert re.search(r'<tr class="overdue">', page)
    assert re.search(r'class="chip overdue-mark">已超时 \d+天(\d+小时)?<', page)
    fresh = signed_in(app, "co_sh").get("/ui/inbox").text
    assert "overdue-mark" not in fresh


def test_urge_only_where_the_engine_allows_it(app, started, engine, two_groups):
    svc = app.state.flow_pages.service
    member = next(c for c in Records(engine).query("company", {"branch": "sh_branch"}, limit=50).items)
    disposal = svc.start("major_risk_disposal", actor="risk_sh", subject=member["credit_code"],
                         form={"grade": "orange", "situation": "经营现金流连续两季为负"})
    # the credit application waits at document review, which offers no urge: no control
    rm_page = signed_in(app, "rm_sh_01").get("/ui/inbox", params={"box": "started", "q": two_groups[0]["name"]}).text
    assert f'/ui/flow-instances/{started[0]["id"]}' in rm_page and 'value="urge"' not in rm_page
    risk = signed_in(app, "risk_sh")
    page = risk.get("/ui/inbox?box=started").text
    assert f'action="/ui/flow-instances/{disposal["id"]}"' in page and 'value="urge"' in page
    # others never see it (the to-do box of the same person has no urge either)
    assert 'value="urge"' not in risk.get("/ui/inbox").text
    form = re.search(r'<form method="post" action="/ui/flow-instances/[^"]+" class="inline urge">(.*?)</form>',
                     page, re.S).group(1)
    data = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
    r = risk.post(f"/ui/flow-instances/{disposal['id']}", data=data, follow_redirects=False)
    assert r.status_code == 303
    svc.act(disposal["id"], "cancel", actor="risk_sh", reason="test")
    assert f'action="/ui/flow-instances/{disposal["id"]}"' not in risk.get("/ui/inbox?box=started").text
