"""Channel: templates are Jinja2 over known roots; type-specific keys; every message kind a flow or
an alert rule sends through a channel has a template there (BNY409)."""
from __future__ import annotations

from .kinds_helpers import IN_APP, compile_with_base, found


def channel(kind: str, templates: str, extra: str = "") -> str:
    return ("apiVersion: banyan/v1\nkind: Channel\nmetadata: {name: ch}\nspec:\n"
            f"  type: {kind}\n{extra}  templates:\n{templates}")


def test_a_channel_compiles_with_its_variables():
    result = compile_with_base(ch=channel(
        "email", "    t: {subject: 'Hi {{ recipient.display_name }}', "
                 "body: '{{ subject.name }} {% if message %}{{ message }}{% endif %} {{ link }}'}\n",
        "  sender: a@b.cn\n"))
    assert result.ok, result.diagnostics.items
    ir = result.bundle.documents[("Channel", "ch")]
    assert set(ir.templates["t"].placeholders) == {"recipient", "subject", "message", "link"}
    assert ir.templates["t"].subject.zh == "Hi {{ recipient.display_name }}"


def test_unknown_root_and_invalid_jinja_at_their_place():
    result = compile_with_base(ch=channel("in_app", "    t: {body: {zh: '{{ subjct.name }}', en: '{{ subject.name'}}\n"))
    codes = found(result, "ch.yaml")
    assert codes == {("BNY302", 7, 24), ("BNY410", 7, 46)}
    assert any("did you mean `subject`" in (d.hint or "") for d in result.diagnostics)


def test_a_block_template_error_points_at_its_line():
    text = channel("in_app", "    t:\n      body: |\n        first line {{ link }}\n        {% if message %}\n"
                             "        no end\n")
    problems = [d for d in compile_with_base(ch=text).diagnostics if d.span.file == "ch.yaml"]
    assert [(d.code, d.span.line) for d in problems] == [("BNY410", 10)]   # the `if` left open
    assert "not valid Jinja2" in problems[0].message


def test_old_placeholders_are_refused_with_the_new_form():
    result = compile_with_base(ch=channel("in_app", "    t: {body: 'Hello ${subject.name}'}\n"))
    (d,) = [d for d in result.diagnostics if d.span.file == "ch.yaml"]
    assert (d.code, d.span.line, d.span.col) == ("BNY410", 7, 22) and d.hint == "write {{ subject.name }}"


def test_email_needs_a_subject_and_sms_has_none():
    email = compile_with_base(ch=channel("email", "    t: {body: x}\n"))
    assert ("BNY204", 7, 5) in found(email, "ch.yaml")
    sms = compile_with_base(ch=channel("sms", "    t: {subject: x, body: y}\n", "  url: https://x\n"))
    assert {c for c, _, _ in found(sms, "ch.yaml")} == {"BNY407"}
    assert len(sms.diagnostics.items) == 2   # url does not fit sms; nor does subject


def test_webhook_needs_a_url_and_a_secret_env_name():
    result = compile_with_base(ch=channel("webhook", "    t: {body: x}\n"))
    assert ("BNY204", 5, 3) in found(result, "ch.yaml")
    bad = compile_with_base(ch=channel("webhook", "    t: {body: x}\n", "  url: https://h\n  secret_env: my-secret\n"))
    assert {c for c, _, _ in found(bad, "ch.yaml")} == {"BNY208"}


FLOW = """\
apiVersion: banyan/v1
kind: Flow
metadata: {name: review}
spec:
  subject: company
  start: {}
  nodes:
    - id: check
      type: task
      assignees: initiator
      actions: [complete, urge]
      deadline: 2 business days
      reminders: {before: 1d, channels: [in_app]}
      escalation:
        - {after: 1d, to: initiator, channels: [in_app]}
    - {id: done, type: end}
"""


def test_a_flows_own_messages_need_templates_in_their_channels():
    assert compile_with_base(review=FLOW).ok
    for kind, line, col in (("reminder", 13, 42), ("overdue", 12, 17), ("urge", 11, 16), ("escalation", 15, 49)):
        lacking = IN_APP.replace(f"    {kind}: ", f"    not_{kind}: ")
        result = compile_with_base(review=FLOW, in_app=lacking)
        assert found(result, "review.yaml") == {("BNY409", line, col)}, kind
        assert f"has no template `{kind}`" in result.diagnostics.items[0].message


def test_every_flow_may_copy_people_in_so_in_app_needs_cc():
    result = compile_with_base(review=FLOW, in_app=IN_APP.replace("    cc: ", "    copied: "))
    assert found(result, "review.yaml") == {("BNY409", 6, 10)}
