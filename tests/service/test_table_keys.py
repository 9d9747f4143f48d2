"""The table's key builders write the formats its design documents, and the store's items are found by those keys."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from service.cruddur import contract
from service.cruddur import table as design
from service.cruddur.store import Store

HANDLE, OTHER, UUID, CREATED_AT = "worf", "andrewbrown", "66e12864-8c26-4c3a-9658-95a10f8fea67", "2026-11-21T12:00:00+00:00"
# What each placeholder of the documented table stands for, in the examples below.
PLACEHOLDERS = {
    "<handle>": HANDLE,
    "<other handle>": OTHER,
    "<uuid>": UUID,
    "<created_at>": CREATED_AT,
    "<created>": f"{CREATED_AT}#{UUID}",
    "<a>": min(HANDLE, OTHER),
    "<b>": max(HANDLE, OTHER),
}
NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.timezone.utc)


def _documented() -> dict[str, dict[str, str]]:
    """The design's table of items: item -> {"pk", "sk", "index keys"}, placeholders filled in."""
    lines = (design.__doc__ or "").splitlines()
    rules = [number for number, line in enumerate(lines) if re.fullmatch(r"=+( +=+)+", line)]
    starts = [match.start() for match in re.finditer(r"=+", lines[rules[0]])]
    bounds = list(zip(starts, [*starts[1:], None]))

    def cells(line: str) -> list[str]:
        return [line[start:end].strip() for start, end in bounds]

    header = cells(lines[rules[0] + 1])
    rows = {}
    for line in lines[rules[1] + 1 : rules[2]]:
        item, *values = cells(line)
        filled = [re.sub("|".join(map(re.escape, PLACEHOLDERS)), lambda m: PLACEHOLDERS[m.group()], v) for v in values]
        rows[item] = dict(zip(header[1:], [v.replace("``", "") for v in filled]))
    return rows


def _index_keys(documented: str) -> dict[str, tuple[str, str]]:
    """``feed: FEED / x; by_handle: ... / y`` -> {"feed": ("FEED", "x"), ...}."""
    keys = {}
    for part in filter(None, (p.strip() for p in documented.split(";"))):
        index, partition_and_sort = part.split(": ", 1)
        partition, sort = partition_and_sort.split(" / ")
        keys[index] = (partition, sort)
    return keys


def _as_index(keys: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Builder output (attribute -> value) grouped per index, as the design's table writes it."""
    return {
        index: (keys[partition], keys[sort])
        for index, (partition, sort) in design.INDEXES.items()
        if partition in keys
    }


def test_the_design_documents_every_item():
    """The design's table lists the five kinds of item the store writes, each with a pk and an sk."""
    assert set(_documented()) == {"user", "activity", "message group (one per side)", "message", "seed marker"}


@pytest.mark.parametrize(
    ("item", "key", "index_keys"),
    [
        ("user", design.user_key(HANDLE), {}),
        ("activity", design.activity_key(UUID), design.activity_index_keys(HANDLE, CREATED_AT, UUID)),
        (
            "message group (one per side)",
            design.message_group_key(HANDLE, OTHER),
            design.message_group_index_keys(HANDLE, OTHER, CREATED_AT),
        ),
        ("message", design.message_key(HANDLE, OTHER, CREATED_AT, UUID), {}),
        ("seed marker", design.seed_marker_key(), {}),
    ],
)
def test_each_builder_writes_the_documented_format(item, key, index_keys):
    """Given the design's table, each builder's key and index keys are the documented ones, placeholders filled in."""
    documented = _documented()[item]
    assert key == {design.PARTITION_KEY: documented["pk"], design.SORT_KEY: documented["sk"]}
    assert _as_index(index_keys) == _index_keys(documented["index keys"])


def test_both_sides_of_a_conversation_name_one_partition():
    """The handles are sorted, so either side builds the same conversation key."""
    assert design.message_key(HANDLE, OTHER, CREATED_AT, UUID) == design.message_key(OTHER, HANDLE, CREATED_AT, UUID)
    assert design.conversation_partition(HANDLE, OTHER) == f"CONVERSATION#{min(HANDLE, OTHER)}#{max(HANDLE, OTHER)}"


@pytest.fixture
def seeded(dynamodb_environ) -> Store:
    """A store on a fresh moto table with the course's data."""
    store = Store(
        dynamodb_environ[contract.DYNAMODB_TABLE_NAME.name],
        region="us-east-1",
        endpoint_url=dynamodb_environ[contract.AWS_ENDPOINT_URL_DYNAMODB.name],
    )
    store.seed(NOW)
    return store


def _get(store: Store, key: dict[str, str]) -> dict | None:
    item = store.client.get_item(TableName=store.table_name, Key={k: {"S": v} for k, v in key.items()}).get("Item")
    return item


def _query(store: Store, partition: str, index: str | None = None) -> list[dict]:
    attribute = design.INDEXES[index][0] if index else design.PARTITION_KEY
    request = {"IndexName": index} if index else {}
    response = store.client.query(
        TableName=store.table_name,
        KeyConditionExpression="#k = :v",
        ExpressionAttributeNames={"#k": attribute},
        ExpressionAttributeValues={":v": {"S": partition}},
        **request,
    )
    return response["Items"]


def test_the_stores_items_are_found_by_the_documented_keys(seeded):
    """Given a seeded table, read straight from DynamoDB by the design's keys and indexes, each item the store wrote is there."""
    worf_activity = "66e12864-8c26-4c3a-9658-95a10f8fea67"
    assert _get(seeded, design.user_key("worf"))["display_name"] == {"S": "Worf"}
    assert _get(seeded, design.activity_key(worf_activity))["handle"] == {"S": "worf"}
    assert _get(seeded, design.message_group_key("worf", "andrewbrown"))["handle"] == {"S": "andrewbrown"}
    assert _get(seeded, design.seed_marker_key())["complete"] == {"BOOL": True}
    feed = _query(seeded, design.FEED_PARTITION, design.FEED_INDEX)
    assert worf_activity in [item["uuid"]["S"] for item in feed] and len(feed) == 3
    by_handle = _query(seeded, design.user_partition("worf"), design.BY_HANDLE_INDEX)
    assert [item["uuid"]["S"] for item in by_handle] == [worf_activity]
    groups = _query(seeded, design.groups_partition("andrewbrown"), design.GROUPS_INDEX)
    assert sorted(item["handle"]["S"] for item in groups) == ["garek", "worf"]
    conversation = _query(seeded, design.conversation_partition("worf", "andrewbrown"))
    assert sorted(item["message"]["S"] for item in conversation) == ["Cloud is fun!", "This is a great idea"]
