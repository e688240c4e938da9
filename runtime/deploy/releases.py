"""A release is what a deployment stores: the bundle hash, the authors' files as written, the
hash of each document, and the table model.

Stored in the deployment's `sources` column as JSON:
`{"format": 2, "files": {path: text}, "documents": [[kind, name, path, hash], ...]}` — the path
as the compiler named the file (relative to where the deploy ran, e.g.
`configs/flows/group_credit_approval.yaml`; a bundle outside that folder is named from its own
folder), the hash that of the document's normalized data (`dsl.bundle.document_hash`).
Deployments written before format 2 stored `[[kind, name, normalized data], ...]`; they still
load, as regenerated `{Kind}/{name}.yaml` files.

Promote and rollback deploy a stored release as it is. To run one, `load_bundle` compiles the
stored files again, document by document (`dsl.compiler.compile_available`): a document that no
longer compiles, or reads differently, is unavailable with its reason — and so is every document
that names it — instead of the whole release failing.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

import yaml

from dsl.bundle import Bundle, document_hash
from dsl.compiler import compile_available
from dsl.errors import BanyanError
from runtime.deploy.table_model import TableModel, model_of

FORMAT = 2


class ReleaseError(BanyanError):
    """A stored release cannot be read at all (its stored JSON is damaged)."""
    code, status, namespace = "release_unavailable", 409, "deploy"


@dataclass(frozen=True)
class Release:
    hash: str
    files: Mapping[str, str]                                # path -> text, as the authors wrote it
    documents: Mapping[tuple[str, str], tuple[str, str]]    # (kind, name) -> (path, document hash)
    model: TableModel
    legacy: bool = False                                    # stored before format 2 (files regenerated)

    @property
    def document_hashes(self) -> dict[tuple[str, str], str]:
        return {key: h for key, (_path, h) in self.documents.items()}


def release_of(bundle: Bundle) -> Release:
    """The release of a bundle compiled in this process (its files as they were read)."""
    if not bundle.texts:                        # a bundle made without its texts: store the data as YAML
        return _legacy_release(bundle.hash, dict(bundle.sources), model_of(bundle))
    names = _portable_names(sorted(set(bundle.files.values())))
    files = {names[path]: bundle.texts[path] for path in sorted(names)}
    documents = {key: (names[path], document_hash(bundle.sources[key])) for key, path in bundle.files.items()}
    return Release(bundle.hash, files, documents, model_of(bundle))


def _portable_names(paths: list[str]) -> dict[str, str]:
    """Absolute paths (a bundle outside the working folder) become relative to the bundle folder's
    parent, so `/home/ops/bank/configs/x.yaml` is stored as `configs/x.yaml`."""
    absolute = [p for p in paths if os.path.isabs(p)]
    base = os.path.dirname(os.path.commonpath([os.path.dirname(p) for p in absolute])) if absolute else ""
    return {p: os.path.relpath(p, base).replace(os.sep, "/") if os.path.isabs(p) else p for p in paths}


# -- the stored JSON ---------------------------------------------------------------------------
def encode_release(release: Release) -> str:
    """A release as the deployment row stores it (an old one, rolled back to, with its regenerated files)."""
    docs = [[kind, name, path, h] for (kind, name), (path, h) in sorted(release.documents.items())]
    return json.dumps({"format": FORMAT, "files": dict(sorted(release.files.items())), "documents": docs},
                      ensure_ascii=False, sort_keys=True)


def decode_release(release_hash: str, sources_json: str, model: TableModel) -> Release:
    try:
        stored = json.loads(sources_json, object_hook=_decode)
    except ValueError:
        raise ReleaseError(f"the stored release {release_hash[:12]} is damaged (its files are not readable JSON); "
                           "deploy again from the YAML") from None
    if isinstance(stored, list):                # before format 2: normalized data per document
        return _legacy_release(release_hash, {(k, n): data for k, n, data in stored}, model)
    found = stored.get("format") if isinstance(stored, dict) else None
    if found != FORMAT:
        raise ReleaseError(f"the stored release {release_hash[:12]} has format {found!r}, which this Banyan "
                           f"does not read (it reads format {FORMAT} and older) — upgrade Banyan")
    documents = {(k, n): (path, h) for k, n, path, h in stored["documents"]}
    return Release(release_hash, dict(stored["files"]), documents, model)


def release_key(sources_json: str) -> str:
    """What a process caches a compiled release under: the stored text itself, hashed."""
    return hashlib.sha256(sources_json.encode()).hexdigest()


def _legacy_release(release_hash: str, sources: dict[tuple[str, str], Any], model: TableModel) -> Release:
    files = source_texts(sources)
    documents = {(k, n): (f"{k}/{n}.yaml", document_hash(data)) for (k, n), data in sources.items()}
    return Release(release_hash, files, documents, model, legacy=True)


def _decode(obj: dict) -> Any:
    if set(obj) == {"$decimal"}:
        return Decimal(obj["$decimal"])
    return obj


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(Decimal, lambda d, v: d.represent_scalar("tag:yaml.org,2002:float", str(v)))


def source_texts(sources: Mapping[tuple[str, str], Any]) -> dict[str, str]:
    """Normalized documents as YAML files `{Kind}/{name}.yaml` (how old deployments are read)."""
    return {f"{kind}/{name}.yaml": yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False)
            for (kind, name), data in sorted(sources.items())}


# -- running a stored release ------------------------------------------------------------------
def load_bundle(release: Release) -> Bundle:
    """The stored release compiled by this Banyan; `bundle.unavailable` names what it cannot run."""
    return compile_available(dict(release.files), dict(release.documents)).bundle
