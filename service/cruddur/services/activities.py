"""Activities: the home feed, notifications, a user's feed, search, create and reply."""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from flask_aws_telemetry import operation

from .. import contract
from ..records import Activity, Reply, User
from ..store import MAX_REPLIES, SEARCH_WINDOW, Store, TooManyRepliesError
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
    return dt.datetime.now(dt.UTC)


def known_user(store: Store, handle: Any, field: str = "handle") -> User:
    """The user ``handle`` names; InvalidInputError for a malformed one (naming ``field``), NotFoundError for an
    unknown one.
    """
    if not isinstance(handle, str) or not HANDLE_PATTERN.match(handle):
        raise InvalidInputError(field, "use 1-32 lowercase letters, digits or '_'")
    user = store.user(handle)
    if user is None:
        raise NotFoundError("handle", handle)
    return user


def _message(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError("message", "is required and must be a non-empty string")
    if len(value) > MAX_MESSAGE_LENGTH:
        raise InvalidInputError("message", f"is {len(value)} characters; the limit is {MAX_MESSAGE_LENGTH}")
    return value.strip()


def _author(store: Store, body: dict[str, Any], current_user: str) -> User:
    """The body's ``handle``, or the current user when the body names none (as the course's frontend sends)."""
    return known_user(store, body.get("handle", current_user))


def home_activities(store: Store) -> list[Activity]:
    """The newest page of live activities, newest first, each with its replies."""
    with operation("home-activities") as op:
        results = store.home_feed(_now())
        op.set(contract.RESULT_LENGTH_ATTRIBUTE, len(results))
        return results


def notifications_activities(store: Store, handle: str) -> list[Activity]:
    """``handle``'s live activities that have replies, newest first, each with its replies."""
    with operation("notifications-activities") as op:
        results = [activity for activity in store.user_feed(handle, _now()) if activity.replies]
        op.set(contract.USER_HANDLE_ATTRIBUTE, handle)
        op.set(contract.RESULT_LENGTH_ATTRIBUTE, len(results))
        return results


def user_activities(store: Store, handle: str) -> list[Activity]:
    """``handle``'s newest page of live activities; NotFoundError for an unknown handle."""
    with operation("user-activities") as op:
        known_user(store, handle)
        results = store.user_feed(handle, _now())
        op.set(contract.USER_HANDLE_ATTRIBUTE, handle)
        op.set(contract.RESULT_LENGTH_ATTRIBUTE, len(results))
        return results


def search_activities(store: Store, term: Any) -> list[Activity]:
    """Live activities among the newest ``SEARCH_WINDOW`` whose message contains ``term`` (case-insensitive)."""
    with operation("search-activities") as op:
        if not isinstance(term, str) or not term.strip():
            raise InvalidInputError("term", "is required, for example ?term=cloud")
        if len(term) > MAX_SEARCH_TERM_LENGTH:
            raise InvalidInputError("term", f"is {len(term)} characters; the limit is {MAX_SEARCH_TERM_LENGTH}")
        needle = term.strip().lower()
        results = [a for a in store.home_feed(_now(), limit=SEARCH_WINDOW) if needle in a.message.lower()]
        op.set(contract.RESULT_LENGTH_ATTRIBUTE, len(results))
        return results


def create_activity(store: Store, body: dict[str, Any], current_user: str) -> Activity:
    """Create an activity from a body: message, optional ttl, optional handle (default ``current_user``)."""
    with operation("create-activity") as op:
        message = _message(body.get("message"))
        ttl = body.get("ttl", DEFAULT_TTL)
        if not isinstance(ttl, str) or ttl not in TTLS:
            raise InvalidInputError("ttl", f"use one of {', '.join(TTLS)}")
        user = _author(store, body, current_user)
        activity = store.new_activity(user, message, _now(), TTLS[ttl])
        op.set(contract.ACTIVITY_UUID_ATTRIBUTE, activity.uuid)
        log.info("activity %s created by %s", activity.uuid, user.handle)
        return activity


def create_reply(store: Store, activity_uuid: str, body: dict[str, Any], current_user: str) -> Reply:
    """Reply to a live activity; NotFoundError for an unknown or expired one."""
    with operation("create-reply") as op:
        message = _message(body.get("message"))
        user = _author(store, body, current_user)
        try:
            reply = store.add_reply(activity_uuid, user, message, _now())
        except TooManyRepliesError:
            raise InvalidInputError("activity", f"has the maximum of {MAX_REPLIES} replies; reply to another") from None
        if reply is None:
            raise NotFoundError("activity", activity_uuid)
        op.set(contract.ACTIVITY_UUID_ATTRIBUTE, activity_uuid)
        log.info("reply %s to activity %s created by %s", reply.uuid, activity_uuid, user.handle)
        return reply
