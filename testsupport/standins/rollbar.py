"""Rollbar's item API: the items POSTed to <endpoint>/item/, kept with their headers."""

from __future__ import annotations

import json
from typing import Any

from testsupport.standins.loopback_http import LoopbackHttpServer


class RollbarApi(LoopbackHttpServer):
    """Collects the items POSTed to <endpoint>/item/."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []

    @property
    def endpoint(self) -> str:
        """What ROLLBAR_ENDPOINT is set to."""
        return f"{self.url}/api/1/"

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        if self.status != 200:
            return self.status, b'{"err": 1, "message": "stand-in error"}'
        self.items.append(json.loads(body))
        self.headers.append(headers)
        return 200, b'{"err": 0, "result": {"uuid": "00000000000000000000000000000000"}}'
