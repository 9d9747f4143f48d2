"""The table's key builders write the formats its design documents, and the store's items are found by those keys."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from cruddur import contract
from cruddur import table as design
from cruddur.seed import seed_table
from cruddur.store import Store

HANDLE, OTHER = "worf", "andrewbrown"
UUID, CREATED_AT = "66e12864-8c26-4c3a-9658-95a10f8fea67", "2026-11-21T12:00:00+00:00"
# What each placeholder of the design's tables stands for here.
PLACEHOLDERS = {
    "<handle>": HANDLE,
    "<other handle>": OTHER,
    "<uuid>": UUID,
    "<created_at>": CREATED_AT,
    "<a>": min(HANDLE, OTHER),
    "<b>": max(HANDLE, OTHER),
}
NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)


def _documented_tables() -> list[list[dict[str, str]]]:
    """The design docstring's tables, each a list of rows (header -> cell), placeholders filled in, quotes dropped."""
    lines = (design.__doc__ or "").splitlines()
    rules = [number for number, line in enumerate(lines) if re.fullmatch(r"=+( +=+)+", line)]
    placeholder = re.compile("|".join(map(re.escape, PLACEHOLDERS)))
    tables = []

    def cells(line: str, bounds: list[tuple[int, int | None]]) -> list[str]:
        raw = [line[start:end].strip().replace("``", "") for start, end in bounds]
        return [placeholder.sub(lambda found: PLACEHOLDERS[found.group()], cell) for cell in raw]

    for top, below_header, bottom in zip(rules[0::3], rules[1::3], rules[2::3], strict=True):
        starts = [found.start() for found in re.finditer(r"=+", lines[top])]
        bounds: list[tuple[int, int | None]] = list(zip(starts, [*starts[1:], None], strict=True))
        header = cells(lines[top + 1], bounds)
        tables.append(
            [dict(zip(header, cells(line, bounds), strict=True)) for line in lines[below_header + 1 : bottom]]
        )
    return tables


ITEMS, INDEXES = _documented_tables()
# Each kind of item's key, and its index keys, as the builders write them for the placeholders' values.
BUILT = {
    "user": (design.user_key(HANDLE), {}),
    "activity": (design.activity_key(UUID), design.activity_index_keys(HANDLE, CREATED_AT, UUID)),
    "message group (one per side)": (
        design.message_group_key(HANDLE, OTHER),
        design.message_group_index_keys(HANDLE, OTHER, CREATED_AT),
    ),
    "message": (design.message_key(HANDLE, OTHER, CREATED_AT, UUID), {}),
    "seed marker": (design.seed_marker_key(), {}),
}


def test_the_design_documents_every_item_and_index():
    """The design's tables list the five kinds of item the store writes and the three indexes the table has."""
    assert [row["item"] for row in ITEMS] == list(BUILT)
    assert {row["index"] for row in INDEXES} == set(design.INDEXES)


@pytest.mark.parametrize("row", ITEMS, ids=lambda row: row["item"])
def test_each_key_builder_writes_the_documented_format(row):
    """Given the design's item table, each item's key builder writes its documented pk and sk."""
    key, _ = BUILT[row["item"]]
    assert key == {design.PARTITION_KEY: row["pk"], design.SORT_KEY: row["sk"]}


@pytest.mark.parametrize("row", INDEXES, ids=lambda row: row["index"])
def test_each_index_key_builder_writes_the_documented_format(row):
    """Given the design's index table, the item's index key builder writes the documented partition and sort keys."""
    _, index_keys = BUILT[row["item"]]
    partition, sort = design.INDEXES[row["index"]]
    assert (index_keys[partition], index_keys[sort]) == (row["partition key"], row["sort key"])


def test_no_builder_writes_an_undocumented_index_key():
    """Every index key a builder writes belongs to an index the design lists for that item."""
    documented = {(row["item"], row["index"]) for row in INDEXES}
    for item, (_, index_keys) in BUILT.items():
        for index, (partition, sort) in design.INDEXES.items():
            if partition in index_keys or sort in index_keys:
                assert (item, index) in documented


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
    seed_table(store, NOW)
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
    """Given a seeded table, read straight from DynamoDB by the design's keys and indexes, each stored item is there."""
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
