"""The activities API."""

from __future__ import annotations

import uuid

from flask import Blueprint, current_app, request

from .. import extensions
from ..services import activities
from ..services.errors import NotFoundError
from ..store import Store
from . import presentation
from .json_body import json_object

bp = Blueprint("activities", __name__, url_prefix="/api/activities")


def store() -> Store:
    """The app's DynamoDB store."""
    return current_app.extensions[extensions.STORE]


def current_user() -> str:
    """The user requests act as: the configured demo user, as the course's backend does before sign-in exists."""
    return current_app.extensions[extensions.SETTINGS].demo_user_handle


@bp.get("/home")
def home():
    """The home feed."""
    return presentation.activities(activities.home_activities(store()))


@bp.get("/notifications")
def notifications():
    """The current user's activities that have replies, with their replies."""
    return presentation.activities(activities.notifications_activities(store(), current_user()))


@bp.get("/@<handle>")
def user(handle: str):
    """One user's activities."""
    return presentation.activities(activities.user_activities(store(), handle))


@bp.get("/search")
def search():
    """Activities containing ?term=."""
    return presentation.activities(activities.search_activities(store(), request.args.get("term")))


@bp.post("")
def create():
    """Create an activity: {"message", "ttl"?, "handle"?}; 200, as the course's frontend expects."""
    return presentation.activity(activities.create_activity(store(), json_object(), current_user())), 200


@bp.post("/<activity_uuid>/reply")
def reply(activity_uuid: str):
    """Reply to an activity: {"message", "handle"?}; 200, as the course's frontend expects."""
    try:
        canonical = str(uuid.UUID(activity_uuid))
    except ValueError:
        raise NotFoundError("activity", activity_uuid) from None
    return presentation.reply(activities.create_reply(store(), canonical, json_object(), current_user())), 200
