"""Text → syntax tree (lark, LALR), with every syntax problem reported as BNY301/BNY308
at its place in the YAML file."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Transformer, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from ..diagnostics import Diagnostics
from ..source import Span
from . import ast
from .literals import LiteralError, read_literal
from .types import ANY, BOOL, NULL

MAX_DEPTH = 48
"""Nesting deeper than this is refused (BNY301): no real rule needs it, and it keeps the
checker and the generated Python far from recursion limits."""

KEYWORDS = ("if", "then", "else", "or", "and", "not", "in", "between", "within", "where",
            "distinct", "last", "latest", "of", "true", "false", "null")

_TERMINAL_TEXT = {
    "RPAR": "`)`", "LPAR": "`(`", "RSQB": "`]`", "LSQB": "`[`", "RBRACE": "`}`", "LBRACE": "`{`",
    "COMMA": "`,`", "COLON": "`:`", "DOT": "`.`", "ARROW": "`->`", "COMP_OP": "a comparison",
    "PLUS": "`+`", "MINUS": "`-`", "STAR": "`*`", "SLASH": "`/`", "NAME": "a name",
    "INT": "a number", "DECIMAL": "a number", "STRING": "a quoted text", "MONEY": "an amount",
    "PERCENT": "a percentage", "DURATION": "a duration", "PERIOD": "a period", "DATE": "a date",
    "$END": "the end of the expression",
}
_FULL_WIDTH = {"（": "(", "）": ")", "，": ",", "：": ":", "‘": "'", "’": "'", "“": '"', "”": '"',
               "＞": ">", "＜": "<", "＝": "=", "【": "[", "】": "]", "！": "!", "－": "-", "＋": "+"}
_CHAR_HINTS = {
    "=": "compare with `==` (a single `=` is not an operator)",
    "&": "write `and`", "|": "write `or`", "!": "write `not x`, or `!=` for 'not equal'",
    "?": "write `if c then a else b`",
}


@lru_cache(maxsize=1)
def _lark() -> Lark:
    grammar = (Path(__file__).with_name("grammar.lark")).read_text(encoding="utf-8")
    # Building the LALR tables takes half a second; lark keeps them in a cache file keyed by
    # the grammar's hash (in the temp directory), so later starts load them instead.
    try:
        return Lark(grammar, parser="lalr", maybe_placeholders=True, cache=True)
    except OSError:  # no writable temp directory: build every time
        return Lark(grammar, parser="lalr", maybe_placeholders=True)


def to_span(span: Span, pos: ast.Pos) -> Span:
    """The file position of (line, col) inside an expression whose first character is at `span`.
    Later lines of a multi-line (block scalar) expression are assumed to share its indentation."""
    line, col = pos
    return Span(span.file, span.line + line - 1, span.col + col - 1)


def _end_pos(text: str) -> ast.Pos:
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


_PARSED: dict[str, ast.Node] = {}
_PARSED_MAX = 20_000


def parse_expression(text: str, *, span: Span, diags: Diagnostics) -> ast.Node | None:
    """The syntax tree of `text`, or None after adding diagnostics (syntax only, no types).
    Trees are immutable and positions inside them relative to the text, so a text parsed once
    is not parsed again (bundles repeat conditions such as `end_date >= start_date`)."""
    node = _PARSED.get(text) if isinstance(text, str) else None
    if node is None:
        node = _parse(text, span, diags)
        if node is not None and len(_PARSED) < _PARSED_MAX:
            _PARSED[text] = node
    return node


def _parse(text: str, span: Span, diags: Diagnostics) -> ast.Node | None:
    if not isinstance(text, str) or not text.strip():
        diags.add("BNY301", "the expression is empty", span, "write an expression, e.g. `debt_ratio > 70%`")
        return None
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as exc:
        _report_syntax(exc, text, span, diags)
        return None
    deep = _too_deep(tree)
    if deep is not None:
        diags.add("BNY301", f"the expression is nested more than {MAX_DEPTH} levels deep", to_span(span, deep),
                  "split it into computed fields")
        return None
    builder = _Builder()
    node = builder.transform(tree)
    for pos, message in builder.literal_errors:
        diags.add("BNY308", message, to_span(span, pos))
    return None if builder.literal_errors else node


def _too_deep(tree: Tree) -> ast.Pos | None:
    stack = [(tree, 1)]
    while stack:
        t, depth = stack.pop()
        if depth > MAX_DEPTH:
            tok = next((c for c in t.scan_values(lambda v: isinstance(v, Token))), None)
            return (tok.line, tok.column) if tok is not None else (1, 1)
        stack.extend((c, depth + 1) for c in t.children if isinstance(c, Tree))
    return None


def _report_syntax(exc: UnexpectedInput, text: str, span: Span, diags: Diagnostics) -> None:
    if isinstance(exc, UnexpectedCharacters):
        at = exc.pos_in_stream
        ch = text[at] if at is not None and 0 <= at < len(text) else ""
        hint = None
        if ch in _FULL_WIDTH:
            hint = f"`{ch}` is a full-width character; type the ASCII `{_FULL_WIDTH[ch]}`"
        elif ch in _CHAR_HINTS:
            hint = _CHAR_HINTS[ch]
        elif ch == "'" or ch == '"':
            hint = "a quoted text must end with the same quote on the same line"
        elif ch.isdigit():
            hint = "numbers take the units 万 亿 元 %, d h m w s, days, months, quarters or years"
        diags.add("BNY301", f"unexpected character `{ch}`", to_span(span, (exc.line, exc.column)), hint)
        return
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        at_end = tok.type == "$END"
        pos = _end_pos(text) if at_end or tok.line is None or tok.line < 1 else (tok.line, tok.column)
        expected = sorted({_TERMINAL_TEXT.get(t, f"`{t.lower()}`") for t in exc.expected})
        listing = ", ".join(expected[:6]) + (" …" if len(expected) > 6 else "")
        what = "the expression ends too early" if at_end else f"unexpected `{tok.value}`"
        hint = None
        if tok.type == "NAME" and tok.value.lower() in KEYWORDS:
            hint = f"keywords are lower case: write `{tok.value.lower()}`"
        elif tok.type == "COMP_OP":
            hint = "comparisons do not chain: write `a < b and b < c`, or `x between a and b`"
        elif tok.type == "ARROW":
            hint = "`x -> ...` is only allowed as an argument, e.g. `sum(loans, l -> l.balance)`"
        diags.add("BNY301", f"{what}; expected {listing}", to_span(span, pos), hint)
        return
    diags.add("BNY301", "the expression cannot be parsed", to_span(span, (1, 1)))


def _pos(tok: Token) -> ast.Pos:
    return (tok.line or 1, tok.column or 1)       # the parser gives every token its place


class _Builder(Transformer):
    """lark tree → ast nodes. Depth is bounded before this runs, so recursion is safe."""

    def __init__(self) -> None:
        super().__init__()
        self.literal_errors: list[tuple[ast.Pos, str]] = []

    def literal(self, c):
        tok = c[0]
        if tok.type in ("TRUE", "FALSE"):
            return ast.Literal(_pos(tok), tok.type == "TRUE", BOOL, tok.value)
        if tok.type == "NULL":
            return ast.Literal(_pos(tok), None, NULL, tok.value)
        try:
            value, typ = read_literal(tok.type, tok.value)
        except LiteralError as exc:
            self.literal_errors.append((_pos(tok), str(exc)))
            value, typ = None, ANY
        return ast.Literal(_pos(tok), value, typ, tok.value)

    def name(self, c):
        return ast.Name(_pos(c[0]), c[0].value)

    def field(self, c):
        obj, _dot, name = c
        return ast.Field(obj.pos, obj, name.value, _pos(name))

    def paren(self, c):
        return c[1]

    def call(self, c):
        name, _lpar, args, _rpar = c
        return ast.Call(_pos(name), name.value, tuple(args or ()))

    def args(self, c):
        return list(c)

    def lambda_(self, c):
        name, _arrow, body = c
        return ast.Lambda(_pos(name), name.value, body)

    def where(self, c):
        coll, _kw, lam = c
        return ast.Where(coll.pos, coll, lam)

    def distinct(self, c):
        return ast.Distinct(_pos(c[0]), c[1])

    def distinct_where(self, c):
        kw, coll, _where, lam = c
        return ast.Distinct(_pos(kw), ast.Where(coll.pos, coll, lam))

    def unop(self, c):
        op, operand = c
        return ast.Unary(_pos(op), op.value, operand)

    def binop(self, c):
        left, op, right = c
        return ast.Binary(left.pos, op.value, left, right, _pos(op))

    def compare(self, c):
        left, op, right = c
        return ast.Compare(left.pos, op.value, left, right, _pos(op))

    def in_expr(self, c):
        item, op, container = c
        return ast.In(item.pos, item, container, False, _pos(op))

    def not_in_expr(self, c):
        item, op, _in, container = c
        return ast.In(item.pos, item, container, True, _pos(op))

    def between(self, c):
        item, op, low, _and, high = c
        return ast.Between(item.pos, item, low, high, _pos(op))

    def within(self, c):
        coll, op, span = c
        return ast.Window(coll.pos, coll, span, _pos(op))

    def last(self, c):
        kw, tok, _of, coll = c
        span = self.literal([tok])
        return ast.Window(_pos(kw), coll, span, _pos(kw))

    def latest_n(self, c):
        """`latest 2 of financials`: the 2 records with the newest time (a Window counting records)."""
        kw, tok, _of, coll = c
        return ast.Window(_pos(kw), coll, self.literal([tok]), _pos(kw), True)

    def if_expr(self, c):
        kw, cond, _then, then, _else, else_ = c
        return ast.If(_pos(kw), cond, then, else_)

    def list_lit(self, c):
        items = tuple(x for x in c[1:-1] if isinstance(x, ast.Node))
        return ast.ListLit(_pos(c[0]), items)

    def entry(self, c):
        key_tok, value = c
        if key_tok.type == "NAME":
            key = key_tok.value
        else:
            try:
                key = read_literal(key_tok.type, key_tok.value)[0]
            except LiteralError as exc:
                self.literal_errors.append((_pos(key_tok), str(exc)))
                key = None
        return (key, _pos(key_tok), value, key_tok.type)

    def map_lit(self, c):
        entries = [x for x in c[1:-1] if isinstance(x, tuple)]
        return ast.MapLit(_pos(c[0]), tuple(e[0] for e in entries), tuple(e[1] for e in entries),
                          tuple(e[2] for e in entries), tuple(e[3] for e in entries))


# `lambda` is a Python keyword; lark looks the callback up by the rule's name.
setattr(_Builder, "lambda", _Builder.lambda_)
