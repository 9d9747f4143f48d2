"""The domain records the store returns and the services pass on; ``cruddur.api.presentation`` makes them JSON."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class User:
    """A user: the handle names them, the display name is shown."""

    handle: str
    display_name: str


@dataclass(frozen=True)
class Reply:
    """A reply to an activity; it lives in its activity's item."""

    uuid: str
    reply_to_activity_uuid: str
    handle: str
    display_name: str
    message: str
    created_at: dt.datetime
    likes_count: int = 0
    reposts_count: int = 0


@dataclass(frozen=True)
class Activity:
    """A post that expires at ``expires_at``, with its replies oldest first."""

    uuid: str
    handle: str
    display_name: str
    message: str
    created_at: dt.datetime
    expires_at: dt.datetime
    likes_count: int = 0
    reposts_count: int = 0
    replies: tuple[Reply, ...] = ()


@dataclass(frozen=True)
class Message:
    """A message in a conversation, with its sender."""

    uuid: str
    handle: str
    display_name: str
    message: str
    created_at: dt.datetime


@dataclass(frozen=True)
class MessageGroup:
    """One side's view of a conversation: the other user and the last message."""

    uuid: str
    handle: str
    display_name: str
    message: str
    created_at: dt.datetime
