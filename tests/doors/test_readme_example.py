"""The README's flow example, run as written through the CLI on the demo bank: the start (its
form checked and stored typed), the reviews, the branch head's approval routing 8亿 > 5亿 to the
credit committee, and two of three members approving."""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from examples.demo_bank.users import seed_demo_users
from runtime.auth.org import OrgTree
from runtime.auth.users import UserStore
from runtime.cli.main import main
from runtime.cli.seed import ensure_deployed, seed_demo
from runtime.records.service import Records
from runtime.storage.db import make_engine
from runtime.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]


def readme_commands() -> list[list[str]]:
    """The `banyan flow …` lines of the README's "Approving" block, as argument lists."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("### Approving", 1)[1].split("```", 2)[1]
    lines = block.replace("\\\n", " ").splitlines()
    out = []
    for line in lines:
        line = re.sub(r"\s+#.*$", "", line).strip()
        if line.startswith("banyan flow ") and "…" not in line and " graph " not in line:
            out.append(shlex.split(line)[1:])
    return out


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('readme') / 'demo.db'}"
    engine = make_engine(url)
    upgrade(engine)
    ensure_deployed(engine, str(ROOT / "configs"), "test")
    records = Records(engine)
    seed_demo(records, scale=0.01, seed=42, transactions=0, actor="test")
    seed_demo_users(UserStore(engine), OrgTree(records.live.bundle))
    engine.dispose()
    return url


def _run(url: str, args: list[str]):
    return CliRunner().invoke(main, args, env={"BANYAN_DATABASE_URL": url, "BANYAN_LANG": "en"})


@pytest.mark.parametrize("amount", [None, "8亿"])
def test_the_readme_example_reaches_the_committee_and_is_approved(demo_url, amount):
    commands = readme_commands()
    assert [c[1] for c in commands][:2] == ["start", "inbox"] and len(commands) >= 7
    start = commands[0]
    if amount is not None:          # the same request with the amount as bankers write it
        i = start.index("--form") + 1
        start = start[:i] + [json.dumps({**json.loads(start[i]), "amount": amount}, ensure_ascii=False)] + start[i + 1:]
    r = _run(demo_url, start)
    assert r.exit_code == 0, r.output
    view = json.loads(r.stdout)
    assert view["form"]["amount"] == "800000000"          # stored as money, whatever way it was written
    instance = view["id"]
    for args in commands[1:]:
        args = [instance if a == "ID" else a for a in args]
        r = _run(demo_url, args)
        assert r.exit_code == 0, (args, r.output)
        if args[1] == "act" and args[4:6] == ["--as", "head_sh"]:
            assert json.loads(r.stdout)["current_nodes"] == ["committee"]
    final = json.loads(_run(demo_url, ["flow", "show", instance]).stdout)
    assert (final["status"], final["outcome"]) == ("finished", "approved")
    assert final["form"]["approved_amount"] == "800000000"


def test_the_readme_start_refuses_money_that_is_not_money(demo_url):
    start = readme_commands()[0]
    i = start.index("--form") + 1
    bad = start[:i] + [json.dumps({**json.loads(start[i]), "amount": "八个亿", "bogus": 1})] + start[i + 1:]
    r = _run(demo_url, bad)
    assert r.exit_code == 1
    assert "amount: “八个亿” is not a number" in r.output and "bogus: There is no field named bogus" in r.output
    assert "sub_limits" not in r.output          # a rule reading an unread value waits for it
    assert "Traceback" not in r.output


def test_the_same_application_through_the_api_reaches_the_committee_and_is_approved(demo_url):
    """The README's commands, each sent as the JSON API's request instead: the same route, the same end."""
    from fastapi.testclient import TestClient

    from runtime.http.app import create_app
    engine = make_engine(demo_url)
    api = TestClient(create_app(engine))
    commands = readme_commands()
    start = commands[0]
    form = json.loads(start[start.index("--form") + 1])
    r = api.post(f"/flows/{start[2]}/instances", json={"subject": start[start.index("--subject") + 1], "form": form},
                 headers={"X-Banyan-Actor": start[start.index("--as") + 1]})
    assert r.status_code == 201, r.text
    instance = r.json()["id"]
    assert r.json()["form"]["amount"] == "800000000"
    for args in commands[1:]:
        if args[1] != "act":
            continue
        action, actor = args[3], args[args.index("--as") + 1]
        view = api.get(f"/flow-instances/{instance}").json()
        (task,) = [t["id"] for t in view["tasks"] if t["assignee"] == actor or actor in t["candidates"]]
        body = {"task": task}
        if "--fields" in args:
            body["fields"] = json.loads(args[args.index("--fields") + 1])
        r = api.post(f"/flow-instances/{instance}/{action}", json=body, headers={"X-Banyan-Actor": actor})
        assert r.status_code == 200, (args, r.text)
        if actor == "head_sh":
            assert r.json()["current_nodes"] == ["committee"]
    final = api.get(f"/flow-instances/{instance}").json()
    assert (final["status"], final["outcome"]) == ("finished", "approved")
    engine.dispose()
