"""The usage profile: the traffic each environment is assumed to see (``cost/usage.yaml``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

DEFAULT_USAGE = Path(__file__).resolve().parent / "usage.yaml"
# The entry that prices an environment the file has no entry of its own for.
DEFAULT_PROFILE = "default"
SECONDS_PER_DAY = 86400


class UsageError(ValueError):
    """No usage profile prices an environment: the message says which entry to add, and where."""


@dataclass(frozen=True)
class Usage:
    """The traffic an environment is assumed to see."""

    requests_per_day: float
    log_bytes_per_request: float
    sidecar_log_mb_per_task_day: float
    response_bytes: float
    # through NAT gateways, DynamoDB's traffic apart (that comes from its request units: cost.pricers.dynamodb)
    nat_gb_per_day: float
    trace_scans_per_recorded: float
    flow_log_mb_per_day: float
    # -- anomalies: shares of requests that end in a 5xx (or an unhandled exception), and that are slower than
    # the environment's slow-request threshold; the service exports them even unsampled (anomaly capture)
    error_rate: float = 0.0
    slow_rate: float = 0.0
    access_log_bytes_per_request: float = 0.0  # load balancer access log (gzipped, in S3)
    api_access_log_bytes_per_request: float = 0.0  # HTTP API access log line (CloudWatch Logs)
    # -- DynamoDB (on-demand): request units per API request, averaged over the mix of reads and writes
    dynamodb_read_units_per_request: float = 0.0
    dynamodb_write_units_per_request: float = 0.0
    dynamodb_stored_gb: float = 0.0
    # -- X-Ray under Transaction Search: spans billed per GB ingested into CloudWatch Logs (aws/spans)
    spans_per_trace: float = 0.0  # spans (segments and subsegments) a recorded trace puts into aws/spans
    span_bytes: float = 0.0  # bytes of one span as aws/spans stores it (OpenTelemetry semantic-convention JSON)
    transaction_search: bool = False  # the account has Transaction Search on (the OpenTelemetry-only path implies it)
    # -- the frontend's span batches (POST /v1/traces), where browser_traces is on
    browser_span_batches_per_request: float = 0.0
    browser_span_batch_bytes: float = 0.0

    @property
    def requests_per_second(self) -> float:
        """The day's requests spread evenly over its seconds."""
        return self.requests_per_day / SECONDS_PER_DAY


def load_usage(path: Path = DEFAULT_USAGE) -> dict[str, Usage]:
    """The usage profile of each environment."""
    return {name: Usage(**values) for name, values in yaml.safe_load(path.read_text()).items()}


def profile_for(usage: Mapping[str, Usage], environment: str, source: Path = DEFAULT_USAGE) -> tuple[Usage, bool]:
    """``environment``'s own profile, else the file's ``default`` one (then True); a UsageError says what to add."""
    if environment in usage:
        return usage[environment], False
    if DEFAULT_PROFILE in usage:
        return usage[DEFAULT_PROFILE], True
    raise UsageError(
        f"environment '{environment}' has no usage profile in {source}; add one (the traffic it is assumed to see, "
        "as the others there) to price it"
    )
