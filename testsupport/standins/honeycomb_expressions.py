"""Honeycomb's derived-column (calculated field) expressions: parsed as Honeycomb's grammar says, evaluated on an event.

The grammar is Honeycomb's own, ``pkg/parser/HCDC.g4`` of
honeycombio/honeycomb-derived-column-validator (the ANTLR grammar its
validator is generated from): a function is an upper- or lower-case name of
two or more characters and its arguments in parentheses (a trailing comma
allowed); a column is ``$`` and a run of letters, digits and ``_ . / : = +
? -`` (so ``$http.response.status_code`` needs no quotes), or ``$"any
name"``/```$`raw` ```; literals are integers, floats, ``"strings"`` (Go
escapes), ```raw strings` ``, ``true``, ``false`` and ``null``. Only the
function form is read here: the grammar's infix operators (``!``, ``<``,
``=``, ``AND``...) are refused, as is every function not evaluated below.

What each function does is Honeycomb's derived-column reference
(docs.honeycomb.io, "Derived Column Formula Reference": conditional, boolean
and comparison operators):

* ``IF(cond, then [, cond2, then2]... [, else])``: the value of the first
  true condition's pair, else the default, else null; all non-zero numbers
  and the string "true" are true (and so is the boolean ``true``);
* ``AND(...)``/``OR(...)``: whether all/any arguments are truthy; ``NOT(x)``;
* ``EXISTS(x)``: whether the argument has a value (a column the event does
  not carry has none);
* ``EQUALS(a, b)``: equal values of the same type (200 is not "200");
* ``LT``, ``LTE``, ``GT``, ``GTE``: two numbers, or two strings
  lexicographically; always false if either is empty or their types differ.

An SLI's column must evaluate to true, false or null (Honeycomb's SLOs API:
"the column evaluation should consistently return nil, true, or false").
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    | (?P<column>\$[\w./:=+?-]+)
    | (?P<quoted_column>\$"(?:[^"\\]|\\.)*"|\$`[^`]*`)
    | (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<raw>`[^`]*`)
    | (?P<number>-?(?:\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))
    | (?P<name>[A-Za-z][A-Za-z0-9_]+)
    | (?P<punct>[(),])
    """,
    re.VERBOSE,
)
KEYWORDS = {"true": True, "false": False, "null": None}


class ExpressionError(ValueError):
    """The expression does not parse, or uses what is not evaluated here; the message says where."""


@dataclass(frozen=True)
class Column:
    """``$name``: the event's value of column ``name``."""

    name: str


@dataclass(frozen=True)
class Call:
    """``NAME(arguments...)``."""

    name: str
    arguments: tuple[Any, ...]


def _unquote(text: str) -> str:
    if text.startswith("`"):
        return text[1:-1]
    return text[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")


def _tokens(expression: str) -> list[tuple[str, str, int]]:
    tokens, position = [], 0
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if match is None:
            raise ExpressionError(f"unexpected {expression[position]!r} at character {position + 1}")
        if match.lastgroup != "space":
            tokens.append((match.lastgroup or "", match.group(), position))
        position = match.end()
    return tokens


def parse(expression: str) -> Any:
    """The expression's tree (``Call``, ``Column`` or a literal), or ExpressionError naming what is wrong and where."""
    tokens = _tokens(expression)
    if not tokens:
        raise ExpressionError("the expression is empty")
    tree, index = _expression(tokens, 0)
    if index != len(tokens):
        raise ExpressionError(f"unexpected {tokens[index][1]!r} at character {tokens[index][2] + 1}")
    return tree


def _expression(tokens: list[tuple[str, str, int]], index: int) -> tuple[Any, int]:
    if index >= len(tokens):
        raise ExpressionError("the expression ends too early")
    kind, text, position = tokens[index]
    if kind == "column":
        return Column(text[1:]), index + 1
    if kind == "quoted_column":
        return Column(_unquote(text[1:])), index + 1
    if kind in ("string", "raw"):
        return _unquote(text), index + 1
    if kind == "number":
        return (float(text) if any(c in text for c in ".eE") else int(text)), index + 1
    if kind == "name" and text in KEYWORDS:
        return KEYWORDS[text], index + 1
    if kind == "name":
        if text not in FUNCTIONS:
            raise ExpressionError(f"function {text} at character {position + 1} is not one evaluated here")
        if index + 1 >= len(tokens) or tokens[index + 1][1] != "(":
            raise ExpressionError(f"{text} at character {position + 1} needs its arguments in parentheses")
        arguments: list[Any] = []
        index += 2
        while index < len(tokens) and tokens[index][1] != ")":
            argument, index = _expression(tokens, index)
            arguments.append(argument)
            if index < len(tokens) and tokens[index][1] == ",":
                index += 1
            elif index < len(tokens) and tokens[index][1] != ")":
                raise ExpressionError(f"expected ',' or ')' at character {tokens[index][2] + 1}")
        if index >= len(tokens):
            raise ExpressionError(f"{text}( at character {position + 1} is never closed")
        minimum, maximum = ARITY[text]
        if not minimum <= len(arguments) <= (maximum or len(arguments)):
            raise ExpressionError(f"{text} at character {position + 1} takes {_arity(text)}, not {len(arguments)}")
        return Call(text, tuple(arguments)), index + 1
    raise ExpressionError(f"unexpected {text!r} at character {position + 1}")


def _arity(name: str) -> str:
    minimum, maximum = ARITY[name]
    if maximum is None:
        return f"{minimum} or more arguments"
    return f"{minimum} argument{'s' if minimum > 1 else ''}" if minimum == maximum else f"{minimum} to {maximum}"


def columns(tree: Any) -> set[str]:
    """The columns an expression reads."""
    if isinstance(tree, Column):
        return {tree.name}
    if isinstance(tree, Call):
        return set().union(*(columns(argument) for argument in tree.arguments))
    return set()


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    return value == "true"


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _compare(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def function(left: Any, right: Any) -> bool:
        if _number(left) and _number(right):
            return compare(left, right)
        if isinstance(left, str) and isinstance(right, str) and left and right:
            return compare(left, right)
        return False

    return function


def _equals(left: Any, right: Any) -> bool:
    if _number(left) and _number(right):
        return left == right
    return type(left) is type(right) and left == right


def _if(*arguments: Any) -> Any:
    pairs, default = (arguments[:-1], arguments[-1]) if len(arguments) % 2 else (arguments, None)
    for condition, value in zip(pairs[::2], pairs[1::2], strict=True):
        if _truthy(condition):
            return value
    return default


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "IF": _if,
    "AND": lambda *values: all(_truthy(value) for value in values),
    "OR": lambda *values: any(_truthy(value) for value in values),
    "NOT": lambda value: not _truthy(value),
    "EXISTS": lambda value: value is not None and value != "",
    "EQUALS": _equals,
    "LT": _compare(operator.lt),
    "LTE": _compare(operator.le),
    "GT": _compare(operator.gt),
    "GTE": _compare(operator.ge),
}
# (fewest, most) arguments, None for no limit.
ARITY: dict[str, tuple[int, int | None]] = {
    "IF": (2, None), "AND": (1, None), "OR": (1, None), "NOT": (1, 1), "EXISTS": (1, 1), "EQUALS": (2, 2),
    "LT": (2, 2), "LTE": (2, 2), "GT": (2, 2), "GTE": (2, 2),
}  # fmt: skip


def evaluate(tree: Any, event: Mapping[str, Any]) -> Any:
    """The value of the parsed expression ``tree`` on ``event`` (its columns and values)."""
    if isinstance(tree, Column):
        return event.get(tree.name)
    if isinstance(tree, Call):
        return FUNCTIONS[tree.name](*(evaluate(argument, event) for argument in tree.arguments))
    return tree
