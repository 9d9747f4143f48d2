"""A minimal Flask backend in the shape of the course's week-2 ``backend-flask``, traced by ``flask_aws_telemetry``.

Each route calls one function in ``services/`` that returns mock data; the telemetry is ``Telemetry.install`` at
the end of ``create_app`` and an ``operation`` around each service function. Run it from this directory::

    FLASK_APP=app.py OTEL_SERVICE_NAME=week2-backend flask run --port 5000
    OTEL_SERVICE_NAME=week2-backend gunicorn --config python:flask_aws_telemetry.gunicorn_config 'app:create_app()'
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Blueprint, Flask, request
from flask.typing import ResponseReturnValue
from flask_cors import CORS
from services import activities, messages

from flask_aws_telemetry import Telemetry

# The course's health-check path; stages.py gives the same one to the task, the load balancer and X-Ray's rule.
HEALTH_CHECK_PATH = "/api/health-check"

# The course has no sign-in yet in week 2: every request acts as this user.
CURRENT_USER_HANDLE = "andrewbrown"

api = Blueprint("api", __name__)


@api.get(HEALTH_CHECK_PATH)
def health_check() -> dict[str, bool]:
    """Answer the load balancer and the container's health check."""
    return {"success": True}


@api.get("/api/activities/home")
def home() -> ResponseReturnValue:
    """The home feed."""
    return activities.home_activities()


@api.get("/api/activities/notifications")
def notifications() -> ResponseReturnValue:
    """The current user's notifications."""
    return activities.notifications_activities()


@api.get("/api/activities/@<string:handle>")
def user_feed(handle: str) -> ResponseReturnValue:
    """One user's feed."""
    return activities.user_activities(handle)


@api.get("/api/activities/search")
def search() -> ResponseReturnValue:
    """Activities whose message contains ``?term=``; 422 when the term is blank, as the course answers."""
    term = request.args.get("term", "").strip()
    if not term:
        return {"errors": ["search_term_blank"]}, 422
    return activities.search_activities(term)


@api.get("/api/message_groups")
def message_groups() -> ResponseReturnValue:
    """The current user's conversations."""
    return messages.message_groups(CURRENT_USER_HANDLE)


@api.get("/api/messages/@<string:handle>")
def conversation(handle: str) -> ResponseReturnValue:
    """The messages between the current user and ``handle``."""
    return messages.messages(CURRENT_USER_HANDLE, handle)


@api.get("/rollbar/test")
def rollbar_test() -> ResponseReturnValue:
    """Fail on purpose, as the course's Rollbar check does: the error reaches Rollbar with the request's trace id."""
    raise RollbarTestError("this route fails on purpose, to check that errors reach Rollbar")


class RollbarTestError(RuntimeError):
    """The error ``/rollbar/test`` raises."""


def frontend_origins(environ: Mapping[str, str]) -> list[str]:
    """The origins CORS allows on /api/*: FRONTEND_URL split on commas (the course sets one); none when it is unset."""
    return [origin.strip() for origin in environ.get("FRONTEND_URL", "").split(",") if origin.strip()]


def create_app() -> Flask:
    """Build the app; CORS and the telemetry read their settings from the environment."""
    app = Flask(__name__)
    CORS(
        app,
        resources={r"/api/*": {"origins": frontend_origins(os.environ)}},
        methods=["OPTIONS", "GET", "HEAD"],
        allow_headers=["Content-Type", "If-Modified-Since", "traceparent", "X-Amzn-Trace-Id"],
        expose_headers=["Location", "Link"],
    )
    app.register_blueprint(api)
    # Last, so the telemetry wraps the app as built: every route and the CORS answers.
    Telemetry.install(app)
    return app
