"""The DynamoDB table's design, defined once: the stack deploys it, ``make local`` and the tests create it.

Imported by the CDK app (``cruddur.table``) and the container
(``cruddur.table``), so it imports nothing but the standard library.

Every read the API makes is a bounded ``GetItem`` or ``Query``; nothing scans.

============================  ==========================  =================================
item                          pk                          sk
============================  ==========================  =================================
user                          ``USER#<handle>``           ``PROFILE``
activity                      ``ACTIVITY#<uuid>``         ``ACTIVITY``
message group (one per side)  ``USER#<handle>``           ``GROUP#<other handle>``
message                       ``CONVERSATION#<a>#<b>``    ``MESSAGE#<created_at>#<uuid>``
seed marker                   ``SEED``                    ``SEED``
============================  ==========================  =================================

=========  ============================  ======================  ================================
index      item                          partition key           sort key
=========  ============================  ======================  ================================
feed       activity                      ``FEED``                ``<created_at>#<uuid>``
by_handle  activity                      ``USER#<handle>``       ``<created_at>#<uuid>``
groups     message group (one per side)  ``GROUPS#<handle>``     ``<created_at>#<other handle>``
=========  ============================  ======================  ================================

* home feed: ``Query`` feed index, newest first, ``Limit`` a page;
* a user's feed, notifications: ``Query`` by_handle index, a page;
* an activity's replies live in the activity item (a list, at most
  ``MAX_REPLIES``), so a feed page is one ``Query`` and a reply one
  conditional ``UpdateItem``;
* conversations: ``Query`` groups index; one conversation: ``Query`` its partition.

Activities carry ``expires_at_epoch``, the table's TTL attribute; DynamoDB
deletes expired items within days, so the store also filters them out.

Every key value is built by a function below (``user_key``, ``activity_index_keys``,
...), and the store calls them; ``tests/service/test_table_keys.py`` proves
each builder writes the formats these tables document. ``<a>`` and ``<b>`` are
the two handles, sorted, so both sides of a conversation name one partition.
"""

from __future__ import annotations

from typing import Any

PARTITION_KEY = "pk"
SORT_KEY = "sk"
TTL_ATTRIBUTE = "expires_at_epoch"

FEED_INDEX = "feed"
BY_HANDLE_INDEX = "by_handle"
GROUPS_INDEX = "groups"

# index name -> (partition key attribute, sort key attribute); all string keys, all attributes projected.
INDEXES: dict[str, tuple[str, str]] = {
    FEED_INDEX: ("feed_pk", "feed_sk"),
    BY_HANDLE_INDEX: ("handle_pk", "handle_sk"),
    GROUPS_INDEX: ("groups_pk", "groups_sk"),
}

# The one partition of the feed index: every activity, so the home feed is one Query.
FEED_PARTITION = "FEED"


def user_partition(handle: str) -> str:
    """``USER#<handle>``: a user's profile and message groups, and their activities in the by_handle index."""
    return f"USER#{handle}"


def groups_partition(handle: str) -> str:
    """``GROUPS#<handle>``: the groups index's partition of ``handle``'s conversations."""
    return f"GROUPS#{handle}"


def conversation_partition(handle: str, other: str) -> str:
    """``CONVERSATION#<a>#<b>``: the one partition of both sides' messages, the handles sorted."""
    first, second = sorted((handle, other))
    return f"CONVERSATION#{first}#{second}"


def user_key(handle: str) -> dict[str, str]:
    """The key of ``handle``'s profile item."""
    return {PARTITION_KEY: user_partition(handle), SORT_KEY: "PROFILE"}


def activity_key(activity_uuid: str) -> dict[str, str]:
    """The key of an activity's item (its replies live in it)."""
    return {PARTITION_KEY: f"ACTIVITY#{activity_uuid}", SORT_KEY: "ACTIVITY"}


def activity_index_keys(handle: str, created_at: str, activity_uuid: str) -> dict[str, str]:
    """An activity's feed and by_handle index keys: sorted by creation time, the uuid breaking ties."""
    created = f"{created_at}#{activity_uuid}"
    feed_pk, feed_sk = INDEXES[FEED_INDEX]
    handle_pk, handle_sk = INDEXES[BY_HANDLE_INDEX]
    return {feed_pk: FEED_PARTITION, feed_sk: created, handle_pk: user_partition(handle), handle_sk: created}


def message_group_key(handle: str, other: str) -> dict[str, str]:
    """The key of ``handle``'s side of the conversation with ``other``."""
    return {PARTITION_KEY: user_partition(handle), SORT_KEY: f"GROUP#{other}"}


def message_group_index_keys(handle: str, other: str, created_at: str) -> dict[str, str]:
    """``handle``'s groups index keys for the conversation with ``other``, sorted by its last message's time."""
    groups_pk, groups_sk = INDEXES[GROUPS_INDEX]
    return {groups_pk: groups_partition(handle), groups_sk: f"{created_at}#{other}"}


def message_key(handle: str, other: str, created_at: str, message_uuid: str) -> dict[str, str]:
    """The key of a message between ``handle`` and ``other``, sorted in its conversation by time."""
    return {PARTITION_KEY: conversation_partition(handle, other), SORT_KEY: f"MESSAGE#{created_at}#{message_uuid}"}


def seed_marker_key() -> dict[str, str]:
    """The key of the item that records whether the table was seeded (``cruddur.seed``)."""
    return {PARTITION_KEY: "SEED", SORT_KEY: "SEED"}


# The API actions the service calls, and nothing else: the task role is granted exactly these.
SERVICE_ACTIONS: tuple[str, ...] = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query")


def key_attributes() -> list[str]:
    """Every attribute used as a key of the table or an index."""
    names = [PARTITION_KEY, SORT_KEY]
    for partition, sort in INDEXES.values():
        names += [partition, sort]
    return names


def create_table_request(table_name: str) -> dict[str, Any]:
    """The ``CreateTable`` request for ``table_name``: on-demand, the same keys and indexes the stack deploys."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name in key_attributes()],
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index,
                "KeySchema": [
                    {"AttributeName": partition, "KeyType": "HASH"},
                    {"AttributeName": sort, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index, (partition, sort) in INDEXES.items()
        ],
    }


def create_table(client: Any, table_name: str) -> None:
    """Create ``table_name`` with ``client`` (a boto3 DynamoDB client), wait for it and turn TTL on."""
    client.create_table(**create_table_request(table_name))
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    client.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
    )
