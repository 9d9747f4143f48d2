"""Checking a request's AWS Signature Version 4 as AWS does, with botocore's own signer.

A stand-in for an AWS API receives requests signed by the real clients (the
X-Ray daemon, the collector's ``sigv4auth``): ``SigV4Verifier`` parses the
``Authorization`` header, checks the credential scope (access key, region,
service) and recomputes the signature with botocore's ``SigV4Auth`` over the
request as received (method, path, query, the signed headers, the body as
sent on the wire: compressed, if it was), at the time the request gives in
``X-Amz-Date``. The signature is botocore's; only the comparison is ours.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,\s*"
    r"SignedHeaders=(?P<signed>[^,]+),\s*Signature=(?P<signature>[0-9a-f]{64})"
)


class _AsSigned(SigV4Auth):
    """botocore's signer, over exactly the headers the client listed in SignedHeaders, as AWS checks them.

    botocore itself never signs some headers (``traceparent``, ``x-amzn-trace-id``,
    ...); other signers (the AWS SDK for Go) do, and AWS accepts either: the
    canonical request is built from the names the request says it signed.
    """

    def __init__(self, credentials: Credentials, service: str, region: str, signed_names: list[str]) -> None:
        super().__init__(credentials, service, region)
        self._signed_names = signed_names

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        headers = HTTPHeaders()
        for name in self._signed_names:
            headers[name] = request.headers[name]
        return headers


@dataclass(frozen=True)
class SigV4Verifier:
    """Who must have signed (the test's credentials) and for what (``service`` in ``region``)."""

    access_key: str
    secret_key: str
    region: str
    service: str
    session_token: str | None = None

    def problem(self, method: str, path: str, headers: dict[str, str], raw_body: bytes) -> str | None:
        """Why the request's signature is not one AWS would accept from these credentials; None when it is."""
        lower = {name.lower(): value for name, value in headers.items()}
        match = _AUTHORIZATION.fullmatch(lower.get("authorization", "").strip())
        if match is None:
            return f"Authorization = {lower.get('authorization')!r}: not an AWS4-HMAC-SHA256 signature"
        scope = match.groupdict()
        for part, expected in (("key", self.access_key), ("region", self.region), ("service", self.service)):
            if scope[part] != expected:
                return f"the credential scope's {part} is {scope[part]!r}; expected {expected!r}"
        timestamp = lower.get("x-amz-date", "")
        if timestamp[:8] != scope["date"]:
            return f"X-Amz-Date = {timestamp!r} does not match the credential scope's date {scope['date']}"
        if self.session_token is not None and lower.get("x-amz-security-token") != self.session_token:
            return "X-Amz-Security-Token is missing or not the session's token"
        declared = lower.get("x-amz-content-sha256")
        if declared is not None and declared != hashlib.sha256(raw_body).hexdigest():
            return "X-Amz-Content-Sha256 is not the SHA-256 of the body received"
        signed_names = scope["signed"].split(";")
        missing = [name for name in signed_names if name not in lower]
        if missing:
            return f"signed headers {missing} are not in the request"
        if "host" not in signed_names:
            return "the Host header is not signed"
        request = AWSRequest(
            method=method,
            url=f"http://{lower['host']}{path}",
            data=raw_body,
            headers={name: lower[name] for name in signed_names},
        )
        request.context["timestamp"] = timestamp
        credentials = Credentials(self.access_key, self.secret_key, self.session_token)
        signer = _AsSigned(credentials, self.service, self.region, signed_names)
        canonical = signer.canonical_request(request)
        expected_signature = signer.signature(signer.string_to_sign(request, canonical), request)
        if not hmac.compare_digest(expected_signature, scope["signature"]):
            return f"the signature does not match botocore's for the canonical request:\n{canonical}"
        return None
