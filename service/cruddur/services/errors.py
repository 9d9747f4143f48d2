"""Errors the service layer raises for bad input; the API turns them into JSON 4xx responses."""

from __future__ import annotations

import reprlib

# What a message quotes of a value the client sent: a path segment can be kilobytes long.
_QUOTED = reprlib.Repr()
_QUOTED.maxstring = 64


class NotFoundError(LookupError):
    """The named thing does not exist (404)."""

    def __init__(self, kind: str, value: str) -> None:
        """``kind`` such as 'handle', ``value`` what was asked for (quoted up to 64 characters)."""
        super().__init__(f"unknown {kind} {_QUOTED.repr(value)}")
        self.kind = kind
        self.value = value


class InvalidInputError(ValueError):
    """A field of the request is missing or invalid (400)."""

    def __init__(self, field: str, problem: str) -> None:
        """``field`` names the input, ``problem`` says what is wrong and what is allowed."""
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem
