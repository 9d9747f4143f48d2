"""One table for every worker: posts made at once through two gunicorn workers are all there, and survive a restart."""

from __future__ import annotations

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import boto3

from cruddur import contract
from cruddur import table as design
from tests.service.conftest import healthy
from testsupport.gunicorn import start_gunicorn, stop
from testsupport.waiting import closed_port, wait_until

POSTS = 40


def _call(port: int, method: str, path: str, body: dict | None = None) -> tuple[int, object]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def _serve(environ: dict[str, str]):
    port = closed_port()
    process = start_gunicorn({contract.SERVICE_NAME.name: "cruddur-backend-flask", **environ}, port)
    assert wait_until(lambda: healthy(port), timeout=20), "gunicorn did not become healthy"
    return port, process


def _worf_activities(environ: dict[str, str]) -> list[dict]:
    """Every activity of worf in the table, read page by page straight from DynamoDB."""
    client = boto3.client(
        "dynamodb", endpoint_url=environ[contract.AWS_ENDPOINT_URL_DYNAMODB.name], region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    paginator = client.get_paginator("query")
    pages = paginator.paginate(
        TableName=environ[contract.DYNAMODB_TABLE_NAME.name],
        IndexName=design.BY_HANDLE_INDEX,
        KeyConditionExpression="handle_pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "USER#worf"}},
    )
    return [item for page in pages for item in page["Items"]]


def test_concurrent_posts_through_two_workers_are_all_kept_and_survive_a_restart(gunicorn_data_environ):
    """Given two workers, when 40 posts arrive at once, each is stored once, every worker finds each one,
    and after a restart the data is still there and is not seeded again."""
    port, process = _serve(gunicorn_data_environ)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            created = list(
                pool.map(
                    lambda index: _call(
                        port, "POST", "/api/activities", {"handle": "worf", "message": f"post {index}", "ttl": "1-day"}
                    ),
                    range(POSTS),
                )
            )
            assert {status for status, _ in created} == {200}
            uuids = [activity["uuid"] for _, activity in created]
            # Each reply is a conditional update of the activity's item: it succeeds only where the item exists.
            replies = list(
                pool.map(lambda u: _call(port, "POST", f"/api/activities/{u}/reply", {"message": "seen"}), uuids)
            )
        assert {status for status, _ in replies} == {200}
        # every worker serves the same newest page
        feeds = {json.dumps(_call(port, "GET", "/api/activities/@worf")[1]) for _ in range(8)}
        assert len(feeds) == 1
    finally:
        _, err = stop(process)
    assert process.returncode == 0, err[-3000:]
    stored = [item for item in _worf_activities(gunicorn_data_environ) if item["message"]["S"].startswith("post ")]
    assert sorted(item["uuid"]["S"] for item in stored) == sorted(uuids)
    assert all(len(item["replies"]["L"]) == 1 for item in stored)

    # -- restart ---------------------------------------------------------------
    port, process = _serve(gunicorn_data_environ)
    try:
        status, feed = _call(port, "GET", "/api/activities/@worf")
        assert status == 200
        assert {a["uuid"] for a in feed} <= set(uuids) | {"66e12864-8c26-4c3a-9658-95a10f8fea67"}
        assert len(feed) == 20  # one page of the 41
    finally:
        _, err = stop(process)
    assert process.returncode == 0, err[-3000:]
    assert (
        len(_worf_activities(gunicorn_data_environ)) == POSTS + 1
    )  # the posts and worf's seeded one, not seeded again
