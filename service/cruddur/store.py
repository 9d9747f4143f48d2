"""The service's data in DynamoDB (the table of ``cruddur.table``), shared by every worker and task.

Every read is one bounded ``GetItem`` or ``Query`` (``Limit`` is a page);
every write is conditional, so a write botocore retries after a lost
response can never be stored twice: a repeated ``PutItem`` or reply
``UpdateItem`` fails its condition and is recognised as already done.

The client's timeouts and retries are chosen so that a DynamoDB that is
down, slow or throttling costs a request at most about ``WORST_CASE_SECONDS``
before the API answers 503 (``StoreUnavailableError``).

Every key is built by ``cruddur.table``'s key builders; the store reads and
writes domain records (``cruddur.records``), and ``cruddur.api.presentation``
shapes them as the frontend reads them.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from . import table
from .records import Activity, Message, MessageGroup, Reply, User

FEED_PAGE_SIZE = 20
MESSAGES_PAGE_SIZE = 50
MESSAGE_GROUPS_PAGE_SIZE = 50
SEARCH_WINDOW = 100  # search looks through the newest SEARCH_WINDOW activities
MAX_REPLIES = 100  # replies live in their activity's item; this keeps it far below 400 KB

CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 2.0
MAX_ATTEMPTS = 2  # the first try and one retry, for throttling and transient errors ("standard" mode)
WORST_CASE_SECONDS = MAX_ATTEMPTS * (CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS) + 1

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class StoreUnavailableError(RuntimeError):
    """DynamoDB could not answer (down, slow, throttling, or refusing); the API answers 503."""


class TooManyRepliesError(RuntimeError):
    """The activity already has ``MAX_REPLIES`` replies."""


def client_config() -> Config:
    """The botocore settings: short timeouts, one retry, so a failing DynamoDB answers fast."""
    return Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
    )


def _epoch(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def _to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in values.items() if value is not None}


def _plain(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _plain(_deserializer.deserialize(value)) for name, value in item.items()}


def _time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def _reply(values: dict[str, Any]) -> Reply:
    return Reply(
        uuid=values["uuid"],
        reply_to_activity_uuid=values["reply_to_activity_uuid"],
        handle=values["handle"],
        display_name=values["display_name"],
        message=values["message"],
        created_at=_time(values["created_at"]),
        likes_count=values.get("likes_count", 0),
        reposts_count=values.get("reposts_count", 0),
    )


def _reply_values(reply: Reply) -> dict[str, Any]:
    """A reply as it is kept in its activity's ``replies`` list."""
    return {
        "uuid": reply.uuid,
        "reply_to_activity_uuid": reply.reply_to_activity_uuid,
        "handle": reply.handle,
        "display_name": reply.display_name,
        "message": reply.message,
        "created_at": reply.created_at.isoformat(),
        "likes_count": reply.likes_count,
        "replies_count": 0,  # replies do not nest; kept so every stored reply has the same fields
        "reposts_count": reply.reposts_count,
    }


def _activity(item: dict[str, Any]) -> Activity:
    """An activity item as a record, its replies oldest first."""
    values = _from_item(item)
    return Activity(
        uuid=values["uuid"],
        handle=values["handle"],
        display_name=values["display_name"],
        message=values["message"],
        created_at=_time(values["created_at"]),
        expires_at=_time(values["expires_at"]),
        likes_count=values.get("likes_count", 0),
        reposts_count=values.get("reposts_count", 0),
        replies=tuple(_reply(reply) for reply in values.get("replies", [])),
    )


def _message(item: dict[str, Any]) -> Message:
    values = _from_item(item)
    fields = ("uuid", "handle", "display_name", "message")
    return Message(**{name: values[name] for name in fields}, created_at=_time(values["created_at"]))


def _message_group(item: dict[str, Any]) -> MessageGroup:
    values = _from_item(item)
    fields = ("uuid", "handle", "display_name", "message")
    return MessageGroup(**{name: values[name] for name in fields}, created_at=_time(values["created_at"]))


class Store:
    """Users, activities and messages in one DynamoDB table."""

    def __init__(self, table_name: str, *, region: str, endpoint_url: str | None = None, client: Any = None) -> None:
        """Use ``table_name`` in ``region`` (at ``endpoint_url``: moto, or None for AWS)."""
        self.table_name = table_name
        # A session of its own: credentials are resolved now, from this process's environment or task role.
        self.client = client or boto3.session.Session().client(
            "dynamodb", region_name=region, endpoint_url=endpoint_url or None, config=client_config()
        )

    def _call(self, operation: str, **request: Any) -> dict[str, Any]:
        """Call ``operation`` on the table; every failure but a failed condition is a StoreUnavailableError."""
        try:
            response: dict[str, Any] = getattr(self.client, operation)(TableName=self.table_name, **request)
            return response
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise
            code = error.response.get("Error", {}).get("Code")
            raise StoreUnavailableError(f"DynamoDB {operation} failed: {code}") from error
        except BotoCoreError as error:
            raise StoreUnavailableError(f"DynamoDB {operation} failed: {type(error).__name__}") from error

    def _put_new(self, values: dict[str, Any]) -> bool:
        """Put an item unless its key exists; False when it did (a retry of this same write, or a seed)."""
        try:
            self._call(
                "put_item", Item=_to_item(values), ConditionExpression=f"attribute_not_exists({table.PARTITION_KEY})"
            )
            return True
        except ClientError:
            return False

    def _query(
        self, partition: str, *, limit: int, index: str | None = None, forward: bool = False
    ) -> list[dict[str, Any]]:
        """One page of the items in ``partition`` of the table, or of ``index``."""
        attribute = table.INDEXES[index][0] if index is not None else table.PARTITION_KEY
        request: dict[str, Any] = {
            "KeyConditionExpression": "#k = :v",
            "ExpressionAttributeNames": {"#k": attribute},
            "ExpressionAttributeValues": _to_item({":v": partition}),
            "ScanIndexForward": forward,
            "Limit": limit,
        }
        if index is not None:
            request["IndexName"] = index
        items: list[dict[str, Any]] = self._call("query", **request).get("Items", [])
        return items

    # -- users -------------------------------------------------------------
    def user(self, handle: str) -> User | None:
        """The user ``handle``, or None."""
        item = self._call("get_item", Key=_to_item(table.user_key(handle))).get("Item")
        if item is None:
            return None
        values = _from_item(item)
        return User(handle=values["handle"], display_name=values["display_name"])

    def put_user(self, user: User) -> None:
        """Add a user unless it exists."""
        self._put_new({**table.user_key(user.handle), "handle": user.handle, "display_name": user.display_name})

    # -- activities ----------------------------------------------------------
    def new_activity(
        self,
        user: User,
        message: str,
        created_at: dt.datetime,
        ttl: dt.timedelta,
        *,
        activity_uuid: str | None = None,
    ) -> Activity:
        """Store a new activity by ``user`` that expires ``ttl`` after ``created_at``."""
        activity = Activity(
            uuid=activity_uuid or str(uuid.uuid4()),
            handle=user.handle,
            display_name=user.display_name,
            message=message,
            created_at=created_at,
            expires_at=created_at + ttl,
        )
        created = activity.created_at.isoformat()
        self._put_new(
            {
                "uuid": activity.uuid,
                "handle": activity.handle,
                "display_name": activity.display_name,
                "message": activity.message,
                "created_at": created,
                "expires_at": activity.expires_at.isoformat(),
                "likes_count": activity.likes_count,
                "reposts_count": activity.reposts_count,
                **table.activity_key(activity.uuid),
                **table.activity_index_keys(activity.handle, created, activity.uuid),
                table.TTL_ATTRIBUTE: _epoch(activity.expires_at),
                "replies": [],
                "reply_uuids": [],
            }
        )
        return activity

    def add_reply(
        self, activity_uuid: str, user: User, message: str, created_at: dt.datetime, *, reply_uuid: str | None = None
    ) -> Reply | None:
        """Append a reply to a live activity; None when there is no such activity (or it expired)."""
        reply = Reply(
            uuid=reply_uuid or str(uuid.uuid4()),
            reply_to_activity_uuid=activity_uuid,
            handle=user.handle,
            display_name=user.display_name,
            message=message,
            created_at=created_at,
        )
        try:
            self._call(
                "update_item",
                Key=_to_item(table.activity_key(activity_uuid)),
                UpdateExpression=(
                    "SET replies = list_append(replies, :reply), reply_uuids = list_append(reply_uuids, :uuid)"
                ),
                ConditionExpression=(
                    f"attribute_exists({table.PARTITION_KEY}) AND #ttl > :now AND size(replies) < :max"
                    " AND NOT contains(reply_uuids, :reply_uuid)"
                ),
                ExpressionAttributeNames={"#ttl": table.TTL_ATTRIBUTE},
                ExpressionAttributeValues=_to_item(
                    {
                        ":reply": [_reply_values(reply)],
                        ":uuid": [reply.uuid],
                        ":reply_uuid": reply.uuid,
                        ":now": _epoch(created_at),
                        ":max": MAX_REPLIES,
                    }
                ),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            old = error.response.get("Item")
            if old is None:
                return None
            values = _from_item(old)
            if reply.uuid in values.get("reply_uuids", []):
                return reply  # a retry of this same write, already applied
            if values.get(table.TTL_ATTRIBUTE, 0) <= _epoch(created_at):
                return None
            raise TooManyRepliesError(activity_uuid) from None
        return reply

    def _live_activities(self, items: list[dict[str, Any]], now: dt.datetime) -> list[Activity]:
        """The activities of ``items`` that have not expired at ``now``."""
        now_epoch = _epoch(now)
        return [_activity(item) for item in items if int(item[table.TTL_ATTRIBUTE]["N"]) > now_epoch]

    def home_feed(self, now: dt.datetime, *, limit: int = FEED_PAGE_SIZE) -> list[Activity]:
        """The newest page of activities that have not expired, newest first."""
        return self._live_activities(self._query(table.FEED_PARTITION, index=table.FEED_INDEX, limit=limit), now)

    def user_feed(self, handle: str, now: dt.datetime, *, limit: int = FEED_PAGE_SIZE) -> list[Activity]:
        """``handle``'s newest page of live activities, newest first."""
        items = self._query(table.user_partition(handle), index=table.BY_HANDLE_INDEX, limit=limit)
        return self._live_activities(items, now)

    # -- messages ------------------------------------------------------------
    def message_groups(self, handle: str, *, limit: int = MESSAGE_GROUPS_PAGE_SIZE) -> list[MessageGroup]:
        """``handle``'s conversations, the most recent first."""
        items = self._query(table.groups_partition(handle), index=table.GROUPS_INDEX, limit=limit)
        return [_message_group(item) for item in items]

    def messages(self, handle: str, other: str, *, limit: int = MESSAGES_PAGE_SIZE) -> list[Message]:
        """The newest page of messages between ``handle`` and ``other``, oldest first (as a chat reads)."""
        items = self._query(table.conversation_partition(handle, other), limit=limit)
        return [_message(item) for item in reversed(items)]

    def new_message(
        self, sender: User, receiver: User, message: str, created_at: dt.datetime, *, message_uuid: str | None = None
    ) -> Message:
        """Store a message and bring both sides' conversation entries up to date."""
        stored = Message(
            uuid=message_uuid or str(uuid.uuid4()),
            handle=sender.handle,
            display_name=sender.display_name,
            message=message,
            created_at=created_at,
        )
        created = stored.created_at.isoformat()
        values = {
            "uuid": stored.uuid,
            "handle": stored.handle,
            "display_name": stored.display_name,
            "message": stored.message,
            "created_at": created,
        }
        self._put_new({**values, **table.message_key(sender.handle, receiver.handle, created, stored.uuid)})
        group_uuid = str(uuid.uuid5(uuid.NAMESPACE_URL, table.conversation_partition(sender.handle, receiver.handle)))
        for owner, other in ((sender, receiver), (receiver, sender)):
            # Setting the same values again is harmless, so a retried update cannot double anything.
            self._call(
                "put_item",
                Item=_to_item(
                    {
                        **table.message_group_key(owner.handle, other.handle),
                        **table.message_group_index_keys(owner.handle, other.handle, created),
                        "uuid": group_uuid,
                        "handle": other.handle,
                        "display_name": other.display_name,
                        "message": message,
                        "created_at": created,
                    }
                ),
            )
        return stored

    # -- the seed marker (cruddur.seed) --------------------------------------------
    def claim_seed(self, now: dt.datetime) -> dt.datetime | None:
        """None when the table is seeded; else the time the seed is relative to, the first claimant's ``now``.

        Whoever claims the marker first fixes ``seeded_at``; every later caller,
        until ``finish_seed``, gets the same time, so seeding at once or again
        after an interruption writes the same items.
        """
        marker = table.seed_marker_key()
        found = self._call("get_item", Key=_to_item(marker), ConsistentRead=True).get("Item")
        if found is not None and found.get("complete", {}).get("BOOL"):
            return None
        self._put_new({**marker, "seeded_at": now.isoformat(), "complete": False})
        claimed = _from_item(self._call("get_item", Key=_to_item(marker), ConsistentRead=True)["Item"])
        return _time(claimed["seeded_at"])

    def finish_seed(self) -> None:
        """Mark the table seeded."""
        self._call(
            "update_item",
            Key=_to_item(table.seed_marker_key()),
            UpdateExpression="SET complete = :done",
            ExpressionAttributeValues=_to_item({":done": True}),
        )
