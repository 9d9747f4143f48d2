"""parse_json_body: strict, bounded JSON; its nesting measure agrees with a plain scanner and never undercounts."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flask_aws_telemetry import parse_json_body
from flask_aws_telemetry.json_body import nesting_depth_exceeds

# Strings full of what could confuse a bracket count: quotes, backslashes, brackets.
tricky_text = st.text(st.sampled_from(['"', "\\", "[", "]", "{", "}", "a", "é", "\n"]), max_size=8) | st.text(
    max_size=8
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | tricky_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(tricky_text, children, max_size=3),
    max_leaves=40,
)


def depth(value) -> int:
    """How deep ``value``'s lists and dicts nest (a scalar: 0)."""
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    return 0


def scanned_depth(body: bytes) -> int:
    """The deepest level a left-to-right reader reaches, strings skipped as JSON's grammar says."""
    level = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == ord("\\"):
                escaped = True
            elif byte == ord('"'):
                in_string = False
        elif byte == ord('"'):
            in_string = True
        elif byte in b"[{":
            level += 1
            deepest = max(deepest, level)
        elif byte in b"]}":
            level -= 1
    return deepest


SETTINGS = settings(max_examples=400, deadline=None, derandomize=True, database=None)


@SETTINGS
@given(value=json_values, limit=st.integers(0, 12), ascii_only=st.booleans())
def test_for_valid_json_the_measure_is_exact(value, limit, ascii_only):
    """A document exceeds ``limit`` exactly when its value nests deeper."""
    body = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert nesting_depth_exceeds(body, limit) == (depth(value) > limit)


@SETTINGS
@given(
    body=st.lists(
        st.sampled_from([b"[", b"]", b"{", b"}", b'"', b"\\", b"\\\\", b'\\"', b"a", b",", b":"]), max_size=60
    ).map(b"".join),
    limit=st.integers(0, 12),
)
def test_for_any_text_the_measure_never_undercounts(body, limit):
    """Whatever the body, a reader that skips strings never goes deeper than the measure allows."""
    if scanned_depth(body) > limit:
        assert nesting_depth_exceeds(body, limit)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"[" * 3000 + b"]" * 3000, "nests arrays and objects deeper than 16 levels"),
        (b'{"a": ' * 17 + b"1" + b"}" * 17, "nests arrays and objects deeper than 16 levels"),
        (b"[" * 20, "nests arrays and objects deeper than 16 levels"),
        (b'{"a": "\xff"}', "is not UTF-8 (byte 7 is invalid)"),
        (b'{"a": NaN}', "has NaN, which is not a JSON number"),
        (b'{"a": -Infinity}', "has -Infinity, which is not a JSON number"),
        (b'{"a": 1e400}', "has a number beyond a double's range (1e400)"),
        (b'{"a": ' + b"9" * 5000 + b"}", "is not valid JSON"),
        (b'{"a": "\\ud800"}', "has a string with an unpaired surrogate (\\ud800 to \\udfff)"),
        (b"{not json", "is not valid JSON"),
    ],
)
def test_each_refusal_says_what_is_wrong(body, says):
    """One phrase per problem, to follow "the body"."""
    with pytest.raises(ValueError) as refused:
        parse_json_body(body, max_nesting=16)
    assert str(refused.value) == says


def test_brackets_inside_strings_are_not_nesting():
    """A message made of brackets is text, not structure."""
    body = json.dumps({"message": "[" * 1000 + '\\"{' * 100}).encode()
    assert parse_json_body(body, max_nesting=1) == json.loads(body)
