"""The activities API."""

from __future__ import annotations

import uuid

from flask import Blueprint, current_app, request

from ..services import activities
from ..services.errors import NotFoundError
from .json_body import json_object

bp = Blueprint("activities", __name__, url_prefix="/api/activities")


def _store():
    return current_app.extensions["cruddur.store"]


@bp.get("/home")
def home():
    """The home feed."""
    return activities.home_activities(_store())


@bp.get("/notifications")
def notifications():
    """Replies to the current user's activities."""
    return activities.notifications_activities(_store())


@bp.get("/@<handle>")
def user(handle: str):
    """One user's activities."""
    return activities.user_activities(_store(), handle)


@bp.get("/search")
def search():
    """Activities containing ?term=."""
    return activities.search_activities(_store(), request.args.get("term"))


@bp.post("")
def create():
    """Create an activity: {"handle", "message", "ttl"?}."""
    return activities.create_activity(_store(), json_object()), 201


@bp.post("/<activity_uuid>/reply")
def reply(activity_uuid: str):
    """Reply to an activity: {"handle", "message"}."""
    try:
        canonical = str(uuid.UUID(activity_uuid))
    except ValueError:
        raise NotFoundError("activity", activity_uuid) from None
    return activities.create_reply(_store(), canonical, json_object()), 201



