"""Channel templates rendered with Jinja2 in the recipient's language: the shipped channels render
every message kind the flows and alerts send, in zh and en; a missing value or template is a
clear problem; the sandbox holds."""
from __future__ import annotations

import functools

import pytest

from dsl.compiler import compile_path, compile_texts
from runtime.jobs.templates import TemplateProblem, language_of, localize, render

FLOW_KINDS = ("task_assigned", "reminder", "overdue", "escalation", "urge", "cc", "flow_finished")


@functools.lru_cache(maxsize=None)
def shipped() -> dict:
    result = compile_path("configs")
    assert result.ok
    return {name: doc for (kind, name), doc in result.bundle.documents.items() if kind == "Channel"}


def channel(body: str, subject: str | None = None):
    text = ("apiVersion: banyan/v1\nkind: Channel\nmetadata: {name: ch}\nspec:\n  type: in_app\n  templates:\n"
            f"    t: {{body: {body}{', subject: ' + subject if subject else ''}}}\n")
    result = compile_texts({"ch.yaml": text})
    assert result.ok, [d.message for d in result.diagnostics]
    return result.bundle.documents[("Channel", "ch")]


def flow_payload(**over) -> dict:
    """What runtime/flows/effects.py puts in a flow message."""
    payload = {"flow": {"name": "group_credit_approval", "label": {"zh": "集团授信审批", "en": "Group credit approval"},
                        "instance": "abc123", "initiator": "rm", "outcome": "approved", "status": "finished"},
               "subject": {"entity": "group", "key": "G0001", "name": "Acme Group"},
               "task": {"id": "abc123/2", "node": "committee", "label": {"zh": "贷审会", "en": "Credit committee"},
                        "deadline": "2026-03-04 17:00", "assignee": "m1"},
               "message": "请尽快", "by": "rm", "link": "/ui/tasks/abc123/2",
               "recipient": {"name": "m1", "display_name": "Ma Yi", "email": "m1@bank.test", "mobile": "13800000000"}}
    payload.update(over)
    return payload


ALERT = {"alert": {"label": {"zh": "贷款逾期", "en": "Loan overdue"}, "grade_label": {"zh": "红色", "en": "red"},
                   "opened_at": "2026-03-02 09:00", "evidence": "overdue 95 days", "respond_by": "2026-03-03"},
         "subject": {"name": "Acme Ltd"}, "link": "/ui/alerts/7",
         "recipient": {"name": "rm", "display_name": "Li Lei", "email": "rm@bank.test", "mobile": None}}


@pytest.mark.parametrize("name", ["in_app", "email", "sms"])
@pytest.mark.parametrize("kind", FLOW_KINDS)
def test_the_shipped_channels_render_every_flow_message_in_both_languages(name, kind):
    ch = shipped()[name]
    zh, en = render(ch, kind, flow_payload(), "zh"), render(ch, kind, flow_payload(), "en")
    assert zh.language == "zh" and en.language == "en" and zh.body != en.body
    assert "{{" not in zh.body + en.body + zh.title + en.title
    en_text, zh_text = en.body + en.title, zh.body + zh.title
    assert ("Group credit approval" in en_text or "Credit committee" in en_text) and ("集团" in zh_text or "贷审会" in zh_text)
    assert "集团" not in en_text and "贷审会" not in en_text and "Credit committee" not in zh_text


@pytest.mark.parametrize("name", ["in_app", "email", "sms"])
def test_the_shipped_alert_template_renders_in_the_recipients_language(name):
    zh, en = render(shipped()[name], "alert_default", ALERT, "zh"), render(shipped()[name], "alert_default", ALERT, "en")
    assert "贷款逾期" in zh.body + zh.title and "红色" in zh.body + zh.title
    assert "Loan overdue" in en.body + en.title and "red" in en.body + en.title


def test_a_flow_without_a_subject_or_a_note_reads_well():
    payload = flow_payload(subject={"entity": "", "key": "", "name": ""}, message="")
    urge = render(shipped()["in_app"], "urge", payload, "en").body
    assert urge == 'rm asks you to act on "Credit committee" of Group credit approval. /ui/tasks/abc123/2'
    finished = render(shipped()["in_app"], "flow_finished", payload, "zh").body
    assert finished == "集团授信审批已结束，结果：approved。/ui/tasks/abc123/2"


def test_a_missing_value_is_a_clear_problem_naming_it():
    ch = channel("'{{ alert.respond_by }} / {{ subject.name }}'")
    with pytest.raises(TemplateProblem) as err:
        render(ch, "t", {"alert": {"label": "x"}, "subject": {"name": "Acme"}}, "zh")
    assert "respond_by" in err.value.message and "template `t` of channel `ch`" in err.value.message
    with pytest.raises(TemplateProblem) as err:
        render(ch, "t", {"alert": {"respond_by": "x"}}, "en")
    assert "`subject`" in err.value.message


def test_a_missing_template_is_a_problem_not_a_fallback():
    with pytest.raises(TemplateProblem) as err:
        render(shipped()["sms"], "tier_changed", {}, "zh")
    assert "channel `sms` has no template `tier_changed`" in err.value.message


def test_the_sandbox_refuses_python_internals():
    ch = channel("'{{ link.__class__.__mro__ }}'")
    with pytest.raises(TemplateProblem):
        render(ch, "t", {"link": "x"}, "zh")


def test_languages_and_localized_values():
    assert [language_of(v) for v in ("en", "EN-gb", "zh-CN", None, "", "fr")] == ["en", "en", "zh", "zh", "zh", "zh"]
    assert localize({"a": {"zh": "甲", "en": "A"}, "b": [{"en": "only"}], "c": None}, "zh") == \
        {"a": "甲", "b": ["only"], "c": ""}
    ch = channel("{zh: '您好 {{ recipient.display_name }}', en: 'Hello {{ recipient.display_name }}'}",
                 "{zh: '标题'}")
    got = render(ch, "t", {"recipient": {"display_name": "Ann"}}, "en")
    assert (got.title, got.body) == ("标题", "Hello Ann")      # en missing: the zh title stands in
