"""The DynamoDB table's design, defined once: the stack deploys it, ``make local`` and the tests create it.

Imported by the CDK app (``cruddur.table``) and the container
(``cruddur.table``), so it imports nothing but the standard library.

Every read the API makes is a bounded ``GetItem`` or ``Query``; nothing scans.

============================  ==========================  =================================  =====================
item                          pk                          sk                                 index keys
============================  ==========================  =================================  =====================
user                          ``USER#<handle>``           ``PROFILE``
activity                      ``ACTIVITY#<uuid>``         ``ACTIVITY``                       feed: ``FEED`` / created; by_handle: ``USER#<handle>`` / created
message group (one per side)  ``USER#<handle>``           ``GROUP#<other handle>``           groups: ``GROUPS#<handle>`` / last message time
message                       ``CONVERSATION#<a>#<b>``    ``MESSAGE#<created_at>#<uuid>``
seed marker                   ``SEED``                    ``SEED``
============================  ==========================  =================================  =====================

* home feed: ``Query`` feed index, newest first, ``Limit`` a page;
* a user's feed, notifications: ``Query`` by_handle index, a page;
* an activity's replies live in the activity item (a list, at most
  ``MAX_REPLIES``), so a feed page is one ``Query`` and a reply one
  conditional ``UpdateItem``;
* conversations: ``Query`` groups index; one conversation: ``Query`` its partition.

Activities carry ``expires_at_epoch``, the table's TTL attribute; DynamoDB
deletes expired items within days, so the store also filters them out.
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
