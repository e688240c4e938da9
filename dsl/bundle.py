"""The compiled bundle: frozen IR of every document, the type environment, a content hash."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Mapping

from .expr.types import TypeEnv

IR_VERSION = "banyan-ir/1"


@dataclass(frozen=True)
class Bundle:
    """Everything a deployment runs. Immutable: nothing patches it after compile."""

    hash: str
    documents: Mapping[tuple[str, str], Any]      # (kind, name) -> IR
    sources: Mapping[tuple[str, str], Any]        # (kind, name) -> the normalized YAML data
    files: Mapping[tuple[str, str], str]          # (kind, name) -> file it came from
    env: TypeEnv
    texts: Mapping[str, str] = field(default_factory=dict)        # file -> its text as the authors wrote it
    unavailable: Mapping[str, str] = field(default_factory=dict)  # "Kind/name" -> why it cannot run (stored releases)

    _kinds: dict = field(default_factory=dict, repr=False, compare=False)          # kind -> its documents, once

    def of_kind(self, kind: str) -> dict[str, Any]:
        """The documents of `kind` by name, in name order (a fresh dict: the caller may change it)."""
        kept = self._kinds.get(kind)
        if kept is None:
            kept = self._kinds[kind] = {n: ir for (k, n), ir in sorted(self.documents.items()) if k == kind}
        return dict(kept)

    def get(self, kind: str, name: str) -> Any:
        return self.documents.get((kind, name))

    @property
    def entities(self) -> dict[str, Any]:
        return self.of_kind("Entity")

    def summary(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for kind, _ in self.documents:
            out[kind] = out.get(kind, 0) + 1
        return dict(sorted(out.items()))


def canonical_json(data: Any) -> str:
    """A stable text form of YAML data: sorted keys, Decimals as text, no whitespace."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    raise TypeError(f"cannot hash {type(value).__name__}")


def document_hash(data: Any) -> str:
    """The hash of one document's normalized data (how a stored release tells a changed document)."""
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


def content_hash(sources: Mapping[tuple[str, str], Any]) -> str:
    h = hashlib.sha256(IR_VERSION.encode())
    for (kind, name) in sorted(sources):
        h.update(f"\0{kind}\0{name}\0".encode())
        h.update(canonical_json(sources[(kind, name)]).encode())
    return h.hexdigest()


def make_bundle(documents: dict, sources: dict, files: dict, env: TypeEnv, texts: Mapping[str, str] | None = None,
                unavailable: Mapping[str, str] | None = None) -> Bundle:
    return Bundle(hash=content_hash(sources), documents=MappingProxyType(dict(documents)),
                  sources=MappingProxyType(dict(sources)), files=MappingProxyType(dict(files)), env=env,
                  texts=MappingProxyType(dict(texts or {})), unavailable=MappingProxyType(dict(unavailable or {})))
