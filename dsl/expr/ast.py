"""The syntax tree of an expression, as the parser builds it.

Nodes are frozen and compared by identity (the checker keys its findings by node).
`pos` is the (line, column) of the node's first character inside the expression text,
both 1-based; `op_pos` of operator nodes points at the operator itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from .types import Type

Pos = tuple[int, int]


@dataclass(frozen=True, eq=False, slots=True)
class Node:
    pos: Pos

    def children(self) -> tuple["Node", ...]:
        return ()


@dataclass(frozen=True, eq=False, slots=True)
class Literal(Node):
    value: Any
    type: Type
    text: str = ""


@dataclass(frozen=True, eq=False, slots=True)
class Name(Node):
    name: str


@dataclass(frozen=True, eq=False, slots=True)
class Field(Node):
    obj: Node
    name: str
    name_pos: Pos

    def children(self):
        return (self.obj,)


@dataclass(frozen=True, eq=False, slots=True)
class Lambda(Node):
    param: str
    body: Node

    def children(self):
        return (self.body,)


@dataclass(frozen=True, eq=False, slots=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]

    def children(self):
        return self.args


@dataclass(frozen=True, eq=False, slots=True)
class Where(Node):
    """`loans where l -> l.status == 'active'`: the elements whose condition is true."""

    coll: Node
    cond: Lambda

    def children(self):
        return (self.coll, self.cond)


@dataclass(frozen=True, eq=False, slots=True)
class Distinct(Node):
    """`distinct x` as the first argument of count: count different values."""

    operand: Node

    def children(self):
        return (self.operand,)


@dataclass(frozen=True, eq=False, slots=True)
class Unary(Node):
    op: str  # "-" or "not"
    operand: Node

    def children(self):
        return (self.operand,)


@dataclass(frozen=True, eq=False, slots=True)
class Binary(Node):
    """Arithmetic (+ - * /) and logic (and, or)."""

    op: str
    left: Node
    right: Node
    op_pos: Pos

    def children(self):
        return (self.left, self.right)


@dataclass(frozen=True, eq=False, slots=True)
class Compare(Node):
    op: str  # == != < <= > >=
    left: Node
    right: Node
    op_pos: Pos

    def children(self):
        return (self.left, self.right)


@dataclass(frozen=True, eq=False, slots=True)
class In(Node):
    item: Node
    container: Node
    negated: bool
    op_pos: Pos

    def children(self):
        return (self.item, self.container)


@dataclass(frozen=True, eq=False, slots=True)
class Between(Node):
    item: Node
    low: Node
    high: Node
    op_pos: Pos

    def children(self):
        return (self.item, self.low, self.high)


@dataclass(frozen=True, eq=False, slots=True)
class If(Node):
    cond: Node
    then: Node
    else_: Node

    def children(self):
        return (self.cond, self.then, self.else_)


@dataclass(frozen=True, eq=False, slots=True)
class ListLit(Node):
    items: tuple[Node, ...]

    def children(self):
        return self.items


@dataclass(frozen=True, eq=False, slots=True)
class MapLit(Node):
    keys: tuple[Any, ...]          # str, int or Decimal
    key_pos: tuple[Pos, ...]
    values: tuple[Node, ...]
    key_kinds: tuple[str, ...] = ()     # how each key was written: NAME, STRING, INT, DECIMAL, PERCENT, MONEY

    def children(self):
        return self.values


@dataclass(frozen=True, eq=False, slots=True)
class Window(Node):
    """`coll within 24h` (span is a node), `last 2 quarters of coll` (span is a literal) or
    `latest 2 of coll` (`count`: span is the number of records kept)."""

    coll: Node
    span: Node
    op_pos: Pos
    count: bool = False

    def children(self):
        return (self.coll, self.span)


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children (iterative: deep trees are fine)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children()))
