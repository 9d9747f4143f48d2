"""Typed, frozen configuration of one deployment environment.

    environment.py  EnvironmentConfig: identity, sections, derived names, the checks across sections
    sections.py     one frozen section per concern (network, task, scaling, logs, alarms, canary,
                    images, app, telemetry, sampling, xray_groups, data, edge), each checking its own fields
    errors.py       ConfigError, and FieldError: the one sentence every error reads as
    account.py      what holds for a whole AWS account (Transaction Search), deployed once per account

The environments themselves are data in the app's own CDK app (Cruddur's: ``infra/environments.py``); AWS's
fixed limits are in ``models/aws_limits.py``.
"""

from .account import FREE_INDEXING_PERCENTAGE, TransactionSearchConfig
from .environment import EnvironmentConfig, RemovalPolicyName
from .errors import ConfigError, FieldError
from .sections import (
    AlarmsConfig,
    AppConfig,
    BrowserTracesConfig,
    CanaryConfig,
    DataConfig,
    EdgeConfig,
    EntryPoint,
    ImagesConfig,
    LogsConfig,
    NetworkConfig,
    SamplingBoostConfig,
    SamplingConfig,
    SamplingRuleConfig,
    ScaleToZeroSchedule,
    ScalingConfig,
    TaskSizeConfig,
    TelemetryConfig,
    XRayGroupsConfig,
    XRayPath,
)

__all__ = [
    "AlarmsConfig",
    "AppConfig",
    "BrowserTracesConfig",
    "CanaryConfig",
    "ConfigError",
    "DataConfig",
    "EdgeConfig",
    "EntryPoint",
    "EnvironmentConfig",
    "FieldError",
    "FREE_INDEXING_PERCENTAGE",
    "ImagesConfig",
    "LogsConfig",
    "NetworkConfig",
    "RemovalPolicyName",
    "SamplingBoostConfig",
    "SamplingConfig",
    "SamplingRuleConfig",
    "ScaleToZeroSchedule",
    "ScalingConfig",
    "TaskSizeConfig",
    "TelemetryConfig",
    "TransactionSearchConfig",
    "XRayGroupsConfig",
    "XRayPath",
]
