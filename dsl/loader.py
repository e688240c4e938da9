"""YAML loading with a source position on every node, and the YAML 1.1 traps made errors.

`load_text` turns one file into a `Document`: plain Python data (dict, list, str, int,
Decimal, bool, None) plus a source map from JSON-pointer-like paths to spans. Rules:

- one document per file; duplicate keys, anchors, aliases and merge keys are errors (an alias
  is never expanded); mappings and lists nest at most MAX_DEPTH (64) levels;
- keys are always text, taken as written (`on:` is the key "on", never True);
- `yes/no/on/off/y/n` as values are errors (write true/false, or quote the text);
- `0012` (YAML 1.1 octal) and `12:30` (base-60) are errors: quote them;
- decimals become `Decimal` (`1.10` keeps its text in the source map, so a schema that
  wants a string there can say "quote it");
- dates and timestamps stay the text the author wrote; the kind that reads them parses them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .diagnostics import Diagnostics
from .source import Span

Path = tuple  # of str keys and int indexes

_BOOL_TRUE = {"true"}
_BOOL_FALSE = {"false"}
_OCTAL = re.compile(r"^[-+]?0[0-9_]+$")
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$")
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"
_STANDARD_TAGS = {"tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", _INT_TAG,
                  _FLOAT_TAG, _BOOL_TAG, _NULL_TAG, "tag:yaml.org,2002:timestamp"}


@dataclass
class Document:
    """One YAML file, loaded: data plus where every value and key came from."""

    file: str
    text: str
    data: Any
    spans: dict[Path, Span] = field(default_factory=dict)       # value positions
    key_spans: dict[Path, Span] = field(default_factory=dict)   # positions of mapping keys
    plain_scalars: dict[Path, str] = field(default_factory=dict)  # unquoted non-text scalars, as written

    @property
    def kind(self) -> str | None:
        return self.data.get("kind") if isinstance(self.data, dict) and isinstance(self.data.get("kind"), str) else None

    @property
    def name(self) -> str | None:
        meta = self.data.get("metadata") if isinstance(self.data, dict) else None
        name = meta.get("name") if isinstance(meta, dict) else None
        return name if isinstance(name, str) else None

    @property
    def ref(self) -> tuple[str, str]:
        """(kind, name) of a declared document: the compiler declares only those where both are text."""
        kind, name = self.kind, self.name
        if kind is None or name is None:
            raise ValueError(f"{self.file} has no kind or metadata.name: it was never declared")
        return kind, name

    def span(self, path: Path) -> Span:
        """The span of the value at path, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path and path not in self.spans:
            path = path[:-1]
        return self.spans.get(path, Span(self.file, 1, 1))

    def key_span(self, path: Path) -> Span:
        path = tuple(path)
        return self.key_spans.get(path) or self.span(path)

    def expr_span(self, path: Path) -> Span:
        """The span of the first character of a string value's text (after any quote)."""
        return self.span(path)


class _Loader(yaml.SafeLoader):
    """A SafeLoader that reports anchors and aliases instead of silently sharing nodes."""

    def __init__(self, stream, file: str, diags: Diagnostics):
        super().__init__(stream)
        self._file = file
        self._diags = diags

    def compose_node(self, parent, index):  # noqa: D401 - PyYAML hook
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            self._diags.add("BNY108", f"alias `*{event.anchor}` is not allowed",
                            _mark_span(self._file, event.start_mark),
                            "write the value out instead of referring to an anchor")
            self.get_event()            # never expanded: an empty value stands in (no billion laughs)
            return ScalarNode("tag:yaml.org,2002:null", "", event.start_mark, event.end_mark)
        elif isinstance(event, (ScalarEvent, MappingStartEvent, SequenceStartEvent)) and event.anchor:
            self._diags.add("BNY108", f"anchor `&{event.anchor}` is not allowed",
                            _mark_span(self._file, event.start_mark),
                            "remove the anchor; write each value where it is used")
        return super().compose_node(parent, index)


_FastLoader = getattr(yaml, "CSafeLoader", None)


MAX_DEPTH = 64                  # nesting levels of mappings and lists (real files: fewer than 15)
SAFE_TO_COMPOSE = 8192          # characters: libyaml composes (recursively, in C) 20,000 levels safely,
                                # and a text cannot nest deeper than it is long
_OPEN = (MappingStartEvent, SequenceStartEvent)
_CLOSE = (MappingEndEvent, SequenceEndEvent)


def _scan(text: str) -> tuple[bool, Any]:
    """(whether the pure-Python loader is needed, the mark where nesting passes MAX_DEPTH or None).

    libyaml composes ten times faster but cannot tell where anchors and aliases are, so the
    pure-Python loader, which reports them, is taken only when the events show one. Composing
    recurses once per level (in C, or in Python on that slower path), so before a text long
    enough to nest dangerously deep, or one the Python composer takes, the event stream —
    read iteratively — is checked for depth first; `_convert` bounds the depth of the rest."""
    maybe_anchors = "&" in text or "*" in text
    if _FastLoader is not None and not maybe_anchors and len(text) <= SAFE_TO_COMPOSE:
        return False, None
    anchors, depth = False, 0
    try:
        for event in yaml.parse(text, Loader=_FastLoader or yaml.SafeLoader):
            if isinstance(event, _OPEN):
                depth += 1
                if depth > MAX_DEPTH:
                    return anchors, event.start_mark
            elif isinstance(event, _CLOSE):
                depth -= 1
            if not anchors and getattr(event, "anchor", None):
                anchors = True
    except yaml.YAMLError:
        return True, None               # the composing loader reports the syntax error with its place
    return anchors or _FastLoader is None, None


def _mark_span(file: str, mark, end=None) -> Span:
    if end is not None:
        return Span(file, mark.line + 1, mark.column + 1, end.line + 1, end.column + 1)
    return Span(file, mark.line + 1, mark.column + 1)


def load_text(text: str, file: str, diags: Diagnostics) -> Document | None:
    """Load one file's text. Problems go to diags; returns None when nothing usable came out."""
    before = len(diags)
    loader = None
    slow, too_deep = _scan(text)
    if too_deep is not None:
        diags.add("BNY109", f"mappings and lists nest more than {MAX_DEPTH} levels deep here",
                  _mark_span(file, too_deep), "flatten the structure; nothing below this point was read")
        return None
    try:
        loader = _Loader(text, file, diags) if slow or _FastLoader is None else _FastLoader(text)
        nodes: list[Node] = []
        while loader.check_node():
            if (node := loader.get_node()) is not None:     # never None after check_node()
                nodes.append(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        span = _mark_span(file, mark) if mark else Span(file, 1, 1)
        diags.add("BNY101", _syntax_message(exc), span, _syntax_hint(exc, text, mark))
        return None
    except yaml.YAMLError as exc:  # reader errors: control characters and the like
        line, col = _offset_to_line_col(text, getattr(exc, "position", 0) or 0)
        diags.add("BNY101", str(exc).splitlines()[0], Span(file, line, col), "remove non-printable characters")
        return None
    finally:
        if loader is not None:
            loader.dispose()
    if not nodes:
        diags.add("BNY107", "the file is empty", Span(file, 1, 1), "add a document (see `banyan new`) or delete the file")
        return None
    if len(nodes) > 1:
        diags.add("BNY103", f"the file holds {len(nodes)} documents; Banyan reads one per file",
                  _mark_span(file, nodes[1].start_mark), "move each document after `---` into a file of its own")
    doc = Document(file=file, text=text, data=None)
    doc.data = _convert(nodes[0], (), doc, diags)
    return doc if len(diags) == before or doc.data is not None else None


def _offset_to_line_col(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def _syntax_message(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or exc.context or "invalid YAML"
    if exc.context and exc.problem:
        return f"{exc.problem} ({exc.context})"
    return problem


def _syntax_hint(exc: yaml.MarkedYAMLError, text: str, mark) -> str:
    line = text.splitlines()[mark.line] if mark and mark.line < len(text.splitlines()) else ""
    problem = (exc.problem or "") + " " + (exc.context or "")
    if "\t" in line or "'\\t'" in problem:
        return "indent with spaces, not tabs"
    if "{{" in line:
        return "write expressions as plain strings, without {{ }}: when: \"amount > 5亿\""
    if "mapping values are not allowed" in problem:
        return "a value contains `: `; put the whole value in quotes"
    if "found unexpected end of stream" in problem or "while scanning a quoted scalar" in problem:
        return "a quote is not closed"
    if "expected ',' or ']'" in problem or "expected ',' or '}'" in problem:
        return "a bracket is not closed, or a value inside [ ] / { } needs quotes"
    return "check indentation, quotes and brackets near this position"


def _convert(node: Node, path: Path, doc: Document, diags: Diagnostics) -> Any:
    if len(path) >= MAX_DEPTH and isinstance(node, (MappingNode, SequenceNode)):
        diags.add("BNY109", f"mappings and lists nest more than {MAX_DEPTH} levels deep here",
                  _mark_span(doc.file, node.start_mark), "flatten the structure; nothing below this point was read")
        return None
    doc.spans[path] = _value_span(node, doc)
    if node.tag not in _STANDARD_TAGS and node.tag.startswith("!"):
        diags.add("BNY108", f"custom tag `{node.tag}` is not allowed", doc.spans[path], "remove the tag")
    if isinstance(node, ScalarNode):
        return _scalar(node, path, doc, diags)
    if isinstance(node, SequenceNode):
        return [_convert(child, path + (i,), doc, diags) for i, child in enumerate(node.value)]
    if isinstance(node, MappingNode):
        raw = doc.text[node.start_mark.index:node.end_mark.index]
        if raw.startswith("{{") and raw.endswith("}}"):
            diags.add("BNY101", "an expression written inside {{ }} is read as a nested mapping", doc.spans[path],
                      f"write the expression as a plain string, without braces: \"{raw[2:-2].strip()}\"")
            return raw[2:-2].strip()
        return _mapping(node, path, doc, diags)
    return None


def _mapping(node: MappingNode, path: Path, doc: Document, diags: Diagnostics) -> dict:
    out: dict[str, Any] = {}
    first_seen: dict[str, Span] = {}
    for key_node, value_node in node.value:
        key_span = _mark_span(doc.file, key_node.start_mark)
        if not isinstance(key_node, ScalarNode):
            braces = "{{" in doc.text.splitlines()[key_node.start_mark.line] if doc.text else False
            diags.add("BNY101", "a mapping key must be plain text", key_span,
                      "write expressions as plain strings, without {{ }}: when: \"amount > 5亿\"" if braces
                      else "write the key as a word, e.g. `name:`")
            continue
        key = key_node.value
        if key == "<<" and not key_node.style:
            diags.add("BNY108", "merge keys (`<<`) are not allowed", key_span, "write the keys out")
            if isinstance(value_node, MappingNode):  # recover: merge, so later layers see the keys
                for k, v in _mapping(value_node, path, doc, Diagnostics()).items():
                    out.setdefault(k, v)
            continue
        if key in first_seen:
            diags.add("BNY102", f"duplicate key `{key}`", key_span,
                      f"`{key}` is already set at line {first_seen[key].line}; YAML would keep only the last one")
            continue
        first_seen[key] = key_span
        doc.key_spans[path + (key,)] = key_span
        out[key] = _convert(value_node, path + (key,), doc, diags)
    return out


def _value_span(node: Node, doc: Document) -> Span:
    mark = node.start_mark
    line, col = mark.line + 1, mark.column + 1
    if isinstance(node, ScalarNode):
        if node.style in ('"', "'"):
            col += 1
        elif node.style in ("|", ">"):
            lines = doc.text.splitlines()
            if line < len(lines):
                nxt = lines[line]
                line, col = line + 1, len(nxt) - len(nxt.lstrip(" ")) + 1
    return Span(doc.file, line, col)


def _scalar(node: ScalarNode, path: Path, doc: Document, diags: Diagnostics) -> Any:
    text = node.value
    if node.style:  # quoted or block: always text (libyaml says "" for plain, PyYAML None)
        return text
    tag = node.tag
    span = doc.spans[path]
    if tag == _NULL_TAG:
        return None
    if tag == _BOOL_TAG:
        low = text.lower()
        if low in _BOOL_TRUE:
            return True
        if low in _BOOL_FALSE:
            return False
        diags.add("BNY104", f"`{text}` would be read as a boolean ({'true' if low in ('yes', 'on', 'y') else 'false'})",
                  span, f"write true or false for a boolean; write '{text}' in quotes for text")
        return text
    if tag == _INT_TAG:
        if _SEXAGESIMAL.match(text):
            diags.add("BNY106", f"`{text}` would be read as a base-60 number", span, f"quote it: '{text}'")
            return text
        if _OCTAL.match(text):
            diags.add("BNY105", f"`{text}` would be read as the octal number {_yaml_int(text)}", span,
                      f"quote it ('{text}') if it is a code, or write {text.lstrip('0') or '0'} if it is a number")
            return text
        doc.plain_scalars[path] = text
        try:
            return _yaml_int(text)
        except ValueError:
            return text
    if tag == _FLOAT_TAG:
        if _SEXAGESIMAL.match(text):
            diags.add("BNY106", f"`{text}` would be read as a base-60 number", span, f"quote it: '{text}'")
            return text
        doc.plain_scalars[path] = text
        try:
            return Decimal(text.replace("_", ""))
        except InvalidOperation:  # .inf, .nan
            return text
    return text  # str and timestamp: the text as written


def _yaml_int(text: str) -> int:
    t = text.replace("_", "")
    sign = -1 if t.startswith("-") else 1
    t = t.lstrip("+-")
    if t.startswith("0x"):
        return sign * int(t[2:], 16)
    if t.startswith("0b"):
        return sign * int(t[2:], 2)
    if len(t) > 1 and t.startswith("0"):
        return sign * int(t, 8)
    return sign * int(t)
