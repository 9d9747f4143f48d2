"""The API: every endpoint answers, and bad input gets a JSON 4xx that says what is wrong."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cruddur import contract

UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000"  # fixed: parametrize ids must not change between runs


def test_health_check(client):
    """The health endpoint answers 200 with a JSON body."""
    response = client.get(contract.HEALTH_CHECK_PATH)
    assert response.status_code == 200
    assert response.json == {"success": True}


@pytest.mark.parametrize(
    "path",
    [
        "/api/activities/home",
        "/api/activities/notifications",
        "/api/activities/@andrewbrown",
        "/api/activities/search?term=cloud",
        "/api/message_groups",
        "/api/messages/@worf",
    ],
)
def test_read_endpoints_return_json_lists(client, path):
    """Each read endpoint returns a non-empty JSON list from the seeded data."""
    response = client.get(path)
    assert response.status_code == 200
    assert isinstance(response.json, list) and response.json


def test_home_is_newest_first(client):
    """The home feed is ordered by creation time, newest first."""
    created = [a["created_at"] for a in client.get("/api/activities/home").json]
    assert created == sorted(created, reverse=True)


def test_create_then_reply(client):
    """A created activity appears in the feed; a reply is counted on it, and it shows in notifications with the
    reply.
    """
    created = client.post(
        "/api/activities", json={"handle": "andrewbrown", "message": "Tracing is fun", "ttl": "1-day"}
    )
    assert created.status_code == 200
    activity = created.json
    assert activity["message"] == "Tracing is fun"
    assert activity["uuid"] in [a["uuid"] for a in client.get("/api/activities/home").json]
    reply = client.post(f"/api/activities/{activity['uuid']}/reply", json={"handle": "worf", "message": "Agreed"})
    assert reply.status_code == 200
    assert reply.json["reply_to_activity_uuid"] == activity["uuid"]
    mine = {a["uuid"]: a for a in client.get("/api/activities/@andrewbrown").json}
    assert mine[activity["uuid"]]["replies_count"] == 1
    notified = {a["uuid"]: a for a in client.get("/api/activities/notifications").json}
    assert [r["uuid"] for r in notified[activity["uuid"]]["replies"]] == [reply.json["uuid"]]


def test_search_finds_case_insensitively(client):
    """?term= matches messages regardless of case."""
    results = client.get("/api/activities/search?term=CLOUD").json
    assert [a["message"] for a in results] == ["Cloud is very fun!"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "says"),
    [
        ("get", "/api/activities/@nobody", None, 404, "unknown handle 'nobody'"),
        ("get", "/api/activities/@Not-A-Handle", None, 400, "handle"),
        ("get", "/api/activities/search", None, 400, "term: is required"),
        ("get", "/api/activities/search?term=" + "x" * 101, None, 400, "the limit is 100"),
        ("post", "/api/activities", {"handle": "andrewbrown"}, 400, "message: is required"),
        ("post", "/api/activities", {"handle": 7, "message": "hi"}, 400, "handle"),
        ("post", "/api/activities", {"handle": "nobody", "message": "hi"}, 404, "unknown handle"),
        ("post", "/api/activities", {"handle": "worf", "message": "x" * 281}, 400, "the limit is 280"),
        ("post", "/api/activities", {"handle": "worf", "message": "hi", "ttl": "1-year"}, 400, "ttl: use one of"),
        ("post", "/api/activities", {"handle": "worf", "message": 42}, 400, "message"),
        ("post", "/api/activities", ["handle", "worf"], 400, "must be a JSON object"),
        ("post", f"/api/activities/{UNKNOWN_UUID}/reply", {"handle": "worf", "message": "hi"}, 404, "unknown activity"),
        ("post", "/api/activities/not-a-uuid/reply", {"handle": "worf", "message": "hi"}, 404, "unknown activity"),
        ("post", "/api/messages", {"message": "hi"}, 400, "user_receiver_handle"),
        ("post", "/api/messages", {"message": "hi", "user_receiver_handle": "nobody"}, 404, "unknown handle"),
        ("post", "/api/messages", {"message": "hi", "user_receiver_handle": "andrewbrown"}, 400, "names the sender"),
        ("post", "/api/messages", {"message": "x" * 1025, "user_receiver_handle": "worf"}, 400, "the limit is 1024"),
        ("get", "/api/messages/@nobody", None, 404, "unknown handle"),
        ("get", "/api/nothing-here", None, 404, "nothing is at this path"),
        ("delete", "/api/activities/home", None, 405, "method"),
    ],
)
def test_bad_input_gets_a_json_4xx_that_says_what_is_wrong(client, method, path, body, status, says):
    """Each bad request gets its 4xx and a message naming the problem."""
    response = getattr(client, method)(path, json=body) if body is not None else getattr(client, method)(path)
    assert response.status_code == status
    error = response.json["error"]
    assert error["status"] == status
    assert says.lower() in error["message"].lower()


def test_invalid_json_is_a_400(client):
    """A body that does not parse is named as invalid JSON."""
    response = client.post("/api/activities", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"]["message"] == "body: is not valid JSON"


def test_wrong_content_type_is_a_400(client):
    """Form data instead of JSON is refused with the expected content type."""
    response = client.post("/api/activities", data={"handle": "worf"})
    assert response.status_code == 400
    assert "application/json" in response.json["error"]["message"]


def test_oversized_body_is_a_413(client):
    """Bodies over 16 KiB are refused before parsing."""
    response = client.post("/api/activities", data="x" * (17 * 1024), content_type="application/json")
    assert response.status_code == 413
    assert response.json["error"]["status"] == 413


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=300),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.dictionaries(st.sampled_from(["handle", "message", "ttl", "other"]), json_values, max_size=4) | json_values
)
def test_no_body_produces_a_server_error(client, body):
    """Whatever JSON a client posts, the answer is 200 or a JSON 4xx, never a 5xx."""
    response = client.post("/api/activities", json=body)
    assert response.status_code in (200, 400, 404)
    if response.status_code != 200:
        assert "message" in response.json["error"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=512))
def test_no_raw_bytes_produce_a_server_error(client, raw):
    """Arbitrary bytes as a JSON body are a JSON 4xx, or a 200 where they happen to be a valid post (``{"message":
    "!"}``).
    """
    response = client.post("/api/activities", data=raw, content_type="application/json")
    if response.status_code == 200:
        assert response.json["message"] == json.loads(raw)["message"]
    else:
        assert 400 <= response.status_code < 500
        assert response.json["error"]["status"] == response.status_code


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(handle=st.text(max_size=64), term=st.text(max_size=150))
def test_no_path_or_query_produces_a_server_error(client, handle, term):
    """Any handle in the path and any search term give 200 or a 4xx."""
    assert client.get("/api/activities/@" + handle).status_code < 500
    assert client.get("/api/activities/search", query_string={"term": term}).status_code < 500
