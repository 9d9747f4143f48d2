"""CloudWatch Logs: what each log group receives a month, and its ingestion and storage (by retention).

A group receives the app's log lines (its container's awslogs group, and
watchtower's group where watchtower is on), the sidecars' logs, the HTTP
API's access log and the VPC flow log, whichever write to it.
"""

from __future__ import annotations

from collections import defaultdict

from cost.inputs import Inputs
from cost.lines import Line, priced
from cost.templates import UNEXPIRED_DAYS, get_att_target, ref
from cruddur import contract

LOG_GROUP = "AWS::Logs::LogGroup"
API_STAGE = "AWS::ApiGatewayV2::Stage"
FLOW_LOG = "AWS::EC2::FlowLog"
TYPES = frozenset({LOG_GROUP})


def monthly_bytes_by_group(inputs: Inputs) -> dict[str, float]:
    """Bytes each log group (by logical id) receives in the month."""
    usage, days = inputs.usage, inputs.days
    received: defaultdict[str, float] = defaultdict(float)
    app_bytes = usage.requests_per_day * usage.log_bytes_per_request * days
    for service in inputs.workload.services:
        # Each sidecar writes its own: a task without the daemon has its lines no more.
        per_sidecar = usage.sidecar_log_mb_per_task_day * 1e6
        for container in service.containers:
            group = ref(container.get("LogConfiguration", {}).get("Options", {}).get("awslogs-group"))
            if not service.is_app(container):
                if group:
                    received[group] += per_sidecar * service.desired_tasks * service.running_share * days
                continue
            if group:
                received[group] += app_bytes
            variables = {e["Name"]: e["Value"] for e in container.get("Environment", [])}
            watchtower_group = ref(variables.get(contract.WATCHTOWER_LOG_GROUP.name))
            if variables.get(contract.WATCHTOWER_ENABLED.name) == "true" and watchtower_group:
                received[watchtower_group] += app_bytes
    for stage in inputs.resources.of_type(API_STAGE).values():
        group = get_att_target(stage["Properties"].get("AccessLogSettings", {}).get("DestinationArn"))
        if group:
            received[group] += inputs.requests_per_month * usage.api_access_log_bytes_per_request
    for flow_log in inputs.resources.of_type(FLOW_LOG).values():
        properties = flow_log["Properties"]
        group = ref(properties.get("LogGroupName")) or get_att_target(properties.get("LogDestination"))
        if group:
            received[group] += usage.flow_log_mb_per_day * 1e6 * days
    return dict(received)


def lines(inputs: Inputs) -> list[Line]:
    """GB ingested and GB-months stored of every log group."""
    p, days = inputs.prices, inputs.days
    received = monthly_bytes_by_group(inputs)
    out = []
    for logical_id, group in inputs.resources.sorted_of_type(LOG_GROUP):
        retention = group["Properties"].get("RetentionInDays")
        ingested_gb = received.get(logical_id, 0.0) / 1e9
        stored_gb = ingested_gb / days * (retention if retention else UNEXPIRED_DAYS)
        out.append(priced(f"Logs ingested: {logical_id}", ingested_gb, "GB", p["logs_ingestion_gb"], digits=3))
        out.append(
            priced(
                f"Logs stored: {logical_id} ({retention} days)",
                stored_gb,
                "GB-months",
                p["logs_storage_gb_month"],
                digits=3,
            )
        )
    return out
