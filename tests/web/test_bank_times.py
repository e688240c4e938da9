"""Every page shows times on the bank's clock (Asia/Shanghai unless BANYAN_TIMEZONE says otherwise)
and says which zone: a record's created/updated times were UTC before, like no other page."""
from __future__ import annotations

import re

from dsl.bank_time import moment_text
from runtime.records.service import Records


def test_a_record_page_shows_its_times_on_the_bank_clock(admin, engine, monkeypatch):
    monkeypatch.delenv("BANYAN_TIMEZONE", raising=False)
    listing = admin.get("/ui/e/company").text
    rid = re.search(r'href="/ui/e/company/(\d+)"', listing).group(1)
    record = Records(engine).get("company", int(rid))
    page = admin.get(f"/ui/e/company/{rid}").text
    shown = moment_text(record["created_at"])
    assert shown in page
    utc = record["created_at"].strftime("%Y-%m-%d %H:%M")
    if utc != shown:                      # the UTC reading is gone (it differs by eight hours)
        assert utc not in page
    assert "本页时间均为 北京时间 (UTC+08:00)" in page or "Times are in Asia/Shanghai (UTC+08:00)" in page


def test_the_deployments_page_and_the_footer_follow_the_configured_zone(admin, monkeypatch):
    monkeypatch.setenv("BANYAN_TIMEZONE", "Europe/London")
    page = admin.get("/ui/deployments")
    assert page.status_code == 200 and ("伦敦时间 (UTC+00:00)" in page.text or "Europe/London (UTC+00:00)" in page.text)
