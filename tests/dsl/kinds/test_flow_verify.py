"""Flow verification before deploy: deadlocking joins (BNY504), unguarded loops (BNY505),
exhaustive branches (BNY506) and legal return targets (BNY507)."""
from __future__ import annotations

import textwrap

import pytest

from dsl.kinds.flow import verify_game as flow_verify_game
from dsl.kinds.flow.verify import legal_return_targets

from .kinds_helpers import compile_with_base

FORM = """\
apiVersion: banyan/v1
kind: Form
metadata: {name: req}
spec:
  fields:
    - {name: amount, type: money, required: true}
    - {name: days, type: integer, required: true}
    - {name: grade, type: enum, values: [red, yellow, green], required: true}
    - {name: risk, type: enum, values: [low, high]}
    - {name: urgent, type: bool, required: true}
    - {name: note, type: text}
"""
HEAD = """\
apiVersion: banyan/v1
kind: Flow
metadata: {name: f}
spec:
  subject: group
  form: req
  start: {}
  nodes:
"""


def step(node_id: str, nxt: str | None = None, kind: str = "task", extra: str = "") -> str:
    """One human step as a YAML flow mapping."""
    more = f", next: {nxt}" if nxt else ""
    return f"- {{id: {node_id}, type: {kind}, assignees: initiator{more}{extra}}}"


def compile_nodes(*lines: str):
    body = textwrap.indent("\n".join(lines), "    ")
    return compile_with_base(req=FORM, f=HEAD + body + "\n")


def diags(result, code: str | None = None):
    return [d for d in result.diagnostics if code is None or d.code == code]


def codes_at(result) -> set[tuple[str, int, int]]:
    return {(d.code, d.span.line, d.span.col) for d in result.diagnostics}


def only(result, code: str):
    found = diags(result)
    assert [d.code for d in found] == [code], [f"{d.span} {d.code} {d.message}" for d in found]
    return found[0]


def clean(result) -> None:
    assert not diags(result), [f"{d.span} {d.code} {d.message}" for d in diags(result)]


END = "- {id: done, type: end}"
LINE = 9   # the line of the first node in HEAD + body


# -- sound patterns ----------------------------------------------------------------------------

SOUND = {
    "sequence": [step("a"), step("b"), END],
    "parallel split and join": [
        "- {id: split, type: parallel, branches: [a, b], join: sync}",
        step("a", "sync"), step("b", "sync"), "- {id: sync, type: join}", END],
    "exclusive with default, simple merge": [
        "- {id: route, type: branch, cases: [{when: 'form.amount > 5亿', goto: big}], default: small}",
        step("big", "done"), step("small", "done"), END],
    "inclusive split and join": [
        "- {id: pick, type: inclusive, cases: [{when: 'form.urgent', goto: a}, {when: 'form.amount > 1亿', goto: b}],"
        " default: c, join: sync}",
        step("a", "sync"), step("b", "sync"), step("c", "sync"), "- {id: sync, type: join}", END],
    "loop with an exit": [
        step("draft"), step("check", kind="approval", extra=", on_reject: draft"),
        "- {id: again, type: branch, cases: [{when: 'form.urgent', goto: draft}], default: done}", END],
    "nested splits": [
        "- {id: outer, type: parallel, branches: [a, inner], join: all_done}",
        step("a", "all_done"),
        "- {id: inner, type: parallel, branches: [b, c], join: inner_done}",
        step("b", "inner_done"), step("c", "inner_done"), "- {id: inner_done, type: join, next: all_done}",
        "- {id: all_done, type: join}", END],
    "exclusive branch inside a parallel branch, merged before the join": [
        "- {id: split, type: parallel, branches: [a, b], join: sync}",
        "- {id: a, type: branch, cases: [{when: 'form.urgent', goto: a1}], default: a2}",
        step("a1", "a_done"), step("a2", "a_done"), step("a_done", "sync"), step("b", "sync"),
        "- {id: sync, type: join}", END],
    "discriminator (wait any)": [
        "- {id: split, type: parallel, branches: [a, b, c], join: first}",
        step("a", "first"), step("b", "first"), step("c", "first"), "- {id: first, type: join, wait: any}", END],
    "two out of three": [
        "- {id: split, type: parallel, branches: [a, b, c], join: two}",
        step("a", "two"), step("b", "two"), step("c", "two"), "- {id: two, type: join, wait: 2}", END],
    "exclusive branch inside a parallel branch, straight into the join (the join counts branches)": [
        "- {id: split, type: parallel, branches: [a, b], join: sync}",
        "- {id: a, type: branch, cases: [{when: 'form.urgent', goto: a1}], default: a2}",
        step("a1", "sync"), step("a2", "sync"), step("b", "sync"), "- {id: sync, type: join}", END],
    "a loop through a partial join (it cancels the paths still running)": [
        step("intake"), "- {id: split, type: parallel, branches: [a, b], join: sync}",
        step("a", "sync"), step("b", "sync"), "- {id: sync, type: join, wait: any}",
        "- {id: again, type: branch, cases: [{when: 'form.urgent', goto: intake}], default: done}", END],
    "splits nested inside a partial join": [
        "- {id: outer, type: parallel, branches: [a, inner, pick], join: two}",
        step("a", "two"),
        "- {id: inner, type: parallel, branches: [b, c], join: inner_done}",
        step("b", "inner_done"), step("c", "inner_done"), "- {id: inner_done, type: join, next: two}",
        "- {id: pick, type: inclusive, cases: [{when: 'form.urgent', goto: d}, {when: 'true', goto: e}], join: met}",
        step("d", "met"), step("e", "met"), "- {id: met, type: join, next: two}",
        "- {id: two, type: join, wait: 2}", END],
    "rejection from inside a branch back before its split (it cancels the other branches)": [
        step("assess"),
        "- {id: split, type: parallel, branches: [a, b], join: sync}",
        step("a", "sync", "approval", ", on_reject: assess"), step("b", "sync"),
        "- {id: sync, type: join}", END],
    "timeout from inside a branch to after the join": [
        "- {id: split, type: parallel, branches: [a, b], join: sync}",
        step("a", "sync", extra=", deadline: 2d, on_timeout: {goto: sign}"), step("b", "sync"),
        "- {id: sync, type: join}", step("sign", "done"), END],
    "a path ending on its own beside a partial join (terminate: false)": [
        "- {id: split, type: parallel, branches: [a, b], join: first}",
        step("a", "quiet"), step("b", "first"), "- {id: first, type: join, wait: any}", step("sign", "done"),
        "- {id: quiet, type: end, terminate: false}", END],
    "implicit termination: the last path ends": [step("a", "quiet"), "- {id: quiet, type: end, terminate: false}"],
    "rejection after the join goes back before the split": [
        step("assess"),
        "- {id: split, type: parallel, branches: [a, b], join: sync}",
        step("a", "sync"), step("b", "sync"), "- {id: sync, type: join}",
        step("sign", kind="approval", extra=", on_reject: assess"), END],
}


@pytest.mark.parametrize("name", SOUND)
def test_sound_patterns_verify_clean(name):
    clean(compile_nodes(*SOUND[name]))


# -- BNY504 ------------------------------------------------------------------------------------

def test_a_branch_that_ends_its_own_path_leaves_its_join_waiting_forever():
    result = compile_nodes(
        "- {id: split, type: parallel, branches: [a, b], join: sync}",
        step("a", "quiet"), step("b", "sync"), "- {id: sync, type: join, next: done}",
        "- {id: quiet, type: end, terminate: false}", END)
    d = only(result, "BNY504")
    assert (d.span.line, d.span.col) == (LINE + 3, 12)
    assert "`sync` can wait forever" in d.message and "quiet (ends its path)" in d.message
    assert "it waits for 2 of the 2 paths `split` started" in d.message and "`terminate: false`" in d.hint


def test_a_join_no_split_names_is_a_simple_merge_and_a_warning():
    result = compile_nodes(
        "- {id: route, type: branch, cases: [{when: 'form.urgent', goto: a}], default: b}",
        step("a", "meet"), step("b", "meet"), "- {id: meet, type: join}", END)
    d = only(result, "BNY504")
    assert d.severity == "warning" and result.ok
    assert d.span.line == LINE + 3 and "simple merge" in d.message


def test_a_join_waiting_for_more_paths_than_its_split_starts_is_a_warning():
    result = compile_nodes(
        "- {id: split, type: parallel, branches: [a, b], join: sync}",
        step("a", "sync"), step("b", "sync"), "- {id: sync, type: join, wait: 3}", END)
    d = only(result, "BNY504")
    assert d.severity == "warning" and "waits for 3 paths, but `split` starts only 2" in d.message


def test_work_leaving_an_inner_split_past_its_join_lets_the_outer_join_fire_early():
    result = compile_nodes(
        "- {id: outer, type: parallel, branches: [a, inner], join: all_done}",
        step("a", "all_done"),
        "- {id: inner, type: parallel, branches: [b, c], join: inner_done}",
        step("b", "all_done"), step("c", "inner_done"), "- {id: inner_done, type: join, next: all_done}",
        "- {id: all_done, type: join}", END)
    d = only(result, "BNY504")
    assert (d.span.line, d.span.col) == (LINE + 6, 12)
    assert "`all_done` can fire while work of `outer` is still running at `c`" in d.message


def test_two_paths_of_one_branch_reaching_the_join_are_work_arriving_twice():
    result = compile_nodes(
        "- {id: outer, type: parallel, branches: [a1, inner], join: all_done}",
        step("a1", "a2"), step("a2", "all_done"),
        "- {id: inner, type: parallel, branches: [b, c, d], join: inner_done}",
        step("b", "all_done"), step("c", "all_done"), step("d", "inner_done"),
        "- {id: inner_done, type: join, next: all_done}", "- {id: all_done, type: join}", END)
    d = only(result, "BNY504")
    assert d.span.line == LINE + 8
    assert "`all_done` can get work twice from the branch `inner` of `outer`" in d.message


def test_a_branch_looping_back_before_its_split_piles_up_work():
    result = compile_nodes(
        step("assess"), "- {id: split, type: parallel, branches: [a, b], join: sync}", step("a", "check"),
        "- {id: check, type: branch, cases: [{when: 'form.urgent', goto: assess}], default: sync}",
        step("b", "sync"), "- {id: sync, type: join}", END)
    d = only(result, "BNY504")
    assert (d.span.line, d.span.col) == (LINE + 1, 12)
    assert "live work piles up at `split`" in d.message and "check ⇒ assess" in d.message


def test_a_rejection_into_a_later_splits_branch_passes_its_join_uncounted():
    result = compile_nodes(
        "- {id: p1, type: parallel, branches: [a, b], join: j1}",
        step("a", "j1", "approval", ", on_reject: c"), step("b", "j1"), "- {id: j1, type: join, next: p2}",
        "- {id: p2, type: parallel, branches: [c, d], join: j2}", step("c", "j2"), step("d", "j2"),
        "- {id: j2, type: join}", END)
    d = only(result, "BNY504")
    assert (d.span.line, d.span.col) == (LINE + 7, 12)
    assert "work reaches join `j2` from outside its split `p2`" in d.message and "a rejects ⇒ c" in d.message


def test_a_join_fed_from_outside_its_split_is_reported_structurally():
    result = compile_nodes(
        "- {id: route, type: branch, cases: [{when: 'form.urgent', goto: split}], default: side}",
        "- {id: split, type: parallel, branches: [a, b], join: sync}",
        step("a", "sync"), step("b", "sync"), step("side", "sync"),
        "- {id: sync, type: join}", END)
    d = only(result, "BNY504")
    assert d.span.line == LINE + 5 and "its path from `side` does not start at `split`" in d.message


def test_a_join_named_by_two_splits_is_reported():
    result = compile_nodes(
        "- {id: s1, type: parallel, branches: [a, s2], join: sync}",
        step("a", "sync"),
        "- {id: s2, type: parallel, branches: [b, c], join: sync}",
        step("b", "sync"), step("c", "sync"), "- {id: sync, type: join}", END)
    assert "join of 2 splits" in only(result, "BNY504").message


def test_a_parallel_split_looping_without_its_join_piles_up_work():
    result = compile_nodes(
        step("a"), "- {id: split, type: parallel, branches: [a, c], join: sync}",
        step("c", "sync"), "- {id: sync, type: join}", END)
    messages = {d.code: d.message for d in diags(result)}
    assert set(messages) == {"BNY504", "BNY505"}
    assert "piles up" in messages["BNY504"] or "second token" in messages["BNY504"]


def test_too_many_states_is_a_warning_not_a_verdict(monkeypatch):
    monkeypatch.setattr(flow_verify_game, "MAX_STATES", 3)
    result = compile_nodes(*SOUND["nested splits"])
    d = only(result, "BNY504")
    assert d.severity == "warning" and result.ok


# -- BNY505 ------------------------------------------------------------------------------------

def test_a_loop_only_a_return_can_leave_is_unguarded():
    result = compile_nodes(
        step("intake", "work", extra=", deadline: 2d, on_timeout: {goto: done}"),
        step("work", "review"), step("review", "work", extra=", return_to: [intake]"), END)
    d = only(result, "BNY505")
    assert (d.span.line, d.span.col) == (LINE + 1, 12)
    assert "`work` → `review` → `work`" in d.message and "return" in d.hint


def test_a_loop_closed_only_by_a_return_is_fine():
    clean(compile_nodes(step("a"), step("b", extra=", return_to: [a]"), END))


# -- BNY506 ------------------------------------------------------------------------------------

def branch(*cases: str, default: str = "") -> list[str]:
    items = ", ".join(f"{{when: \"{c}\", goto: x}}" for c in cases)
    tail = f", default: {default}" if default else ""
    return [f"- {{id: route, type: branch, cases: [{items}]{tail}}}", step("x", "done"), END]


@pytest.mark.parametrize("cases", [
    ("form.grade == 'red'", "form.grade in ['yellow', 'green']"),
    ("form.grade != 'red'", "form.grade == 'red'"),
    ("form.amount > 5亿", "form.amount <= 5亿"),
    ("form.amount between 1亿 and 5亿", "form.amount < 1亿", "form.amount > 5亿"),
    ("form.days < 30", "form.days > 29"),                  # whole numbers: nothing lies between
    ("form.urgent", "not form.urgent"),
    ("form.amount > 5亿 and form.grade == 'red'", "form.amount <= 5亿", "form.grade != 'red'"),
    ("form.risk == 'low'", "form.risk == 'high'", "form.risk == null"),
    ("form.risk in ['low', 'high'] or is_null(form.risk)",),
    ("true",),
])
def test_exhaustive_cases_need_no_default(cases):
    clean(compile_nodes(*branch(*cases)))


@pytest.mark.parametrize("cases, gap", [
    (("form.grade == 'red'", "form.grade == 'yellow'"), "`form.grade` is 'green'"),
    (("form.amount > 5亿", "form.amount < 5亿"), "`form.amount` is 5亿"),
    (("form.amount > 5亿", "form.amount < 1亿"), "`form.amount` is 1亿"),
    (("form.days > 30",), "`form.days` is below 30"),
    (("form.risk == 'low'", "form.risk == 'high'"), "`form.risk` is empty (null)"),
    (("form.amount > 5亿 and form.urgent", "form.amount <= 5亿"), "`form.urgent` is false"),
    (("subject.name == form.note", "subject.name != form.note"), "`subject.name == form.note` is"),
])
def test_cases_that_miss_a_value_need_a_default(cases, gap):
    d = only(compile_nodes(*branch(*cases)), "BNY506")
    assert (d.span.line, d.span.col) == (LINE, 33)
    assert gap in d.message and "default" in d.hint and "null" in d.hint


def test_a_default_or_a_case_without_when_covers_everything():
    clean(compile_nodes(*branch("form.grade == 'red'", default="done")))
    clean(compile_nodes("- {id: route, type: branch, cases: [{when: 'form.urgent', goto: x}, {goto: done}]}",
                        step("x", "done"), END))


def test_an_inclusive_branch_must_cover_too():
    result = compile_nodes(
        "- {id: pick, type: inclusive, cases: [{when: 'form.urgent', goto: a}], join: sync}",
        step("a", "sync"), "- {id: sync, type: join}", END)
    assert "inclusive branch `pick`" in only(result, "BNY506").message


# -- BNY507 ------------------------------------------------------------------------------------

def test_a_return_to_a_step_on_another_path_is_illegal():
    result = compile_nodes(
        "- {id: route, type: branch, cases: [{when: 'form.urgent', goto: fast}], default: slow}",
        step("fast", "sign"), step("slow", "sign"), step("sign", extra=", return_to: [fast]"), END)
    d = only(result, "BNY507")
    assert (d.span.line, d.span.col) == (LINE + 3, 64)
    assert "`fast` does not always run before `sign`" in d.message and "route ⇒ slow (default)" in d.message


def test_a_return_into_a_sibling_parallel_branch_is_illegal():
    result = compile_nodes(
        "- {id: split, type: parallel, branches: [a, b], join: sync}",
        step("a", "sync"), step("b", "sync", extra=", return_to: [a]"), "- {id: sync, type: join}", END)
    assert "`a` does not always run before `b`" in only(result, "BNY507").message


def test_a_return_from_after_a_parallel_join_into_a_branch_redoes_it_alone():
    result = compile_nodes(
        "- {id: split, type: parallel, branches: [a, b], join: sync}",
        step("a", "sync"), step("b", "sync"), "- {id: sync, type: join}",
        step("sign", extra=", return_to: [a]"), END)
    clean(result)
    assert legal_return_targets(result.bundle.documents[("Flow", "f")])["sign"] == ("a",)


def test_a_return_from_inside_a_branch_to_before_the_split_closes_the_split():
    result = compile_nodes(
        step("assess"), "- {id: split, type: parallel, branches: [a, b], join: sync}",
        step("a", "sync", extra=", return_to: [assess]"), step("b", "sync"), "- {id: sync, type: join}", END)
    clean(result)


def test_a_return_from_inside_a_split_into_an_earlier_joined_split_is_refused():
    result = compile_nodes(
        "- {id: p1, type: parallel, branches: [a, b], join: j1}", step("a", "j1"), step("b", "j1"),
        "- {id: j1, type: join, next: p2}",
        "- {id: p2, type: parallel, branches: [c, d], join: j2}", step("c", "j2", extra=", return_to: [a]"),
        step("d", "j2"), "- {id: j2, type: join}", END)
    d = only(result, "BNY507")
    assert (d.span.line, d.span.col) == (LINE + 5, 71)
    assert "the engine refuses the move: `a` lies in a branch of `p1`, a split `c` is not inside" in d.message


def test_a_return_to_a_step_several_branches_share_is_refused():
    result = compile_nodes(
        "- {id: split, type: parallel, branches: [a, b], join: sync}", step("a", "m"), step("b", "m"),
        step("m", "sync"), "- {id: sync, type: join, next: sign}", step("sign", extra=", return_to: [m]"), END)
    d = only(result, "BNY507")
    assert "`m` lies in the branches of `split`" in d.message


@pytest.mark.parametrize("target, words", [("route", "is a branch node"), ("sign", "cannot return work to itself")])
def test_a_return_to_a_non_step_or_to_itself_is_illegal(target, words):
    result = compile_nodes(
        "- {id: route, type: branch, cases: [{when: 'true', goto: sign}]}",
        step("sign", extra=f", return_to: [{target}]"), END)
    assert words in only(result, "BNY507").message


def test_legal_returns_inside_a_branch_and_across_an_inclusive_join():
    result = compile_nodes(
        step("intake"),
        "- {id: split, type: parallel, branches: [a1, b], join: sync}",
        step("a1", "a2"), step("a2", "sync", extra=", return_to: [a1]"), step("b", "sync"),
        "- {id: sync, type: join, next: pick}",
        "- {id: pick, type: inclusive, cases: [{when: 'true', goto: c}, {when: 'form.urgent', goto: d}], join: met}",
        step("c", "met"), step("d", "met"), "- {id: met, type: join}",
        step("confirm", extra=", return_to: [c, intake]"), END)
    clean(result)
    flow = result.bundle.documents[("Flow", "f")]
    targets = legal_return_targets(flow)
    assert targets["confirm"] == ("c", "intake") and targets["a2"] == ("a1",)
    assert targets["b"] == ("intake",)                     # before the split: closes it, cancels a1/a2
    assert targets["d"] == ("intake",)                     # c may still be running; a1 is in another split


def test_the_shipped_flows_verify_clean_and_know_their_return_targets():
    from pathlib import Path

    from dsl.compiler import compile_texts
    root = Path(__file__).resolve().parents[3] / "configs"
    result = compile_texts({str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in root.rglob("*.yaml")})
    assert not [d for d in result.diagnostics if d.code in ("BNY504", "BNY505", "BNY506", "BNY507")]
    risk = legal_return_targets(result.bundle.documents[("Flow", "major_risk_disposal")])
    assert risk["board_report"] == ("assess", "risk_measures", "client_contact", "legal_review")  # a branch redone alone
    assert risk["legal_review"] == ("assess",)                                                   # closes the split
