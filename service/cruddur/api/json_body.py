"""The request body as a JSON object, or a 400 that says what is wrong with it.

A body is read whole (Flask's ``MAX_CONTENT_LENGTH`` refuses a larger one
with 413 before it is read), must be UTF-8 (RFC 8259 section 8.1) and
strict JSON: no ``NaN`` or ``Infinity``, no number too large for a float,
no unpaired surrogate (DynamoDB and every log line need text that encodes),
and no deeper than ``MAX_NESTING`` levels.

Why a nesting check before parsing: the standard library's ``json`` has no
depth option, and its C decoder recurses once per level, so a 6 KB body of
``[[[...]]]`` raises ``RecursionError``, which is no ``ValueError``: Flask's
``get_json`` lets it through and the request ends as a 500 with a
traceback. The check finds the depth in one pass of two C regular
expressions and C iterators (strings removed first, so a bracket inside a
string is not counted): linear in the body's size, about a millisecond for
16 KB.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from typing import Any

from flask import request

from ..services.errors import InvalidInputError

# Cruddur's bodies are flat objects; the limit leaves room and stays far below Python's recursion limit.
MAX_NESTING = 16

# A JSON string (RFC 8259: a backslash escapes the next character); what is left outside strings is structure.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def nesting_depth(text: str) -> int:
    """How deep the arrays and objects of ``text`` nest, counted over its brackets outside strings.

    Never less than the depth ``json.loads`` reaches before it returns or
    finds an error: up to the first error both see the same strings.
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(itertools.accumulate(map(_STEP.__getitem__, brackets)), default=0)


class _NotANumber(ValueError):
    """A number JSON does not have (NaN, Infinity) or a float cannot hold."""


def _refuse_constant(name: str) -> Any:
    raise _NotANumber(f"has {name}, which is not a JSON number")


def _finite(literal: str) -> float:
    value = float(literal)
    if math.isinf(value):
        raise _NotANumber(f"has a number out of a double's range ({literal[:24]})")
    return value


def parse(data: bytes) -> Any:
    """The JSON value in ``data``; InvalidInputError naming the first thing that is wrong with it."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInputError("body", f"is not UTF-8 (byte {error.start} is invalid)") from None
    if nesting_depth(text) > MAX_NESTING:
        raise InvalidInputError("body", f"nests arrays and objects deeper than {MAX_NESTING} levels")
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
    except _NotANumber as error:
        raise InvalidInputError("body", str(error)) from None
    except ValueError:  # json's JSONDecodeError, or an integer of more digits than Python converts
        raise InvalidInputError("body", "is not valid JSON") from None
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError("body", "has a string with an unpaired surrogate (\\ud800-\\udfff)") from None
    return value


def json_object() -> dict[str, Any]:
    """The parsed body; InvalidInputError unless it is a JSON object sent as application/json."""
    if not request.is_json:
        raise InvalidInputError("body", "send a JSON object with Content-Type: application/json")
    body = parse(request.get_data(cache=True))
    if not isinstance(body, dict):
        raise InvalidInputError("body", f"must be a JSON object, not {type(body).__name__}")
    return body
