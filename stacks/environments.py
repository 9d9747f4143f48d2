"""The deployment environments, as data.

Add an environment by adding a function here and naming it in
``ENVIRONMENTS``; select one with ``cdk synth -c env=NAME``. Each function
builds its ``EnvironmentConfig`` only when asked, so a mistake in one
environment never stops the others from synthesizing.
"""

from __future__ import annotations

from collections.abc import Callable

from stacks.config import (
    AlarmThresholds,
    ConfigError,
    EntryPoint,
    EnvironmentConfig,
    RemovalPolicyName,
    SamplingRuleConfig,
    ScaleToZeroSchedule,
)
from service.cruddur import contract

DEFAULT_ENVIRONMENT = "dev"


def _sampling_rules(env: str, *, reservoir_size: int, fixed_rate: float) -> tuple[SamplingRuleConfig, ...]:
    """Health checks are never sampled; everything else follows the course's seed rule."""
    return (
        SamplingRuleConfig(
            rule_name=f"cruddur-{env}-health",
            priority=100,
            reservoir_size=0,
            fixed_rate=0.0,
            http_method="GET",
            url_path=contract.HEALTH_CHECK_PATH,
        ),
        SamplingRuleConfig(
            rule_name=f"cruddur-{env}-default",
            priority=9000,
            reservoir_size=reservoir_size,
            fixed_rate=fixed_rate,
        ),
    )


def dev() -> EnvironmentConfig:
    """Cheapest useful environment: public subnets, no NAT, short retention, off at night.

    256 CPU units / 1024 MiB is the smallest Fargate size that holds the app
    (214 MiB measured) beside the sidecars' reservations (320 MiB). Nothing
    in it bills by the hour but the task: an HTTP API (per request) instead
    of a load balancer and its two public addresses, no Container Insights,
    Fargate Spot (a reclaimed task is replaced; dev can afford the gap).
    """
    return EnvironmentConfig(
        name="dev",
        nat_gateways=0,
        cpu=256,
        memory_mib=1024,
        desired_count=1,
        min_capacity=1,
        max_capacity=2,
        sampling_rules=_sampling_rules("dev", reservoir_size=5, fixed_rate=0.1),
        log_retention_days=7,
        removal_policy=RemovalPolicyName.DESTROY,
        scale_to_zero=ScaleToZeroSchedule(),
        entry_point=EntryPoint.HTTP_API,
        container_insights=False,
        fargate_spot=True,
    )


def staging() -> EnvironmentConfig:
    """Production's shape at a smaller size: private subnets behind one NAT gateway."""
    return EnvironmentConfig(
        name="staging",
        nat_gateways=1,
        cpu=512,
        memory_mib=1024,
        desired_count=1,
        min_capacity=1,
        max_capacity=3,
        sampling_rules=_sampling_rules("staging", reservoir_size=5, fixed_rate=0.1),
        log_retention_days=14,
        removal_policy=RemovalPolicyName.DESTROY,
        canary_rate_minutes=15,
        table_point_in_time_recovery=True,
    )


def prod() -> EnvironmentConfig:
    """Two AZs with a NAT gateway each, two tasks at least, logs kept after destroy."""
    return EnvironmentConfig(
        name="prod",
        nat_gateways=2,
        cpu=1024,
        memory_mib=2048,
        desired_count=2,
        deploy_min_healthy_percent=100,
        min_capacity=2,
        max_capacity=6,
        # One a second: at prod's traffic each reservoir request is a trace billed (5 a second was 13 M traces a month).
        sampling_rules=_sampling_rules("prod", reservoir_size=1, fixed_rate=0.05),
        log_retention_days=90,
        removal_policy=RemovalPolicyName.RETAIN,
        xray_insights=True,
        canary_rate_minutes=5,
        alarm_thresholds=AlarmThresholds(p99_latency_seconds=1.5, evaluation_periods=3),
        log_level="INFO",
        access_logs=True,
        warn_without_tls=True,
        table_point_in_time_recovery=True,
    )


ENVIRONMENTS: dict[str, Callable[[], EnvironmentConfig]] = {"dev": dev, "staging": staging, "prod": prod}


def load_environment(name: str) -> EnvironmentConfig:
    """The configuration of environment ``name``, or a ConfigError listing the valid names."""
    factory = ENVIRONMENTS.get(name)
    if factory is None:
        valid = ", ".join(ENVIRONMENTS)
        raise ConfigError(
            f"unknown environment {name!r}; valid environments are {valid} (select one with -c env=NAME, or -c env=all)"
        )
    return factory()
