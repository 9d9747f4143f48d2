"""Cloud Map: the namespace's private zone, the registered tasks, and one look-up per request through the HTTP API."""

from __future__ import annotations

from cost.pricers import cloud_map
from tests.cost.fragments import app_service, by_item, inputs_of

NAMESPACE = {"Namespace": {"Type": "AWS::ServiceDiscovery::PrivateDnsNamespace", "Properties": {}}}
DISCOVERY = {"Discovery": {"Type": "AWS::ServiceDiscovery::Service", "Properties": {}}}
API = {"Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {}}}


def test_behind_an_http_api_every_request_looks_the_tasks_up():
    """One task all month; one request a second (2,628,000 a month)."""
    resources = {**NAMESPACE, **DISCOVERY, **API, **app_service()}
    assert by_item(cloud_map.lines(inputs_of(resources, requests_per_day=86400))) == {
        "Cloud Map private namespaces (a Route 53 private zone each)": (1, "0.50"),
        "Cloud Map registered tasks": (1.0, "0.10"),
        "Cloud Map DiscoverInstances calls": (2628000, "2.63"),  # 2,628,000 * 1.00 / 1e6
    }


def test_without_an_http_api_nothing_looks_up():
    """The tasks are registered; no calls are priced."""
    lines = by_item(cloud_map.lines(inputs_of({**DISCOVERY, **app_service(tasks=2)}, requests_per_day=86400)))
    assert lines == {"Cloud Map registered tasks": (2.0, "0.20"), "Cloud Map DiscoverInstances calls": (0, "0.00")}
