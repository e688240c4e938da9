"""Metadata IR from a loaded document."""
from __future__ import annotations

from dsl.ir import Label, Metadata
from dsl.loader import Document


def metadata_of(doc: Document) -> Metadata:
    meta = doc.data.get("metadata") or {}
    return Metadata(kind=doc.kind or "", name=doc.name or "", label=Label.of(meta.get("label")),
                    description=meta.get("description"), owner=meta.get("owner"),
                    span=doc.span(("metadata", "name")), file=doc.file)
