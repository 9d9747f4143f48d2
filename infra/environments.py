"""The deployment environments, as data.

Add an environment by adding a function here and naming it in
``ENVIRONMENTS``; select one with ``cdk synth -c env=NAME``. Each function
builds its ``EnvironmentConfig`` only when asked, so a mistake in one
environment never stops the others from synthesizing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cruddur import contract
from cruddur import table as cruddur_table
from flask_aws_telemetry_cdk import (
    AlarmsConfig,
    AppConfig,
    CanaryConfig,
    ConfigError,
    EdgeConfig,
    EntryPoint,
    EnvironmentConfig,
    ImagesConfig,
    LogsConfig,
    NetworkConfig,
    RemovalPolicyName,
    SamplingBoostConfig,
    SamplingConfig,
    SamplingRuleConfig,
    ScaleToZeroSchedule,
    ScalingConfig,
    SlosConfig,
    TableConfig,
    TableIndex,
    TaskSizeConfig,
    TelemetryConfig,
    XRayGroupsConfig,
)

DEFAULT_ENVIRONMENT = "dev"
# Who Cruddur is: its stacks are cruddur-<env>-*, its parameters live under /cruddur-backend-flask/<env>.
SHORT_NAME = "cruddur"
SERVICE_NAME = "cruddur-backend-flask"
# Cruddur's image is built from the repository root with service/Dockerfile, which installs the telemetry library
# from packages/ (service/Dockerfile.dockerignore lets in only the app and the library).
CRUDDUR_IMAGES = ImagesConfig(app_directory=".", app_dockerfile="service/Dockerfile")
# Cruddur runs its own gunicorn.conf.py on port 5000 and answers health checks on /api/health-check; the container
# checks itself with the library's health check (which reads PORT and HEALTH_CHECK_PATH, set from these values).
CRUDDUR_APP = AppConfig(
    command=contract.APP_COMMAND,
    port=contract.CONTAINER_PORT,
    health_check_path=contract.HEALTH_CHECK_PATH,
    user=contract.APP_USER,
    writable_path=contract.APP_TEMP_DIR,
    span_attributes=contract.SPAN_ATTRIBUTES,
)
# Cruddur reports unhandled exceptions to Rollbar; its loggers are named cruddur.*, as its metric filters expect.
CRUDDUR_TELEMETRY = TelemetryConfig(rollbar=True, logger_prefix="cruddur")


def _cruddur(name: str, **sections: Any) -> EnvironmentConfig:
    """Cruddur in environment ``name``: its identity, image, app and telemetry, with the environment's own sections."""
    return EnvironmentConfig(
        name=name,
        short_name=SHORT_NAME,
        service_name=SERVICE_NAME,
        images=CRUDDUR_IMAGES,
        app=CRUDDUR_APP,
        telemetry=CRUDDUR_TELEMETRY,
        **sections,
    )


def _table(*, point_in_time_recovery: bool) -> TableConfig:
    """Cruddur's table (``cruddur.table``'s design): its keys, indexes, TTL and the actions the service calls."""
    return TableConfig(
        partition_key=cruddur_table.PARTITION_KEY,
        sort_key=cruddur_table.SORT_KEY,
        indexes=tuple(
            TableIndex(name=name, partition_key=partition, sort_key=sort)
            for name, (partition, sort) in cruddur_table.INDEXES.items()
        ),
        time_to_live_attribute=cruddur_table.TTL_ATTRIBUTE,
        name_variable=contract.DYNAMODB_TABLE_NAME.name,
        actions=cruddur_table.SERVICE_ACTIONS,
        point_in_time_recovery=point_in_time_recovery,
        recovery_off_reason=(
            None
            if point_in_time_recovery
            else "This environment holds only demo data that the service seeds again into an empty table; "
            "point-in-time recovery is on where data must survive (staging, prod)."
        ),
    )


def _sampling(
    env: str, *, reservoir_size: int, fixed_rate: float, boost: SamplingBoostConfig | None = None
) -> SamplingConfig:
    """The course's seed rule, boosted after anomalies if ``boost`` (health checks are never sampled: the
    platform adds that rule from the health-check path).
    """
    return SamplingConfig(
        rules=(
            SamplingRuleConfig(
                rule_name=f"{SHORT_NAME}-{env}-default",
                priority=9000,
                reservoir_size=reservoir_size,
                fixed_rate=fixed_rate,
                boost=boost,
            ),
        )
    )


def dev() -> EnvironmentConfig:
    """Cheapest useful environment: public subnets, no NAT, short retention, off at night.

    256 CPU units / 1024 MiB is the smallest Fargate size that holds the app
    (214 MiB measured) beside the sidecars' reservations (320 MiB). Nothing
    in it bills by the hour but the task: an HTTP API (per request) instead
    of a load balancer and its two public addresses, no Container Insights,
    Fargate Spot (a reclaimed task is replaced; dev can afford the gap).
    """
    return _cruddur(
        "dev",
        table=_table(point_in_time_recovery=False),
        removal_policy=RemovalPolicyName.DESTROY,
        network=NetworkConfig(nat_gateways=0),
        task=TaskSizeConfig(cpu=256, memory_mib=1024, fargate_spot=True, container_insights=False),
        scaling=ScalingConfig(desired_count=1, min_capacity=1, max_capacity=2, scale_to_zero=ScaleToZeroSchedule()),
        logs=LogsConfig(retention_days=7),
        # A week's budget, loose enough that a cold start after the night's scale-to-zero spends little of it.
        slos=SlosConfig(availability_goal_percent=99.0, latency_goal_percent=95.0, latency_window_days=7),
        sampling=_sampling("dev", reservoir_size=5, fixed_rate=0.1),
        edge=EdgeConfig(entry_point=EntryPoint.HTTP_API),
    )


def staging() -> EnvironmentConfig:
    """Production's shape at a smaller size: private subnets behind one NAT gateway."""
    return _cruddur(
        "staging",
        table=_table(point_in_time_recovery=True),
        removal_policy=RemovalPolicyName.DESTROY,
        network=NetworkConfig(nat_gateways=1),
        task=TaskSizeConfig(cpu=512, memory_mib=1024),
        scaling=ScalingConfig(desired_count=1, min_capacity=1, max_capacity=3),
        logs=LogsConfig(retention_days=14),
        slos=SlosConfig(
            availability_goal_percent=99.5,
            availability_window_days=14,
            latency_goal_percent=97.0,
            latency_threshold_seconds=1.0,
            latency_window_days=14,
        ),
        canary=CanaryConfig(rate_minutes=15),
        sampling=_sampling("staging", reservoir_size=5, fixed_rate=0.1),
    )


def prod() -> EnvironmentConfig:
    """Two AZs with a NAT gateway each, two tasks at least, logs kept after destroy."""
    return _cruddur(
        "prod",
        table=_table(point_in_time_recovery=True),
        removal_policy=RemovalPolicyName.RETAIN,
        network=NetworkConfig(nat_gateways=2),
        task=TaskSizeConfig(cpu=1024, memory_mib=2048),
        scaling=ScalingConfig(desired_count=2, min_capacity=2, max_capacity=6, deploy_min_healthy_percent=100),
        logs=LogsConfig(retention_days=90, level="INFO"),
        alarms=AlarmsConfig(evaluation_periods=3),
        slos=SlosConfig(
            availability_goal_percent=99.9,
            availability_window_days=30,
            latency_goal_percent=99.0,
            latency_threshold_seconds=1.0,
            latency_window_days=30,
        ),
        canary=CanaryConfig(rate_minutes=5),
        # One a second: at prod's traffic each reservoir request is a trace billed (5 a second was 13 M traces a month).
        # After errors or slow requests X-Ray raises the rate to at most a quarter, at most once in 15 minutes:
        # the traces around an incident, without paying for them every minute of a long one.
        sampling=_sampling(
            "prod", reservoir_size=1, fixed_rate=0.05, boost=SamplingBoostConfig(max_rate=0.25, cooldown_minutes=15)
        ),
        xray_groups=XRayGroupsConfig(insights=True),
        edge=EdgeConfig(access_logs=True, warn_without_tls=True),
    )


ENVIRONMENTS: dict[str, Callable[[], EnvironmentConfig]] = {
    "dev": dev,
    "staging": staging,
    "prod": prod,
}


def load_environment(name: str) -> EnvironmentConfig:
    """The configuration of environment ``name``, or a ConfigError listing the valid names."""
    factory = ENVIRONMENTS.get(name)
    if factory is None:
        valid = ", ".join(ENVIRONMENTS)
        raise ConfigError(
            f"unknown environment {name!r}; valid environments are {valid} (select one with -c env=NAME, or -c env=all)"
        )
    return factory()
