"""The JSON the course's frontend reads, shaped from the store's records: field names and order are the frontend's."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..records import Activity, Message, MessageGroup, Reply


def reply(record: Reply) -> dict[str, Any]:
    """A reply as the frontend shows it under its activity."""
    return {
        "uuid": record.uuid,
        "reply_to_activity_uuid": record.reply_to_activity_uuid,
        "handle": record.handle,
        "display_name": record.display_name,
        "message": record.message,
        "created_at": record.created_at.isoformat(),
        "likes_count": record.likes_count,
        "replies_count": 0,  # replies do not nest
        "reposts_count": record.reposts_count,
    }


def activity(record: Activity) -> dict[str, Any]:
    """An activity with its replies, oldest first, and their count."""
    return {
        "uuid": record.uuid,
        "handle": record.handle,
        "display_name": record.display_name,
        "message": record.message,
        "created_at": record.created_at.isoformat(),
        "expires_at": record.expires_at.isoformat(),
        "likes_count": record.likes_count,
        "reposts_count": record.reposts_count,
        "replies_count": len(record.replies),
        "replies": [reply(item) for item in record.replies],
    }


def activities(records: Iterable[Activity]) -> list[dict[str, Any]]:
    """A feed, in the order given."""
    return [activity(record) for record in records]


def message(record: Message | MessageGroup) -> dict[str, Any]:
    """A message, or a conversation (the other user and the last message)."""
    return {
        "uuid": record.uuid,
        "handle": record.handle,
        "display_name": record.display_name,
        "message": record.message,
        "created_at": record.created_at.isoformat(),
    }


def messages(records: Iterable[Message | MessageGroup]) -> list[dict[str, Any]]:
    """Messages or conversations, in the order given."""
    return [message(record) for record in records]
