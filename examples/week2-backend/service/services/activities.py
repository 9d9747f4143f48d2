"""Activities: the home feed, notifications, a user's feed and search, as mock data dated from the current time."""

from __future__ import annotations

import datetime as dt
from typing import TypedDict

from flask_aws_telemetry import operation


class Reply(TypedDict):
    """A reply to an activity."""

    uuid: str
    reply_to_activity_uuid: str
    handle: str
    message: str
    replies_count: int
    reposts_count: int
    likes_count: int
    created_at: str


class Activity(TypedDict):
    """A short message a user posted, with when it expires and its replies."""

    uuid: str
    handle: str
    message: str
    replies_count: int
    reposts_count: int
    likes_count: int
    replies: list[Reply]
    created_at: str
    expires_at: str


def _now() -> dt.datetime:
    """The current time in UTC, which every mock date is computed from."""
    return dt.datetime.now(dt.UTC)


def _activity(uuid: str, handle: str, message: str, created: dt.datetime, *, lives: dt.timedelta) -> Activity:
    """One activity without replies, expiring ``lives`` after it was created."""
    return Activity(
        uuid=uuid,
        handle=handle,
        message=message,
        replies_count=0,
        reposts_count=0,
        likes_count=0,
        replies=[],
        created_at=created.isoformat(),
        expires_at=(created + lives).isoformat(),
    )


def home_activities() -> list[Activity]:
    """The home feed: three activities from the last two days, newest first, the first with one reply."""
    with operation("home-activities") as op:
        now = _now()
        op.set("app.now", now.isoformat())
        first = _activity(
            "6b0f3c1e-41a8-4b1e-9d2a-0c6f1f3b7a10",
            "andrewbrown",
            "Cloud is fun!",
            now - dt.timedelta(days=2),
            lives=dt.timedelta(days=7),
        )
        first["replies"] = [
            Reply(
                uuid="a2d7c6f4-5e0b-4f8e-8f43-3b9c1d7e2f55",
                reply_to_activity_uuid=first["uuid"],
                handle="worf",
                message="This post has no honor!",
                replies_count=0,
                reposts_count=0,
                likes_count=0,
                created_at=(now - dt.timedelta(days=1, hours=20)).isoformat(),
            )
        ]
        first["replies_count"] = len(first["replies"])
        results = [
            first,
            _activity(
                "9e3b2a47-7c15-4d0a-b6e8-2f1d4c5a6b72",
                "worf",
                "I am out of prune juice.",
                now - dt.timedelta(days=1),
                lives=dt.timedelta(days=7),
            ),
            _activity(
                "2c8e5f91-0d3a-4b6c-a7e2-8f9b1c3d4e58",
                "garek",
                "My dear doctor, I am just a simple tailor.",
                now - dt.timedelta(hours=1),
                lives=dt.timedelta(hours=12),
            ),
        ]
        results.sort(key=lambda activity: activity["created_at"], reverse=True)
        op.set("app.result_length", len(results))
        return results


def notifications_activities() -> list[Activity]:
    """The current user's notifications: one activity from the last hour that others replied to."""
    with operation("notifications-activities") as op:
        now = _now()
        activity = _activity(
            "5f4c7d2e-8b1a-4e3f-9c6d-1a2b3c4d5e6f",
            "coco",
            "I am a white unicorn.",
            now - dt.timedelta(hours=1),
            lives=dt.timedelta(days=3),
        )
        activity["replies_count"] = 1
        activity["likes_count"] = 5
        results = [activity]
        op.set("app.result_length", len(results))
        return results


def user_activities(handle: str) -> list[Activity]:
    """``handle``'s own feed: one activity posted a day ago."""
    with operation("user-activities") as op:
        op.set("app.user_handle", handle)
        results = [
            _activity(
                "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                handle,
                "Cloud is fun!",
                _now() - dt.timedelta(days=1),
                lives=dt.timedelta(days=7),
            )
        ]
        op.set("app.result_length", len(results))
        return results


def search_activities(term: str) -> list[Activity]:
    """The home feed's activities whose message contains ``term``, case-insensitive."""
    with operation("search-activities") as op:
        needle = term.lower()
        results = [activity for activity in home_activities() if needle in activity["message"].lower()]
        op.set("app.result_length", len(results))
        return results
