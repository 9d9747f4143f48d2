"""The messages API: conversations, one conversation, sending a message."""

from __future__ import annotations

from flask import Blueprint

from ..services import messages
from . import presentation
from .activities import current_user, store
from .json_body import json_object

bp = Blueprint("messages", __name__, url_prefix="/api")


@bp.get("/message_groups")
def message_groups():
    """The current user's conversations."""
    return presentation.messages(messages.message_groups(store(), current_user()))


@bp.get("/messages/@<handle>")
def conversation(handle: str):
    """The current user's messages with ``handle``, oldest first."""
    return presentation.messages(messages.messages(store(), current_user(), handle))


@bp.post("/messages")
def create():
    """Send a message: {"message", "user_receiver_handle"}; 200, as the course's frontend expects."""
    return presentation.message(messages.create_message(store(), json_object(), current_user())), 200
