"""What is deployed right now, ready to run: the compiled bundle, its tables, its version, and
what of it is unavailable.

A process compiles a stored release once (cached under the hash of the stored JSON) and learns a
deployment version's release once (cached per database URL and version: a version's row never
changes), so no request recompiles or rereads the files. A document this Banyan cannot compile
(or reads differently from the Banyan that deployed it) is unavailable, with the documents that
name it: `bundle.unavailable` is {"Kind/name": reason}; everything else runs.
"""
from __future__ import annotations

import threading
import weakref
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dsl.bundle import Bundle
from dsl.diagnostics import did_you_mean
from dsl.errors import BanyanError
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.releases import decode_release, encode_release, load_bundle, release_key, release_of
from runtime.deploy.table_model import TableModel, TableSpec, metadata_for
from runtime.storage.prepared import Prepared
from runtime.storage.tables import deployments as t_deployments

_BUNDLES: dict[str, Bundle] = {}                      # release key -> the release compiled by this process
_VERSIONS: dict[tuple[str, int], str] = {}            # (database URL, version) -> release key
_URLS: "weakref.WeakKeyDictionary[Any, str]" = weakref.WeakKeyDictionary()
_HEADS_SEEN: ContextVar[dict | None] = ContextVar("banyan_heads_seen", default=None)
_HEAD = Prepared(sa.select(sa.func.max(t_deployments.c.version).label("live_version")))    # asked on every request


class NothingDeployed(BanyanError):
    """No bundle is deployed yet in this database."""
    code, status, namespace, generic = "nothing_deployed", 409, "deploy", True


class UnknownEntity(BanyanError):
    code, status, namespace = "unknown_entity", 404, "deploy"

    def __init__(self, name: str, known: list[str], unavailable: str | None = None):
        if unavailable is not None:
            message = (f"entity `{name}` is unavailable in the deployed bundle: {unavailable} — "
                       "fix its YAML and redeploy (`banyan status` lists what is unavailable)")
        else:
            hint = did_you_mean(name, known) or ("known: " + ", ".join(known) if known else "nothing is deployed")
            message = f"no entity `{name}` in the deployed bundle; {hint}"
        super().__init__(message, problems=[{"loc": ["path", "entity"], "msg": message, "type": "unknown"}])
        self.name = name


@dataclass(frozen=True)
class LiveModel:
    version: int
    hash: str
    bundle: Any
    model: TableModel
    tables: dict[str, sa.Table]
    _derived: dict = field(default_factory=dict, compare=False, repr=False)

    def cache(self, key: Any, make: Callable[..., Any], *args: Any) -> Any:
        """`make(*args)`, worked out once for this live bundle under `key` (dropped with it)."""
        try:
            return self._derived[key]
        except KeyError:
            found = self._derived[key] = make(*args)
            return found

    def entity(self, name: str) -> Any:
        ent = self.bundle.entities.get(name)
        if ent is None:
            raise UnknownEntity(name, sorted(self.bundle.entities), self.unavailable.get(f"Entity/{name}"))
        return ent

    def spec(self, name: str) -> TableSpec:
        self.entity(name)
        return self.model[name]

    def table(self, name: str) -> sa.Table:
        self.entity(name)
        return self.tables[name]

    @property
    def entity_names(self) -> list[str]:
        return sorted(self.bundle.entities)

    @property
    def unavailable(self) -> Mapping[str, str]:
        return getattr(self.bundle, "unavailable", {})

    def runnable(self, kind: str) -> dict[str, Any]:
        """The documents of `kind` that may run (an unavailable alert rule or tiering does not)."""
        return runnable_documents(self.bundle, kind)

    def read_only(self, entity: str) -> str | None:
        """Why `entity`'s records may be read but not changed (None: they may be changed)."""
        return self.unavailable.get(f"Entity/{entity}")


@dataclass(frozen=True)
class LiveStatus:
    """What `banyan status`, `/health` and the deployments page show."""
    version: int | None
    hash: str | None
    unavailable: Mapping[str, str] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return not self.unavailable


def runnable_documents(bundle: Any, kind: str) -> dict[str, Any]:
    """`bundle.of_kind(kind)` without the unavailable ones: what a scheduler or evaluator runs."""
    return {n: ir for n, ir in bundle.of_kind(kind).items() if f"{kind}/{n}" not in bundle.unavailable}


def compiled(release_hash: str, sources_json: str) -> Bundle:
    """The stored release `sources_json` compiled by this Banyan (once per process)."""
    key = release_key(sources_json)
    bundle = _BUNDLES.get(key)
    if bundle is None:
        bundle = _BUNDLES[key] = load_bundle(decode_release(release_hash, sources_json, {}))
    return bundle


def bundle_at(conn: Connection, version: int) -> Bundle | None:
    """The compiled bundle of deployment `version` (None: no such version)."""
    engine = conn.engine
    url = _URLS.get(engine)
    if url is None:
        url = _URLS[engine] = engine.url.render_as_string(hide_password=False)
    key = _VERSIONS.get((url, version))
    if key is None or key not in _BUNDLES:
        row = conn.execute(sa.select(t_deployments.c.hash, t_deployments.c.sources)
                           .where(t_deployments.c.version == version)).first()
        if row is None:
            return None
        bundle = compiled(row.hash, row.sources)
        _VERSIONS[(url, version)] = release_key(row.sources)
        return bundle
    return _BUNDLES[key]


def live_status(engine: Engine) -> LiveStatus:
    """The current version and what of it is unavailable (cheap after the first call per version)."""
    with engine.connect() as conn:
        head = conn.execute(sa.select(t_deployments.c.version, t_deployments.c.hash)
                            .order_by(t_deployments.c.version.desc()).limit(1)).first()
        if head is None:
            return LiveStatus(None, None)
        bundle = bundle_at(conn, head.version)
    return LiveStatus(head.version, head.hash, dict(bundle.unavailable) if bundle is not None else {})


def load_live(engine: Engine, registry: DeploymentRegistry | None = None) -> LiveModel:
    registry = registry or DeploymentRegistry(engine)
    head = registry.current()
    if head is None:
        raise NothingDeployed("nothing is deployed in this database yet; run `banyan deploy configs` first")
    bundle = compiled(head.hash, head.sources_json)
    model = head.model
    _md, tables = metadata_for(model)
    return LiveModel(head.version, head.hash, bundle, model, tables)


def live_from_bundle(bundle: Any, version: int, model: TableModel) -> LiveModel:
    """A LiveModel for a bundle compiled in this process (tests and `banyan seed` after a deploy)."""
    _BUNDLES[release_key(encode_release(release_of(bundle)))] = bundle
    _md, tables = metadata_for(model)
    return LiveModel(version, bundle.hash, bundle, model, tables)


@contextmanager
def one_look() -> Iterator[None]:
    """Inside it, a process asks each database which deployment is live once, however many
    services follow it: a page asked it two dozen times, a round trip each; a scan's batch asked it
    for every flow it started. The server wraps each request in it, the alert scan each batch and
    the change feed each subscriber's batch; a deploy that lands meanwhile is followed from the next."""
    if _HEADS_SEEN.get() is not None:       # inside a look already (a command inside a request): that one
        yield
        return
    token = _HEADS_SEEN.set({})
    try:
        yield
    finally:
        _HEADS_SEEN.reset(token)


class LiveFollower:
    """The live model of one database, following each new deployment. Requests arriving
    together on a fresh process load the model once: two models would build two sets of tables,
    and a query joining a condition of one to a table of the other names the table twice."""

    def __init__(self, engine: Engine, live: LiveModel | None = None):
        self.engine, self._live = engine, live
        self._loading = threading.Lock()

    @property
    def live(self) -> LiveModel:
        if self._live is None:
            with self._loading:
                if self._live is None:
                    self._live = load_live(self.engine)
        return self._live

    def refresh(self) -> LiveModel:
        """The model of the deployment live now (cheap when nothing changed: one short query, and
        none at all when this request already looked)."""
        seen = _HEADS_SEEN.get()
        if seen is not None and self.engine in seen:
            head = seen[self.engine]
        else:
            with self.engine.connect() as conn:
                head = _HEAD.scalar(conn)
            if seen is not None:
                seen[self.engine] = head
        if self._live is None or head != self._live.version:
            with self._loading:
                if self._live is None or head != self._live.version:
                    self._live = load_live(self.engine)
        return self._live
