"""A release is what a deployment stores: bundle hash, normalized sources, table model.

Promote and rollback deploy a stored release as it is, without recompiling the YAML. To run
one (records need the compiled rules), `load_bundle` compiles the stored sources again and
checks that the hash comes out the same.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

import yaml

from runtime.deploy.table_model import TableModel, model_of


class ReleaseError(Exception):
    """A stored release cannot be loaded (its sources no longer compile to the same bundle)."""


@dataclass(frozen=True)
class Release:
    hash: str
    sources: Mapping[tuple[str, str], Any]
    model: TableModel


def release_of(bundle: Any) -> Release:
    return Release(bundle.hash, dict(bundle.sources), model_of(bundle))


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    raise TypeError(f"cannot store {type(value).__name__}")


def _decode(obj: dict) -> Any:
    if set(obj) == {"$decimal"}:
        return Decimal(obj["$decimal"])
    return obj


def encode_sources(sources: Mapping[tuple[str, str], Any]) -> str:
    items = [[kind, name, data] for (kind, name), data in sorted(sources.items())]
    return json.dumps(items, ensure_ascii=False, default=_encode)   # key order matters to some kinds


def decode_sources(text: str) -> dict[tuple[str, str], Any]:
    return {(kind, name): data for kind, name, data in json.loads(text, object_hook=_decode)}


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(Decimal, lambda d, v: d.represent_scalar("tag:yaml.org,2002:float", str(v)))


def source_texts(sources: Mapping[tuple[str, str], Any]) -> dict[str, str]:
    """The stored sources as YAML files `{Kind}/{name}.yaml`, ready for `compile_texts`."""
    return {f"{kind}/{name}.yaml": yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False)
            for (kind, name), data in sorted(sources.items())}


def load_bundle(release_hash: str, sources: Mapping[tuple[str, str], Any]) -> Any:
    from dsl.compiler import compile_texts
    result = compile_texts(source_texts(sources))
    if not result.ok:
        first = next((d for d in result.diagnostics.sorted() if d.severity == "error"), None)
        raise ReleaseError(f"the deployed bundle {release_hash[:12]} no longer compiles: "
                           f"{first.message if first else 'unknown error'}")
    if result.bundle.hash != release_hash:
        raise ReleaseError(f"the deployed bundle {release_hash[:12]} recompiles to {result.bundle.hash[:12]}; "
                           "the compiler changed what it normalizes — redeploy from the YAML")
    return result.bundle
