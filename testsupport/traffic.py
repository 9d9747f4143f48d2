"""What a test sends to a task it runs, and how it reads what came back.

The contract tests run the synthesized task once per module and then read
what every sink received; these are the small pieces they share:

* ``new_trace_id`` and ``xray_trace_id``: a W3C trace id a test sends in a
  ``traceparent``, and the same id as X-Ray writes it;
* ``http_status`` and ``post_status``: the status of a GET, or of a POST
  of an activity (an error status is an answer, not an exception; no
  answer at all is 0);
* ``json_lines``: the JSON log lines of a container's output;
* ``put_broken_user``: a user item the service cannot read, so that one
  request raises (an unhandled 500, which Rollbar reports).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import boto3

from testsupport.gunicorn import post_activity

BROKEN_HANDLE = "broken"  # a user item without display_name: reading it raises, an unhandled 500


def new_trace_id(prefix: str = "6b01") -> str:
    """A W3C trace id as X-Ray's ids are made: the time now (8 hexadecimal digits of epoch seconds), then ``prefix``
    (so a reader can tell a test's requests apart), then random digits.

    The collector's ``awsxray`` exporter drops a trace whose first 8 digits
    are not a time within the last 28 days (X-Ray keeps 30), so a random or
    fixed id would vanish on the paths through it.
    """
    return f"{int(time.time()):08x}{prefix}{uuid.uuid4().hex[: 24 - len(prefix)]}"


def xray_trace_id(trace_id: str) -> str:
    """``trace_id`` as X-Ray writes it: ``1-<first 8 hex digits>-<the other 24>``."""
    return f"1-{trace_id[:8]}-{trace_id[8:]}"


def http_status(url: str, trace_id: str | None = None, timeout: float = 5.0) -> int:
    """GET ``url``, continuing ``trace_id`` (W3C, sampled) when given; the status, 0 when nothing answered."""
    headers = {"traceparent": f"00-{trace_id}-{'1' * 16}-01"} if trace_id else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


def post_status(port: int, message: str, trace_id: str | None = None) -> int:
    """POST an activity on loopback ``port`` (``post_activity``), continuing ``trace_id``; the status, 0 when nothing
    answered.
    """
    try:
        return post_activity(port, message, trace_id)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


def json_lines(output: str) -> list[dict[str, Any]]:
    """The JSON log lines in a container's ``output`` (gunicorn's own plain lines left out)."""
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def put_broken_user(moto_url: str, table_name: str, region: str = "us-east-1") -> None:
    """Write the ``BROKEN_HANDLE`` user without its display name: ``GET /api/activities/@broken`` then raises."""
    client = boto3.client(
        "dynamodb", endpoint_url=moto_url, region_name=region, aws_access_key_id="t", aws_secret_access_key="t"
    )
    client.put_item(
        TableName=table_name,
        Item={"pk": {"S": f"USER#{BROKEN_HANDLE}"}, "sk": {"S": "PROFILE"}, "handle": {"S": BROKEN_HANDLE}},
    )
