"""The words of the 360° view in zh-CN and en (labels of views, sections, entities and fields come
from the IR): what the JSON says to people and what the page shows around it."""
from __future__ import annotations

from typing import Any

WORDS: dict[str, tuple[str, str]] = {
    "withheld": ("仅主办行可见", "Lead branch only"),
    "failed": ("无法计算", "Cannot be worked out"),
    "warn": ("需关注", "Needs attention"),
    "empty": ("—", "—"),
    "no_rows": ("暂无记录。", "Nothing recorded."),
    "no_alerts": ("没有未关闭的预警。", "No open alerts."),
    "alerts_cut": ("您可见的未关闭预警超过 {n} 条，此处只列出其中等级最高的部分；完整列表见预警中心。",
                   "More than {n} open alerts are in your view: only the worst are read here; the alert centre lists all."),
    "rows_failed": ("这一栏的数据无法按配置读取，请联系配置管理员。",
                    "This section's data could not be read as configured; tell the configuration's owner."),
    "graph_unavailable": ("关系图暂不可用。", "The relationship graph is not available."),
    "no_equity": ("没有登记的股权关系。", "No equity holdings are recorded."),
    "no_guarantees": ("成员单位没有生效的担保关系。", "The members have no active guarantees."),
    "other_client": ("其他机构客户", "Client of another branch"),
    "not_visible": ("其他机构的记录", "A record of another branch"),
    "others": ("另有 {n} 户未展开", "{n} more not shown"),
    "other_clients": ("其他机构客户 {n} 户", "{n} clients of other branches"),
    "more_firms": ("另有 {n} 户未列出", "{n} more not listed"),
    "cut_nodes": ("另有 {n} 户超出本图范围", "{n} more firms beyond this picture"),
    "access_bank_wide": ("全行视角", "Bank-wide"),
    "access_lead_branch": ("主办行视角", "Lead branch"),
    "access_serving_branch": ("协办行视角：只显示贵机构服务的成员；跨机构汇总仅主办行可见。",
                              "Serving branch: only the members your branch serves are shown; figures summed across "
                              "branches are for the lead branch."),
    "person": ("自然人", "Person"), "company": ("企业", "Company"),
    "equity_focus": ("聚焦成员", "Focus on a member"), "equity_focus_none": ("（选择成员单位）", "(choose a member)"),
    "equity_expand": ("全部展开", "Expand all"), "equity_collapse": ("收起", "Collapse"),
    "focused": ("已聚焦：{name}。持股路径：{path}", "Focused on {name}. Holding path: {path}"),
    "chart_hint": ("点击节点展开或收起下级；滚轮缩放，拖动平移。",
                   "Click a node to expand or collapse it; scroll to zoom, drag to pan."),
    "graph_hint": ("拖动节点调整位置；滚轮缩放，拖动空白处平移；悬停查看担保金额。",
                   "Drag a firm to move it; scroll to zoom, drag the background to pan; hover for the amounts."),
    "guarantee_hint": ("箭头由担保人指向被担保人；红色连线为担保圈。",
                       "Arrows run from guarantor to borrower; red links are guarantee circles."),
    "legend_member": ("集团成员", "Group member"), "legend_outside": ("集团外企业", "Outside the group"),
    "legend_hidden": ("其他机构客户", "Client of another branch"), "legend_circle": ("担保圈", "Guarantee circle"),
    "legend_person": ("自然人", "Person"),
    "share": ("持股比例", "Share"), "amount": ("认缴出资（按注册资本折算）", "Capital (registered capital × share)"),
    "table_behind": ("以表格查看", "As a table"),
    "level": ("层级", "Level"), "holder": ("股东", "Holder"), "investee": ("被投资企业", "Investee"),
    "guarantor": ("担保人", "Guarantor"), "borrower": ("被担保人", "Borrower"), "guarantee_amount": ("担保金额", "Amount"),
    "in_circle": ("担保圈", "Circle"), "mutual": ("互保", "Mutual"), "yes": ("是", "Yes"),
    "record_page": ("记录详情", "Record"), "sections": ("本页栏目", "On this page"),
    "grade": ("等级", "Grade"), "rule": ("预警规则", "Rule"), "subject": ("对象", "On"), "opened": ("发生时间", "Opened"),
    "message": ("内容", "Message"), "page_of": ("第 {page}/{pages} 页，共 {n} 条", "Page {page} of {pages}, {n} in all"),
    "prev": ("上一页", "Previous"), "next": ("下一页", "Next"), "pages": ("分页", "Pages"),
    "tier_explanation": ("客户分层说明", "Tier explanation"),
    "no_flows": ("没有进行中的流程。", "No flows running."),
    "flows_cut": ("进行中的流程超过 {n} 个，此处只列出最新的部分。",
                  "More than {n} flows are running: only the newest are read here."),
    "flow": ("流程", "Flow"), "step": ("当前环节", "Now at"), "held_by": ("办理人", "With"),
    "due": ("办理时限", "Due"), "started": ("发起", "Started"), "overdue": ("已超时", "Overdue"),
    "no_changes": ("暂无修改记录。", "No changes recorded."),
    "changes_cut": ("只列出最近 {n} 条修改。", "Only the latest {n} changes are listed."),
    "changed_when": ("时间", "When"), "changed_by": ("操作人", "By"), "changed_record": ("记录", "Record"),
    "changed_what": ("修改内容", "What changed"),
}


def vtext(key: str, lang: str = "zh", **slots: Any) -> str:
    zh, en = WORDS[key]
    value = en if lang == "en" else zh
    return value.format(**slots) if slots else value
