"""`banyan users`: create (the first admin too), list, disable/enable, reset a password, grant and
revoke roles per org unit, tokens — against a deployed bundle, with clear errors and no traceback."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from runtime.auth.users import UserStore
from runtime.cli.main import main
from runtime.storage.db import make_engine

PASSWORD = "correct horse battery"


def org_unit(name: str, type_: str, parent: str | None = None) -> tuple[str, str]:
    return f"{name}.yaml", f"""\
apiVersion: banyan/v1
kind: OrgUnit
metadata: {{name: {name}, label: {{zh: {name}, en: {name}}}}}
spec: {{type: {type_}{f", parent: {parent}" if parent else ""}}}
"""


def role(name: str, spec: str) -> tuple[str, str]:
    return f"{name}.yaml", f"""\
apiVersion: banyan/v1
kind: Role
metadata: {{name: {name}, label: {{zh: {name}, en: {name}}}}}
spec: {spec}
"""


BUNDLE = (org_unit("head_office", "head_office"), org_unit("sh_branch", "branch", "head_office"),
          org_unit("bj_branch", "branch", "head_office"),
          role("relationship_manager", "{scope: org_unit, org_levels: [branch, sub_branch]}"),
          role("credit_committee", "{scope: global}"))


@pytest.fixture
def deployed(db_url, tmp_path):
    root = tmp_path / "bundle"
    root.mkdir()
    for name, text in BUNDLE:
        (root / name).write_text(text, encoding="utf-8")
    r = run(db_url, "deploy", str(root), "-m", "org")
    assert r.exit_code == 0, r.output
    engine = make_engine(db_url)
    yield db_url, UserStore(engine)
    engine.dispose()


def run(db_url: str, *args: str, input: str | None = None):
    result = CliRunner().invoke(main, list(args), input=input,
                                env={"BANYAN_DATABASE_URL": db_url, "BANYAN_ACTOR": "tester"})
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def create(db_url: str, *args: str, password: str = PASSWORD):
    return run(db_url, "users", "create", *args, "--password-stdin", input=password + "\n")


def test_users_is_a_command_of_banyan(db_url):
    r = run(db_url, "--help")
    assert "users" in r.output
    r = run(db_url, "users", "--help")
    for verb in ("create", "list", "disable", "enable", "reset-password", "grant", "revoke", "token"):
        assert verb in r.output


def test_the_first_admin_from_stdin(deployed):
    url, store = deployed
    r = run(url, "users", "list")
    assert r.exit_code == 0 and "banyan users create NAME --admin" in r.output
    r = create(url, "chen", "--admin")
    assert r.exit_code == 0, r.output
    assert "created chen (administrator) in head_office" in r.output
    user = store.authenticate("chen", PASSWORD)
    assert user is not None and user.is_admin and user.org_unit == "head_office"
    assert PASSWORD not in r.output
    r = run(url, "users", "list")
    assert "chen" in r.output and "admin" in r.output and "head_office" in r.output


def test_the_password_is_asked_twice_with_a_hidden_prompt(deployed, monkeypatch):
    url, store = deployed
    monkeypatch.setattr("runtime.cli.users._interactive", lambda: True)
    r = run(url, "users", "create", "liu", "--unit", "sh_branch", "--display-name", "刘敏",
            input=f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n")
    assert r.exit_code == 0, r.output
    assert "repeat the password" in r.output and PASSWORD not in r.output     # hidden, asked again on mismatch
    assert store.authenticate("liu", PASSWORD).display_name == "刘敏"


def test_no_terminal_and_no_stdin_flag_is_a_clear_error(deployed):
    url, store = deployed
    r = run(url, "users", "create", "chen", "--admin", input=PASSWORD + "\n")
    assert r.exit_code == 2 and "--password-stdin" in r.output
    assert store.get("chen") is None


def test_bad_input_is_refused_with_what_to_fix(deployed):
    url, store = deployed
    r = create(url, "chen", "--admin", password="short")
    assert r.exit_code == 2 and "password: The password needs at least 12 characters" in r.output
    r = create(url, "Chen!", "--admin")
    assert r.exit_code == 2 and "lower-case letters" in r.output
    r = create(url, "chen", "--unit", "nowhere")
    assert r.exit_code == 2 and "no org unit `nowhere`" in r.output and "sh_branch" in r.output
    r = create(url, "chen")
    assert r.exit_code == 2 and "--unit" in r.output
    r = create(url, "chen", "--unit", "sh_branch", "--role", "teller")
    assert r.exit_code == 2 and "no role `teller` is deployed" in r.output and "relationship_manager" in r.output
    r = create(url, "chen", "--unit", "head_office", "--role", "relationship_manager")
    assert r.exit_code == 2 and "held in a branch or sub_branch, not in a head_office" in r.output
    r = run(url, "users", "create", "chen", "--admin", "--password-stdin", input="\n")
    assert r.exit_code == 2 and "stdin held no password" in r.output
    assert store.count() == 0
    assert create(url, "chen", "--admin").exit_code == 0
    r = create(url, "chen", "--admin")
    assert r.exit_code == 2 and "`chen` is already taken" in r.output


def test_grant_and_revoke_roles_per_org_unit(deployed):
    url, store = deployed
    assert create(url, "wang", "--unit", "sh_branch", "--role", "relationship_manager").exit_code == 0
    assert store.get("wang").roles == (("relationship_manager", "sh_branch"),)
    r = run(url, "users", "grant", "wang", "relationship_manager", "--unit", "bj_branch")
    assert r.exit_code == 0 and "holds relationship_manager in bj_branch" in r.output
    r = run(url, "users", "grant", "wang", "relationship_manager", "--unit", "bj_branch")
    assert r.exit_code == 0 and "already held" in r.output
    r = run(url, "users", "grant", "wang", "credit_committee")
    assert r.exit_code == 0 and "(bank-wide)" in r.output
    assert set(store.get("wang").roles) == {("relationship_manager", "sh_branch"),
                                            ("relationship_manager", "bj_branch"), ("credit_committee", "")}
    assert "relationship_manager@bj_branch" in run(url, "users", "list").output
    r = run(url, "users", "revoke", "wang", "relationship_manager")            # default: their own unit
    assert r.exit_code == 0 and "no longer holds relationship_manager in sh_branch" in r.output
    r = run(url, "users", "revoke", "wang", "relationship_manager", "--unit", "sh_branch")
    assert r.exit_code == 2 and "does not hold relationship_manager in sh_branch" in r.output
    assert "relationship_manager@bj_branch" in r.output
    assert set(store.get("wang").roles) == {("relationship_manager", "bj_branch"), ("credit_committee", "")}


def test_grant_errors_name_the_unknown_thing(deployed):
    url, _store = deployed
    assert create(url, "wang", "--unit", "sh_branch").exit_code == 0
    cases = [(("grant", "nobody", "relationship_manager"), "no user `nobody`"),
             (("revoke", "nobody", "relationship_manager"), "no user `nobody`"),
             (("grant", "wang", "teller"), "no role `teller` is deployed"),
             (("grant", "wang", "relationship_manager", "--unit", "mars"), "no org unit `mars`"),
             (("grant", "wang", "relationship_manager", "--unit", "head_office"), "not in a head_office"),
             (("grant", "wang", "credit_committee", "--unit", "sh_branch"), "bank-wide role"),
             (("disable", "nobody"), "no user `nobody`"),
             (("reset-password", "nobody", "--password-stdin"), "no user `nobody`"),
             (("token", "nobody"), "no user `nobody`")]
    for args, message in cases:
        r = run(url, "users", *args, input=PASSWORD + "\n")
        assert r.exit_code == 2 and message in r.output, (args, r.output)


def test_disable_ends_sessions_and_tokens_and_enable_restores(deployed):
    url, store = deployed
    assert create(url, "zhao", "--unit", "sh_branch").exit_code == 0
    epoch = store.get("zhao").epoch
    token = run(url, "users", "token", "zhao").output.strip()
    assert store.token_user(token).name == "zhao"
    r = run(url, "users", "disable", "zhao")
    assert r.exit_code == 0 and "disabled" in r.output
    assert store.authenticate("zhao", PASSWORD) is None and store.token_user(token) is None
    assert store.get("zhao").epoch == epoch + 1
    assert "disabled" in run(url, "users", "list").output
    r = run(url, "users", "token", "zhao")
    assert r.exit_code == 2 and "zhao is disabled" in r.output
    assert run(url, "users", "enable", "zhao").exit_code == 0
    assert store.authenticate("zhao", PASSWORD) is not None


def test_reset_password_ends_the_old_one(deployed):
    url, store = deployed
    assert create(url, "sun", "--unit", "bj_branch").exit_code == 0
    epoch = store.get("sun").epoch
    r = run(url, "users", "reset-password", "sun", "--password-stdin", input="A new password 2026\n")
    assert r.exit_code == 0 and "sessions have ended" in r.output
    assert store.authenticate("sun", PASSWORD) is None
    assert store.authenticate("sun", "A new password 2026") is not None
    assert store.get("sun").epoch == epoch + 1
    r = run(url, "users", "reset-password", "sun", "--password-stdin", input="short\n")
    assert r.exit_code == 2 and "at least 12 characters" in r.output


def test_nothing_deployed_is_a_clear_error(db_url):
    r = run(db_url, "users", "create", "chen", "--admin", "--password-stdin", input=PASSWORD + "\n")
    assert r.exit_code == 2 and "nothing is deployed" in r.output.lower()
