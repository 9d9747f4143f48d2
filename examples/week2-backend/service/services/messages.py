"""Direct messages: the current user's conversations and the messages with one user, as mock data."""

from __future__ import annotations

import datetime as dt
from typing import TypedDict

from flask_aws_telemetry import operation


class MessageGroup(TypedDict):
    """A conversation with one other user, shown by its latest message."""

    uuid: str
    display_name: str
    handle: str
    message: str
    created_at: str


class Message(TypedDict):
    """One message of a conversation."""

    uuid: str
    display_name: str
    handle: str
    message: str
    created_at: str


def _now() -> dt.datetime:
    """The current time in UTC, which every mock date is computed from."""
    return dt.datetime.now(dt.UTC)


def message_groups(user_handle: str) -> list[MessageGroup]:
    """``user_handle``'s conversations, the most recent first."""
    with operation("message-groups") as op:
        op.set("app.user_handle", user_handle)
        now = _now()
        results = [
            MessageGroup(
                uuid="24b95582-9e7b-4e0a-9ad1-639773ab7552",
                display_name="Worf",
                handle="worf",
                message="This is a recent message.",
                created_at=(now - dt.timedelta(minutes=5)).isoformat(),
            ),
            MessageGroup(
                uuid="417c360e-c4e6-4fce-873b-d2d71469b4ac",
                display_name="Elim Garak",
                handle="garek",
                message="This is an older message.",
                created_at=(now - dt.timedelta(days=2)).isoformat(),
            ),
        ]
        op.set("app.result_length", len(results))
        return results


def messages(user_handle: str, other_handle: str) -> list[Message]:
    """The messages between ``user_handle`` and ``other_handle``, oldest first."""
    with operation("messages") as op:
        op.set("app.user_handle", user_handle)
        op.set("app.other_handle", other_handle)
        now = _now()
        results = [
            Message(
                uuid="4e81c06a-db0f-4281-b4cc-98208537772a",
                display_name=other_handle.title(),
                handle=other_handle,
                message="Cloud is fun!",
                created_at=(now - dt.timedelta(minutes=10)).isoformat(),
            ),
            Message(
                uuid="66e12864-8c26-4c3a-9658-95a10f8fea67",
                display_name=user_handle.title(),
                handle=user_handle,
                message="It is, and tracing it is even better.",
                created_at=(now - dt.timedelta(minutes=2)).isoformat(),
            ),
        ]
        op.set("app.result_length", len(results))
        return results
