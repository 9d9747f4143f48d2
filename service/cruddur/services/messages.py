"""Messages: the current user's conversations, one conversation, and sending a message."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask_aws_telemetry import operation

from .. import contract
from ..records import Message, MessageGroup
from ..store import Store
from .activities import known_user
from .errors import InvalidInputError

MAX_MESSAGE_LENGTH = 1024  # the course's limit for messages

log = logging.getLogger("cruddur.messages")


def message_groups(store: Store, handle: str) -> list[MessageGroup]:
    """``handle``'s conversations, the most recent first."""
    with operation("message-groups") as op:
        groups = store.message_groups(handle)
        op.set(contract.RESULT_LENGTH_ATTRIBUTE, len(groups))
        return groups


def messages(store: Store, handle: str, other: str) -> list[Message]:
    """The newest page of messages between ``handle`` and ``other``, oldest first; NotFoundError for an unknown
    ``other``.
    """
    with operation("messages") as op:
        known_user(store, other)
        results = store.messages(handle, other)
        op.set(contract.USER_HANDLE_ATTRIBUTE, other)
        op.set(contract.RESULT_LENGTH_ATTRIBUTE, len(results))
        return results


def create_message(store: Store, body: dict[str, Any], current_user: str) -> Message:
    """Send ``body["message"]`` from ``current_user`` to ``body["user_receiver_handle"]``."""
    with operation("create-message") as op:
        message = body.get("message")
        if not isinstance(message, str) or not message.strip():
            raise InvalidInputError("message", "is required and must be a non-empty string")
        if len(message) > MAX_MESSAGE_LENGTH:
            raise InvalidInputError("message", f"is {len(message)} characters; the limit is {MAX_MESSAGE_LENGTH}")
        receiver = known_user(store, body.get("user_receiver_handle"), "user_receiver_handle")
        sender = known_user(store, current_user)
        if receiver.handle == sender.handle:
            raise InvalidInputError("user_receiver_handle", "names the sender; send a message to someone else")
        stored = store.new_message(sender, receiver, message.strip(), dt.datetime.now(dt.UTC))
        op.set(contract.MESSAGE_UUID_ATTRIBUTE, stored.uuid)
        log.info("message %s sent by %s to %s", stored.uuid, sender.handle, receiver.handle)
        return stored
