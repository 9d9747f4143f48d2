"""AWS APIs on loopback: moto_server for any of them, and two small stand-ins moto does not offer.

* ``MotoServer``: moto's server (with the fixes in ``moto_server.py``), any
  AWS API; the tests use it for DynamoDB, CloudWatch Logs and, in the
  emulator deploy cycle, CloudFormation and everything it creates.
* ``create_service_table``: a fresh table of the service's design on it.
* ``FailingDynamoDb``: DynamoDB answering every call with an error
  (throttling by default), slowly with ``delay_seconds``.
* ``SlowDynamoDb``: moto's DynamoDB behind a delay (slow requests).
* ``CloudWatchLogsApi``: accepts log batches and only counts them (benchmarks).
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from testsupport.standins.loopback_http import LoopbackHttpServer, Response
from testsupport.waiting import closed_port, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]


class MotoServer:
    """moto_server (``python -m testsupport.standins.moto_server``) on loopback, its log kept for reading."""

    def __init__(self, log_path: Path) -> None:
        self.port = closed_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_path)
        self._command = [
            sys.executable,
            "-m",
            "testsupport.standins.moto_server",
            "-H",
            "127.0.0.1",
            "-p",
            str(self.port),
        ]
        self._process: subprocess.Popen | None = None

    def enforce_iam(self, enforced: bool) -> None:
        """From now on, check every request's signature and its IAM policies (moto's reset-auth), or stop checking."""
        request = urllib.request.Request(
            f"{self.url}/moto-api/reset-auth",
            data=b"0" if enforced else b"inf",
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1):
                return True
        except OSError:
            return False

    def __enter__(self):
        self._log = open(self.log_path, "w")
        self._process = subprocess.Popen(self._command, cwd=REPO_ROOT, stdout=self._log, stderr=subprocess.STDOUT)
        if not wait_until(self._ready, timeout=90):  # a shared, loaded machine starts it slowly
            self.__exit__()
            raise RuntimeError(f"moto_server did not start; see {self.log_path}")
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # busy answering a queue of requests: it holds nothing worth keeping
                self._process.kill()
                self._process.wait(timeout=10)
        self._log.close()


def create_service_table(endpoint_url: str, name: str | None = None) -> str:
    """A fresh table of the service's design (``cruddur.table``) at ``endpoint_url`` (moto); returns its name."""
    import boto3

    from cruddur import table

    name = name or f"cruddur-test-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    table.create_table(client, name)
    return name


class FailingDynamoDb(LoopbackHttpServer):
    """Answers every DynamoDB call with an error, as DynamoDB throttling (or failing) does; slowly with
    ``delay_seconds``.
    """

    def __init__(self, error_type: str = "ProvisionedThroughputExceededException", status: int = 400) -> None:
        super().__init__()
        self.status = status
        self.error_type = error_type
        self.operations: list[str] = []

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        self.operations.append(headers.get("X-Amz-Target", "").rsplit(".", 1)[-1])
        error = {"__type": f"com.amazonaws.dynamodb.v20120810#{self.error_type}", "message": "stand-in failure"}
        return self.status, json.dumps(error).encode()


class CloudWatchLogsApi(LoopbackHttpServer):
    """Accepts CreateLogStream and PutLogEvents like CloudWatch Logs, keeping only a count (benchmarks)."""

    def __init__(self) -> None:
        super().__init__()
        self.batches = 0

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        if headers.get("X-Amz-Target", "").endswith("PutLogEvents"):
            self.batches += 1
            return 200, b'{"nextSequenceToken": "1"}'
        return 200, b"{}"


class SlowDynamoDb(LoopbackHttpServer):
    """DynamoDB as ``upstream`` (moto's server) answers it, each call ``delay_seconds`` late: a slow table.

    It only forwards: moto checks every request against DynamoDB's model and answers it.
    """

    def __init__(self, upstream: str, delay_seconds: float = 0.0) -> None:
        super().__init__()
        self.upstream = upstream.rstrip("/")
        self.delay_seconds = delay_seconds

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Response:
        forwarded = {name: value for name, value in headers.items() if name.lower() not in ("host", "content-length")}
        request = urllib.request.Request(self.upstream + path, data=body, headers=forwarded, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, answer.read(), _answer_headers(answer.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read(), _answer_headers(error.headers)


def _answer_headers(headers: Any) -> dict[str, str]:
    """An upstream answer's headers to pass on (the request id, the checksum), without the hop's own."""
    return {
        name: value
        for name, value in headers.items()
        if name.lower() not in ("content-length", "connection", "date", "server", "transfer-encoding")
    }
