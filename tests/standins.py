"""Loopback stand-ins for the telemetry backends, speaking their real protocols.

* ``OtlpReceiver``: an HTTP server on 127.0.0.1 that decodes OTLP/HTTP
  protobuf (``ExportTraceServiceRequest``) with opentelemetry-proto.
* ``XRayDaemon``: a UDP socket on 127.0.0.1 that reads X-Ray daemon frames
  (a ``{"format": "json", "version": 1}`` header line, then the document).
* ``RollbarApi``: an HTTP server on 127.0.0.1 that accepts Rollbar items.
* ``XRaySamplingApi``: X-Ray's sampling API as the daemon (and the
  collector's awsproxy) serve it on TCP 2000: ``POST /GetSamplingRules`` and
  ``POST /SamplingTargets``, with X-Ray's JSON.

Each can answer with errors or slowly, and every wait is bounded.
"""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` seconds pass; returns the last result."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def closed_port() -> int:
    """A loopback TCP port with nothing listening (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ReceivedSpan:
    """One span as the receiver decoded it."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    attributes: dict[str, Any]
    resource: dict[str, Any]


def _attribute_value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_attribute_value(item) for item in value.array_value.values]
    return getattr(value, kind) if kind else None


class _HttpStandIn:
    """A threaded loopback HTTP server with a configurable status and delay."""

    def __init__(self) -> None:
        self.status = 200
        self.delay_seconds = 0.0
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                owner.requests += 1
                if owner.delay_seconds:
                    time.sleep(owner.delay_seconds)
                status, response = owner.handle(self.path, dict(self.headers), body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(response)))
                self.end_headers()
                self.wfile.write(response)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        raise NotImplementedError

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class OtlpReceiver(_HttpStandIn):
    """Collects the spans POSTed to /v1/traces; with ``decode=False`` only accepts them (benchmarks)."""

    def __init__(self, *, decode: bool = True) -> None:
        super().__init__()
        self.decode = decode
        self.spans: list[ReceivedSpan] = []
        self.paths: list[str] = []
        self._lock = threading.Lock()

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        self.paths.append(path)
        if self.status != 200 or not self.decode:
            return self.status, b"{}"
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        received = []
        for resource_spans in request.resource_spans:
            resource = {a.key: _attribute_value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    received.append(
                        ReceivedSpan(
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_span_id=span.parent_span_id.hex(),
                            name=span.name,
                            attributes={a.key: _attribute_value(a.value) for a in span.attributes},
                            resource=resource,
                        )
                    )
        with self._lock:
            self.spans.extend(received)
        return 200, b"{}"

    def spans_named(self, name: str) -> list[ReceivedSpan]:
        with self._lock:
            return [s for s in self.spans if s.name == name]


class FailingDynamoDb(_HttpStandIn):
    """Answers every DynamoDB call with an error, as DynamoDB throttling (or failing) does; slowly with ``delay_seconds``."""

    def __init__(self, error_type: str = "ProvisionedThroughputExceededException", status: int = 400) -> None:
        super().__init__()
        self.status = status
        self.error_type = error_type
        self.operations: list[str] = []

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        self.operations.append(headers.get("X-Amz-Target", "").rsplit(".", 1)[-1])
        error = {"__type": f"com.amazonaws.dynamodb.v20120810#{self.error_type}", "message": "stand-in failure"}
        return self.status, json.dumps(error).encode()


class CloudWatchLogsApi(_HttpStandIn):
    """Accepts CreateLogStream and PutLogEvents like CloudWatch Logs, keeping only a count (benchmarks)."""

    def __init__(self) -> None:
        super().__init__()
        self.batches = 0

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        if headers.get("X-Amz-Target", "").endswith("PutLogEvents"):
            self.batches += 1
            return 200, b'{"nextSequenceToken": "1"}'
        return 200, b"{}"


class RollbarApi(_HttpStandIn):
    """Collects the items POSTed to <endpoint>/item/."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []

    @property
    def endpoint(self) -> str:
        return f"{self.url}/api/1/"

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        if self.status != 200:
            return self.status, b'{"err": 1, "message": "stand-in error"}'
        self.items.append(json.loads(body))
        self.headers.append(headers)
        return 200, b'{"err": 0, "result": {"uuid": "00000000000000000000000000000000"}}'


class XRaySamplingApi(_HttpStandIn):
    """The sampling API the service polls; a test changes a rule's target (rate, quota) while it runs.

    Until a test sets one, a rule's target is what X-Ray assigns a single
    client: its own fixed rate and its whole reservoir.
    """

    def __init__(self, rules: list[dict[str, Any]], *, interval_seconds: int = 10) -> None:
        super().__init__()
        self.rules = [dict(rule) for rule in rules]
        self.interval_seconds = interval_seconds
        self.targets: dict[str, dict[str, Any]] = {}
        self.rule_requests = 0
        self.statistics: list[dict[str, Any]] = []
        self.last_rule_modification = time.time()
        self._lock = threading.Lock()

    def set_target(self, rule_name: str, *, fixed_rate: float, reservoir_quota: int) -> None:
        """What the next SamplingTargets answer gives ``rule_name``."""
        with self._lock:
            self.targets[rule_name] = {"FixedRate": fixed_rate, "ReservoirQuota": reservoir_quota}

    def statistics_of(self, rule_name: str) -> list[dict[str, Any]]:
        """The statistics documents reported for ``rule_name``, oldest first."""
        with self._lock:
            return [doc for doc in self.statistics if doc["RuleName"] == rule_name]

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        now = time.time()
        with self._lock:
            if path == "/GetSamplingRules":
                self.rule_requests += 1
                records = [
                    {"SamplingRule": {**rule, "RuleARN": f"arn:aws:xray:us-east-1:000000000000:sampling-rule/{rule['RuleName']}"},
                     "CreatedAt": self.last_rule_modification, "ModifiedAt": self.last_rule_modification}
                    for rule in self.rules
                ]  # fmt: skip
                return 200, json.dumps({"SamplingRuleRecords": records}).encode()
            if path == "/SamplingTargets":
                documents = json.loads(body)["SamplingStatisticsDocuments"]
                self.statistics.extend(documents)
                by_name = {rule["RuleName"]: rule for rule in self.rules}
                targets = []
                for document in documents:
                    rule = by_name[document["RuleName"]]
                    target = self.targets.get(
                        rule["RuleName"], {"FixedRate": rule["FixedRate"], "ReservoirQuota": rule["ReservoirSize"]}
                    )
                    targets.append(
                        {"RuleName": rule["RuleName"], **target, "ReservoirQuotaTTL": now + 3600, "Interval": self.interval_seconds}
                    )
                answer = {"SamplingTargetDocuments": targets, "LastRuleModification": self.last_rule_modification,
                          "UnprocessedStatistics": []}  # fmt: skip
                return 200, json.dumps(answer).encode()
        return 404, b'{"message": "unknown path"}'


def all_subsegments(entity: dict[str, Any]) -> list[dict[str, Any]]:
    """Every subsegment under an X-Ray segment or subsegment, at any depth."""
    found = []
    for child in entity.get("subsegments", []):
        found.append(child)
        found.extend(all_subsegments(child))
    return found


@dataclass
class XRayDaemon:
    """A UDP socket on loopback that decodes X-Ray daemon frames; with ``decode=False`` only counts them."""

    segments: list[dict[str, Any]] = field(default_factory=list)
    bad_frames: int = 0
    decode: bool = True
    frames: int = 0

    def __post_init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.1)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)

    @property
    def address(self) -> str:
        host, port = self._socket.getsockname()
        return f"{host}:{port}"

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                frame, _ = self._socket.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            self.frames += 1
            if not self.decode:
                continue
            header, _, document = frame.partition(b"\n")
            try:
                if json.loads(header) != {"format": "json", "version": 1}:
                    raise ValueError(header)
                with self._lock:
                    self.segments.append(json.loads(document))
            except ValueError:
                self.bad_frames += 1

    def segments_of(self, trace_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [s for s in self.segments if s.get("trace_id") == trace_id]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()


class MotoServer:
    """moto_server (with the fixes in tests/emulator/moto_server.py) on loopback, its log kept for reading."""

    def __init__(self, log_path: Path) -> None:
        self.port = closed_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_path)
        self._command = [
            sys.executable,
            str(Path(__file__).resolve().parent / "emulator" / "moto_server.py"),
            "-H",
            "127.0.0.1",
            "-p",
            str(self.port),
        ]
        self._process: subprocess.Popen | None = None

    def enforce_iam(self, enforced: bool) -> None:
        """From now on, check every request's signature and its IAM policies (moto's reset-auth), or stop checking."""
        request = urllib.request.Request(
            f"{self.url}/moto-api/reset-auth", data=b"0" if enforced else b"inf", method="POST", headers={"Content-Type": "text/plain"}
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
        self._process = subprocess.Popen(self._command, stdout=self._log, stderr=subprocess.STDOUT)
        if not wait_until(self._ready, timeout=30):
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

    from service.cruddur import table

    name = name or f"cruddur-test-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "dynamodb", endpoint_url=endpoint_url, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    table.create_table(client, name)
    return name
