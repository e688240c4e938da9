"""One bad value, every door, the same problems: the flow service checks a start's form (and an
action's fields) against the Form before anything is stored, and the API, the CLI and the pages
show what it found — path, code and words — in the caller's language."""
from __future__ import annotations

import json
import textwrap

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from dsl.compiler import compile_path
from runtime.cli.main import main
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.releases import release_of
from runtime.flows.directory import put_people
from runtime.flows.form_check import InvalidForm
from runtime.flows.service import FlowService
from runtime.http.app import create_app
from runtime.storage.db import make_engine, writing

FILES = {
    "clerk.yaml": """
        apiVersion: banyan/v1
        kind: Role
        metadata: {name: clerk, label: {zh: 柜员, en: Clerk}}
        spec: {scope: global}
    """,
    "loan_request.yaml": """
        apiVersion: banyan/v1
        kind: Form
        metadata: {name: loan_request, label: {zh: 贷款申请, en: Loan request}}
        spec:
          fields:
            - {name: amount, type: money, label: {zh: 金额, en: Amount}, required: true, min: 1万}
            - {name: tenor_days, type: integer, label: {zh: 期限, en: Tenor}, required: true, max: 3650}
            - name: product
              type: enum
              label: {zh: 品种, en: Product}
              required: true
              values: [loan, guarantee]
            - {name: reviewer, type: ref(user), label: {zh: 审查人, en: Reviewer}}
            - name: lines
              type: table
              label: {zh: 明细, en: Lines}
              columns:
                - {name: amount, type: money, label: {zh: 分项, en: Line amount}, required: true, min: 0}
            - {name: decision, type: text, label: {zh: 意见, en: Decision}}
    """,
    "loan.yaml": """
        apiVersion: banyan/v1
        kind: Flow
        metadata: {name: loan, label: {zh: 贷款, en: Loan}}
        spec:
          form: loan_request
          start: {who: "role('clerk')"}
          nodes:
            - id: review
              type: approval
              label: {zh: 审查, en: Review}
              assignees: "form.reviewer"
              actions: [approve, reject]
              fields: {editable: [decision], required: [decision]}
            - {id: done, type: end, outcome: approved}
    """,
}
GOOD = {"amount": "8亿", "tenor_days": 365, "product": "loan", "reviewer": "boss",
        "lines": [{"amount": "1000万"}]}
BAD = {   # what a person sends → the problems' (path, code)
    "money text": ({**GOOD, "amount": "八个亿"}, [(["amount"], "number")]),
    "missing required": ({k: v for k, v in GOOD.items() if k != "product"}, [(["product"], "required")]),
    "over max": ({**GOOD, "tenor_days": 9999}, [(["tenor_days"], "max")]),
    "unknown enum": ({**GOOD, "product": "nonsense"}, [(["product"], "choice")]),
    "unknown key": ({**GOOD, "bogus": 1}, [(["bogus"], "unknown_field")]),
    "table as text": ({**GOOD, "lines": "1000万"}, [(["lines"], "table")]),
    "bad row value": ({**GOOD, "lines": [{"amount": "x"}]}, [(["lines", 0, "amount"], "number")]),
    "unknown user": ({**GOOD, "reviewer": "nobody"}, [(["reviewer"], "unknown_user")]),
}


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    root = tmp_path_factory.mktemp("doors")
    for name, text in FILES.items():
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    result = compile_path(str(root))
    assert result.ok, result.diagnostics
    url = f"sqlite:///{root / 'doors.db'}"
    engine = make_engine(url)
    DeploymentRegistry(engine).deploy(release_of(result.bundle), author="test", message="doors")
    with writing(engine) as conn:
        put_people(conn, [{"name": "rm"}, {"name": "boss"}], [{"user": "rm", "role": "clerk"}])
    return url, engine, FlowService(engine)


def _api(bank, form, lang="en"):
    _, engine, _ = bank
    r = TestClient(create_app(engine)).post("/flows/loan/instances", json={"form": form},
                                            headers={"X-Banyan-Actor": "rm", "Accept-Language": lang})
    assert r.status_code == 422, r.text
    return r.json()


def _cli(bank, form, lang="en"):
    url, _, _ = bank
    r = CliRunner().invoke(main, ["flow", "start", "loan", "--as", "rm", "--format", "json",
                                  "--form", json.dumps(form, ensure_ascii=False)],
                           env={"BANYAN_DATABASE_URL": url, "BANYAN_LANG": lang})
    assert r.exit_code == 1, r.output
    return json.loads(r.stdout)


@pytest.mark.parametrize("case", sorted(BAD))
def test_api_and_cli_give_the_same_problems(bank, case):
    form, expected = BAD[case]
    for lang in ("en", "zh"):
        api, cli = _api(bank, form, lang), _cli(bank, form, lang)
        assert api == cli
        assert api["error"] == "invalid_form"
        assert [(p["loc"], p["type"]) for p in api["detail"]] == expected
        assert all(p["msg"] and "Error" not in p["msg"] for p in api["detail"])
    with pytest.raises(InvalidForm) as exc:          # the service itself: nothing stored
        bank[2].start("loan", actor="rm", form=form)
    assert [(list(p.path), p.code) for p in exc.value.problems] == expected
    assert bank[2].started("rm", limit=0)["total"] == 0


def test_words_follow_the_callers_language(bank):
    zh = _api(bank, BAD["over max"][0], "zh")["detail"][0]["msg"]
    en = _api(bank, BAD["over max"][0], "en")["detail"][0]["msg"]
    assert zh == "不能大于 3,650" and en == "Must be at most 3,650"


def test_a_good_form_is_stored_typed_and_the_step_checks_its_fields(bank):
    _, _, service = bank
    view = service.start("loan", actor="rm", form=GOOD)
    assert view["form"]["amount"] == "800000000" and view["form"]["lines"] == [{"amount": "10000000"}]
    task = view["tasks"][0]["id"]
    with pytest.raises(InvalidForm) as exc:
        service.act(view["id"], "approve", actor="boss", task=task, fields={"amount": "1亿"})
    assert [(p.path, p.code) for p in exc.value.problems] == [(("amount",), "not_editable"),
                                                              (("decision",), "required")]
    with pytest.raises(InvalidForm) as exc:
        service.act(view["id"], "approve", actor="boss", task=task)
    assert [(p.path, p.code) for p in exc.value.problems] == [(("decision",), "required")]
    done = service.act(view["id"], "approve", actor="boss", task=task, fields={"decision": "同意"})
    assert done["status"] == "finished" and done["form"]["decision"] == "同意"
