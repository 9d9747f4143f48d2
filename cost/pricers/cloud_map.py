"""Cloud Map: private DNS namespaces (a Route 53 private zone each), registered tasks, and the HTTP API's look-ups."""

from __future__ import annotations

from cost.inputs import Inputs
from cost.lines import MILLION, Line, priced, priced_per
from cost.pricers.http_api import HTTP_API

NAMESPACE = "AWS::ServiceDiscovery::PrivateDnsNamespace"
DISCOVERY_SERVICE = "AWS::ServiceDiscovery::Service"
TYPES = frozenset({NAMESPACE, DISCOVERY_SERVICE})
# The HTTP API asks Cloud Map for the tasks' addresses; assumed once per request (an upper bound).
DISCOVER_CALLS_PER_REQUEST = 1.0


def lines(inputs: Inputs) -> list[Line]:
    """Namespaces, the running tasks registered in them, and DiscoverInstances calls."""
    p, resources = inputs.prices, inputs.resources
    out = []
    namespaces = len(resources.of_type(NAMESPACE))
    if namespaces:
        out.append(
            priced(
                "Cloud Map private namespaces (a Route 53 private zone each)",
                namespaces,
                "zones",
                p["route53_hosted_zone_month"],
            )
        )
    if resources.of_type(DISCOVERY_SERVICE):
        tasks = inputs.workload.running_tasks
        out.append(priced("Cloud Map registered tasks", tasks, "instances", p["cloud_map_instance_month"], digits=2))
        calls = inputs.requests_per_month * DISCOVER_CALLS_PER_REQUEST if resources.of_type(HTTP_API) else 0.0
        out.append(
            priced_per(
                "Cloud Map DiscoverInstances calls", calls, "calls", p["cloud_map_discover_million"], MILLION, digits=0
            )
        )
    return out
