"""The DynamoDB store: seeded once, expired activities never shown, writes never doubled, failures a fast 503."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from cruddur import contract
from cruddur import table as design
from cruddur.records import User
from cruddur.seed import seed_table
from cruddur.store import MAX_ATTEMPTS, WORST_CASE_SECONDS, Store
from testsupport.standins.aws import FailingDynamoDb
from testsupport.waiting import closed_port

NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(dynamodb_environ) -> Store:
    """A store on a fresh, empty moto table."""
    return Store(
        dynamodb_environ[contract.DYNAMODB_TABLE_NAME.name],
        region="us-east-1",
        endpoint_url=dynamodb_environ[contract.AWS_ENDPOINT_URL_DYNAMODB.name],
    )


def _item_count(store: Store) -> int:
    return store.client.describe_table(TableName=store.table_name)["Table"]["ItemCount"]


def test_seeding_happens_once(store):
    """Given an empty table, the first seed writes the course's cast and data; every later one writes nothing."""
    assert seed_table(store, NOW) is True
    seeded = _item_count(store)
    assert seeded > 0 and store.user("worf") == User(handle="worf", display_name="Worf")
    assert seed_table(store, NOW + dt.timedelta(hours=1)) is False
    assert _item_count(store) == seeded
    assert len(store.home_feed(NOW)) == 3


def test_an_interrupted_seed_is_finished_with_the_same_items(store):
    """A worker that finds the seed claimed but unfinished writes the same items (same times), never a second copy."""
    seed_table(store, NOW)
    store.client.update_item(
        TableName=store.table_name,
        Key={name: {"S": value} for name, value in design.seed_marker_key().items()},
        UpdateExpression="SET complete = :f",
        ExpressionAttributeValues={":f": {"BOOL": False}},
    )
    before = _item_count(store)
    assert seed_table(store, NOW + dt.timedelta(minutes=5)) is True
    assert _item_count(store) == before
    assert len(store.messages("andrewbrown", "worf")) == 2


def test_expired_activities_never_appear_before_dynamodb_deletes_them(store):
    """An activity past its expiry is gone from every feed and cannot be replied to, though its item still exists."""
    seed_table(store, NOW)
    worf = store.user("worf")
    short = store.new_activity(worf, "gone soon", NOW, dt.timedelta(hours=1))
    assert short.uuid in [a.uuid for a in store.home_feed(NOW)]
    later = NOW + dt.timedelta(hours=2)
    assert short.uuid not in [a.uuid for a in store.home_feed(later)]
    assert short.uuid not in [a.uuid for a in store.user_feed("worf", later)]
    assert store.add_reply(short.uuid, worf, "too late", later) is None


def test_a_repeated_write_is_stored_once(store):
    """The same activity or reply written twice (a retry after a lost response) is one item, one reply."""
    seed_table(store, NOW)
    garek = store.user("garek")
    first = store.new_activity(
        garek, "once", NOW, dt.timedelta(days=1), activity_uuid="11111111-1111-4111-8111-111111111111"
    )
    again = store.new_activity(
        garek, "once", NOW, dt.timedelta(days=1), activity_uuid="11111111-1111-4111-8111-111111111111"
    )
    assert first == again
    assert [a.message for a in store.user_feed("garek", NOW)].count("once") == 1
    reply_uuid = "22222222-2222-4222-8222-222222222222"
    assert store.add_reply(first.uuid, garek, "echo", NOW, reply_uuid=reply_uuid).uuid == reply_uuid
    assert store.add_reply(first.uuid, garek, "echo", NOW, reply_uuid=reply_uuid).uuid == reply_uuid
    (activity,) = [a for a in store.user_feed("garek", NOW) if a.uuid == first.uuid]
    assert len(activity.replies) == 1


def test_feeds_are_one_page(store, monkeypatch):
    """A feed reads one bounded page: the newest FEED_PAGE_SIZE activities, never a scan of the table."""
    seed_table(store, NOW)
    worf = store.user("worf")
    for index in range(25):
        store.new_activity(worf, f"log entry {index}", NOW + dt.timedelta(seconds=index), dt.timedelta(days=1))
    calls = []
    original = store.client.query
    monkeypatch.setattr(store.client, "query", lambda **request: calls.append(request) or original(**request))
    feed = store.home_feed(NOW + dt.timedelta(minutes=1))
    assert len(feed) == 20 and feed[0].message == "log entry 24"
    assert [(c["IndexName"], c["Limit"]) for c in calls] == [("feed", 20)]


@pytest.mark.parametrize(
    ("error_type", "status", "delay"),
    [
        ("ProvisionedThroughputExceededException", 400, 0.0),  # throttling
        ("InternalServerError", 500, 0.0),  # DynamoDB failing
        ("InternalServerError", 500, 5.0),  # DynamoDB slower than the read timeout
    ],
    ids=["throttled", "failing", "slow"],
)
def test_a_failing_database_is_a_bounded_json_503_and_health_stays_200(make_app, error_type, status, delay):
    """Every call is tried at most MAX_ATTEMPTS times; the answer is a JSON 503 within WORST_CASE_SECONDS; health is
    200.
    """
    with FailingDynamoDb(error_type, status) as dynamodb:
        dynamodb.delay_seconds = delay
        app = make_app(
            {contract.SERVICE_NAME.name: "cruddur-backend-flask", contract.AWS_ENDPOINT_URL_DYNAMODB.name: dynamodb.url}
        )
        client = app.test_client()
        for method, path, body in [
            ("get", "/api/activities/home", None),
            ("post", "/api/activities", {"message": "hi"}),
        ]:
            arrived_before = dynamodb.requests  # counted on arrival, before the stand-in's delay
            started = time.monotonic()
            response = getattr(client, method)(path, json=body)
            elapsed = time.monotonic() - started
            assert response.status_code == 503
            assert response.json["error"]["message"] == "the database is unavailable; try again shortly"
            assert elapsed < WORST_CASE_SECONDS
            assert 1 <= dynamodb.requests - arrived_before <= MAX_ATTEMPTS
        assert client.get(contract.HEALTH_CHECK_PATH).status_code == 200


def test_an_unreachable_database_is_a_503_and_the_worker_still_starts(make_app):
    """Nothing listens at the endpoint: the app starts (the seed at start only warns), health 200, data requests 503."""
    app = make_app(
        {
            contract.SERVICE_NAME.name: "cruddur-backend-flask",
            contract.AWS_ENDPOINT_URL_DYNAMODB.name: f"http://127.0.0.1:{closed_port()}",
        }
    )
    client = app.test_client()
    assert client.get(contract.HEALTH_CHECK_PATH).status_code == 200
    assert client.get("/api/message_groups").status_code == 503


def test_database_failures_are_logged_at_a_bounded_rate(make_app, capsys):
    """Eight failing requests in a row write at most five 'cruddur.store' lines to stdout, the last saying how many
    were held back.
    """
    import json

    with FailingDynamoDb() as dynamodb:
        app = make_app(
            {contract.SERVICE_NAME.name: "cruddur-backend-flask", contract.AWS_ENDPOINT_URL_DYNAMODB.name: dynamodb.url}
        )
        client = app.test_client()
        capsys.readouterr()
        for _ in range(8):
            assert client.get("/api/activities/home").status_code == 503
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    store_lines = [line for line in lines if line["logger"] == "cruddur.store"]
    assert 1 <= len(store_lines) <= 5
