"""The HTTP server every HTTP stand-in is: threaded, on 127.0.0.1, answering POSTs through ``handle`` (any method
through ``respond``).
"""

from __future__ import annotations

import gzip
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# (status, body) or (status, body, extra response headers).
Response = tuple[int, bytes] | tuple[int, bytes, dict[str, str]]


class LoopbackHttpServer:
    """A threaded loopback HTTP server with a configurable status and delay; subclasses answer in ``handle``."""

    def __init__(self) -> None:
        self.status = 200
        self.delay_seconds = 0.0
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                body = self._body()
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

            do_POST = do_GET = do_PUT = do_DELETE = _answer

            def _body(self) -> bytes:
                """The request body as sent: by Content-Length, or chunked (Go's reverse proxies forward so)."""
                if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
                    return self.rfile.read(int(self.headers.get("Content-Length", "0")))
                chunks = []
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()  # the CRLF after each chunk
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers, up to the blank line
                    pass
                return b"".join(chunks)

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

    def handle_wire(self, path: str, headers: dict[str, str], wire_body: bytes) -> Response:
        """(status, JSON body) for a POST whose body is as sent (compressed, if it was); gunzips it for ``handle``.

        A stand-in that checks what was signed (SigV4 covers the body as sent) overrides this.
        """
        if headers.get("Content-Encoding") == "gzip":
            wire_body = gzip.decompress(wire_body)
        return self.handle(path, headers, wire_body)

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Response:
        """(status, JSON body[, extra response headers]) for a POST to ``path``; ``body`` is already gunzipped."""
        raise NotImplementedError

    def respond(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple:
        """(status, JSON body[, extra response headers]) for any request, its body as sent; POSTs go to
        ``handle_wire``, other methods get 405.
        """
        if method != "POST":
            return 405, b'{"error": "method not allowed"}'
        return self.handle_wire(path, headers, body)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
