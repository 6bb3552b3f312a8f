"""The tiny expression language of the consistency rules.

A side of a rule is arithmetic over named figures, never Python: no
``eval``, no attribute access, only what the grammar below allows::

    side    := term (("+" | "-") term)*
    term    := factor (("*" | "/") factor)*
    factor  := NUMBER | "-" factor | "(" side ")" | ref | call
    ref     := TABLE "." COLUMN              e.g. year_stated.visits
    call    := FUNCTION "(" [arg ("," arg)*] ")"
    arg     := side | TABLE | SET            e.g. sum(quarterly.visits), met(set)

Which tables, columns, functions and set names exist is decided by
:mod:`ntm_lib.validate.figures`; :func:`parse` checks only the grammar and
:func:`names_in` lists what a parsed side refers to, so the rule loader can
check every name before anything is evaluated.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, Union

__all__ = ["Num", "Ref", "Name", "Call", "BinOp", "Neg", "Node", "ExprError", "parse", "walk"]


class ExprError(ValueError):
    """A side of a rule that is not a valid expression; ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Ref:
    """``table.column``."""

    table: str
    column: str


@dataclass(frozen=True)
class Name:
    """A bare name: a table (``documents``) or a criteria set (``set``)."""

    name: str


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple["Node", ...]


@dataclass(frozen=True)
class BinOp:
    op: str
    left: "Node"
    right: "Node"


@dataclass(frozen=True)
class Neg:
    operand: "Node"


Node = Union[Num, Ref, Name, Call, BinOp, Neg]

_TOKEN = re.compile(
    r"\s*(?:(?P<number>[0-9]+(?:\.[0-9]+)?)|(?P<name>[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)?)"
    r"|(?P<op>[-+*/(),]))"
)


#: Most tokens in one side of a rule, and deepest nesting of parentheses and
#: signs (the shipped rules use at most 15 tokens and 2 levels): bounds the
#: recursion of parsing and evaluating a side.
MAX_TOKENS = 200
MAX_DEPTH = 20


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExprError(f"unexpected {text[pos:].strip()[:20]!r} at character {pos + 1}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        if len(out) > MAX_TOKENS:
            raise ExprError(f"too long: more than {MAX_TOKENS} numbers, names and signs")
        if kind == "number" and len(m.group(kind).partition(".")[0]) > 15:
            raise ExprError(f"number too large: {m.group(kind)[:20]}...")
        pos = m.end()
    depth = 0
    for kind, value in out:  # "(" and unary signs nest; ")" closes
        depth += value == "("
        depth -= value == ")"
        if depth > MAX_DEPTH:
            raise ExprError(f"parentheses nested more than {MAX_DEPTH} deep")
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0
        self.signs = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            wanted = repr(value) if value else "a value"
            raise ExprError(f"expected {wanted}, found {token[1] if token else 'the end'!r}")
        self.pos += 1
        return token

    def side(self) -> Node:
        node = self.term()
        while self.peek() and self.peek()[1] in "+-":  # type: ignore[index]
            op = self.take()[1]
            node = BinOp(op, node, self.term())
        return node

    def term(self) -> Node:
        node = self.factor()
        while self.peek() and self.peek()[1] in "*/":  # type: ignore[index]
            op = self.take()[1]
            node = BinOp(op, node, self.factor())
        return node

    def factor(self) -> Node:
        kind, value = self.take()
        if kind == "number":
            return Num(float(value))
        if value == "-":
            self.signs += 1
            if self.signs > MAX_DEPTH:
                raise ExprError(f"more than {MAX_DEPTH} signs in a row")
            node = Neg(self.factor())
            self.signs = 0
            return node
        if value == "(":
            node = self.side()
            self.take(")")
            return node
        if kind != "name":
            raise ExprError(f"unexpected {value!r}")
        if self.peek() and self.peek()[1] == "(":  # type: ignore[index]
            if "." in value:
                raise ExprError(f"{value!r} is not a function name")
            self.take("(")
            args: list[Node] = []
            if self.peek() and self.peek()[1] != ")":  # type: ignore[index]
                args.append(self.side())
                while self.peek() and self.peek()[1] == ",":  # type: ignore[index]
                    self.take(",")
                    args.append(self.side())
            self.take(")")
            return Call(value, tuple(args))
        if "." in value:
            table, column = value.split(".")
            return Ref(table, column)
        return Name(value)


def parse(text: str) -> Node:
    """The syntax tree of one side of a rule.

    Raises
    ------
    ExprError
        The text is empty or not in the grammar (the message says where).
    """
    if not text or not text.strip():
        raise ExprError("empty expression")
    parser = _Parser(text)
    node = parser.side()
    if parser.peek() is not None:
        raise ExprError(f"unexpected {parser.peek()[1]!r} after a complete expression")  # type: ignore[index]
    return node


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents first."""
    yield node
    if isinstance(node, Call):
        for arg in node.args:
            yield from walk(arg)
    elif isinstance(node, BinOp):
        yield from walk(node.left)
        yield from walk(node.right)
    elif isinstance(node, Neg):
        yield from walk(node.operand)
