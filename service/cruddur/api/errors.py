"""Every error is a JSON object {"error": {"status", "message", ...}}; client errors are 4xx, never 500."""

from __future__ import annotations

import logging

from flask import Flask
from werkzeug.exceptions import HTTPException, InternalServerError

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
        return _error(error.code or 500, error.description or error.name)

    @app.errorhandler(InternalServerError)
    def internal_error(error: InternalServerError):
        # Unhandled exceptions arrive here after Flask's got_request_exception
        # signal (Rollbar) has fired; the body never leaks the exception.
        log.error("unhandled exception", exc_info=getattr(error, "original_exception", None))
        return _error(500, "internal server error")
