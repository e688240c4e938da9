"""JSON Schema validation reported at YAML lines: walk each error's path into the source map."""
from __future__ import annotations

from typing import Any, Iterable

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from .diagnostics import Diagnostics, did_you_mean
from .loader import Document


def check_document(doc: Document, validator: Draft202012Validator, diags: Diagnostics) -> bool:
    """Validate doc.data against the kind's schema; every error becomes a diagnostic. True if clean."""
    clean = True
    for error in sorted(validator.iter_errors(doc.data), key=lambda e: _order(doc, e)):
        clean = False
        _report(doc, _most_specific(error), diags)
    return clean


def _order(doc: Document, error: ValidationError):
    span = doc.span(tuple(error.absolute_path))
    return span.line, span.col


def _most_specific(error: ValidationError) -> ValidationError:
    """For oneOf/anyOf, the branch error that explains best (deepest, most relevant)."""
    while error.validator in ("oneOf", "anyOf") and error.context:
        # Branches that failed only because the value has another type say little; prefer the
        # branch whose type fits (a mapping label with a bad key, not "must be a string").
        depth = len(error.absolute_path)
        fitting = [e for e in error.context
                   if not (e.validator == "type" and len(e.absolute_path) == depth)]
        error = best_match(fitting or error.context)
    return error


def _report(doc: Document, error: ValidationError, diags: Diagnostics) -> None:
    path = tuple(error.absolute_path)
    where = _where(path)
    v, value = error.validator, error.instance
    if v == "required":
        missing = [k for k in error.validator_value if not (isinstance(value, dict) and k in value)]
        name = missing[0] if missing else "?"
        diags.add("BNY204", f"{where} is missing the required key `{name}`", doc.key_span(path),
                  _explain_hint(doc, path))
    elif v == "additionalProperties":
        allowed = _allowed_keys(error.schema)
        extras = [k for k in value if k not in allowed] if isinstance(value, dict) else []
        for key in extras:
            hint = did_you_mean(key, allowed) or (f"allowed here: {', '.join(sorted(allowed))}" if allowed else None)
            diags.add("BNY205", f"unknown key `{key}` in {where}", doc.key_span(path + (key,)), hint)
    elif v == "type":
        _report_type(doc, path, where, error, diags)
    elif v in ("enum", "const"):
        options = error.validator_value if v == "enum" else [error.validator_value]
        words = [str(o) for o in options]
        hint = did_you_mean(str(value), words) or f"use one of: {', '.join(words)}"
        diags.add("BNY207", f"{where}: `{_show(value)}` is not allowed", doc.span(path), hint)
    elif v == "pattern":
        hint = error.schema.get("x-hint") or f"it must match the pattern {error.validator_value}"
        suggestions = error.schema.get("x-suggest")
        if suggestions and isinstance(value, str):
            hint = did_you_mean(value, suggestions) or hint
        diags.add(error.schema.get("x-code", "BNY208"), f"{where}: `{_show(value)}` does not have the required form",
                  doc.span(path), hint)
    elif v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems",
               "minLength", "maxLength", "minProperties"):
        diags.add("BNY209", f"{where}: {error.message}", doc.span(path), error.schema.get("x-hint"))
    else:
        diags.add("BNY210", f"{where}: {error.message}", doc.span(path), error.schema.get("x-hint"))


def _report_type(doc: Document, path, where: str, error: ValidationError, diags: Diagnostics) -> None:
    expected = error.validator_value
    expected_list = expected if isinstance(expected, list) else [expected]
    written = doc.plain_scalars.get(path)
    if "string" in expected_list and written is not None:
        diags.add("BNY106", f"{where}: `{written}` is read as a number, but text is expected here",
                  doc.span(path), f"quote it: '{written}'")
        return
    got = _json_type(error.instance)
    wanted = " or ".join(_a(t) for t in expected_list)
    diags.add("BNY206", f"{where} must be {wanted}, not {_a(got)}", doc.span(path),
              error.schema.get("x-hint"))


def _allowed_keys(schema: dict) -> list[str]:
    return sorted(schema.get("properties", {}).keys())


def _explain_hint(doc: Document, path) -> str | None:
    kind = doc.kind
    if not kind:
        return None
    dotted = ".".join(str(p) for p in path if not isinstance(p, int))
    return f"see `banyan explain {kind}{'.' + dotted if dotted else ''}`"


def _where(path: Iterable[Any]) -> str:
    parts: list[str] = []
    for p in path:
        parts.append(f"[{p}]" if isinstance(p, int) else (("." if parts else "") + str(p)))
    return "`" + "".join(parts) + "`" if parts else "the document"


def _json_type(value: Any) -> str:
    from decimal import Decimal
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float, Decimal)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


def _a(word: str) -> str:
    word = {"object": "mapping", "array": "list", "boolean": "true/false"}.get(word, word)
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _show(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."
