"""Activities: the home feed, notifications, a user's feed, search, create and reply."""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from ..store import Store
from ..telemetry import operation
from .errors import InvalidInputError, NotFoundError

MAX_MESSAGE_LENGTH = 280
MAX_SEARCH_TERM_LENGTH = 100
HANDLE_PATTERN = re.compile(r"^[a-z0-9_]{1,32}$")
TTLS = {
    "30-days": dt.timedelta(days=30),
    "7-days": dt.timedelta(days=7),
    "3-days": dt.timedelta(days=3),
    "1-day": dt.timedelta(days=1),
    "12-hours": dt.timedelta(hours=12),
    "3-hours": dt.timedelta(hours=3),
    "1-hour": dt.timedelta(hours=1),
}
DEFAULT_TTL = "7-days"

log = logging.getLogger("cruddur.activities")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _live(store: Store) -> list[dict[str, Any]]:
    now = _now().isoformat()
    live = [a for a in store.snapshot() if a["expires_at"] > now]
    return sorted(live, key=lambda a: a["created_at"], reverse=True)


def _known_handle(store: Store, handle: Any, field: str = "handle") -> str:
    if not isinstance(handle, str) or not HANDLE_PATTERN.match(handle):
        raise InvalidInputError(field, "use 1-32 lowercase letters, digits or '_'")
    if handle not in store.users:
        raise NotFoundError("handle", handle)
    return handle


def _message(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError("message", "is required and must be a non-empty string")
    if len(value) > MAX_MESSAGE_LENGTH:
        raise InvalidInputError("message", f"is {len(value)} characters; the limit is {MAX_MESSAGE_LENGTH}")
    return value.strip()


def home_activities(store: Store) -> list[dict[str, Any]]:
    """Every live activity, newest first."""
    with operation("home-activities") as op:
        results = _live(store)
        op.set("app.result_length", len(results))
        return results


def notifications_activities(store: Store, handle: str = "andrewbrown") -> list[dict[str, Any]]:
    """Replies to ``handle``'s activities, newest first."""
    with operation("notifications-activities") as op:
        results = [
            reply
            for activity in _live(store)
            if activity["handle"] == handle
            for reply in activity["replies"]
        ]
        results.sort(key=lambda r: r["created_at"], reverse=True)
        op.set("app.result_length", len(results))
        return results


def user_activities(store: Store, handle: str) -> list[dict[str, Any]]:
    """``handle``'s live activities; NotFoundError for an unknown handle."""
    with operation("user-activities") as op:
        _known_handle(store, handle)
        results = [a for a in _live(store) if a["handle"] == handle]
        op.set("app.user_handle", handle)
        op.set("app.result_length", len(results))
        return results


def search_activities(store: Store, term: Any) -> list[dict[str, Any]]:
    """Live activities whose message contains ``term`` (case-insensitive)."""
    with operation("search-activities") as op:
        if not isinstance(term, str) or not term.strip():
            raise InvalidInputError("term", "is required, for example ?term=cloud")
        if len(term) > MAX_SEARCH_TERM_LENGTH:
            raise InvalidInputError("term", f"is {len(term)} characters; the limit is {MAX_SEARCH_TERM_LENGTH}")
        needle = term.strip().lower()
        results = [a for a in _live(store) if needle in a["message"].lower()]
        op.set("app.result_length", len(results))
        return results


def create_activity(store: Store, body: dict[str, Any]) -> dict[str, Any]:
    """Create an activity from a validated body: handle, message, optional ttl."""
    with operation("create-activity") as op:
        handle = _known_handle(store, body.get("handle"))
        message = _message(body.get("message"))
        ttl = body.get("ttl", DEFAULT_TTL)
        if ttl not in TTLS:
            raise InvalidInputError("ttl", f"use one of {', '.join(TTLS)}")
        activity = store.new_activity(handle, message, _now(), TTLS[ttl])
        op.set("app.activity_uuid", activity["uuid"])
        log.info("activity %s created by %s", activity["uuid"], handle)
        return activity


def create_reply(store: Store, activity_uuid: str, body: dict[str, Any]) -> dict[str, Any]:
    """Reply to an activity; NotFoundError for an unknown activity."""
    with operation("create-reply") as op:
        handle = _known_handle(store, body.get("handle"))
        message = _message(body.get("message"))
        reply = store.add_reply(activity_uuid, handle, message, _now())
        if reply is None:
            raise NotFoundError("activity", activity_uuid)
        op.set("app.activity_uuid", activity_uuid)
        log.info("reply %s to activity %s created by %s", reply["uuid"], activity_uuid, handle)
        return reply
