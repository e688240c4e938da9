"""`banyan new KIND NAME`: the text of a new, valid document with a schema modeline."""
from __future__ import annotations

import os
import re
from pathlib import Path

from . import kinds as _kinds  # noqa: F401
from .errors import BanyanError
from .kinds.common import NAME_PATTERN
from .kinds.registry import KINDS


class ScaffoldError(BanyanError, ValueError):
    code, status, namespace = "scaffold", 422, "dsl"


def scaffold(kind: str, name: str, directory: Path, schema_dir: str = "schemas") -> tuple[Path, str]:
    match = next((k for k in KINDS if k.lower() == kind.lower()), None)
    if match is None:
        raise ScaffoldError(f"unknown kind `{kind}`; one of: {', '.join(sorted(KINDS))}")
    if not re.match(NAME_PATTERN, name):
        raise ScaffoldError(f"`{name}` is not a snake_case name (lower-case letters, digits, underscores)")
    k = KINDS[match]
    path = directory / f"{name}.yaml"
    if path.exists():
        raise ScaffoldError(f"{path} exists; choose another name or edit it")
    rel = os.path.relpath(Path(schema_dir) / f"{k.file_stem}.json", directory)
    title = name.replace("_", " ")
    text = (f"# yaml-language-server: $schema={rel}\n"
            f"apiVersion: banyan/v1\nkind: {match}\nmetadata:\n  name: {name}\n"
            f"  label: {{zh: {title}, en: {title.capitalize()}}}\n"
            f"  description: What this {match.lower()} is for.\n{k.scaffold}")
    return path, text
