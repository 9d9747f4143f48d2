"""Errors the service layer raises for bad input; the API turns them into JSON 4xx responses."""

from __future__ import annotations


class NotFoundError(LookupError):
    """The named thing does not exist (404)."""

    def __init__(self, kind: str, value: str) -> None:
        """``kind`` such as 'handle', ``value`` what was asked for."""
        super().__init__(f"unknown {kind} {value!r}")
        self.kind = kind
        self.value = value


class InvalidInputError(ValueError):
    """A field of the request is missing or invalid (400)."""

    def __init__(self, field: str, problem: str) -> None:
        """``field`` names the input, ``problem`` says what is wrong and what is allowed."""
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem
