"""The frontend's span batches: priced only where the app takes them, at the entry point they go through."""

from __future__ import annotations

from cost.pricers import browser_traces
from cruddur import contract
from tests.cost.fragments import by_item, container, ecs_service, inputs_of, task_definition

TRAFFIC = {
    "requests_per_day": 100000,
    "browser_span_batches_per_request": 0.1,
    "browser_span_batch_bytes": 6000,
    "api_access_log_bytes_per_request": 300,
}


def _service(enabled: bool) -> dict:
    environment = {contract.BROWSER_TRACES_ENABLED.name: "true"} if enabled else {}
    return {
        "Task": task_definition(256, 512, container(contract.APP_CONTAINER_NAME, **environment)),
        "Service": ecs_service(tasks=2),
    }


def test_behind_an_http_api_each_batch_is_a_request_and_an_access_log_line():
    """304,167 batches (a tenth of 3,041,667 requests): their requests, access lines, and the refusal bound."""
    resources = {**_service(True), "Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {}}}
    lines = by_item(browser_traces.lines(inputs_of(resources, **TRAFFIC)))
    assert lines == {
        "HTTP API requests: browser span batches (Api)": (304167, "0.30"),
        "Logs ingested: HTTP API access lines of browser span batches": (0.091, "0.05"),  # 304,167 * 300 B
        # 2 tasks * 2 workers * 5 a minute * 43,800 minutes * 250 B
        "Logs ingested: refused browser span batches (at most)": (0.219, "0.11"),
    }


def test_behind_a_load_balancer_the_batches_take_capacity_units():
    """0.116 batches a second is 0.0046 LCU by connections; 0.0025 GB an hour by bytes: connections decide."""
    resources = {**_service(True), "Lb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {}}}
    lines = by_item(browser_traces.lines(inputs_of(resources, **TRAFFIC)))
    assert lines["Load balancer capacity units: browser span batches (Lb)"] == (3.38, "0.03")


def test_off_adds_nothing():
    """An app that does not take the frontend's spans costs nothing for them."""
    resources = {**_service(False), "Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {}}}
    assert browser_traces.lines(inputs_of(resources, **TRAFFIC)) == []
