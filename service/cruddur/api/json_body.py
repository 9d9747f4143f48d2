"""The request body as a JSON object, or a 400 that says what is wrong with it."""

from __future__ import annotations

from typing import Any

from flask import request

from ..services.errors import InvalidInputError


def json_object() -> dict[str, Any]:
    """The parsed body; InvalidInputError unless it is a JSON object sent as application/json."""
    if not request.is_json:
        raise InvalidInputError("body", "send a JSON object with Content-Type: application/json")
    body = request.get_json(silent=True)
    if body is None:
        raise InvalidInputError("body", "is not valid JSON")
    if not isinstance(body, dict):
        raise InvalidInputError("body", f"must be a JSON object, not {type(body).__name__}")
    return body
