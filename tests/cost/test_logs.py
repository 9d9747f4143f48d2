"""CloudWatch Logs: what each group receives from whatever writes to it, ingested and stored by its retention."""

from __future__ import annotations

import pytest

from cost.pricers import logs
from cruddur import contract
from tests.cost.fragments import (
    by_item,
    container,
    ecs_service,
    inputs_of,
    task_definition,
)

DAYS = 730 / 24


def group(retention_days: int | None = 7) -> dict:
    """A log group, kept ``retention_days`` (forever when None)."""
    return {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": retention_days} if retention_days else {}}


def service_writing(watchtower: str) -> dict:
    """One task: the app (awslogs to AppLogs, watchtower ``watchtower`` into WatchtowerLogs) and one sidecar."""
    app = container(
        contract.APP_CONTAINER_NAME,
        log_group="AppLogs",
        **{contract.WATCHTOWER_ENABLED.name: watchtower, contract.WATCHTOWER_LOG_GROUP.name: {"Ref": "WatchtowerLogs"}},
    )
    sidecar = container(contract.XRAY_DAEMON_CONTAINER_NAME, cpu=32, memory_mib=64, log_group="SidecarLogs")
    return {
        "Task": task_definition(256, 512, app, sidecar),
        "Service": ecs_service(),
        **{name: group() for name in ("AppLogs", "WatchtowerLogs", "SidecarLogs")},
    }


USAGE = {"requests_per_day": 10000, "log_bytes_per_request": 1000, "sidecar_log_mb_per_task_day": 5}


def test_the_app_s_lines_reach_its_group_and_watchtower_s_only_where_it_is_on():
    """10,000 requests a day * 1,000 B; the one sidecar writes 5 MB a task-day."""
    off = logs.monthly_bytes_by_group(inputs_of(service_writing("false"), **USAGE))
    assert off == pytest.approx({"AppLogs": 1e7 * DAYS, "SidecarLogs": 5e6 * DAYS})
    on = logs.monthly_bytes_by_group(inputs_of(service_writing("true"), **USAGE))
    assert on == pytest.approx({"AppLogs": 1e7 * DAYS, "WatchtowerLogs": 1e7 * DAYS, "SidecarLogs": 5e6 * DAYS})


def test_each_group_is_priced_for_what_it_ingests_and_keeps():
    """Ingestion at 0.50 a GB, storage at 0.03 a GB-month for the retention's days."""
    lines = by_item(logs.lines(inputs_of(service_writing("false"), **USAGE)))
    assert lines == {
        "Logs ingested: AppLogs": (0.304, "0.15"),  # 1e7 B * 30.41667 = 0.304 GB * 0.50
        "Logs stored: AppLogs (7 days)": (0.07, "0.00"),  # 0.304 / 30.41667 * 7 = 0.07 GB * 0.03
        "Logs ingested: SidecarLogs": (0.152, "0.08"),  # 5e6 B * 30.41667 = 0.152 GB * 0.50
        "Logs stored: SidecarLogs (7 days)": (0.035, "0.00"),
        "Logs ingested: WatchtowerLogs": (0.0, "0.00"),
        "Logs stored: WatchtowerLogs (7 days)": (0.0, "0.00"),
    }


def test_the_api_s_access_log_and_the_flow_log_reach_their_groups_and_forever_is_ten_years():
    """The stage's destination by Fn::GetAtt, the flow log's by Ref; a group without retention keeps 3,650 days."""
    resources = {
        "ApiLogs": group(None),
        "FlowLogs": group(),
        "Stage": {
            "Type": "AWS::ApiGatewayV2::Stage",
            "Properties": {"AccessLogSettings": {"DestinationArn": {"Fn::GetAtt": ["ApiLogs", "Arn"]}}},
        },
        "FlowLog": {"Type": "AWS::EC2::FlowLog", "Properties": {"LogGroupName": {"Ref": "FlowLogs"}}},
    }
    inputs = inputs_of(resources, requests_per_day=100000, api_access_log_bytes_per_request=300, flow_log_mb_per_day=10)
    assert logs.monthly_bytes_by_group(inputs) == pytest.approx({"ApiLogs": 3e7 * DAYS, "FlowLogs": 1e7 * DAYS})
    lines = by_item(logs.lines(inputs))
    assert lines["Logs ingested: ApiLogs"] == (0.913, "0.46")  # 3e7 B * 30.41667 = 0.9125 GB * 0.50
    assert lines["Logs stored: ApiLogs (None days)"] == (109.5, "3.29")  # 0.03 GB a day * 3,650 days * 0.03
