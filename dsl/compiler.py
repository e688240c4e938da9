"""YAML bundle → frozen IR, in layers that together report every problem at once:
load (YAML) → schema (per kind) → declare (names, record types) → build and link (IR,
expressions, references) → bundle (content hash)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path as FsPath

from . import kinds as _kinds  # noqa: F401  (registers every kind)
from .bundle import Bundle, make_bundle
from .diagnostics import Diagnostics, SourceCache, did_you_mean
from .kinds.registry import KINDS, validator
from .link import Declarations, LinkContext
from .loader import Document, load_text
from .schema_check import check_document
from .source import Span

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass
class CompileResult:
    bundle: Bundle | None
    diagnostics: Diagnostics
    sources: SourceCache = field(default_factory=SourceCache)
    files: int = 0

    @property
    def ok(self) -> bool:
        return self.bundle is not None and not self.diagnostics.has_errors


def discover(path: str | os.PathLike) -> list[FsPath]:
    """The YAML files of a bundle: a file, or every .yaml/.yml below a directory (hidden ones skipped)."""
    root = FsPath(path)
    if root.is_file():
        return [root]
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found.extend(FsPath(dirpath) / f for f in sorted(filenames)
                     if f.endswith(YAML_SUFFIXES) and not f.startswith("."))
    return found


def compile_path(path: str | os.PathLike) -> CompileResult:
    diags = Diagnostics()
    root = FsPath(path)
    if not root.exists():
        diags.add("BNY003", f"no such file or directory: {path}", Span(str(path), 1, 1),
                  "check the path; `banyan validate` takes a bundle directory or a .yaml file")
        return CompileResult(None, diags)
    files = discover(root)
    if not files:
        diags.add("BNY002", f"no .yaml files under {path}", Span(str(path), 1, 1),
                  "`banyan new Entity NAME` creates a first file")
        return CompileResult(None, diags)
    texts: dict[str, str] = {}
    for f in files:
        display = _display_path(f)
        try:
            texts[display] = f.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            diags.add("BNY001", f"cannot read {display}: {exc}", Span(display, 1, 1), "save the file as UTF-8")
    return compile_texts(texts, diags)


def compile_texts(texts: dict[str, str], diags: Diagnostics | None = None) -> CompileResult:
    """Compile a bundle given as {file name: text}; the entry point tests use."""
    diags = diags if diags is not None else Diagnostics()
    docs = [d for d in (load_text(text, name, diags) for name, text in texts.items()) if d is not None]
    decls = Declarations(diags)
    valid: list[Document] = []
    for doc in docs:
        if _check_envelope(doc, diags) and check_document(doc, validator(doc.kind), diags):
            valid.append(doc)
        if doc.kind in KINDS and doc.name and decls.add_document(doc):
            declare = KINDS[doc.kind].declare
            if declare is not None:
                declare(doc, decls)
        elif doc in valid:
            valid.remove(doc)
    ctx = LinkContext(decls)
    for doc in sorted(valid, key=lambda d: (KINDS[d.kind].order, d.kind, d.name)):
        ctx.built[(doc.kind, doc.name)] = KINDS[doc.kind].build(doc, ctx)
    _check_file_names(valid, diags)
    result = CompileResult(None, diags, SourceCache(texts), files=len(texts))
    if not diags.has_errors:
        result.bundle = make_bundle(ctx.built, {(d.kind, d.name): d.data for d in valid},
                                    {(d.kind, d.name): d.file for d in valid}, ctx.env)
    return result


def _check_envelope(doc: Document, diags: Diagnostics) -> bool:
    data = doc.data
    if not isinstance(data, dict):
        diags.add("BNY201", "the top level must be a mapping with apiVersion, kind, metadata and spec",
                  doc.span(()), "start the file with `apiVersion: banyan/v1` and `kind: ...`")
        return False
    if data.get("apiVersion") != "banyan/v1":
        if "apiVersion" in data:
            diags.add("BNY202", f"apiVersion `{data['apiVersion']}` is not supported", doc.span(("apiVersion",)),
                      "write `apiVersion: banyan/v1`")
        else:
            diags.add("BNY204", "the document is missing the required key `apiVersion`", doc.span(()),
                      "add `apiVersion: banyan/v1` as the first line")
    kind = data.get("kind")
    if kind is None:
        diags.add("BNY204", "the document is missing the required key `kind`", doc.span(()),
                  f"add `kind:` with one of: {', '.join(sorted(KINDS))}")
        return False
    if not isinstance(kind, str):
        diags.add("BNY206", f"`kind` must be one kind name written as text, not a {type(kind).__name__}",
                  doc.span(("kind",)), f"write e.g. `kind: Role`; one of: {', '.join(sorted(KINDS))}")
        return False
    if kind not in KINDS:
        diags.add("BNY203", f"unknown kind `{kind}`", doc.span(("kind",)),
                  did_you_mean(str(kind), KINDS) or f"use one of: {', '.join(sorted(KINDS))}")
        return False
    return data.get("apiVersion") == "banyan/v1"


def _check_file_names(docs: list[Document], diags: Diagnostics) -> None:
    for doc in docs:
        stem = FsPath(doc.file).stem
        if doc.name and stem != doc.name:
            diags.add("BNY408", f"file {FsPath(doc.file).name} holds `{doc.name}`", doc.span(("metadata", "name")),
                      f"rename the file to {doc.name}.yaml", severity="warning")


def _display_path(p: FsPath) -> str:
    try:
        return str(p.resolve().relative_to(FsPath.cwd().resolve()))
    except ValueError:
        return str(p)
