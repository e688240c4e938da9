"""The words of the flow pages in zh-CN and en, and a refused command in words a person reads
(the engine's own message follows, for the detail)."""
from __future__ import annotations

from typing import Any

from dsl.errors import catalog

WORDS: dict[str, tuple[str, str]] = {
    "inbox": ("待办", "Inbox"), "start_flow": ("发起流程", "Start a flow"),
    "box_mine": ("我的待办", "To do"), "box_pool": ("待认领", "To claim"), "box_cc": ("抄送我的", "CC'd to me"),
    "box_overdue": ("已超时", "Overdue"), "box_done": ("已办", "Done"), "box_started": ("我发起的", "Started by me"),
    "boxes": ("待办分类", "Boxes"),
    "step": ("环节", "Step"), "flow": ("流程", "Flow"), "subject": ("对象", "Subject"), "initiator": ("发起人", "Started by"),
    "due": ("时限", "Due"), "received": ("到达时间", "Arrived"), "closed": ("办结时间", "Closed"),
    "status": ("状态", "Status"), "outcome": ("结果", "Outcome"), "open": ("打开", "Open"), "by": ("经办", "By"),
    "overdue": ("已超时", "overdue"), "nothing_here": ("这里没有事项。", "Nothing here."),
    "status_running": ("进行中", "Running"), "status_finished": ("已办结", "Finished"),
    "status_cancelled": ("已撤销", "Cancelled"),
    "task_open": ("待处理", "Open"), "task_done": ("已处理", "Done"), "task_cancelled": ("已取消", "Cancelled"),
    "choose_flow": ("选择要发起的流程", "Choose a flow to start"),
    "no_flows": ("您目前不能发起任何流程。", "There is no flow you may start."),
    "about": ("关于 {entity}", "About a {entity}"),
    "choose_subject": ("选择{entity}", "Choose the {entity}"),
    "find": ("查找", "Find"), "choose": ("选择", "Choose"), "change": ("更换", "Change"),
    "no_match": ("没有找到您可见范围内的匹配记录。", "No record in your scope matches."),
    "subject_unknown": ("没有这条记录，或它不在您的可见范围内。", "There is no such record, or it is outside your scope."),
    "submit_request": ("提交申请", "Submit"),
    "preview": ("审批路径预览", "Route preview"), "refresh_preview": ("按当前填写刷新预览", "Refresh the preview"),
    "preview_help": ("若现在提交，各环节将由以下人员处理（假设每一步都同意、表单不再修改）。",
                     "If you submitted now, these people would hold each step (assuming every step approves "
                     "and the form stays as drafted)."),
    "preview_outcome": ("预计结果：{outcome}", "Expected outcome: {outcome}"),
    "preview_stopped": ("无法提交：{message}", "Cannot be submitted: {message}"),
    "preview_pending": ("后续环节取决于尚未填写的内容；填写后点击“按当前填写刷新预览”。",
                        "The steps after these depend on fields not filled in yet; fill them in and refresh the preview."),
    "round": ("第 {n} 步", "Step {n}"), "who": ("处理人", "Who"), "mode": ("方式", "Mode"),
    "mode_single": ("一人处理", "One person"), "mode_any": ("任一人", "Any one"), "mode_all": ("全部同意", "All approve"),
    "mode_ratio": ("比例会签 {ratio}", "Countersign {ratio}"), "mode_sequential": ("依次审批", "One after another"),
    "subflow": ("子流程 {flow}", "Subflow {flow}"), "nobody": ("（无人）", "(nobody)"),
    "started": ("已提交。", "Submitted."), "done_ok": ("已处理。", "Done."),
    "form_has_errors": ("请先修改标出的问题。", "Fix the marked problems first."),
    "subject_record": ("业务对象", "Subject record"), "request_form": ("申请表", "Request form"),
    "actions": ("处理", "Actions"), "comment": ("意见", "Comment"), "comment_optional": ("意见（可选）", "Comment (optional)"),
    "act_approve": ("同意", "Approve"), "act_reject": ("不同意", "Reject"), "act_complete": ("提交本环节", "Complete"),
    "act_claim": ("认领", "Claim"), "act_return": ("退回", "Return"), "act_transfer": ("转办", "Transfer"),
    "act_delegate": ("委托", "Delegate"), "act_add_signer": ("加签", "Add a signer"),
    "act_remove_signer": ("减签", "Remove a signer"), "act_withdraw": ("撤回", "Withdraw"),
    "act_urge": ("催办", "Urge"), "act_cc": ("抄送", "CC"), "act_comment": ("发表评论", "Comment"),
    "act_cancel": ("撤销申请", "Cancel the request"),
    "return_to": ("退回到", "Return to"), "to_user": ("交给（用户名）", "To (user name)"),
    "users": ("用户名（多个用逗号分隔）", "User names (comma-separated)"), "position": ("加签位置", "Where"),
    "pos_before": ("在我之前", "Before me"), "pos_after": ("在我之后", "After me"), "pos_parallel": ("与我并行", "Alongside me"),
    "message": ("留言", "Message"), "reason": ("原因", "Reason"),
    "confirm_approve": ("确认同意？", "Approve this?"), "confirm_reject": ("确认不同意？这将按流程规定处理（可能终止申请）。",
                                                      "Reject this? The flow decides what follows (it may end the request)."),
    "confirm_return": ("确认退回？", "Return it?"), "confirm_transfer": ("确认转办？此任务将交给对方。",
                                                                   "Transfer it? The task becomes theirs."),
    "confirm_delegate": ("确认委托？对方处理后任务回到您这里。", "Delegate it? It comes back to you after they act."),
    "confirm_withdraw": ("确认撤回？", "Withdraw?"), "confirm_cancel": ("确认撤销整个申请？", "Cancel the whole request?"),
    "confirm_complete": ("确认提交本环节？", "Complete this step?"),
    "not_yours": ("此任务不在您名下；您可以查看，但不能处理。", "This task is not yours: you may read it, not act on it."),
    "task_closed": ("此任务已处理完毕。", "This task is closed."),
    "held": ("此任务正在等待加签人先处理。", "This task waits for the signers added before it."),
    "task_unavailable": ("此任务暂时无法打开", "This task cannot be opened"),
    "instance_unavailable": ("这笔申请暂时无法打开", "This request cannot be opened"),
    "countersign": ("会签", "Countersign"), "veto": ("一票否决", "Veto"),
    "votes": ("已表决", "Votes"),
    "timeline": ("流程记录", "Timeline"), "diagram": ("流程图", "Flow diagram"),
    "diagram_alt": ("{flow} 流程图，当前所在环节：{where}", "Diagram of {flow}; it stands at: {where}"),
    "where_now": ("当前环节", "Now at"), "ended": ("已结束", "ended"),
    "open_tasks": ("待处理任务", "Open tasks"), "instance": ("流程实例", "Request"),
    "instance_actions": ("对申请的操作", "On the whole request"),
    "started_at": ("发起时间", "Started"), "form_values": ("申请内容", "What was asked"),
    "version_now": ("实例版本", "Version"),
    "ev_started": ("发起", "Started"), "ev_step_opened": ("进入环节", "Step opened"),
    "ev_approve": ("同意", "Approved"), "ev_reject": ("不同意", "Rejected"), "ev_complete": ("完成", "Completed"),
    "ev_claimed": ("认领", "Claimed"), "ev_returned": ("退回", "Returned"), "ev_transferred": ("转办", "Transferred"),
    "ev_delegated": ("委托", "Delegated"), "ev_delegate_acted": ("受托人已处理", "Delegate acted"),
    "ev_step_passed": ("环节通过", "Step passed"), "ev_step_rejected": ("环节否决", "Step rejected"),
    "ev_step_reopened": ("环节重新打开", "Step reopened"), "ev_veto": ("一票否决", "Vetoed"),
    "ev_finished": ("办结", "Finished"), "ev_comment": ("评论", "Comment"), "ev_urged": ("催办", "Urged"),
    "ev_cc": ("抄送", "CC'd"), "ev_withdrawn": ("撤回", "Withdrawn"), "ev_cancel_requested": ("撤销", "Cancelled"),
    "ev_signer_added": ("加签", "Signer added"), "ev_signer_removed": ("减签", "Signer removed"),
    "ev_branch": ("路由", "Routed"), "ev_arrived": ("到达", "Arrived"), "ev_split": ("分支", "Split"),
    "ev_joined": ("汇合", "Joined"), "ev_escalated": ("升级", "Escalated"), "ev_skipped": ("跳过", "Skipped"),
    "ev_action": ("自动处理", "Automatic action"), "ev_timer": ("计时", "Timer"),
    "ev_subflow_started": ("启动子流程", "Subflow started"), "ev_subflow_ended": ("子流程结束", "Subflow ended"),
    "ev_back_to_adder": ("加签人不同意，退回加签发起人决定", "The added signer rejected: back to the approver who added them"),
    "ev_veto_holders_added": ("一票否决人加入会签", "Veto holders join the signers"),
    "ev_initiator_replaced": ("发起人回避，改由上级处理", "The initiator stood aside: their supervisor acts instead"),
    "ev_cancelled": ("已撤销", "Cancelled"), "ev_waiting": ("等待事件", "Waiting for an event"),
    "ev_event_received": ("收到事件", "Event received"),
    "ev_timeout_approved": ("超时自动通过", "Approved on timeout"),
    "ev_timeout_rejected": ("超时自动否决", "Rejected on timeout"),
    "ev_migrated": ("迁移到新版本", "Moved to a new version"),
    "ev_resubmitted": ("修改后重新提交", "Edited and resubmitted"),
    "ev_task_cancelled": ("任务取消", "Task cancelled"), "ev_auto_approved": ("自动通过", "Approved automatically"),
    "actor_system": ("系统", "System"),
    "ev_deputised": ("由代理人处理", "Handled by the deputy"),
    "ev_deputy_skipped": ("未转给代理人", "Not passed to the deputy"),
    "why_initiator": ("代理人是发起人本人", "the deputy started this request"),
    "why_on_step": ("代理人已是本环节的处理人", "the deputy already acts on this step"),
    "why_step_decided": ("本环节已有结果，无需再表决", "the step was decided without this vote"),
    "why_join_passed": ("汇合条件已满足，其余分支不再等待", "the join passed: the other paths are no longer awaited"),
    "why_returned": ("申请被退回", "the request was returned"),
    "why_returned_to_adder": ("加签人不同意，退回加签发起人", "an added signer rejected: back to the approver who added them"),
    "why_withdrawn": ("申请被撤回", "the request was withdrawn"), "why_cancelled": ("申请被撤销", "the request was cancelled"),
    "why_rejected": ("申请被否决", "the request was rejected"), "why_flow_ended": ("流程已结束", "the flow ended"),
    "why_timed_out": ("超时转交", "the step timed out"), "why_signer_removed": ("已减签", "the signer was removed"),
    "why_resubmitted": ("申请已重新提交", "the request was resubmitted"), "why_other": ("其他原因", "another reason"),
    "page_of": ("第 {a}–{b} 条，共 {n} 条", "{a}–{b} of {n}"), "prev": ("上一页", "Previous"), "next": ("下一页", "Next"),
    "not_a_user": ("没有这些用户：{names}", "No such user: {names}"),
    "no_form": ("此流程没有表单。", "This flow has no form."),
    # the initiator's edit form (退回发起人), the "more" disclosure and the people picker
    "act_resubmit": ("重新提交", "Resubmit"),
    "confirm_resubmit": ("确认按修改后的内容重新提交？", "Resubmit the application as edited?"),
    "returned_note": ("{who} 于 {at} 在「{step}」将申请退回给您修改：{comment}",
                      "{who} returned the application to you at {step} on {at}: {comment}"),
    "to_initiator": ("发起人（修改后重新提交）", "The initiator (to edit and resubmit)"),
    "reason_needed": ("意见（必填）", "Opinion (required)"),
    "reason_needed_for": ("意见（{acts}时必填）", "Comment (required to {acts})"),
    "more_actions": ("更多操作", "More actions"),
    "pick_person": ("选择人员", "Choose a person"), "pick_people": ("选择人员（可多选）", "Choose people"),
    "picker_search": ("输入姓名、机构或角色搜索", "Search by name, unit or role"),
    "picker_browse": ("按机构浏览", "Browse by unit"), "picker_none": ("没有匹配的人员", "Nobody matches"),
    "picker_remove": ("移除", "Remove"), "picker_more": ("结果较多，请输入更多文字", "More match: type more"),
    "picker_chosen": ("已选", "Chosen"), "picker_people_count": ("{n} 人", "{n}"),
    "signer_user": ("要减去的加签人", "The signer to remove"),
    # the printable approval sheet (runtime/web/sheet.py)
    "sheet_print_sheet": ("打印审批单", "Print the approval sheet"),
    "sheet_sheet": ("审批单", "Approval sheet"), "sheet_print": ("打印", "Print"),
    "sheet_back": ("返回申请", "Back to the request"),
    "sheet_request_no": ("申请编号", "Request no."), "sheet_printed_at": ("打印时间", "Printed"),
    "sheet_application": ("申请内容", "Application"), "sheet_route": ("审批路径", "Route taken"),
    "sheet_opinions": ("审批意见", "Opinions"), "sheet_signatures": ("签字", "Signatures"),
    "sheet_col_step": ("环节", "Step"), "sheet_col_person": ("审批人", "By"), "sheet_col_decision": ("意见", "Decision"),
    "sheet_col_opinion": ("审批说明", "Opinion"), "sheet_col_at": ("时间", "Time"), "sheet_signed": ("签字", "Signed"),
    "sheet_date": ("日期", "Date"), "sheet_for": ("（代{who}）", " (for {who})"), "sheet_to": ("退回至{step}", "back to {step}"),
    "sheet_to_person": ("转交{who}", "to {who}"),
    "sheet_no_opinions": ("尚无审批意见。", "No opinion yet."), "sheet_subject": ("业务对象", "Subject"),
    "sheet_current": ("当前环节", "Now at"), "sheet_ended": ("结束：{outcome}", "Ended: {outcome}"),
    "sheet_dec_approve": ("同意", "Approved"), "sheet_dec_reject": ("不同意", "Rejected"),
    "sheet_dec_complete": ("已完成", "Completed"),
    "sheet_dec_return": ("退回", "Returned"), "sheet_dec_resubmit": ("修改后重新提交", "Resubmitted"),
    "sheet_dec_withdraw": ("撤回", "Withdrawn"), "sheet_dec_comment": ("评论", "Comment"),
    "sheet_dec_cancel": ("撤销", "Cancelled"),
    "sheet_dec_transfer": ("转办", "Transferred"), "sheet_dec_delegate": ("委托", "Delegated"),
}

REFUSED: dict[str, tuple[str, str]] = {
    "stale_version": ("其他人已先处理了这笔申请，页面已更新为最新状态，请核对后再操作。",
                      "Someone acted first: the page now shows where the request stands. Check it and try again."),
    "conflict": ("其他人已先处理了这笔申请，页面已更新为最新状态，请核对后再操作。",
                 "Someone acted first: the page now shows where the request stands. Check it and try again."),
    "not_assignee": ("这不是您的任务，不能处理。", "This task is not yours to act on."),
    "already_acted": ("您已经处理过这一环节。", "You have already acted on this step."),
    "already_claimed": ("此任务已被他人认领。", "Someone else has claimed this task."),
    "four_eyes": ("四眼原则：发起人不能审批自己的申请。", "Four eyes: nobody approves their own request."),
    "not_allowed": ("您不能执行此操作。", "You may not do this."),
    "action_not_allowed": ("本环节不允许此操作。", "This step does not allow that."),
    "illegal_target": ("不能退回到该环节。", "It cannot be returned there."),
    "withdraw_too_late": ("下一环节已经处理，无法撤回。", "Too late to withdraw: the next step has acted."),
    "field_required": ("请先填写本环节必填的内容。", "Fill in what this step requires first."),
    "field_not_editable": ("本环节不能修改这些字段。", "This step may not change those fields."),
    "task_closed": ("此任务已关闭。", "This task is closed."),
    "unknown_task": ("此任务已不存在。", "This task no longer exists."),
    "no_assignee": ("下一环节找不到处理人，未能提交。", "Nobody holds the next step, so nothing was sent."),
    "request_reused": ("这个提交已处理过；请刷新页面后再操作。", "This submission was already handled; reload the page."),
    "task_held": ("此任务正在等待加签人先处理。", "This task waits for the signers added before it."),
    "unknown_subject": ("没有这条业务记录。", "There is no such record."),
    "not_running": ("这笔申请已经结束。", "This request has ended."),
    "nothing_deployed": ("系统中没有这笔申请所用的部署版本。", "The deployment this request runs on is not in the system."),
}


OUTCOMES = {"approved": ("通过", "Approved"), "rejected": ("否决", "Rejected"), "completed": ("已完成", "Completed"),
            "resolved": ("已解除", "Resolved"), "served": ("已服务", "Served"), "returned": ("退回", "Returned"),
            "withdrawn": ("已撤回", "Withdrawn"), "cancelled": ("已撤销", "Cancelled")}


def outcome_text(code: Any, lang: str = "zh") -> str:
    """A flow's outcome in words (an outcome the bank named itself reads as written)."""
    words = OUTCOMES.get(str(code))
    return str(code) if words is None else (words[1] if lang == "en" else words[0])


def ftext(key: str, lang: str = "zh", **slots: Any) -> str:
    zh, en = WORDS[key]
    value = en if lang == "en" else zh
    return value.format(**slots) if slots else value


def refusal(code: str, message: str, lang: str) -> str:
    """A refused command for a person: a sentence for the code they can act on, and the detail."""
    words = REFUSED.get(code)
    if words is None:                 # the error catalogue's words for the code (dsl/messages.yaml)
        entry = catalog().get(f"flows.{code}")
        if entry is None:
            return message
        words = (entry["zh"], entry["en"])
    head = words[1] if lang == "en" else words[0]
    return f"{head}（{message}）" if lang != "en" else f"{head} ({message})"


def refusal_of(exc: Any, lang: str) -> str:
    """A refused flow request (FlowError) for a person: the words it carries when it has its own
    (a function's, filled with what it found), else `refusal` of its code and message."""
    if getattr(exc, "key", None) is not None and exc.params:
        return str(exc.render(lang))
    return refusal(exc.code, exc.message, lang)
