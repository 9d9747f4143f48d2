"""A request body parsed as strict JSON, bounded, or a ValueError whose text says what is wrong in one phrase.

Usage (the browser ingest does this; so can an app, for its own bodies)::

    from flask_aws_telemetry import parse_json_body

    try:
        body = parse_json_body(request.get_data(), max_nesting=16)
    except ValueError as error:
        abort(400, f"the body {error}")     # "the body nests arrays and objects deeper than 16 levels"

What is refused, cheapest first: bytes that are not UTF-8 (RFC 8259 section
8.1), arrays and objects nested deeper than ``max_nesting``, text that is
not JSON, ``NaN`` and ``Infinity`` (Python's ``json`` reads them; JSON has
no such numbers), a number beyond a double's range (Python reads ``1e400``
as infinity), and a string holding an unpaired surrogate (``"\\ud800"``:
valid escapes, but text no UTF-8 encoder, DynamoDB or log line can carry).

Why the nesting is measured before parsing: the standard library's ``json``
has no depth option, and its C decoder recurses once per level, so 6 KB of
``[[[...]]]`` raises ``RecursionError``, which is no ``ValueError``: Flask's
``get_json`` and most ``except ValueError`` clauses let it through, and the
request ends as a 500 with a traceback. The measure is linear in the body's size
and runs in C: bytes methods take the strings and everything but brackets
out, and the depth is summed over runs of brackets by C iterators; a few
microseconds for a small body, linear in the size of a hostile one.
"""

from __future__ import annotations

import json
import math
import operator
import re
from itertools import accumulate, chain, zip_longest
from typing import Any

_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OBJECTS_AS_ARRAYS = bytes.maketrans(b"{}", b"[]")
_OPENS = re.compile(rb"\[+")
_CLOSES = re.compile(rb"\]+")
# A surrogate in a decoded value can only come from such an escape (UTF-8 text holds none), so a body without one
# is not serialized again to look for it.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def nesting_depth_exceeds(body: bytes, limit: int) -> bool:
    """True when the arrays and objects of the JSON text ``body`` may nest deeper than ``limit``.

    Exact for valid JSON; for invalid JSON never less than the depth
    ``json.loads`` reaches before it finds the error (up to there both read
    the same strings), so a body this lets through cannot exhaust the stack.
    """
    # Strings out first, so that a bracket inside one is not counted: drop the escaped backslashes, then the
    # escaped quotes; every quote left opens or closes a string.
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(unescaped.split(b'"')[::2]).translate(_OBJECTS_AS_ARRAYS, _NOT_BRACKETS)
    # Each pass takes the innermost pairs out of every nest, one level (the deepest level of balanced text is such
    # a pair), in one C scan; while passes shorten the text by a quarter or more, they are the cheapest way down.
    while b"[]" in brackets:
        shorter = brackets.replace(b"[]", b"")
        limit -= 1
        if limit < 0:
            return True
        if len(shorter) * 4 > len(brackets) * 3:
            brackets = shorter
            break
        brackets = shorter
    # What is left nests deep in few places: the depth after each run of opening or closing brackets, summed over
    # the runs' lengths by C iterators.
    opens = map(len, _OPENS.findall(brackets))
    closes = map(operator.neg, map(len, _CLOSES.findall(brackets)))
    runs = zip_longest(closes, opens, fillvalue=0) if brackets[:1] == b"]" else zip_longest(opens, closes, fillvalue=0)
    return any(map(limit.__lt__, accumulate(chain.from_iterable(runs))))


class _NotAJsonNumber(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NotAJsonNumber(f"has {name}, which is not a JSON number")


def _finite(literal: str) -> float:
    value = float(literal)
    if math.isinf(value):
        shown = literal if len(literal) <= 24 else literal[:21] + "..."
        raise _NotAJsonNumber(f"has a number beyond a double's range ({shown})")
    return value


def parse_json_body(body: bytes, *, max_nesting: int) -> Any:
    """The JSON value in ``body``; ValueError naming, in one phrase, the first thing wrong with it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"is not UTF-8 (byte {error.start} is invalid)") from None
    if nesting_depth_exceeds(body, max_nesting):
        raise ValueError(f"nests arrays and objects deeper than {max_nesting} levels")
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
    except _NotAJsonNumber:
        raise
    except ValueError:  # json's JSONDecodeError, or an integer of more digits than Python converts
        raise ValueError("is not valid JSON") from None
    if not _SURROGATE_ESCAPE.search(text):
        return value
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("has a string with an unpaired surrogate (\\ud800 to \\udfff)") from None
    return value
