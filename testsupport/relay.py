"""A recording relay between the app and its sampling sidecar: what the app sent and got, byte for byte.

    with RecordingRelay(f"http://127.0.0.1:{proxy_port}") as relay:
        environ["XRAY_SAMPLING_ENDPOINT"] = relay.url
        ...
        relay.exchanges  # [Exchange(path, request, status, response), ...] as the app saw them

The sidecar (the X-Ray daemon, the collector's ``awsxray`` receiver's proxy
or its ``awsproxy`` extension) forwards the app's sampling calls to X-Ray
and X-Ray's answers back; X-Ray's stand-in keeps what reached it
(``XRayApi.sampling_exchanges``). Comparing the two shows whether the
sidecar changed a statistics document, a rule or a target on the way. The
relay forwards each POST's body and ``Content-Type`` as they came and answers
with the sidecar's status and body.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from dataclasses import dataclass

from testsupport.standins.loopback_http import LoopbackHttpServer

FORWARD_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Exchange:
    """One request and its answer: the path, the request body, the status and the response body."""

    path: str
    request: bytes
    status: int
    response: bytes


class RecordingRelay(LoopbackHttpServer):
    """Forwards every POST to ``target`` unchanged and keeps each exchange as the caller saw it."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target.rstrip("/")
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()

    def handle_wire(self, path: str, headers: dict[str, str], wire_body: bytes) -> tuple[int, bytes]:
        content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "application/json")
        request = urllib.request.Request(
            self.target + path, data=wire_body, headers={"Content-Type": content_type}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=FORWARD_TIMEOUT_SECONDS) as answer:
                status, response = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, response = error.code, error.read()
        except OSError as error:  # the sidecar did not answer: the app sees a 502, as from a proxy
            status, response = 502, str(error).encode()
        with self._lock:
            self.exchanges.append(Exchange(path, wire_body, status, response))
        return status, response
