"""Channel: templates use ${path} placeholders from known roots; type-specific keys."""
from __future__ import annotations

from .kinds_helpers import compile_with_base, found


def channel(kind: str, templates: str, extra: str = "") -> str:
    return ("apiVersion: banyan/v1\nkind: Channel\nmetadata: {name: ch}\nspec:\n"
            f"  type: {kind}\n{extra}  templates:\n{templates}")


def test_a_channel_compiles_with_its_placeholders():
    result = compile_with_base(ch=channel("email", "    t: {subject: 'Hi ${recipient.display_name}', body: '${subject.name} $$5 ${link}'}\n",
                                          "  sender: a@b.cn\n"))
    assert result.ok, result.diagnostics.items
    ir = result.bundle.documents[("Channel", "ch")]
    assert ir.templates["t"].placeholders == ("recipient.display_name", "subject.name", "link")
    assert ir.templates["t"].subject.zh == "Hi ${recipient.display_name}"


def test_unknown_root_and_unclosed_placeholder():
    result = compile_with_base(ch=channel("in_app", "    t: {body: {zh: '${subjct.name}', en: '${subject.name'}}\n"))
    codes = found(result, "ch.yaml")
    assert ("BNY302", 7, 21) in codes and ("BNY301", 7, 43) in codes
    assert any("did you mean `subject`" in (d.hint or "") for d in result.diagnostics)


def test_code_in_a_placeholder_is_refused():
    result = compile_with_base(ch=channel("in_app", "    t: {body: '${subject.name + 1}'}\n"))
    assert {c for c, _, _ in found(result, "ch.yaml")} == {"BNY301"}


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
