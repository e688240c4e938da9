"""YAML bundle → frozen IR, in layers that together report every problem at once:
load (YAML) → schema (per kind) → declare (names, record types) → build and link (IR,
expressions, references) → bundle (content hash)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Mapping

from . import kinds as _kinds  # noqa: F401  (registers every kind)
from .bundle import Bundle, document_hash, make_bundle
from .diagnostics import Diagnostic, Diagnostics, SourceCache, did_you_mean
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
    found: list[FsPath] = []
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
    """Compile a bundle given as {file name: text}; the entry point tests use. The bundle keeps the
    texts of the files its documents came from, so a deployment can store them as written."""
    diags = diags if diags is not None else Diagnostics()
    valid, ctx = _link(texts, diags)
    result = CompileResult(None, diags, SourceCache(texts), files=len(texts))
    if not diags.has_errors:
        result.bundle = _bundle_of(valid, ctx, texts, {})
    return result


def compile_available(texts: dict[str, str],
                      expected: Mapping[tuple[str, str], tuple[str, str]] | None = None) -> CompileResult:
    """Compile a stored release document by document, the way a newer Banyan loads what an older
    one deployed: a document whose file has an error (or, given `expected` {(kind, name): (file,
    hash of its normalized data)}, that is missing or now reads differently) is left out; it and every
    document that names it, directly or through others, are listed in `bundle.unavailable`
    ({"Kind/name": reason}); the rest run. Documents that only depend on a broken one keep their
    IR (an entity's records stay readable). The bundle is made even when nothing is left."""
    diags = Diagnostics()
    valid, ctx = _link(texts, diags)
    errors: dict[str, Diagnostic] = {}
    for d in diags.sorted():
        if d.severity == "error":
            errors.setdefault(d.span.file, d)
    broken: dict[tuple[str, str], str] = {}
    built: dict[tuple[str, str], Document] = {(str(d.kind), str(d.name)): d for d in valid}   # valid: both set
    for key, doc in built.items():
        if doc.file in errors:
            broken[key] = _reason(errors[doc.file])
        elif expected is not None and key in expected and document_hash(doc.data) != expected[key][1]:
            broken[key] = f"{doc.file}: this Banyan reads the document differently than the one that deployed it"
    for key in sorted(set(expected or ()) - set(built)):
        file = (expected or {})[key][0]
        broken[key] = _reason(errors[file]) if file in errors else f"{file} no longer holds this document"
    unavailable = {f"{k}/{n}": why for (k, n), why in broken.items()}
    changed = True
    while changed:                              # whoever names an unavailable document is unavailable too
        changed = False
        for key in sorted(built):
            name = f"{key[0]}/{key[1]}"
            if name in unavailable:
                continue
            needs = sorted(f"{k}/{n}" for k, n in ctx.references.get(key, ()) if f"{k}/{n}" in unavailable)
            if needs:
                unavailable[name] = f"it refers to {needs[0]}, which is unavailable"
                changed = True
    kept = [doc for key, doc in built.items() if key not in broken and key in ctx.built]
    return CompileResult(_bundle_of(kept, ctx, texts, unavailable), diags, SourceCache(texts), files=len(texts))


def _link(texts: dict[str, str], diags: Diagnostics) -> tuple[list[Document], LinkContext]:
    """Load, check and build every document; the valid ones and the link context that built them."""
    docs = [d for d in (load_text(text, name, diags) for name, text in texts.items()) if d is not None]
    decls = Declarations(diags)
    valid: list[Document] = []
    for doc in docs:
        kind = doc.kind
        if _check_envelope(doc, diags) and kind is not None and check_document(doc, validator(kind), diags):
            valid.append(doc)
        if kind in KINDS and doc.name and decls.add_document(doc):
            declare = KINDS[kind].declare
            if declare is not None:
                declare(doc, decls)
        elif doc in valid:
            valid.remove(doc)
    ctx = LinkContext(decls)
    for doc in sorted(valid, key=lambda d: (KINDS[d.ref[0]].order, d.ref)):
        ctx.built[doc.ref] = KINDS[doc.ref[0]].build(doc, ctx)
    _check_file_names(valid, diags)
    return valid, ctx


def _bundle_of(docs: list[Document], ctx: LinkContext, texts: Mapping[str, str], unavailable: dict) -> Bundle:
    return make_bundle({d.ref: ctx.built[d.ref] for d in docs},
                       {d.ref: d.data for d in docs}, {d.ref: d.file for d in docs}, ctx.env,
                       texts={d.file: texts[d.file] for d in docs if d.file in texts}, unavailable=unavailable)


def _reason(d: Diagnostic) -> str:
    return f"{d.span}: {d.code} {d.message}"


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
