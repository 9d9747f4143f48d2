"""Container Insights: its metrics (per cluster and per service) and its performance log events (per task)."""

from __future__ import annotations

from cost.inputs import Inputs
from cost.lines import Line, priced

TYPES: frozenset[str] = frozenset()  # the cluster is listed free (cost.coverage); its insights are priced here
ECS_CLUSTER = "AWS::ECS::Cluster"
INSIGHTS_ON = {"Name": "containerInsights", "Value": "enabled"}


def lines(inputs: Inputs) -> list[Line]:
    """Metrics and performance logs, where a cluster has Container Insights on."""
    p = inputs.prices
    clusters = [
        c
        for c in inputs.resources.of_type(ECS_CLUSTER).values()
        if INSIGHTS_ON in c["Properties"].get("ClusterSettings", [])
    ]
    if not clusters:
        return []
    metrics = (
        len(clusters) * p["container_insights_metrics_per_cluster"]
        + len(inputs.workload.services) * p["container_insights_metrics_per_service"]
    )
    log_gb = inputs.workload.running_tasks * p["container_insights_log_gb_per_task_month"]
    return [
        priced("Container Insights metrics", metrics, "metrics", p["custom_metric_month"]),
        priced("Container Insights performance logs", log_gb, "GB ingested", p["logs_ingestion_gb"], digits=3),
    ]
