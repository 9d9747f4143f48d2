"""The messages API."""

from __future__ import annotations

from flask import Blueprint, current_app

from ..services import messages

bp = Blueprint("messages", __name__, url_prefix="/api")


@bp.get("/message_groups")
def message_groups():
    """The current user's conversations."""
    return messages.message_groups(current_app.extensions["cruddur.store"])
