"""A DynamoDB endpoint for benchmarks: moto until frozen, then moto's answers replayed.

    python -m bench.dynamodb_replay --upstream http://127.0.0.1:PORT --port PORT

moto_server answers a few dozen requests a second; behind it every telemetry
configuration of ``make bench`` measured the same ~65 requests a second, so
the figures said nothing about telemetry. This endpoint forwards every
request to moto until ``POST /_freeze`` (after the services have seeded
their tables and warmed up); from then on it answers each read with moto's
answer to the same request body, and each write with moto's last answer to
that operation, without asking moto. The service's DynamoDB client still
does all of its own work (signing, serializing, HTTP, parsing, retries); the
database does none, as a real DynamoDB does none on the service's CPU.
It runs in its own process, started by ``make bench`` on the load
generator's CPU. A benchmark tool: nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]

READS = {"GetItem", "Query", "BatchGetItem", "Scan", "DescribeTable"}


class Replay:
    """The answers seen so far, and whether to ask moto again."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.frozen = False
        self.reads: dict[bytes, tuple[int, bytes]] = {}
        self.writes: dict[str, tuple[int, bytes]] = {}
        self.lock = threading.Lock()

    def answer(self, target: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        """Moto's answer, or its recorded one once frozen."""
        operation = target.rsplit(".", 1)[-1]
        if self.frozen:
            recorded = self.reads.get(body) if operation in READS else self.writes.get(operation)
            if recorded is not None:
                return recorded
        request = urllib.request.Request(self.upstream + "/", data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        if status == 200:
            with self.lock:
                if operation in READS:
                    self.reads[body] = (status, payload)
                else:
                    self.writes[operation] = (status, payload)
        return status, payload


def serve(upstream: str, port: int) -> None:
    """Serve on 127.0.0.1:``port`` until killed."""
    replay = Replay(upstream.rstrip("/"))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # botocore keeps its connections open

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes: without this, each answer waits for a delayed ACK (40 ms).
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path == "/_freeze":
                replay.frozen = True
                status, payload = 200, json.dumps({"reads": len(replay.reads), "writes": len(replay.writes)}).encode()
            else:
                forwarded = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                status, payload = replay.answer(self.headers.get("X-Amz-Target", ""), forwarded, body)
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever(poll_interval=0.2)


class ReplayProcess:
    """This endpoint in a child process (it inherits the caller's CPU affinity), in front of ``upstream``."""

    def __init__(self, upstream: str) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._command = [
            sys.executable,
            "-m",
            "bench.dynamodb_replay",
            "--upstream",
            upstream,
            "--port",
            str(self.port),
        ]
        self._process: subprocess.Popen | None = None

    def freeze(self) -> dict[str, int]:
        """From now on replay: how many distinct reads and write operations were recorded."""
        request = urllib.request.Request(f"{self.url}/_freeze", data=b"{}", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def __enter__(self) -> ReplayProcess:
        self._process = subprocess.Popen(
            self._command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("the DynamoDB replay endpoint did not start")

    def __exit__(self, *exc: Any) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)


def main() -> None:
    """Parse the arguments and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    serve(args.upstream, args.port)


if __name__ == "__main__":
    main()
