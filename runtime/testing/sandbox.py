"""A throwaway database for `banyan test`: SQLite in a temporary folder, Banyan's tables made and
the bundle under test deployed once; each case runs on its own copy (a file copy, milliseconds),
so cases never see each other's records and nothing touches the operator's database."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.releases import release_of
from runtime.flows.directory import put_people
from runtime.storage.db import make_engine, writing
from runtime.storage.migrate import upgrade
from runtime.testing.directory import people_of


class Sandbox:
    def __init__(self, bundle: Any):
        self._dir = tempfile.TemporaryDirectory(prefix="banyan-test-")
        self.root = Path(self._dir.name)
        self.template = self.root / "template.db"
        engine = make_engine(f"sqlite:///{self.template}")
        try:
            upgrade(engine)
            DeploymentRegistry(engine).deploy(release_of(bundle), author="banyan test",
                                              message="the bundle under test")
            with writing(engine) as conn:
                put_people(conn, *people_of(bundle))
        finally:
            engine.dispose()
        self._n = 0

    def fresh(self) -> Engine:
        """A database of its own for one case: the deployed template, copied."""
        self._n += 1
        path = self.root / f"case{self._n}.db"
        shutil.copyfile(self.template, path)
        return make_engine(f"sqlite:///{path}")

    def close(self) -> None:
        self._dir.cleanup()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
