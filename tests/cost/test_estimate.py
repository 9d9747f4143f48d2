"""make cost: a template with known resources gives the hand-computed figure to the cent."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

import pytest

from cost.estimate import estimate, estimates_for
from cost.prices import DEFAULT_PRICES, load_prices
from cost.render import render_json, render_markdown, render_text
from cost.usage import Usage, load_usage
from cost.workload import running_fraction
from tests.cost.fragments import NO_TRAFFIC

PRICES = {
    "region": "test-region-1",
    "currency": "USD",
    "as_of": "2026-01-01",
    "source": "round numbers for hand computation",
    "hours_per_month": 730,
    "prices": {
        "fargate_vcpu_hour": 0.05,
        "fargate_gb_hour": 0.005,
        "fargate_spot_vcpu_hour": 0.015,
        "fargate_spot_gb_hour": 0.0015,
        "api_gateway_http_million": 1.0,
        "cloud_map_instance_month": 0.1,
        "cloud_map_discover_million": 1.0,
        "route53_hosted_zone_month": 0.5,
        "s3_standard_gb_month": 0.025,
        "s3_put_thousand": 0.005,
        "alb_hour": 0.02,
        "alb_lcu_hour": 0.008,
        "nat_gateway_hour": 0.05,
        "nat_gateway_gb": 0.05,
        "public_ipv4_hour": 0.005,
        "logs_ingestion_gb": 0.5,
        "logs_storage_gb_month": 0.03,
        "custom_metric_month": 0.3,
        "alarm_metric_month": 0.1,
        "composite_alarm_month": 0.5,
        "dashboard_month": 3.0,
        "application_signals_million": 1.5,
        "xray_traces_recorded_million": 5.0,
        "xray_traces_recorded_free_per_month": 100000,
        "xray_traces_scanned_million": 0.5,
        "xray_traces_scanned_free_per_month": 1000000,
        "xray_spans_ingested_gb": 0.4,
        "lambda_request_million": 0.2,
        "lambda_gb_second": 0.0000166667,
        "container_insights_metrics_per_service": 11,
        "container_insights_metrics_per_cluster": 8,
        "container_insights_log_gb_per_task_month": 0.05,
        "dynamodb_read_request_million": 0.25,
        "dynamodb_write_request_million": 1.25,
        "dynamodb_storage_gb_month": 0.25,
        "dynamodb_pitr_gb_month": 0.2,
    },
}
USAGE = dataclasses.replace(
    NO_TRAFFIC, requests_per_day=86400, log_bytes_per_request=1000, nat_gb_per_day=1, trace_scans_per_recorded=1.0
)
TEMPLATE = {
    "Resources": {
        "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {}},
        "AppLogs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 30}},
        "Task": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "Cpu": "256",
                "Memory": "512",
                "ContainerDefinitions": [
                    {
                        "Name": "app",
                        "Essential": True,
                        "LogConfiguration": {"Options": {"awslogs-group": {"Ref": "AppLogs"}}},
                    },
                    {"Name": "xray-daemon", "Essential": False, "Cpu": 32, "MemoryReservation": 64},
                ],
            },
        },
        "Service": {
            "Type": "AWS::ECS::Service",
            "Properties": {
                "TaskDefinition": {"Ref": "Task"},
                "DesiredCount": 2,
                "NetworkConfiguration": {"AwsvpcConfiguration": {"AssignPublicIp": "DISABLED"}},
            },
        },
        "Target": {
            "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
            "Properties": {
                "ScheduledActions": [
                    {
                        "Schedule": "cron(0 20 ? * MON-FRI *)",
                        "ScalableTargetAction": {"MinCapacity": 0, "MaxCapacity": 0},
                    },
                    {
                        "Schedule": "cron(0 8 ? * MON-FRI *)",
                        "ScalableTargetAction": {"MinCapacity": 2, "MaxCapacity": 4},
                    },
                ]
            },
        },
        "Balancer": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {"Subnets": ["a", "b"]}},
        "Nat": {"Type": "AWS::EC2::NatGateway", "Properties": {}},
        "NatAddress": {"Type": "AWS::EC2::EIP", "Properties": {}},
        "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "x"}},
        "Dashboard": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {}},
        "Rule": {
            "Type": "AWS::XRay::SamplingRule",
            "Properties": {
                "SamplingRule": {
                    "RuleName": "default",
                    "URLPath": "*",
                    "HTTPMethod": "*",
                    "Priority": 9000,
                    "ReservoirSize": 0,
                    "FixedRate": 0.5,
                }
            },
        },
        "Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {}},
    }
}

# Worked by hand (730 h, 30.41667 days a month; 2 tasks of 256 CPU / 512 MiB = 1,460 task-hours):
EXPECTED_ALWAYS_ON = {
    "Fargate vCPU: app (224 CPU units)": "15.97",  # 224/1024 * 1460 = 319.375 vCPU-h * 0.05
    "Fargate memory: app (448 MiB)": "3.19",  # 448/1024 * 1460 = 638.75 GB-h * 0.005
    "Fargate vCPU: xray-daemon (32 CPU units)": "2.28",  # 45.625 vCPU-h * 0.05
    "Fargate memory: xray-daemon (64 MiB)": "0.46",  # 91.25 GB-h * 0.005
    "Load balancer hours (Balancer)": "14.60",  # 730 * 0.02
    "Load balancer capacity units": "0.23",  # 1 req/s / 25 = 0.04 LCU * 730 h * 0.008
    "Public IPv4: load balancer": "7.30",  # 2 subnets * 730 h * 0.005
    "NAT gateway hours": "36.50",  # 730 * 0.05
    "NAT gateway data processed": "1.52",  # 30.41667 GB * 0.05
    "Public IPv4: NAT gateway addresses": "3.65",  # 730 * 0.005
    "Logs ingested: AppLogs": "1.31",  # 86,400 * 1,000 B * 30.41667 = 2.628 GB * 0.5
    "Logs stored: AppLogs (30 days)": "0.08",  # 2.628 / 30.41667 * 30 = 2.592 GB * 0.03
    "Alarms (metrics alarmed on)": "0.10",
    "Dashboards": "3.00",
    "X-Ray traces recorded (1,314,000, 100,000 free)": "6.07",  # 50 % of 2,628,000; 1,214,000 * 5 / 1e6
    "X-Ray traces scanned (1,314,000, 1,000,000 free)": "0.16",  # 314,000 * 0.5 / 1e6
}


def test_the_fixture_costs_the_hand_computed_amount_to_the_cent():
    """Every line and the total match the worked figures."""
    result = estimate("fixture", [TEMPLATE], USAGE, PRICES)
    assert {line.item: str(line.monthly_usd) for line in result.lines} == EXPECTED_ALWAYS_ON
    assert result.total == Decimal("96.42")


def test_unknown_resource_types_are_listed_as_not_priced():
    """The bucket is named, not ignored."""
    assert estimate("fixture", [TEMPLATE], USAGE, PRICES).not_priced == ["AWS::Kinesis::Stream (Stream)"]


def test_an_on_demand_table_is_priced_from_the_usage_profile():
    """Request units per API request, storage, and point-in-time recovery where it is on; provisioned is not guessed."""
    prices = PRICES
    usage = Usage(
        **{
            **USAGE.__dict__,
            "dynamodb_read_units_per_request": 2.0,
            "dynamodb_write_units_per_request": 0.5,
            "dynamodb_stored_gb": 4,
        }
    )
    table = {"BillingMode": "PAY_PER_REQUEST", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}}
    template = {"Resources": {"Table": {"Type": "AWS::DynamoDB::Table", "Properties": table}}}
    lines = {
        line.item: str(line.monthly_usd)
        for line in estimate("fixture", [template], usage, prices).lines
        if "DynamoDB" in line.item
    }
    assert lines == {
        "DynamoDB read request units: Table": "1.31",  # 86,400 * 30.41667 * 2 = 5,256,000 RRU * 0.25 / 1e6
        "DynamoDB write request units: Table (indexes included)": "1.64",  # 1,314,000 WRU * 1.25 / 1e6
        "DynamoDB storage: Table": "1.00",  # 4 GB * 0.25
        "DynamoDB point-in-time recovery: Table": "0.80",  # 4 GB * 0.2
    }
    provisioned = {
        "Resources": {"Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"BillingMode": "PROVISIONED"}}}
    }
    assert estimate("fixture", [provisioned], usage, prices).not_priced == [
        "AWS::DynamoDB::Table (Table, provisioned capacity)"
    ]


def test_the_schedule_scales_the_tasks_not_the_load_balancer():
    """12 hours on 5 days a week is 60/168 of the month for tasks; the load balancer runs all the time."""
    assert running_fraction(TEMPLATE["Resources"]["Target"]["Properties"]["ScheduledActions"]) == pytest.approx(
        60 / 168
    )
    lines = {
        line.item: str(line.monthly_usd)
        for line in estimate("fixture", [TEMPLATE], USAGE, PRICES, on_schedule=True).lines
    }
    assert lines["Fargate vCPU: app (224 CPU units)"] == "5.70"  # 319.375 * 60/168 = 114.0625 vCPU-h * 0.05
    assert lines["Load balancer hours (Balancer)"] == "14.60"


def test_an_unknown_schedule_is_refused_rather_than_guessed():
    """A cron the tool does not understand is an error naming it."""
    actions = [
        {"Schedule": "cron(0 20 ? * SUN *)", "ScalableTargetAction": {"MaxCapacity": 0}},
        {"Schedule": "cron(0 8 ? * SUN *)", "ScalableTargetAction": {"MaxCapacity": 2}},
    ]
    with pytest.raises(ValueError, match="schedule not understood"):
        running_fraction(actions)


def test_formats_carry_the_same_totals():
    """Markdown and JSON show the same figure and the prices' region and date."""
    results = estimates_for({"fixture": [TEMPLATE]}, {"fixture": USAGE}, PRICES)
    assert [r.variant for r in results] == ["always on", "on schedule"]
    document = json.loads(render_json(results, PRICES))
    assert document["estimates"][0]["total_usd"] == "96.42"
    assert document["prices"]["as_of"] == "2026-01-01"
    assert "| fixture | always on | 96.42 |" in render_markdown(results, PRICES)


def test_the_price_file_names_its_region_and_date():
    """The shipped prices say where and when they are from."""
    prices = load_prices(DEFAULT_PRICES)
    assert prices["region"] == "us-east-1" and prices["as_of"] and prices["source"]
    assert set(PRICES["prices"]) == set(prices["prices"])


def test_the_real_environments_are_priced_without_gaps(synthesized_environments):
    """dev, staging and prod: every resource type is priced or known free; dev is the cheapest."""
    environments = {
        name: list(synthesized_environments(name).templates.values()) for name in ("dev", "staging", "prod")
    }
    results = estimates_for(environments, load_usage(), load_prices())
    assert all(r.not_priced == [] for r in results)
    totals = {(r.environment, r.variant): r.total for r in results}
    assert (
        totals[("dev", "on schedule")]
        < totals[("dev", "always on")]
        < totals[("staging", "always on")]
        < totals[("prod", "always on")]
    )
    dev = next(r for r in results if r.environment == "dev" and r.variant == "always on")
    recorded = next(line for line in dev.lines if line.item.startswith("X-Ray traces recorded"))
    # dev's reservoir (5 a second) is far above its 20,000 requests a day: the rules record every one of them
    assert recorded.item.startswith(f"X-Ray traces recorded ({20000 * 730 / 24:,.0f},")
    assert not [line for line in dev.lines if line.item.startswith("NAT")]


def test_the_gateway_endpoints_keep_dynamodb_traffic_off_the_nat_at_each_profile(synthesized_environments):
    """staging and prod, at cost/usage.yaml: a request reads 2.5 RRU * 8,192 B and writes 0.15 WRU * 1,024 B,
    20,633.6 B; 30.41667 days at 0.045 a GB.

    - staging: 100,000 requests = 2.06336 GB a day, plus its 1 GB of the rest: 93.1772 GB (4.19) without the
      endpoint, 30.41667 GB (1.37) with it, 2.82 saved;
    - prod: 2,000,000 requests = 41.2672 GB a day, plus its 10 GB: 1,559.3773 GB (70.17) without, 304.1667 GB
      (13.69) with, 56.48 saved. dev has no NAT gateway, so no NAT charge and nothing saved.
    """
    environments = {
        name: list(synthesized_environments(name).templates.values()) for name in ("dev", "staging", "prod")
    }
    results = {r.environment: r for r in estimates_for(environments, load_usage(), load_prices())}
    expected = {
        "staging": ((93.2, "4.19"), (30.4, "1.37"), "2.82"),
        "prod": ((1559.4, "70.17"), (304.2, "13.69"), "56.48"),
    }
    for name, (without, with_it, saved) in expected.items():
        (saving,) = results[name].savings
        nat_data = next(line for line in results[name].lines if line.item == "NAT gateway data processed")
        assert nat_data == saving.with_it
        assert (saving.without.quantity, str(saving.without.monthly_usd)) == without
        assert (saving.with_it.quantity, str(saving.with_it.monthly_usd)) == with_it
        assert str(saving.monthly_usd) == saved
    assert results["dev"].savings == []


def test_a_saving_is_shown_beside_the_lines_and_kept_out_of_the_total():
    """The text, markdown and JSON name the charge without and with the endpoint; the total counts only the latter.

    The fixture's NAT (0.05 a GB) with a table of 86,400 requests a day at 2.5 RRU and 0.15 WRU: 1.782743 GB a day
    of DynamoDB kept off, 1 GB of the rest: 84.6418 GB (4.23) without the endpoint, 30.41667 GB (1.52) with it.
    """
    endpoint = {
        "Type": "AWS::EC2::VPCEndpoint",
        "Properties": {"ServiceName": "com.amazonaws.test-region-1.dynamodb", "VpcEndpointType": "Gateway"},
    }
    table = {"Type": "AWS::DynamoDB::Table", "Properties": {"BillingMode": "PAY_PER_REQUEST"}}
    template = {"Resources": {**TEMPLATE["Resources"], "Table": table, "Ddb": endpoint}}
    usage = dataclasses.replace(USAGE, dynamodb_read_units_per_request=2.5, dynamodb_write_units_per_request=0.15)
    result = estimate("fixture", [template], usage, PRICES)
    assert result.total == sum((line.monthly_usd for line in result.lines), Decimal("0.00"))
    assert next(line for line in result.lines if line.item == "NAT gateway data processed").monthly_usd == Decimal(
        "1.52"
    )
    sentence = (
        "saved by the DynamoDB gateway endpoint (its traffic off the NAT), not in the total: NAT gateway data "
        "processed 84.6 GB (4.23) without it, 30.4 GB (1.52) with it"
    )
    assert f"      -2.71  {sentence}" in render_text([result], PRICES).splitlines()
    assert f"| {sentence} | | -2.71 |" in render_markdown([result], PRICES)
    (saving,) = json.loads(render_json([result], PRICES))["estimates"][0]["savings"]
    assert (saving["monthly_usd"], saving["without"]["monthly_usd"], saving["with"]["monthly_usd"]) == (
        "2.71",
        "4.23",
        "1.52",
    )


def test_the_opentelemetry_only_path_is_priced_as_spans_under_transaction_search(synthesized_environments):
    """dev on the OpenTelemetry-only path: its traces are spans ingested into aws/spans (the path needs Transaction
    Search), none recorded.
    """
    templates = list(synthesized_environments("dev-otel").templates.values())
    (result,) = [r for r in estimates_for({"dev": templates}, load_usage(), load_prices()) if r.variant == "always on"]
    assert result.not_priced == []
    items = [line.item for line in result.lines]
    assert not [item for item in items if item.startswith("X-Ray traces recorded")]
    dev_spans = 20000 * 730 / 24 * 3  # every request recorded (dev's reservoir), three spans each
    ingested = next(line for line in result.lines if line.item.startswith("X-Ray spans ingested"))
    assert ingested.item == f"X-Ray spans ingested into aws/spans ({dev_spans:,.0f} spans of 1,500 bytes)"
    assert ingested.quantity == round(dev_spans * 1500 / 1e9, 3) and ingested.unit_price == 0.35
    assert "X-Ray spans indexed as trace summaries (1 % of them, free)" in items


EDGE_USAGE = dataclasses.replace(
    NO_TRAFFIC, requests_per_day=86400, access_log_bytes_per_request=50, api_access_log_bytes_per_request=100
)
EDGE_TEMPLATE = {
    "Resources": {
        "Task": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {"Cpu": "256", "Memory": "512", "ContainerDefinitions": [{"Name": "app", "Essential": True}]},
        },
        "Service": {
            "Type": "AWS::ECS::Service",
            "Properties": {
                "TaskDefinition": {"Ref": "Task"},
                "DesiredCount": 1,
                "CapacityProviderStrategy": [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}],
            },
        },
        "Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {}},
        "ApiLogs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}},
        "Stage": {
            "Type": "AWS::ApiGatewayV2::Stage",
            "Properties": {"AccessLogSettings": {"DestinationArn": {"Fn::GetAtt": ["ApiLogs", "Arn"]}}},
        },
        "Namespace": {"Type": "AWS::ServiceDiscovery::PrivateDnsNamespace", "Properties": {}},
        "Discovery": {"Type": "AWS::ServiceDiscovery::Service", "Properties": {}},
        "Balancer": {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {
                "Subnets": ["a", "b"],
                "LoadBalancerAttributes": [
                    {"Key": "access_logs.s3.enabled", "Value": "true"},
                    {"Key": "access_logs.s3.bucket", "Value": {"Ref": "Logs"}},
                ],
            },
        },
        "Logs": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"LifecycleConfiguration": {"Rules": [{"ExpirationInDays": 90}]}},
        },
    }
}
# Worked by hand (730 h, 30.41667 days; 86,400 requests a day = 2,628,000 a month):
EXPECTED_EDGE = {
    "Fargate Spot vCPU: app (256 CPU units)": "2.74",  # 0.25 * 730 = 182.5 vCPU-h * 0.015
    "Fargate Spot memory: app (512 MiB)": "0.55",  # 0.5 * 730 = 365 GB-h * 0.0015
    "Load balancer hours (Balancer)": "14.60",
    "Load balancer capacity units": "0.23",
    "Public IPv4: load balancer": "7.30",
    "Access logs stored: Logs (90 days)": "0.01",  # 86,400 * 50 B * 90 days = 0.3888 GB * 0.025
    "Access log files written: Logs": "0.09",  # 2 nodes * 12 files an hour * 730 h = 17,520 PUTs * 0.005 / 1000
    "HTTP API requests (Api)": "2.63",  # 2,628,000 * 1.0 / 1e6
    "Cloud Map private namespaces (a Route 53 private zone each)": "0.50",
    "Cloud Map registered tasks": "0.10",  # one task all month * 0.1
    "Cloud Map DiscoverInstances calls": "2.63",  # one per request
    "Logs ingested: ApiLogs": "0.13",  # 2,628,000 * 100 B = 0.2628 GB * 0.5
    "Logs stored: ApiLogs (7 days)": "0.00",  # 0.2628 / 30.41667 * 7 = 0.0605 GB * 0.03
    "X-Ray traces recorded (0, 100,000 free)": "0.00",  # no sampling rule, no OTel ratio: nothing recorded
    "X-Ray traces scanned (0, 1,000,000 free)": "0.00",
}


def test_spot_http_api_cloud_map_and_access_logs_cost_the_hand_computed_amounts():
    """dev's levers (Spot, HTTP API, Cloud Map) and prod's access logs, line by line."""
    result = estimate("edge", [EDGE_TEMPLATE], EDGE_USAGE, PRICES)
    assert result.not_priced == []
    assert {line.item: str(line.monthly_usd) for line in result.lines} == EXPECTED_EDGE
    assert result.total == Decimal("31.51")


def test_dev_stays_within_its_budget_running_all_day(synthesized_environments):
    """The issue's goal: dev at or under 25 USD a month all day, with the shipped prices and usage."""
    environments = {"dev": list(synthesized_environments("dev").templates.values())}
    (always_on, _) = estimates_for(environments, load_usage(), load_prices())
    assert always_on.variant == "always on" and always_on.total <= Decimal("25.00")
    assert not [line for line in always_on.lines if line.item.startswith(("Load balancer", "Container Insights"))]


def test_each_app_log_line_is_ingested_once(synthesized_environments):
    """prod's app group gets requests * bytes per request, once: no watchtower group is priced beside it."""
    prod = synthesized_environments("prod")
    (result,) = estimates_for({"prod": list(prod.templates.values())}, load_usage(), load_prices())
    usage = load_usage()["prod"]
    ingested = [line for line in result.lines if line.item.startswith("Logs ingested: LogGroupsApp")]
    (app,) = ingested
    assert app.quantity == round(usage.requests_per_day * usage.log_bytes_per_request * 730 / 24 / 1e9, 3)
    assert not [line for line in result.lines if "Watchtower" in line.item]
