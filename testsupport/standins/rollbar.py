"""Rollbar's item API and deploy API: items POSTed to <endpoint>/item/, deploys to <endpoint>/deploy.

The deploy rules are Rollbar's own documentation ("Deploy Tracking", the
Bash page and the ``POST https://api.rollbar.com/api/1/deploy`` reference):
a JSON body with ``environment`` and ``revision`` (required),
``local_username``, ``rollbar_username``, ``comment`` and ``status``
(``started``, ``succeeded``, ``failed`` or ``timed_out``); the project
access token in the ``X-Rollbar-Access-Token`` header (or, as older
examples send it, ``access_token`` in the body). A recorded deploy is
answered 200 ``{"data": {"deploy_id": ...}}``; a refusal as Rollbar's API
answers errors, ``{"err": 1, "message": ...}``.
"""

from __future__ import annotations

import json
from typing import Any

from testsupport.standins.loopback_http import LoopbackHttpServer

DEPLOY_FIELDS = frozenset({"environment", "revision", "local_username", "rollbar_username", "comment", "status"})
DEPLOY_STATUSES = frozenset({"started", "succeeded", "failed", "timed_out"})


class RollbarApi(LoopbackHttpServer):
    """Collects the items POSTed to <endpoint>/item/ and the deploys POSTed to <endpoint>/deploy.

    With ``access_token`` given, a deploy must carry it (else 401); the
    token a deploy carried is kept apart from the deploy, in ``deploy_tokens``.
    """

    def __init__(self, *, access_token: str | None = None) -> None:
        super().__init__()
        self._token = access_token
        self.items: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.deploys: list[dict[str, Any]] = []
        self.deploy_tokens: list[str | None] = []
        self.refused: list[tuple[int, str]] = []

    @property
    def endpoint(self) -> str:
        """What ROLLBAR_ENDPOINT is set to."""
        return f"{self.url}/api/1/"

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        if self.status != 200:
            return self.status, b'{"err": 1, "message": "stand-in error"}'
        if path.rstrip("/") == "/api/1/deploy":
            return self._deploy(headers, body)
        self.items.append(json.loads(body))
        self.headers.append(headers)
        return 200, b'{"err": 0, "result": {"uuid": "00000000000000000000000000000000"}}'

    def _deploy(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        try:
            document = json.loads(body)
        except ValueError:
            return self._refuse(400, "Malformed JSON body")
        if not isinstance(document, dict):
            return self._refuse(400, "Malformed JSON body")
        token = {k.lower(): v for k, v in headers.items()}.get("x-rollbar-access-token") or document.pop(
            "access_token", None
        )
        if self._token is not None and token != self._token:
            return self._refuse(401, "invalid access token")
        for field in ("environment", "revision"):
            if not (isinstance(document.get(field), str) and document[field]):
                return self._refuse(422, f"{field} is required")
        unknown = sorted(set(document) - DEPLOY_FIELDS)
        if unknown:
            return self._refuse(422, f"unknown fields: {', '.join(unknown)}")
        if "status" in document and document["status"] not in DEPLOY_STATUSES:
            return self._refuse(422, f"status must be one of {', '.join(sorted(DEPLOY_STATUSES))}")
        self.deploys.append(document)
        self.deploy_tokens.append(token)
        return 200, json.dumps({"data": {"deploy_id": len(self.deploys)}}).encode()

    def _refuse(self, status: int, message: str) -> tuple[int, bytes]:
        self.refused.append((status, message))
        return status, json.dumps({"err": 1, "message": message}).encode()
