"""The request body as a JSON object, or a 400 that says what is wrong with it.

A body is read whole (Flask's ``MAX_CONTENT_LENGTH`` refuses a larger one
with 413 before it is read) and parsed by the telemetry library's
``parse_json_body``: UTF-8, strict JSON (no ``NaN``, ``Infinity``, number
beyond a double or unpaired surrogate) nested at most ``MAX_NESTING`` deep.
Without that bound, 6 KB of ``[[[...]]]`` was a ``RecursionError`` in
Flask's ``get_json`` (the standard library's ``json`` has no depth option),
a 500 with a traceback and a Rollbar item.
"""

from __future__ import annotations

from typing import Any

from flask import request

from flask_aws_telemetry import parse_json_body

from ..services.errors import InvalidInputError

# Cruddur's bodies are flat objects; the bound leaves room and stays far below Python's recursion limit.
MAX_NESTING = 16


def json_object() -> dict[str, Any]:
    """The parsed body; InvalidInputError unless it is a JSON object sent as application/json."""
    if not request.is_json:
        raise InvalidInputError("body", "send a JSON object with Content-Type: application/json")
    try:
        body = parse_json_body(request.get_data(cache=True), max_nesting=MAX_NESTING)
    except ValueError as error:
        raise InvalidInputError("body", str(error)) from None
    if not isinstance(body, dict):
        raise InvalidInputError("body", f"must be a JSON object, not {type(body).__name__}")
    return body
