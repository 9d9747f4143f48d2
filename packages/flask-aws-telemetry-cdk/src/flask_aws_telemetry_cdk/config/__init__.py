"""Typed, frozen configuration of one deployment environment.

    environment.py  EnvironmentConfig: identity, sections, derived names, the checks across sections
    sections.py     one frozen section per concern (network, task, scaling, logs, alarms, slos, canary,
                    images, app, telemetry, sampling, xray_groups, table, edge), each checking its own fields
    errors.py       ConfigError, and FieldError: the one sentence every error reads as
    image_hardening.py  the check that an image built from a Dockerfile runs as the task's app user
    account.py      what holds for a whole AWS account (Transaction Search), deployed once per account
    xray_support.py the end of the X-Ray SDK's and daemon's support, and synth's warning from that day

The environments themselves are data in the app's own CDK app; AWS's
fixed limits are in ``models/aws_limits.py``.
"""

from .account import FREE_INDEXING_PERCENTAGE, TransactionSearchConfig
from .environment import EnvironmentConfig, RemovalPolicyName
from .errors import ConfigError, FieldError, MissingFieldError
from .sections import (
    AlarmsConfig,
    AppConfig,
    BrowserTracesConfig,
    CanaryConfig,
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
    SlosConfig,
    TableConfig,
    TableIndex,
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
    "EdgeConfig",
    "EntryPoint",
    "EnvironmentConfig",
    "FieldError",
    "FREE_INDEXING_PERCENTAGE",
    "ImagesConfig",
    "LogsConfig",
    "MissingFieldError",
    "NetworkConfig",
    "RemovalPolicyName",
    "SamplingBoostConfig",
    "SamplingConfig",
    "SamplingRuleConfig",
    "ScaleToZeroSchedule",
    "ScalingConfig",
    "SlosConfig",
    "TableConfig",
    "TableIndex",
    "TaskSizeConfig",
    "TelemetryConfig",
    "TransactionSearchConfig",
    "XRayGroupsConfig",
    "XRayPath",
]
