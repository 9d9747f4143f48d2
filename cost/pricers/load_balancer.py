"""Application load balancers: hours, capacity units, their nodes' public IPv4 addresses, and access logs in S3."""

from __future__ import annotations

from typing import Any

from cost.inputs import Inputs
from cost.lines import THOUSAND, Line, priced, priced_per
from cost.pricers.network import public_ipv4
from cost.templates import UNEXPIRED_DAYS, ref

LOAD_BALANCER = "AWS::ElasticLoadBalancingV2::LoadBalancer"
BUCKET = "AWS::S3::Bucket"  # priced as the access log bucket it is
TYPES = frozenset({LOAD_BALANCER, BUCKET})
# One LCU is 25 new connections a second or 1 GB processed an hour (the larger counts); a request is a connection.
NEW_CONNECTIONS_PER_SECOND_PER_LCU = 25
GB_PER_HOUR_PER_LCU = 1.0
# A load balancer node delivers an access log file every 5 minutes.
ACCESS_LOG_FILES_PER_NODE_HOUR = 12


def access_log_bucket(balancer: dict[str, Any]) -> str | None:
    """The logical id of the bucket ``balancer`` writes access logs to; None where they are off."""
    attributes = {a["Key"]: a["Value"] for a in balancer["Properties"].get("LoadBalancerAttributes", [])}
    return ref(attributes.get("access_logs.s3.bucket")) if attributes.get("access_logs.s3.enabled") == "true" else None


def lines(inputs: Inputs) -> list[Line]:
    """Each load balancer's hours, LCUs, public addresses and access logs."""
    p, hours, usage = inputs.prices, inputs.hours, inputs.usage
    out = []
    for logical_id, balancer in inputs.resources.sorted_of_type(LOAD_BALANCER):
        out.append(priced(f"Load balancer hours ({logical_id})", hours, "hours", p["alb_hour"]))
        gb_per_hour = usage.requests_per_day * usage.response_bytes / 24 / 1e9
        lcu = max(usage.requests_per_second / NEW_CONNECTIONS_PER_SECOND_PER_LCU, gb_per_hour / GB_PER_HOUR_PER_LCU)
        out.append(priced("Load balancer capacity units", lcu * hours, "LCU-hours", p["alb_lcu_hour"], digits=2))
        nodes = len(balancer["Properties"].get("Subnets", []))
        if balancer["Properties"].get("Scheme", "internet-facing") == "internet-facing":
            out.append(public_ipv4("load balancer", nodes * hours, p))
        bucket = access_log_bucket(balancer)
        if bucket:
            rules = inputs.resources[bucket]["Properties"].get("LifecycleConfiguration", {}).get("Rules", [])
            kept_days = min((r["ExpirationInDays"] for r in rules if "ExpirationInDays" in r), default=UNEXPIRED_DAYS)
            stored_gb = usage.requests_per_day * usage.access_log_bytes_per_request * kept_days / 1e9
            out.append(
                priced(
                    f"Access logs stored: {bucket} ({kept_days} days)",
                    stored_gb,
                    "GB-months",
                    p["s3_standard_gb_month"],
                    digits=3,
                )
            )
            files = nodes * ACCESS_LOG_FILES_PER_NODE_HOUR * hours
            out.append(
                priced_per(f"Access log files written: {bucket}", files, "PUT requests", p["s3_put_thousand"], THOUSAND)
            )
    return out
