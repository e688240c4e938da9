"""Ordered enums: a field declared `order: descending` (its values listed from the highest down,
like ratings AAA … D) or `ascending` compares with `<`, `<=`, `>`, `>=` by the values' places,
against its own values or the same enum; an unordered enum refuses, with the fix."""
import pytest

from dsl.compiler import compile_texts
from dsl.diagnostics import Diagnostics
from dsl.expr import compile_expression
from dsl.expr.types import FieldInfo, TypeEnv, enum, list_of, record

from .expr_helpers import SPAN

GRADES = ("aaa", "aa_plus", "aa", "aa_minus", "a_plus", "a", "a_minus", "bbb_plus", "bbb", "d")
ENV = TypeEnv({
    "company": {"grade": FieldInfo(enum(GRADES, "descending")), "prior": FieldInfo(enum(GRADES, "descending")),
                "stage": FieldInfo(enum(("normal", "special_mention", "substandard", "doubtful", "loss"), "ascending")),
                "tier": FieldInfo(enum(("core", "growth", "stable"))),
                "ratings": FieldInfo(list_of(record("rating")), False)},
    "rating": {"grade": FieldInfo(enum(GRADES, "descending"))},
})
SCOPE = ENV.fields("company")


def compile_ok(text):
    diags = Diagnostics()
    expr = compile_expression(text, span=SPAN, scope=SCOPE, env=ENV, diags=diags)
    assert expr is not None and not diags.items, [d.message for d in diags]
    return expr


def compile_err(text):
    diags = Diagnostics()
    assert compile_expression(text, span=SPAN, scope=SCOPE, env=ENV, diags=diags) is None
    return diags.items


@pytest.mark.parametrize("text,ctx,expected", [
    ("grade >= 'a_minus'", {"grade": "aa"}, True),
    ("grade >= 'a_minus'", {"grade": "a_minus"}, True),
    ("grade >= 'a_minus'", {"grade": "bbb_plus"}, False),
    ("grade < 'aa'", {"grade": "aaa"}, False),
    ("'bbb' > grade", {"grade": "d"}, True),
    ("grade < prior", {"grade": "bbb", "prior": "aa"}, True),
    ("grade < prior", {"grade": "aa", "prior": "aa"}, False),
    ("stage >= 'substandard'", {"stage": "doubtful"}, True),
    ("stage >= 'substandard'", {"stage": "special_mention"}, False),
    ("grade >= 'a'", {"grade": None}, None),
    ("any(ratings, r -> r.grade <= 'bbb')", {"ratings": [{"grade": "aa"}, {"grade": "d"}]}, True),
])
def test_an_ordered_enum_compares_by_place(text, ctx, expected):
    assert compile_ok(text)(ctx) is expected


@pytest.mark.parametrize("text,fragment", [
    ("tier > 'growth'", "has no order"),                       # unordered: the fix is named
    ("grade >= 'A-'", "is not a value of this enum"),
    ("grade > stage", "compared with one of its values or the same enum"),
    ("grade between 'a' and 'aa'", "cannot compare"),
])
def test_what_an_ordered_compare_refuses(text, fragment):
    diags = compile_err(text)
    assert fragment in diags[0].message
    if "has no order" in fragment:
        assert "order: descending" in diags[0].hint


ENTITY = """\
apiVersion: banyan/v1
kind: Entity
metadata: {name: note, label: {zh: 记录, en: Note}}
spec:
  key: code
  fields:
    - {name: code, type: string, required: true, unique: true, label: {zh: 编号, en: Code}}
    - {name: level, type: enum, order: descending, values: [high, mid, low], label: {zh: 级别, en: Level}}
    - {name: size, type: integer, order: ascending, label: {zh: 大小, en: Size}}
  validations:
    - rule: "level >= 'mid' or size > 3"
      message: {zh: 级别太低, en: Too low}
"""


def test_order_is_declared_on_an_enum_field_only():
    result = compile_texts({"entities/note.yaml": ENTITY})
    codes = [(d.code, d.message) for d in result.diagnostics]
    assert [c for c, _ in codes] == ["BNY407"] and "`order` does not apply to an integer field" in codes[0][1]
    fixed = ENTITY.replace(", order: ascending", "")
    assert compile_texts({"entities/note.yaml": fixed}).ok
