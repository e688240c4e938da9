"""JSON Schemas for editors, and `explain` lookups into them."""
from __future__ import annotations

from typing import Any

from . import kinds as _kinds  # noqa: F401
from .codes import CODES
from .kinds.registry import KINDS

BUNDLE_SCHEMA_FILE = "banyan.json"


def kind_schemas() -> dict[str, dict]:
    """{file name: schema} for every kind, plus one schema that picks the kind by `kind:` (its
    `$ref`s name the kinds' files; no schema has an `$id`, so they resolve beside it, offline)."""
    out = {f"{k.file_stem}.json": k.schema for k in KINDS.values()}
    out[BUNDLE_SCHEMA_FILE] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Any Banyan document",
        "type": "object",
        "required": ["apiVersion", "kind"],
        "properties": {"kind": {"enum": sorted(KINDS)}},
        "allOf": [{"if": {"properties": {"kind": {"const": k.kind}}, "required": ["kind"]},
                   "then": {"$ref": f"{k.file_stem}.json"}} for k in KINDS.values()],
    }
    return out


def editor_settings(schema_dir: str, glob: str = "configs/**/*.yaml") -> dict:
    """The yaml-language-server mapping (VS Code `settings.json` keys)."""
    return {"yaml.schemas": {f"{schema_dir.rstrip('/')}/{BUNDLE_SCHEMA_FILE}": [glob]},
            "yaml.customTags": [], "yaml.yamlVersion": "1.2"}


def explain(topic: str) -> str | None:
    """Text for `banyan explain TOPIC`: a code (BNY204), `kinds`, or KIND[.path.to.key]."""
    if topic.upper() in CODES:
        c = CODES[topic.upper()]
        return f"{c.code}: {c.title}\n\n{c.explanation}"
    if topic == "kinds":
        return "\n".join(f"{k.kind:<10} {k.summary}" for k in sorted(KINDS.values(), key=lambda k: k.kind))
    kind, _, rest = topic.partition(".")
    match = next((k for k in KINDS if k.lower() == kind.lower()), None)
    if match is None:
        return None
    node: Any = KINDS[match].schema
    trail = [match]
    for part in [p for p in rest.split(".") if p]:
        node = _child(node, part)
        if node is None:
            return None
        trail.append(part)
    return _describe(".".join(trail), node)


def _child(node: dict, key: str) -> dict | None:
    node = _unwrap(node)
    if node.get("type") == "array" or "items" in node:
        node = _unwrap(node.get("items", {}))
    props = node.get("properties", {})
    return props.get(key)


def _unwrap(node: dict) -> dict:
    for combo in ("oneOf", "anyOf"):
        if combo in node:
            objects = [n for n in node[combo] if n.get("type") == "object" or "properties" in n]
            if objects:
                return objects[0]
    return node


def _describe(title: str, node: dict) -> str:
    lines = [title]
    if node.get("description"):
        lines.append(f"  {node['description']}")
    t = node.get("type") or ("one of several forms" if "oneOf" in node else None)
    if "const" in node:
        lines.append(f"  value: {node['const']}")
    if "enum" in node:
        lines.append("  one of: " + ", ".join(map(str, node["enum"])))
    if t:
        lines.append(f"  type: {t}")
    if node.get("pattern"):
        lines.append(f"  form: {node.get('x-hint') or node['pattern']}")
    inner = _unwrap(node.get("items", node)) if (node.get("type") == "array") else _unwrap(node)
    props = inner.get("properties", {})
    if props:
        required = set(inner.get("required", []))
        lines.append("  keys:")
        for key, sub in props.items():
            desc = sub.get("description") or sub.get("x-hint") or ""
            star = " (required)" if key in required else ""
            lines.append(f"    {key}{star}" + (f" — {desc}" if desc else ""))
    return "\n".join(lines)
