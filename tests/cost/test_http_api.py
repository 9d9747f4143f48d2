"""HTTP APIs: every request of the month, per million."""

from __future__ import annotations

from cost.pricers import http_api
from tests.cost.fragments import by_item, inputs_of


def test_each_api_is_priced_for_the_month_s_requests():
    """100,000 requests a day for 30.41667 days."""
    lines = by_item(
        http_api.lines(
            inputs_of({"Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {}}}, requests_per_day=100000)
        )
    )
    assert lines == {"HTTP API requests (Api)": (3041667, "3.04")}  # 3,041,667 * 1.00 / 1e6


def test_no_api_no_line():
    """A template without an HTTP API adds nothing."""
    assert http_api.lines(inputs_of({}, requests_per_day=100000)) == []
