"""A small bank for the record doors: an org unit, a firm, a deal with one field of each kind of
rule (pattern, money, integer max, enum, reference, date, percent range), an administrator and a
clerk who may write records but not import them, and one client per door."""
from __future__ import annotations

import html
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner
from fastapi.testclient import TestClient

from dsl.compiler import compile_path
from runtime.auth.org import OrgTree
from runtime.auth.users import UserStore
from runtime.cli.main import main
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.releases import release_of
from runtime.records.service import Records
from runtime.storage.db import make_engine
from runtime.storage.migrate import upgrade
from runtime.web.app import create_app

PASSWORD = "doors-test-2026"
GOOD_ROW = {"deal_no": "D0001", "amount": "8亿", "tenor_days": "365", "product": "loan", "firm": "F1",
            "signed_on": "2026-01-05", "share": "35"}
FILES = {
    "head_office.yaml": """
        apiVersion: banyan/v1
        kind: OrgUnit
        metadata: {name: head_office, label: {zh: 总行, en: Head office}}
        spec: {type: head_office, code: '100000'}
    """,
    "clerk.yaml": """
        apiVersion: banyan/v1
        kind: Role
        metadata: {name: clerk, label: {zh: 柜员, en: Clerk}}
        spec: {scope: global}
    """,
    "firm.yaml": """
        apiVersion: banyan/v1
        kind: Entity
        metadata: {name: firm, label: {zh: 企业, en: Firm}}
        spec:
          key: code
          display: name
          fields:
            - {name: code, type: string, label: {zh: 企业编号, en: Firm code}, required: true, unique: true}
            - {name: name, type: string, label: {zh: 企业名称, en: Firm name}, required: true}
    """,
    "deal.yaml": """
        apiVersion: banyan/v1
        kind: Entity
        metadata: {name: deal, label: {zh: 交易, en: Deal}}
        spec:
          key: deal_no
          fields:
            - name: deal_no
              type: string
              label: {zh: 交易编号, en: Deal number}
              required: true
              unique: true
              pattern: "^D[0-9]{4}$"
            - {name: amount, type: money, label: {zh: 金额, en: Amount}, required: true}
            - {name: tenor_days, type: integer, label: {zh: 期限, en: Tenor}, max: 3650}
            - name: product
              type: enum
              label: {zh: 品种, en: Product}
              values:
                - {value: loan, label: {zh: 贷款, en: Loan}}
                - {value: guarantee, label: {zh: 保函, en: Guarantee}}
            - {name: firm, type: ref(firm), label: {zh: 企业, en: Firm}}
            - {name: signed_on, type: date, label: {zh: 签约日, en: Signed on}}
            - {name: share, type: percent, label: {zh: 占比, en: Share}, min: "0%", max: "100%"}
    """,
}


@dataclass
class Bank:
    url: str
    engine: object
    app: object
    root: Path

    def records(self) -> Records:
        return Records(self.engine)

    def count(self, entity: str = "deal") -> int:
        return self.records().query(entity, {}, limit=1).total


def make_record_bank(root: Path, url: str) -> Bank:
    for name, text in FILES.items():
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    result = compile_path(str(root))
    assert result.ok, result.diagnostics
    engine = make_engine(url)
    upgrade(engine)
    DeploymentRegistry(engine).deploy(release_of(result.bundle), author="test", message="record doors")
    records = Records(engine)
    records.create("firm", {"code": "F1", "name": "Acme"}, actor="test")
    store, tree = UserStore(engine), OrgTree(records.live.bundle)
    store.save("boss", display_name="管理员", org_unit="head_office", password=PASSWORD, is_admin=True, tree=tree,
               new=True)
    store.save("clerk_one", display_name="柜员甲", org_unit="head_office", password=PASSWORD,
               roles=[("clerk", "")], tree=tree, new=True)
    store.set_grants("clerk", {"records.write"})
    return Bank(url, engine, create_app(engine), root)


# -- signing in ----------------------------------------------------------------------------------

def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def signed_in(app, user: str, lang: str) -> TestClient:
    client = TestClient(app)
    page = client.get("/ui/signin")
    r = client.post("/ui/signin", data={"csrf_token": csrf_of(page.text), "username": user, "password": PASSWORD,
                                        "next": "/ui/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    home = client.get("/ui/")
    client.post("/ui/lang", data={"csrf_token": csrf_of(home.text), "to": lang, "next": "/ui/"})
    return client


# -- what a page shows beside its fields ---------------------------------------------------------

_ERROR = re.compile(r'<p class="bf-error" id="f-(?P<name>[^"]+?)-error"[^>]*>(?P<text>[^<]*)</p>')


def field_errors(page: str) -> dict[str, str]:
    """{field name: the problem shown under it} of a rendered form (empty fields left out)."""
    return {m["name"]: html.unescape(m["text"]) for m in _ERROR.finditer(page) if m["text"].strip()}


def form_data(values: dict) -> dict:
    return {k: str(v) for k, v in values.items()}


def csv_bytes(*rows: dict) -> bytes:
    """A UTF-8 CSV file: the field names of the rows as its header, then the rows."""
    names = list(dict.fromkeys(n for row in rows for n in row))
    lines = [",".join(names)] + [",".join(str(row.get(n, "")) for n in names) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def cli(url: str, args: list[str], lang: str):
    return CliRunner().invoke(main, args, env={"BANYAN_DATABASE_URL": url, "BANYAN_LANG": lang})


def cli_problems(stderr: str) -> list[tuple[str, str]]:
    """`  where: words` lines under the `error:` line of the CLI."""
    out = []
    for line in stderr.splitlines():
        if line.startswith("  ") and ": " in line:
            where, _, words = line.strip().partition(": ")
            out.append((where, words))
    return out
