"""Load balancers: hours, capacity units, public addresses of internet-facing nodes, access logs in S3."""

from __future__ import annotations

from cost.pricers import load_balancer
from tests.cost.fragments import by_item, inputs_of

ACCESS_LOGS = [
    {"Key": "access_logs.s3.enabled", "Value": "true"},
    {"Key": "access_logs.s3.bucket", "Value": {"Ref": "Logs"}},
]
BUCKET = {"Type": "AWS::S3::Bucket", "Properties": {"LifecycleConfiguration": {"Rules": [{"ExpirationInDays": 30}]}}}


def balancer(**properties):
    """A load balancer in two subnets."""
    return {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {"Subnets": ["a", "b"], **properties}}


def test_an_internet_facing_balancer_with_access_logs():
    """One request a second, 1 KB of access log each, kept 30 days."""
    resources = {"Balancer": balancer(LoadBalancerAttributes=ACCESS_LOGS), "Logs": BUCKET}
    lines = by_item(
        load_balancer.lines(inputs_of(resources, requests_per_day=86400, access_log_bytes_per_request=1000))
    )
    assert lines == {
        "Load balancer hours (Balancer)": (730.0, "16.43"),  # 730 * 0.0225
        "Load balancer capacity units": (29.2, "0.23"),  # 1 new connection a second / 25 = 0.04 LCU * 730 h * 0.008
        "Public IPv4: load balancer": (1460.0, "7.30"),  # 2 nodes * 730 h * 0.005
        "Access logs stored: Logs (30 days)": (2.592, "0.06"),  # 86,400 * 1,000 B * 30 days = 2.592 GB * 0.023
        "Access log files written: Logs": (17520.0, "0.09"),  # 2 nodes * 12 an hour * 730 h * 0.005 / 1,000
    }


def test_an_internal_balancer_without_access_logs_holds_no_public_address():
    """Hours and capacity units only."""
    lines = load_balancer.lines(inputs_of({"Balancer": balancer(Scheme="internal")}, requests_per_day=86400))
    assert [line.item for line in lines] == ["Load balancer hours (Balancer)", "Load balancer capacity units"]
