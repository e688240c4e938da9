"""The loan flow of test_same_problems.py with people who can sign in to the pages: `rm` (a
clerk, who may start it) and `boss` (its reviewer)."""
from __future__ import annotations

import textwrap
from pathlib import Path

from dsl.compiler import compile_path
from runtime.auth.org import OrgTree
from runtime.auth.users import UserStore
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.releases import release_of
from runtime.storage.db import make_engine
from runtime.storage.migrate import upgrade

from .record_bank import FILES as RECORD_FILES
from .record_bank import PASSWORD
from .test_same_problems import FILES as FLOW_FILES


def make_flow_bank(root: Path, url: str):
    """(url, engine) of a database with the loan flow deployed and rm, boss able to sign in."""
    files = {**FLOW_FILES, "head_office.yaml": RECORD_FILES["head_office.yaml"]}
    for name, text in files.items():
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    result = compile_path(str(root))
    assert result.ok, result.diagnostics
    engine = make_engine(url)
    upgrade(engine)
    DeploymentRegistry(engine).deploy(release_of(result.bundle), author="test", message="flow doors")
    from runtime.records.service import Records
    store, tree = UserStore(engine), OrgTree(Records(engine).live.bundle)
    store.save("rm", display_name="客户经理", org_unit="head_office", password=PASSWORD, roles=[("clerk", "")],
               tree=tree, new=True)
    store.save("boss", display_name="审查人", org_unit="head_office", password=PASSWORD, tree=tree, new=True)
    return url, engine
