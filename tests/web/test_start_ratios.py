"""The start page's route preview shows the concentration ratios against the YAML's limits and the
capital used; a half-filled form shows them as pending, never a Python error."""
from __future__ import annotations

from runtime.records.service import Records

from .conftest import signed_in


def test_start_page_shows_the_ratios_and_the_capital(app, engine):
    group = Records(engine).query("group", {"lead_branch": "sh_branch"}, limit=1).items[0]["code"]
    page = signed_in(app, "rm_sh_01").get(f"/ui/start/group_credit_approval?subject={group}").text
    assert "集中度测算" in page and "集团客户授信集中度" in page and "关联客户授信集中度" in page
    assert "限额 15.00%" in page and "限额 10.00%" in page and "限额 20.00%" in page
    assert "资本口径" in page or "尚未录入适用的本行资本数据" in page
    assert "填写申请金额后测算" in page                     # no amount yet: pending, in words
    assert "Traceback" not in page and "Error" not in page
