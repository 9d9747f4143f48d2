"""Estimate each environment's monthly bill from its synthesized templates.

    make cost                     # text tables for dev, staging, prod
    make cost FORMAT=markdown     # for a pull-request comment
    make cost FORMAT=json         # for tools

Quantities come from the templates (task sizes and counts, schedules,
retention, which log group each container writes to, the sampling ratio in
the task's environment, alarms, dashboards, NAT gateways, public IPs,
schedules of the canary) and from a usage profile per environment
(``cost/usage.yaml``: traffic, log volume). Prices come from one data file
(``cost/prices-us-east-1.json``) that names its region and date. A resource
type that is neither priced nor known to be free is listed as "not priced",
never dropped. Free tiers are applied only for X-Ray (they are per account,
and X-Ray's decides whether dev's sampling costs anything).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import yaml

from stacks.components.xray_sampling import SamplingPolicy

COST_DIR = Path(__file__).resolve().parent
DEFAULT_PRICES = COST_DIR / "prices-us-east-1.json"
DEFAULT_USAGE = COST_DIR / "usage.yaml"
CENT = Decimal("0.01")
WEEK_HOURS = 168

# Types that cost nothing by themselves (their usage is priced elsewhere, or AWS does not charge for them).
FREE_TYPES = {
    "AWS::CDK::Metadata",
    "AWS::CloudFormation::CustomResource",
    "AWS::EC2::FlowLog",  # priced as log ingestion
    "AWS::EC2::InternetGateway",
    "AWS::EC2::Route",
    "AWS::EC2::RouteTable",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::SecurityGroupEgress",
    "AWS::EC2::SecurityGroupIngress",
    "AWS::EC2::Subnet",
    "AWS::EC2::SubnetRouteTableAssociation",
    "AWS::EC2::VPC",
    "AWS::EC2::VPCGatewayAttachment",
    "AWS::ApiGatewayV2::ApiMapping",
    "AWS::ApiGatewayV2::DomainName",  # regional custom domains cost nothing beyond the requests
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Stage",  # its access log is priced as log ingestion
    "AWS::ApiGatewayV2::VpcLink",  # HTTP API VPC links have no charge
    "AWS::CertificateManager::Certificate",  # public ACM certificates are free
    "AWS::Route53::RecordSet",  # alias queries to AWS resources are free; the zone is the user's
    "AWS::S3::BucketPolicy",
    "Custom::S3AutoDeleteObjects",  # priced as its Lambda invocations
    "AWS::ECS::Cluster",  # Container Insights priced with the services
    "AWS::ECS::ClusterCapacityProviderAssociations",
    "AWS::ECS::TaskDefinition",  # priced with its service
    "AWS::ElasticLoadBalancingV2::Listener",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::Events::Rule",  # scheduled rules are free
    "AWS::IAM::OIDCProvider",
    "AWS::IAM::Policy",
    "AWS::IAM::Role",
    "AWS::Lambda::Permission",
    "AWS::SNS::Subscription",  # e-mail: the first 1,000 a month are free
    "AWS::SNS::Topic",
    "AWS::SNS::TopicPolicy",
    "AWS::SSM::Parameter",  # standard tier
    "AWS::XRay::Group",
    "AWS::XRay::SamplingRule",  # the traces it lets through are priced
    "Custom::SecretsPreflight",  # priced as its Lambda invocations
}
PRICED_TYPES = {
    "AWS::ApiGatewayV2::Api",
    "AWS::ServiceDiscovery::PrivateDnsNamespace",
    "AWS::ServiceDiscovery::Service",
    "AWS::S3::Bucket",
    "AWS::ECS::Service",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::EC2::NatGateway",
    "AWS::EC2::EIP",
    "AWS::Logs::LogGroup",
    "AWS::Logs::MetricFilter",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::Dashboard",
    "AWS::Lambda::Function",
    "AWS::DynamoDB::Table",
}
CANARY_SECONDS_PER_RUN = 3.0
PREFLIGHT_RUNS_PER_MONTH = 30  # one per deploy, about one a day
PREFLIGHT_SECONDS_PER_RUN = 1.0
# A load balancer node delivers an access log file every 5 minutes.
ACCESS_LOG_FILES_PER_NODE_HOUR = 12
# The HTTP API asks Cloud Map for the tasks' addresses; assumed once per request (an upper bound).
DISCOVER_CALLS_PER_REQUEST = 1.0


@dataclass(frozen=True)
class Usage:
    """The traffic an environment is assumed to see."""

    requests_per_day: float
    log_bytes_per_request: float
    sidecar_log_mb_per_task_day: float
    response_bytes: float
    nat_gb_per_day: float
    trace_scans_per_recorded: float
    flow_log_mb_per_day: float
    access_log_bytes_per_request: float = 0.0  # load balancer access log (gzipped, in S3)
    api_access_log_bytes_per_request: float = 0.0  # HTTP API access log line (CloudWatch Logs)
    # -- DynamoDB (on-demand): request units per API request, averaged over the mix of reads and writes
    dynamodb_read_units_per_request: float = 0.0
    dynamodb_write_units_per_request: float = 0.0
    dynamodb_stored_gb: float = 0.0


@dataclass(frozen=True)
class Line:
    """One priced quantity."""

    item: str
    quantity: float
    unit: str
    unit_price: float
    monthly_usd: Decimal


@dataclass
class Estimate:
    """One environment's monthly estimate."""

    environment: str
    variant: str
    lines: list[Line] = field(default_factory=list)
    not_priced: list[str] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        """The sum of the lines, in USD."""
        return sum((line.monthly_usd for line in self.lines), Decimal("0.00"))


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


class _Template:
    """All stacks of one environment as one set of resources."""

    def __init__(self, templates: list[dict[str, Any]]) -> None:
        self.resources: dict[str, dict[str, Any]] = {}
        for template in templates:
            self.resources.update(template.get("Resources", {}))

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {lid: r for lid, r in self.resources.items() if r["Type"] == kind}

    def ref(self, value: Any) -> str | None:
        return value.get("Ref") if isinstance(value, dict) else None


def running_fraction(scheduled_actions: list[dict[str, Any]]) -> float | None:
    """Share of the week a schedule keeps tasks running; None when there is no zero-capacity schedule.

    Understands the form this project writes: a scale-to-zero action
    ``cron(M H ? * DAYS *)`` with capacity 0 and a scale-up action of the same
    form, DAYS being ``*`` or a range such as ``MON-FRI``.
    """
    down = next((a for a in scheduled_actions if a["ScalableTargetAction"].get("MaxCapacity") == 0), None)
    up = next((a for a in scheduled_actions if a["ScalableTargetAction"].get("MaxCapacity", 0) > 0), None)
    if down is None or up is None:
        return None
    pattern = re.compile(r"^cron\((\d+) (\d+) \? \* (\S+) \*\)$")
    down_match, up_match = pattern.match(down["Schedule"]), pattern.match(up["Schedule"])
    if not down_match or not up_match or down_match[3] != up_match[3]:
        raise ValueError(f"schedule not understood: {down['Schedule']} / {up['Schedule']}")
    hours_up = (int(down_match[2]) + int(down_match[1]) / 60) - (int(up_match[2]) + int(up_match[1]) / 60)
    days = {"*": 7, "MON-FRI": 5, "MON-SAT": 6}.get(down_match[3])
    if days is None or not 0 < hours_up <= 24:
        raise ValueError(f"schedule not understood: {down['Schedule']} / {up['Schedule']}")
    return hours_up * days / WEEK_HOURS


def estimate(
    environment: str,
    templates: list[dict[str, Any]],
    usage: Usage,
    prices: dict[str, Any],
    *,
    on_schedule: bool = False,
) -> Estimate:
    """Price ``templates`` (every stack of ``environment``) for ``usage``; ``on_schedule`` applies scale-to-zero."""
    p = prices["prices"]
    hours = float(prices["hours_per_month"])
    days = hours / 24
    t = _Template(templates)
    app_log_bytes_per_month = usage.requests_per_day * usage.log_bytes_per_request * days
    result = Estimate(environment, "on schedule" if on_schedule else "always on")
    add = result.lines.append

    for logical_id, resource in sorted(t.resources.items()):
        kind = resource["Type"]
        if kind not in FREE_TYPES and kind not in PRICED_TYPES:
            result.not_priced.append(f"{kind} ({logical_id})")

    # -- ECS services on Fargate ------------------------------------------------
    running_tasks_total = 0.0
    log_group_bytes: dict[str, float] = {}
    public_ip_tasks = 0.0
    for logical_id, service in sorted(t.of_type("AWS::ECS::Service").items()):
        properties = service["Properties"]
        task = t.resources[t.ref(properties["TaskDefinition"])]["Properties"]
        cpu_units, memory_mib = int(task["Cpu"]), int(task["Memory"])
        tasks = float(properties.get("DesiredCount", 1))
        fraction = 1.0
        for target in t.of_type("AWS::ApplicationAutoScaling::ScalableTarget").values():
            if on_schedule and target["Properties"].get("ScheduledActions"):
                fraction = running_fraction(target["Properties"]["ScheduledActions"]) or 1.0
        task_hours = tasks * hours * fraction
        running_tasks_total += tasks * fraction
        spot = any(s.get("CapacityProvider") == "FARGATE_SPOT" for s in properties.get("CapacityProviderStrategy", []))
        vcpu_price = p["fargate_spot_vcpu_hour"] if spot else p["fargate_vcpu_hour"]
        gb_price = p["fargate_spot_gb_hour"] if spot else p["fargate_gb_hour"]
        fargate = "Fargate Spot" if spot else "Fargate"
        containers = task["ContainerDefinitions"]
        sidecars = [c for c in containers if not c.get("Essential", True)]
        app_cpu = cpu_units - sum(c.get("Cpu", 0) for c in sidecars)
        app_memory = memory_mib - sum(c.get("MemoryReservation", 0) for c in sidecars)
        for container in containers:
            essential = container.get("Essential", True)
            share_cpu = app_cpu if essential else container.get("Cpu", 0)
            share_memory = app_memory if essential else container.get("MemoryReservation", 0)
            vcpu_hours = share_cpu / 1024 * task_hours
            gb_hours = share_memory / 1024 * task_hours
            add(Line(f"{fargate} vCPU: {container['Name']} ({share_cpu} CPU units)", round(vcpu_hours, 1), "vCPU-hours",
                     vcpu_price, _money(vcpu_hours * vcpu_price)))  # fmt: skip
            add(Line(f"{fargate} memory: {container['Name']} ({share_memory} MiB)", round(gb_hours, 1), "GB-hours",
                     gb_price, _money(gb_hours * gb_price)))  # fmt: skip
            group = t.ref(container.get("LogConfiguration", {}).get("Options", {}).get("awslogs-group"))
            environment_vars = {e["Name"]: e["Value"] for e in container.get("Environment", [])}
            if essential:
                if group:
                    log_group_bytes[group] = log_group_bytes.get(group, 0.0) + app_log_bytes_per_month
                if environment_vars.get("TELEMETRY_WATCHTOWER_ENABLED") == "true":
                    watchtower_group = t.ref(environment_vars.get("WATCHTOWER_LOG_GROUP"))
                    if watchtower_group:
                        log_group_bytes[watchtower_group] = log_group_bytes.get(watchtower_group, 0.0) + app_log_bytes_per_month
            elif group:
                per_sidecar = usage.sidecar_log_mb_per_task_day * 1e6 / max(len(sidecars), 1)
                log_group_bytes[group] = log_group_bytes.get(group, 0.0) + per_sidecar * tasks * fraction * days
        network = properties.get("NetworkConfiguration", {}).get("AwsvpcConfiguration", {})
        if network.get("AssignPublicIp") == "ENABLED":
            public_ip_tasks += tasks * fraction

    # -- Container Insights ------------------------------------------------------
    insights_clusters = [
        c for c in t.of_type("AWS::ECS::Cluster").values()
        if {"Name": "containerInsights", "Value": "enabled"} in c["Properties"].get("ClusterSettings", [])
    ]  # fmt: skip
    if insights_clusters:
        metrics = len(insights_clusters) * p["container_insights_metrics_per_cluster"] + len(
            t.of_type("AWS::ECS::Service")
        ) * p["container_insights_metrics_per_service"]
        add(Line("Container Insights metrics", metrics, "metrics", p["custom_metric_month"], _money(metrics * p["custom_metric_month"])))
        insight_gb = running_tasks_total * p["container_insights_log_gb_per_task_month"]
        add(Line("Container Insights performance logs", round(insight_gb, 3), "GB ingested", p["logs_ingestion_gb"],
                 _money(insight_gb * p["logs_ingestion_gb"])))  # fmt: skip

    # -- load balancers ------------------------------------------------------------
    for logical_id, balancer in sorted(t.of_type("AWS::ElasticLoadBalancingV2::LoadBalancer").items()):
        add(Line(f"Load balancer hours ({logical_id})", hours, "hours", p["alb_hour"], _money(hours * p["alb_hour"])))
        new_connections_per_second = usage.requests_per_day / 86400
        gb_per_hour = usage.requests_per_day * usage.response_bytes / 24 / 1e9
        lcu = max(new_connections_per_second / 25, gb_per_hour / 1.0)
        add(Line("Load balancer capacity units", round(lcu * hours, 2), "LCU-hours", p["alb_lcu_hour"], _money(lcu * hours * p["alb_lcu_hour"])))
        addresses = len(balancer["Properties"].get("Subnets", []))
        if balancer["Properties"].get("Scheme", "internet-facing") == "internet-facing":
            add(Line("Public IPv4: load balancer", addresses * hours, "IP-hours", p["public_ipv4_hour"],
                     _money(addresses * hours * p["public_ipv4_hour"])))  # fmt: skip
        attributes = {a["Key"]: a["Value"] for a in balancer["Properties"].get("LoadBalancerAttributes", [])}
        bucket = t.ref(attributes.get("access_logs.s3.bucket")) if attributes.get("access_logs.s3.enabled") == "true" else None
        if bucket:
            rules = t.resources[bucket]["Properties"].get("LifecycleConfiguration", {}).get("Rules", [])
            kept_days = min((r["ExpirationInDays"] for r in rules if "ExpirationInDays" in r), default=3650)
            stored_gb = usage.requests_per_day * usage.access_log_bytes_per_request * kept_days / 1e9
            add(Line(f"Access logs stored: {bucket} ({kept_days} days)", round(stored_gb, 3), "GB-months",
                     p["s3_standard_gb_month"], _money(stored_gb * p["s3_standard_gb_month"])))  # fmt: skip
            files = addresses * ACCESS_LOG_FILES_PER_NODE_HOUR * hours
            add(Line(f"Access log files written: {bucket}", files, "PUT requests", p["s3_put_thousand"] / 1000,
                     _money(files / 1000 * p["s3_put_thousand"])))  # fmt: skip

    # -- HTTP APIs and Cloud Map ------------------------------------------------------
    api_requests = usage.requests_per_day * days
    for logical_id in sorted(t.of_type("AWS::ApiGatewayV2::Api")):
        add(Line(f"HTTP API requests ({logical_id})", round(api_requests), "requests", p["api_gateway_http_million"] / 1e6,
                 _money(api_requests / 1e6 * p["api_gateway_http_million"])))  # fmt: skip
    for stage in t.of_type("AWS::ApiGatewayV2::Stage").values():
        group = _group_of_arn(stage["Properties"].get("AccessLogSettings", {}).get("DestinationArn"))
        if group:
            log_group_bytes[group] = log_group_bytes.get(group, 0.0) + api_requests * usage.api_access_log_bytes_per_request
    namespaces = len(t.of_type("AWS::ServiceDiscovery::PrivateDnsNamespace"))
    if namespaces:
        add(Line("Cloud Map private namespaces (a Route 53 private zone each)", namespaces, "zones", p["route53_hosted_zone_month"],
                 _money(namespaces * p["route53_hosted_zone_month"])))  # fmt: skip
    if t.of_type("AWS::ServiceDiscovery::Service"):
        add(Line("Cloud Map registered tasks", round(running_tasks_total, 2), "instances", p["cloud_map_instance_month"],
                 _money(running_tasks_total * p["cloud_map_instance_month"])))  # fmt: skip
        calls = api_requests * DISCOVER_CALLS_PER_REQUEST if t.of_type("AWS::ApiGatewayV2::Api") else 0.0
        add(Line("Cloud Map DiscoverInstances calls", round(calls), "calls", p["cloud_map_discover_million"] / 1e6,
                 _money(calls / 1e6 * p["cloud_map_discover_million"])))  # fmt: skip

    # -- NAT and public addresses ----------------------------------------------------
    nat_count = len(t.of_type("AWS::EC2::NatGateway"))
    if nat_count:
        add(Line("NAT gateway hours", nat_count * hours, "hours", p["nat_gateway_hour"], _money(nat_count * hours * p["nat_gateway_hour"])))
        nat_gb = usage.nat_gb_per_day * days
        add(Line("NAT gateway data processed", round(nat_gb, 1), "GB", p["nat_gateway_gb"], _money(nat_gb * p["nat_gateway_gb"])))
    eip_count = len(t.of_type("AWS::EC2::EIP"))
    if eip_count:
        add(Line("Public IPv4: NAT gateway addresses", eip_count * hours, "IP-hours", p["public_ipv4_hour"],
                 _money(eip_count * hours * p["public_ipv4_hour"])))  # fmt: skip
    if public_ip_tasks:
        add(Line("Public IPv4: tasks in public subnets", round(public_ip_tasks * hours, 1), "IP-hours", p["public_ipv4_hour"],
                 _money(public_ip_tasks * hours * p["public_ipv4_hour"])))  # fmt: skip

    # -- CloudWatch Logs ---------------------------------------------------------------
    for flow_log in t.of_type("AWS::EC2::FlowLog").values():
        group = t.ref(flow_log["Properties"].get("LogGroupName")) or _group_of_arn(flow_log["Properties"].get("LogDestination"))
        if group:
            log_group_bytes[group] = log_group_bytes.get(group, 0.0) + usage.flow_log_mb_per_day * 1e6 * days
    for logical_id, group in sorted(t.of_type("AWS::Logs::LogGroup").items()):
        monthly_bytes = log_group_bytes.get(logical_id, 0.0)
        retention = group["Properties"].get("RetentionInDays")
        ingested_gb = monthly_bytes / 1e9
        stored_gb = ingested_gb / days * (retention if retention else 3650)
        add(Line(f"Logs ingested: {logical_id}", round(ingested_gb, 3), "GB", p["logs_ingestion_gb"], _money(ingested_gb * p["logs_ingestion_gb"])))
        add(Line(f"Logs stored: {logical_id} ({retention} days)", round(stored_gb, 3), "GB-months", p["logs_storage_gb_month"],
                 _money(stored_gb * p["logs_storage_gb_month"])))  # fmt: skip

    # -- metrics, alarms, dashboards -----------------------------------------------------
    filters = len(t.of_type("AWS::Logs::MetricFilter"))
    canaries = [f for f in t.of_type("AWS::Lambda::Function").values() if "METRIC_NAMESPACE" in f["Properties"].get("Environment", {}).get("Variables", {})]
    custom = filters + 2 * len(canaries)
    if custom:
        add(Line("Custom metrics (log metric filters, canary)", custom, "metrics", p["custom_metric_month"], _money(custom * p["custom_metric_month"])))
    alarm_metrics = sum(
        sum(1 for m in a["Properties"]["Metrics"] if "MetricStat" in m) if "Metrics" in a["Properties"] else 1
        for a in t.of_type("AWS::CloudWatch::Alarm").values()
    )
    if alarm_metrics:
        add(Line("Alarms (metrics alarmed on)", alarm_metrics, "alarm metrics", p["alarm_metric_month"], _money(alarm_metrics * p["alarm_metric_month"])))
    dashboards = len(t.of_type("AWS::CloudWatch::Dashboard"))
    if dashboards:
        add(Line("Dashboards", dashboards, "dashboards", p["dashboard_month"], _money(dashboards * p["dashboard_month"])))

    # -- Lambda -----------------------------------------------------------------------------
    canary_runs = 0.0
    for logical_id, function in sorted(t.of_type("AWS::Lambda::Function").items()):
        properties = function["Properties"]
        memory_gb = properties.get("MemorySize", 128) / 1024
        if function in canaries:
            rule = next((r for r in t.of_type("AWS::Events::Rule").values() if logical_id in json.dumps(r["Properties"].get("Targets", []))), None)
            minutes = int(re.match(r"rate\((\d+) minutes?\)", rule["Properties"]["ScheduleExpression"])[1]) if rule else 0
            runs = hours * 60 / minutes if minutes else 0.0
            canary_runs += runs
            seconds = CANARY_SECONDS_PER_RUN
        else:  # the preflight and its provider framework run once per deploy
            runs, seconds = PREFLIGHT_RUNS_PER_MONTH, PREFLIGHT_SECONDS_PER_RUN
        cost = runs / 1e6 * p["lambda_request_million"] + runs * seconds * memory_gb * p["lambda_gb_second"]
        add(Line(f"Lambda: {logical_id}", round(runs, 1), "invocations", p["lambda_request_million"] / 1e6, _money(cost)))

    # -- DynamoDB (on-demand) ---------------------------------------------------------------------
    for logical_id, table in sorted(t.of_type("AWS::DynamoDB::Table").items()):
        properties = table["Properties"]
        if properties.get("BillingMode") != "PAY_PER_REQUEST":
            result.not_priced.append(f"AWS::DynamoDB::Table ({logical_id}, provisioned capacity)")
            continue
        reads = usage.requests_per_day * days * usage.dynamodb_read_units_per_request
        writes = usage.requests_per_day * days * usage.dynamodb_write_units_per_request
        add(Line(f"DynamoDB read request units: {logical_id}", round(reads), "RRUs", p["dynamodb_read_request_million"] / 1e6,
                 _money(reads / 1e6 * p["dynamodb_read_request_million"])))  # fmt: skip
        add(Line(f"DynamoDB write request units: {logical_id} (indexes included)", round(writes), "WRUs",
                 p["dynamodb_write_request_million"] / 1e6, _money(writes / 1e6 * p["dynamodb_write_request_million"])))  # fmt: skip
        add(Line(f"DynamoDB storage: {logical_id}", usage.dynamodb_stored_gb, "GB-months", p["dynamodb_storage_gb_month"],
                 _money(usage.dynamodb_stored_gb * p["dynamodb_storage_gb_month"])))  # fmt: skip
        if properties.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"):
            add(Line(f"DynamoDB point-in-time recovery: {logical_id}", usage.dynamodb_stored_gb, "GB-months",
                     p["dynamodb_pitr_gb_month"], _money(usage.dynamodb_stored_gb * p["dynamodb_pitr_gb_month"])))  # fmt: skip

    # -- X-Ray ------------------------------------------------------------------------------
    # The deployed rules decide (the service samples live by them); templates without
    # rules trace nothing. Requests are assumed to arrive while the service runs,
    # with or without a schedule.
    rules = [r["Properties"]["SamplingRule"] for r in t.of_type("AWS::XRay::SamplingRule").values()]
    traced = SamplingPolicy.from_cloudformation(rules).traced_requests(usage.requests_per_day * days, days * 86400.0)
    recorded = (traced if rules else 0.0) + canary_runs * 2
    billable = max(0.0, recorded - p["xray_traces_recorded_free_per_month"])
    add(Line(f"X-Ray traces recorded ({recorded:,.0f}, {p['xray_traces_recorded_free_per_month']:,} free)", round(billable), "traces",
             p["xray_traces_recorded_million"] / 1e6, _money(billable / 1e6 * p["xray_traces_recorded_million"])))  # fmt: skip
    scanned = recorded * usage.trace_scans_per_recorded
    billable_scanned = max(0.0, scanned - p["xray_traces_scanned_free_per_month"])
    add(Line(f"X-Ray traces scanned ({scanned:,.0f}, {p['xray_traces_scanned_free_per_month']:,} free)", round(billable_scanned), "traces",
             p["xray_traces_scanned_million"] / 1e6, _money(billable_scanned / 1e6 * p["xray_traces_scanned_million"])))  # fmt: skip
    return result


def _group_of_arn(value: Any) -> str | None:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return value["Fn::GetAtt"][0]
    return None


def load_usage(path: Path = DEFAULT_USAGE) -> dict[str, Usage]:
    """The usage profile of each environment."""
    return {name: Usage(**values) for name, values in yaml.safe_load(path.read_text()).items()}


def load_prices(path: Path = DEFAULT_PRICES) -> dict[str, Any]:
    """The price data file."""
    return json.loads(path.read_text())


def render_text(estimates: list[Estimate], prices: dict[str, Any]) -> str:
    """Plain tables."""
    out = [f"Prices: {prices['region']}, {prices['currency']}, as of {prices['as_of']} ({DEFAULT_PRICES.name})", ""]
    for est in estimates:
        out.append(f"{est.environment} ({est.variant}): {est.total:,.2f} {prices['currency']}/month")
        for line in est.lines:
            out.append(f"  {line.monthly_usd:>9,.2f}  {line.item}: {line.quantity:,} {line.unit}")
        for item in est.not_priced:
            out.append(f"  {'?':>9}  not priced: {item}")
        out.append("")
    return "\n".join(out)


def render_markdown(estimates: list[Estimate], prices: dict[str, Any]) -> str:
    """Markdown tables for a pull-request comment."""
    out = ["### Monthly cost estimate", "", "| environment | variant | USD / month |", "| --- | --- | ---: |"]
    out += [f"| {e.environment} | {e.variant} | {e.total:,.2f} |" for e in estimates]
    for est in estimates:
        out += ["", f"<details><summary>{est.environment} ({est.variant})</summary>", "", "| item | quantity | USD |", "| --- | ---: | ---: |"]
        out += [f"| {l.item} | {l.quantity:,} {l.unit} | {l.monthly_usd:,.2f} |" for l in est.lines]
        out += [f"| not priced: {item} | | ? |" for item in est.not_priced]
        out += ["", "</details>"]
    out += ["", f"Prices: {prices['region']}, as of {prices['as_of']}. Usage: cost/usage.yaml."]
    return "\n".join(out) + "\n"


def render_json(estimates: list[Estimate], prices: dict[str, Any]) -> str:
    """Everything, for tools."""
    document = {
        "prices": {k: prices[k] for k in ("region", "currency", "as_of", "source")},
        "estimates": [
            {
                "environment": e.environment,
                "variant": e.variant,
                "total_usd": str(e.total),
                "lines": [{**asdict(l), "monthly_usd": str(l.monthly_usd)} for l in e.lines],
                "not_priced": e.not_priced,
            }
            for e in estimates
        ],
    }
    return json.dumps(document, indent=2) + "\n"


RENDERERS = {"text": render_text, "markdown": render_markdown, "json": render_json}


def estimates_for(environments: dict[str, list[dict[str, Any]]], usage: dict[str, Usage], prices: dict[str, Any]) -> list[Estimate]:
    """Always-on estimates, plus on-schedule ones for environments that scale to zero."""
    results = []
    for name, templates in environments.items():
        if name not in usage:
            raise ValueError(f"no usage profile for environment '{name}' in {DEFAULT_USAGE}")
        results.append(estimate(name, templates, usage[name], prices))
        scheduled = any(
            t.get("Properties", {}).get("ScheduledActions")
            for template in templates
            for t in template.get("Resources", {}).values()
            if t["Type"] == "AWS::ApplicationAutoScaling::ScalableTarget"
        )
        if scheduled:
            results.append(estimate(name, templates, usage[name], prices, on_schedule=True))
    return results


def main(argv: list[str] | None = None) -> int:
    """Synthesize every environment in-process and print the estimates."""
    parser = argparse.ArgumentParser(description="Estimate the monthly bill of every environment.")
    parser.add_argument("--format", choices=sorted(RENDERERS), default="text")
    parser.add_argument("--prices", type=Path, default=DEFAULT_PRICES)
    parser.add_argument("--usage", type=Path, default=DEFAULT_USAGE)
    args = parser.parse_args(argv)

    import tempfile

    from stacks.assembly import synthesize
    from stacks.environments import ENVIRONMENTS, load_environment

    prices = load_prices(args.prices)
    usage = load_usage(args.usage)
    environments = {}
    with tempfile.TemporaryDirectory() as outdir:
        for name in ENVIRONMENTS:
            synthesized = synthesize(load_environment(name), Path(outdir) / name)
            environments[name] = list(synthesized.templates.values())
    print(RENDERERS[args.format](estimates_for(environments, usage, prices), prices), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
