"""The HTTP server every HTTP stand-in is: threaded, on 127.0.0.1, answering POSTs through ``handle`` (any method through ``respond``)."""

from __future__ import annotations

import gzip
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoopbackHttpServer:
    """A threaded loopback HTTP server with a configurable status and delay; subclasses answer in ``handle``."""

    def __init__(self) -> None:
        self.status = 200
        self.delay_seconds = 0.0
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                owner.requests += 1
                if owner.delay_seconds:
                    time.sleep(owner.delay_seconds)
                status, response, *extra = owner.respond(self.command, self.path, dict(self.headers), body)
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **(extra[0] if extra else {})}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(response)))
                self.end_headers()
                self.wfile.write(response)

            do_POST = do_GET = do_PUT = do_DELETE = _answer  # noqa: N815 - http.server's names

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    @property
    def port(self) -> int:
        """The port it listens on."""
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[Any, ...]:
        """(status, JSON body) for a POST to ``path``, or (status, body, headers); ``body`` is already gunzipped."""
        raise NotImplementedError

    def respond(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple:
        """(status, JSON body[, extra response headers]) for any request; POSTs go to ``handle``, other methods get 405."""
        if method != "POST":
            return 405, b'{"error": "method not allowed"}'
        return self.handle(path, headers, body)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
