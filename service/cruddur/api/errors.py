"""Every error is a JSON object {"error": {"status", "message", ...}}; client errors are 4xx, never 500."""

from __future__ import annotations

import logging

from flask import Flask, current_app
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed, NotFound, RequestEntityTooLarge

from ..services.errors import InvalidInputError, NotFoundError
from ..store import StoreUnavailableError

log = logging.getLogger("cruddur.api")
store_log = logging.getLogger("cruddur.store")


def _error(status: int, message: str, **details: str):
    return {"error": {"status": status, "message": message, **details}}, status


def register_error_handlers(app: Flask) -> None:
    """Map service-layer and HTTP errors to JSON responses."""

    @app.errorhandler(InvalidInputError)
    def invalid_input(error: InvalidInputError):
        return _error(400, str(error), field=error.field)

    @app.errorhandler(NotFoundError)
    def not_found(error: NotFoundError):
        return _error(404, str(error), kind=error.kind)

    @app.errorhandler(StoreUnavailableError)
    def store_unavailable(error: StoreUnavailableError):
        # Logged at a bounded rate (the "cruddur.store" prefix of the rate limit);
        # the span and segment of the call are already marked by their instrumentation.
        store_log.error("%s; answering 503", error)
        return _error(503, "the database is unavailable; try again shortly", kind="database")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return _error(error.code or 500, http_error_sentence(error))

    @app.errorhandler(InternalServerError)
    def internal_error(error: InternalServerError):
        # Unhandled exceptions arrive here after Flask's got_request_exception
        # signal (Rollbar) has fired; the body never leaks the exception.
        log.error("unhandled exception", exc_info=getattr(error, "original_exception", None))
        return _error(500, "internal server error")


def http_error_sentence(error: HTTPException) -> str:
    """One sentence for werkzeug's ``error`` that says what to change (werkzeug's own text can be two, or vague)."""
    if isinstance(error, NotFound):
        return "nothing is at this path; the API's paths start with /api/"
    if isinstance(error, MethodNotAllowed):
        allowed = ", ".join(sorted(error.valid_methods or ()))
        return f"this path does not take that method; use {allowed}"
    if isinstance(error, RequestEntityTooLarge):
        return f"the body is larger than {current_app.config['MAX_CONTENT_LENGTH']} bytes; send a smaller one"
    # Werkzeug's first sentence, for the rarer ones (415, 431...), whose text is one already.
    description = (error.description or error.name).split(". ")[0]
    return description.rstrip(".")
