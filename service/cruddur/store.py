"""In-memory data, seeded like the course's mock data; thread-safe for gunicorn's threads."""

from __future__ import annotations

import copy
import datetime as dt
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class Store:
    """Users, activities and message groups, guarded by one lock."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    activities: list[dict[str, Any]] = field(default_factory=list)
    message_groups: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def seeded(cls) -> Store:
        """The course's cast: Andrew Brown, Worf and Garek, with a few activities and messages."""
        now = _now()
        users = {
            "andrewbrown": {"handle": "andrewbrown", "display_name": "Andrew Brown"},
            "worf": {"handle": "worf", "display_name": "Worf"},
            "garek": {"handle": "garek", "display_name": "Garek"},
        }
        store = cls(users=users)
        first = store.new_activity("andrewbrown", "Cloud is very fun!", now - dt.timedelta(days=2), dt.timedelta(days=5))
        store.add_reply(first["uuid"], "worf", "This post has no honor!", now - dt.timedelta(days=2))
        store.new_activity("worf", "I am out of prune juice", now - dt.timedelta(days=7), dt.timedelta(days=9))
        store.new_activity("garek", "My dear doctor, I am just a simple tailor", now - dt.timedelta(hours=1), dt.timedelta(hours=12))
        store.message_groups = [
            {"uuid": str(uuid.uuid4()), "display_name": "Worf", "handle": "worf", "message": "This is a great idea", "created_at": (now - dt.timedelta(days=1)).isoformat()},
            {"uuid": str(uuid.uuid4()), "display_name": "Garek", "handle": "garek", "message": "Quick question", "created_at": (now - dt.timedelta(hours=3)).isoformat()},
        ]  # fmt: skip
        return store

    def new_activity(
        self, handle: str, message: str, created_at: dt.datetime, ttl: dt.timedelta
    ) -> dict[str, Any]:
        """Add an activity by ``handle``; returns a copy."""
        activity = {
            "uuid": str(uuid.uuid4()),
            "handle": handle,
            "display_name": self.users[handle]["display_name"],
            "message": message,
            "created_at": created_at.isoformat(),
            "expires_at": (created_at + ttl).isoformat(),
            "likes_count": 0,
            "replies_count": 0,
            "reposts_count": 0,
            "replies": [],
        }
        with self.lock:
            self.activities.append(activity)
            return copy.deepcopy(activity)

    def add_reply(self, activity_uuid: str, handle: str, message: str, created_at: dt.datetime) -> dict[str, Any] | None:
        """Reply to an activity; None when there is no such activity."""
        reply = {
            "uuid": str(uuid.uuid4()),
            "reply_to_activity_uuid": activity_uuid,
            "handle": handle,
            "display_name": self.users[handle]["display_name"],
            "message": message,
            "created_at": created_at.isoformat(),
            "likes_count": 0,
            "replies_count": 0,
            "reposts_count": 0,
        }
        with self.lock:
            for activity in self.activities:
                if activity["uuid"] == activity_uuid:
                    activity["replies"].append(reply)
                    activity["replies_count"] += 1
                    return copy.deepcopy(reply)
        return None

    def snapshot(self) -> list[dict[str, Any]]:
        """A copy of every activity."""
        with self.lock:
            return copy.deepcopy(self.activities)
