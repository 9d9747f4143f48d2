"""The course's React frontend (frontend-react-js, week 2), call by call, against the service on moto's DynamoDB.

Each test makes the request a page or form of the frontend makes, with its
method, path, headers and body fields, and checks the status it accepts
(``res.status === 200``) and every field it reads. The frontend runs in a
browser on another origin (``REACT_APP_BACKEND_URL``), so each call is also
checked for its CORS headers.
"""

from __future__ import annotations

import pytest

from cruddur import contract

FRONTEND = "http://localhost:3000"
# What ActivityForm, ReplyForm and MessageForm send with their POSTs.
FORM_HEADERS = {"Accept": "application/json", "Content-Type": "application/json", "Origin": FRONTEND}
ACTIVITY_FIELDS = {
    "uuid",
    "handle",
    "display_name",
    "message",
    "created_at",
    "expires_at",
    "likes_count",
    "replies_count",
    "reposts_count",
    "replies",
}
REPLY_FIELDS = {
    "uuid",
    "reply_to_activity_uuid",
    "handle",
    "display_name",
    "message",
    "created_at",
    "likes_count",
    "replies_count",
    "reposts_count",
}
MESSAGE_FIELDS = {"uuid", "handle", "display_name", "message", "created_at"}


@pytest.fixture
def app(make_app):
    """The service with the frontend's origin in FRONTEND_URL, as README's make local sets it."""
    return make_app({contract.SERVICE_NAME.name: "cruddur-backend-flask", contract.FRONTEND_URL.name: FRONTEND})


@pytest.fixture
def browser(app):
    """A client that sends the frontend's Origin header, as the browser does."""
    client = app.test_client()
    client.environ_base["HTTP_ORIGIN"] = FRONTEND
    return client


def _allowed(response) -> bool:
    return response.headers.get("Access-Control-Allow-Origin") == FRONTEND


def _activities_read_like_activity_item(activities: list[dict]) -> None:
    """ActivityItem/ActivityContent read these fields, and the same of each reply (rendered as ActivityItem too)."""
    for activity in activities:
        assert ACTIVITY_FIELDS <= set(activity), activity
        assert activity["replies_count"] == len(activity["replies"])
        for reply in activity["replies"]:
            assert REPLY_FIELDS <= set(reply), reply


def test_home_feed_page(browser):
    """HomeFeedPage: GET /api/activities/home, 200, a list of activities with their replies (the course's cast)."""
    response = browser.get("/api/activities/home")
    assert response.status_code == 200 and _allowed(response)
    _activities_read_like_activity_item(response.json)
    by_handle = {a["handle"]: a for a in response.json}
    assert set(by_handle) == {"andrewbrown", "worf", "garek"}
    assert [r["message"] for r in by_handle["andrewbrown"]["replies"]] == ["This post has no honor!"]


def test_user_feed_page(browser):
    """UserFeedPage: GET /api/activities/@<handle>, 200, that user's activities."""
    response = browser.get("/api/activities/@worf")
    assert response.status_code == 200 and _allowed(response)
    _activities_read_like_activity_item(response.json)
    assert {a["handle"] for a in response.json} == {"worf"}


def test_notifications_feed_page(browser):
    """NotificationsFeedPage: GET /api/activities/notifications, 200, activities with their replies."""
    response = browser.get("/api/activities/notifications")
    assert response.status_code == 200 and _allowed(response)
    _activities_read_like_activity_item(response.json)
    assert response.json and all(a["replies"] for a in response.json)


def test_activity_form_without_a_handle_posts_as_the_demo_user(browser):
    """ActivityForm: preflight, then POST /api/activities {message, ttl}; 200 and an activity it puts atop the feed."""
    preflight = browser.options(
        "/api/activities",
        headers={"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
    )
    assert preflight.status_code == 200 and _allowed(preflight)
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()
    response = browser.post(
        "/api/activities", json={"message": "Hello from the frontend", "ttl": "3-hours"}, headers=FORM_HEADERS
    )
    assert response.status_code == 200 and _allowed(response)
    activity = response.json
    _activities_read_like_activity_item([activity])
    assert (activity["handle"], activity["display_name"]) == ("andrewbrown", "Andrew Brown")
    assert browser.get("/api/activities/home").json[0]["uuid"] == activity["uuid"]


def test_activity_form_with_a_handle(browser):
    """A client that names a handle posts as that user."""
    response = browser.post(
        "/api/activities", json={"handle": "garek", "message": "Hello", "ttl": "1-day"}, headers=FORM_HEADERS
    )
    assert response.status_code == 200 and response.json["handle"] == "garek"


def test_reply_form(browser):
    """ReplyForm: POST /api/activities/<uuid>/reply {message}; 200 and a reply it pushes onto activity.replies."""
    activity = next(a for a in browser.get("/api/activities/home").json if a["handle"] == "garek")
    preflight = browser.options(
        f"/api/activities/{activity['uuid']}/reply",
        headers={"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
    )
    assert preflight.status_code == 200 and _allowed(preflight)
    response = browser.post(
        f"/api/activities/{activity['uuid']}/reply", json={"message": "Plain, simple Garak"}, headers=FORM_HEADERS
    )
    assert response.status_code == 200 and _allowed(response)
    reply = response.json
    assert REPLY_FIELDS <= set(reply) and reply["reply_to_activity_uuid"] == activity["uuid"]
    assert reply["handle"] == "andrewbrown"
    again = next(a for a in browser.get("/api/activities/home").json if a["uuid"] == activity["uuid"])
    assert [r["uuid"] for r in again["replies"]] == [reply["uuid"]] and again["replies_count"] == 1


def test_message_groups_page(browser):
    """MessageGroupsPage and MessageGroupPage: GET /api/message_groups, 200, the demo user's conversations."""
    response = browser.get("/api/message_groups")
    assert response.status_code == 200 and _allowed(response)
    for group in response.json:
        assert {"uuid", "handle", "display_name", "message", "created_at"} <= set(group)
    assert [g["handle"] for g in response.json] == ["garek", "worf"]  # the most recent first


def test_message_group_page_and_message_form(browser):
    """MessageGroupPage: GET /api/messages/@<handle>; MessageForm: POST /api/messages {message,
    user_receiver_handle}.
    """
    response = browser.get("/api/messages/@worf")
    assert response.status_code == 200 and _allowed(response)
    assert [m["message"] for m in response.json] == ["This is a great idea", "Cloud is fun!"]  # oldest first
    for message in response.json:
        assert MESSAGE_FIELDS <= set(message)
    preflight = browser.options(
        "/api/messages",
        headers={"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
    )
    assert preflight.status_code == 200 and _allowed(preflight)
    sent = browser.post(
        "/api/messages", json={"message": "Qapla'", "user_receiver_handle": "worf"}, headers=FORM_HEADERS
    )
    assert sent.status_code == 200 and _allowed(sent)
    assert MESSAGE_FIELDS <= set(sent.json) and sent.json["handle"] == "andrewbrown"
    assert browser.get("/api/messages/@worf").json[-1]["uuid"] == sent.json["uuid"]  # appended, as the form does
    latest = browser.get("/api/message_groups").json[0]
    assert (latest["handle"], latest["message"]) == ("worf", "Qapla'")


def test_no_origin_is_allowed_unless_configured(make_app):
    """Without FRONTEND_URL no origin gets CORS headers; with it, only the configured one."""
    bare = make_app({contract.SERVICE_NAME.name: "cruddur-backend-flask"}).test_client()
    response = bare.get("/api/activities/home", headers={"Origin": FRONTEND})
    assert response.status_code == 200 and "Access-Control-Allow-Origin" not in response.headers
    configured = make_app(
        {contract.SERVICE_NAME.name: "cruddur-backend-flask", contract.FRONTEND_URL.name: FRONTEND}
    ).test_client()
    other = configured.get("/api/activities/home", headers={"Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in other.headers
