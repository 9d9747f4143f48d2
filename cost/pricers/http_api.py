"""API Gateway HTTP APIs: priced per request (every request of the usage profile goes through each)."""

from __future__ import annotations

from cost.inputs import Inputs
from cost.lines import MILLION, Line, priced_per

HTTP_API = "AWS::ApiGatewayV2::Api"
TYPES = frozenset({HTTP_API})


def lines(inputs: Inputs) -> list[Line]:
    """The month's requests, for each HTTP API."""
    price = inputs.prices["api_gateway_http_million"]
    return [
        priced_per(f"HTTP API requests ({logical_id})", inputs.requests_per_month, "requests", price, MILLION, digits=0)
        for logical_id, _ in inputs.resources.sorted_of_type(HTTP_API)
    ]
