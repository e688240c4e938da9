"""Personal fields (issue 16, part 7): the entity field key `personal:` (`true` or a mask kind), its
place in the IR, where it applies, and the one mask every door shows (dsl/values/mask.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from dsl.compiler import compile_path, compile_texts
from dsl.values.mask import is_masked_echo, mask, mask_record

ENTITY = """\
apiVersion: banyan/v1
kind: Entity
metadata: {{name: client, label: {{zh: 客户, en: Client}}}}
spec:
  key: code
  fields:
    - {{name: code, type: string, required: true, unique: true}}
    - {{name: extra, type: {type}, {personal}}}
"""


def compiled(personal: str, type_: str = "string"):
    return compile_texts({"client.yaml": ENTITY.format(personal=personal, type=type_)})


@pytest.mark.parametrize("given,kind", [("personal: true", "generic"), ("personal: id_number", "id_number"),
                                        ("personal: phone", "phone"), ("personal: address", "address"),
                                        ("personal: name", "name"), ("personal: false", None), ("label: x", None)])
def test_the_key_reaches_the_ir(given, kind):
    result = compiled(given)
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.bundle.entities["client"].field("extra").personal == kind


def test_an_unknown_mask_is_a_schema_error_with_a_hint():
    result = compiled("personal: passport")
    assert not result.ok
    assert any("personal" in (d.message + str(d.hint)) for d in result.diagnostics)


def test_personal_applies_to_text_fields_only():
    result = compiled("personal: true", "integer")
    assert [d.code for d in result.diagnostics] == ["BNY407"]
    assert compiled("personal: true", "text").ok


def test_the_shipped_person_marks_the_id_card_number():
    result = compile_path(Path(__file__).resolve().parents[2] / "configs")
    person = result.bundle.entities["person"]
    assert person.field("id_number").personal == "id_number" and person.field("name").personal is None


@pytest.mark.parametrize("value,kind,shown", [
    ("310101199001011234", "id_number", "3101**********1234"),
    ("11010519800101002X", "id_number", "1101**********002X"),
    ("13812345678", "phone", "138****5678"),
    ("上海市浦东新区世纪大道100号", "address", "上海市浦东新****"),
    ("张三丰", "name", "张**"),
    ("ABCDEFZ", "generic", "A*****Z"),
    ("1234", "id_number", "****"),                 # too short to keep 4 + 4: all stars
    ("短", "address", "*"),
    (None, "phone", None), ("", "phone", ""),
    ("310101199001011234", None, "310101199001011234"),
])
def test_the_mask(value, kind, shown):
    assert mask(value, kind) == shown


def test_a_masked_echo_is_recognised_and_nothing_else():
    stored = "310101199001011234"
    assert is_masked_echo("3101**********1234", stored, "id_number")
    assert not is_masked_echo("3101**********9999", stored, "id_number")
    assert not is_masked_echo("310101199001011235", stored, "id_number")
    assert not is_masked_echo("3101**********1234", None, "id_number")
    assert not is_masked_echo("3101**********1234", stored, None)
    assert mask_record({"a": stored, "b": 1}, {"a": "id_number"}) == {"a": "3101**********1234", "b": 1}
