"""Container Insights: metrics per cluster and service, performance logs per running task, only where it is on."""

from __future__ import annotations

from cost.pricers import container_insights
from tests.cost.fragments import app_service, by_item, inputs_of

INSIGHTS_ON = {
    "Type": "AWS::ECS::Cluster",
    "Properties": {"ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}]},
}


def test_a_cluster_with_insights_prices_its_metrics_and_logs():
    """One cluster (8 metrics), one service (11), two tasks all month (0.05 GB each)."""
    lines = by_item(container_insights.lines(inputs_of({"Cluster": INSIGHTS_ON, **app_service(tasks=2)})))
    assert lines == {
        "Container Insights metrics": (19, "5.70"),  # 19 * 0.30
        "Container Insights performance logs": (0.1, "0.05"),  # 0.1 GB * 0.50
    }


def test_a_cluster_without_insights_costs_nothing_here():
    """No setting, no lines."""
    cluster = {"Type": "AWS::ECS::Cluster", "Properties": {}}
    assert container_insights.lines(inputs_of({"Cluster": cluster, **app_service()})) == []
