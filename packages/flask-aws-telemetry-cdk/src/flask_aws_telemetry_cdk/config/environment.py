"""One environment's configuration: its identity and its sections, checked when built.

A bad value fails ``cdk synth`` before any construct exists, with one
sentence that names the environment, the field (``section.field``), the
value and what is allowed. Each section checks its own fields
(``sections.py``); what involves two sections is checked here, in
``_check_across_sections``, and nowhere else.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_aws_telemetry import contract
from flask_aws_telemetry_cdk.models import aws_limits
from flask_aws_telemetry_cdk.models.fargate import (
    APP_MIN_CPU_UNITS,
    APP_MIN_MEMORY_MIB,
    COLLECTOR_CPU_UNITS,
    COLLECTOR_MEMORY_RESERVATION_MIB,
    XRAY_DAEMON_CPU_UNITS,
    XRAY_DAEMON_MEMORY_RESERVATION_MIB,
)
from flask_aws_telemetry_cdk.models.sampling_policy import SamplingPolicy, SamplingRuleConfig

from .errors import ConfigError, FieldError, MissingFieldError
from .image_hardening import check_image_runs_as
from .sections import (
    SECTION_TYPES,
    AlarmsConfig,
    AppConfig,
    BrowserTracesConfig,
    CanaryConfig,
    EdgeConfig,
    ImagesConfig,
    LogsConfig,
    NetworkConfig,
    SamplingConfig,
    ScalingConfig,
    SlosConfig,
    TableConfig,
    TaskSizeConfig,
    TelemetryConfig,
    XRayGroupsConfig,
    check_format,
)

if TYPE_CHECKING:
    from aws_cdk import RemovalPolicy

_ENVIRONMENT_NAME = re.compile(r"^[a-z][a-z0-9]{0,9}$")
_SHORT_NAME = re.compile(r"^[a-z][a-z0-9-]{0,11}$")
_SERVICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
# A revision as git or a release names it: a commit id, a tag such as v1.4.0.
_REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,39}$")
# Sections an environment may leave out (None): no canary, no table.
OPTIONAL_SECTIONS = frozenset({"canary", "table"})


class RemovalPolicyName(StrEnum):
    """What `cdk destroy` does with stateful resources (log groups, the table, access logs)."""

    DESTROY = "destroy"
    RETAIN = "retain"

    def cdk(self) -> RemovalPolicy:
        """The CDK removal policy of this name (the CDK is imported here, by the stacks that ask, not with the
        config).
        """
        from aws_cdk import RemovalPolicy

        return RemovalPolicy.RETAIN if self is RemovalPolicyName.RETAIN else RemovalPolicy.DESTROY


# The rule the platform adds before the app's own: health checks are never sampled (every load-balancer and
# container probe would otherwise be a trace billed). Its priority leaves 1-99 to rules that must win over it.
HEALTH_CHECK_RULE_PRIORITY = 100
# What each identity field is for, said when it is missing.
_IDENTITY: dict[str, tuple[re.Pattern[str], str]] = {
    "name": (
        _ENVIRONMENT_NAME,
        "the environment's name, 1-10 lowercase letters or digits starting with a letter, such as 'dev'",
    ),
    "short_name": (
        _SHORT_NAME,
        "the app's short name, 1-12 lowercase letters, digits or '-' starting with a letter, such as 'orders' "
        "(it begins every stack and resource name: orders-dev-service)",
    ),
    "service_name": (
        _SERVICE_NAME,
        "the name the app reports to X-Ray and OpenTelemetry, 1-63 letters, digits, '.', '_' or '-', "
        "such as 'orders-api'",
    ),
}


@dataclass(frozen=True, kw_only=True)
class EnvironmentConfig:
    """One environment of one app: who it is (``name``, ``short_name``, ``service_name``: required), then a section
    per concern.

    Stacks are named ``<short_name>-<name>-network|observability|service``,
    account-unique resources (alarms, X-Ray groups and rules) begin with
    ``<short_name>-<name>``, parameters live under ``/<service_name>/<name>``.
    ``table`` (default None) gives the app a DynamoDB table; without it the
    task has neither a table nor any DynamoDB permission.
    """

    name: str = ""
    short_name: str = ""
    service_name: str = ""
    account: str | None = None
    region: str | None = None
    removal_policy: RemovalPolicyName = RemovalPolicyName.DESTROY
    # Check at deploy time that the secrets exist (a Lambda-backed custom resource; emulators turn it off).
    secrets_preflight: bool = True
    # The code revision deployed (cdk -c revision=..., which make deploy passes): the tasks report it as
    # service.version and Rollbar's code_version. None (the default): not reported.
    revision: str | None = None
    network: NetworkConfig = field(default_factory=NetworkConfig)
    task: TaskSizeConfig = field(default_factory=TaskSizeConfig)
    scaling: ScalingConfig = field(default_factory=ScalingConfig)
    logs: LogsConfig = field(default_factory=LogsConfig)
    alarms: AlarmsConfig = field(default_factory=AlarmsConfig)
    slos: SlosConfig = field(default_factory=SlosConfig)
    canary: CanaryConfig | None = None
    images: ImagesConfig = field(default_factory=ImagesConfig)
    app: AppConfig = field(default_factory=AppConfig)
    telemetry: TelemetryConfig = field(default_factory=TelemetryConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    xray_groups: XRayGroupsConfig = field(default_factory=XRayGroupsConfig)
    table: TableConfig | None = None
    edge: EdgeConfig = field(default_factory=EdgeConfig)
    browser_traces: BrowserTracesConfig = field(default_factory=BrowserTracesConfig)

    def __post_init__(self) -> None:
        """Reject every invalid value with a sentence naming it."""
        where = self.name if isinstance(self.name, str) and _ENVIRONMENT_NAME.match(self.name) else None
        try:
            self._check_identity()
        except FieldError as error:
            raise (error.within(where) if where else ConfigError(f"EnvironmentConfig: {error}")) from None
        for section_name, section_type in SECTION_TYPES.items():
            section = getattr(self, section_name)
            if section is None and section_name in OPTIONAL_SECTIONS:
                continue
            if not isinstance(section, section_type):
                raise FieldError(section_name, section, f"use a {section_type.__name__}").within(self.name)
            try:
                section.check()
            except FieldError as error:
                raise error.within(self.name, section_name) from None
        try:
            self._check_across_sections()
        except FieldError as error:
            raise error.within(self.name) from None
        if self.images.app_uri is None:
            try:
                check_image_runs_as(self.images.dockerfile_path, self.app.user)
            except ConfigError as error:
                raise ConfigError(f"environment '{self.name}': {error}") from None

    def with_changes(self, **sections: dict[str, object]) -> EnvironmentConfig:
        """A copy with some fields of some sections changed, checked again: ``with_changes(edge={"access_logs":
        True})``.
        """
        changed = {name: dataclasses.replace(getattr(self, name), **fields) for name, fields in sections.items()}
        return dataclasses.replace(self, **changed)

    # -- derived values -------------------------------------------------
    @property
    def parameter_path(self) -> str:
        """SSM path under which this environment's parameters live."""
        return f"/{self.service_name}/{self.name}"

    def secret_parameter_name(self, secret: str) -> str:
        """Name of the SecureString parameter holding ``secret``."""
        return f"{self.parameter_path}/{secret}"

    @property
    def resource_prefix(self) -> str:
        """Prefix of every account-unique physical name (alarms, X-Ray groups, sampling rules)."""
        return f"{self.short_name}-{self.name}"

    @property
    def metric_namespace(self) -> str:
        """The CloudWatch namespace of the service's own metrics (ERROR lines, the canary's)."""
        return f"{self.service_name}/{self.name}"

    @property
    def health_check_rule(self) -> SamplingRuleConfig:
        """The never-sampled rule of ``app.health_check_path``, built here so it cannot disagree with the checks."""
        return SamplingRuleConfig(
            rule_name=f"{self.resource_prefix}-health",
            priority=HEALTH_CHECK_RULE_PRIORITY,
            reservoir_size=0,
            fixed_rate=0.0,
            http_method="GET",
            url_path=self.app.health_check_path,
        )

    @property
    def sampling_policy(self) -> SamplingPolicy:
        """The sampling rules for the service they sample: the health-check rule, then the app's own."""
        return SamplingPolicy(service_name=self.service_name, rules=(self.health_check_rule, *self.sampling.rules))

    @property
    def span_attributes(self) -> tuple[str, ...]:
        """Every span attribute the service sets by name: the library's own, then ``app.span_attributes``."""
        return (*contract.SPAN_ATTRIBUTES, *self.app.span_attributes)

    @property
    def collector_indexed_attributes(self) -> tuple[str, ...]:
        """The span attributes the collector's awsxray exporter turns into X-Ray annotations (its
        ``indexed_attributes``): ``telemetry.xray_indexed_attributes``, by default every one the service sets;
        none on a path where the collector does not make segments of OpenTelemetry's spans.
        """
        if not self.telemetry.indexes_attributes:
            return ()
        chosen = self.telemetry.xray_indexed_attributes
        return self.span_attributes if chosen is None else chosen

    # -- checks -----------------------------------------------------------
    def _check_identity(self) -> None:
        for name, (pattern, meaning) in _IDENTITY.items():
            value = getattr(self, name)
            if value in ("", None):
                raise MissingFieldError(name, f"give {meaning}")
            if not isinstance(value, str) or not pattern.match(value):
                raise FieldError(name, value, f"use {meaning}")
        check_format("account", self.account, aws_limits.ACCOUNT_ID, "use a 12-digit AWS account id or None")
        check_format("region", self.region, aws_limits.REGION, "use a region name such as 'us-east-1' or None")
        check_format(
            "revision",
            self.revision,
            _REVISION,
            "use a commit id or a tag such as 'v1.4.0' (up to 40 characters: Rollbar's limit of a code_version)",
        )
        if not isinstance(self.removal_policy, RemovalPolicyName):
            raise FieldError("removal_policy", self.removal_policy, "use RemovalPolicyName.DESTROY or RETAIN")

    def _check_across_sections(self) -> None:
        """What involves two sections: the VPC lookup, the task's room for its containers, rules that can match."""
        if self.network.existing_vpc_id is not None and (self.account is None or self.region is None):
            raise FieldError(
                "network.existing_vpc_id",
                self.network.existing_vpc_id,
                "looking up an existing VPC needs account and region set in the same environment",
            )
        self._check_containers_fit()
        self._check_indexed_attributes()
        self._check_browser_traces()
        self._check_table()
        health_rule = self.health_check_rule.rule_name
        if health_rule in {rule.rule_name for rule in self.sampling.rules}:
            raise FieldError(
                "sampling.rules",
                health_rule,
                "the platform names its never-sampled health-check rule so; give your rule another rule_name",
            )
        for index, rule in enumerate(self.sampling.rules):
            if rule.service_name is not None and not fnmatch.fnmatchcase(self.service_name, rule.service_name):
                raise FieldError(
                    f"sampling.rules[{index}].service_name",
                    rule.service_name,
                    f"the rule could never match: the service reports '{self.service_name}' "
                    "(leave service_name None to use it)",
                )

    def _check_indexed_attributes(self) -> None:
        """Every attribute the collector indexes is one the service sets, and X-Ray can index them all."""
        names = set(self.span_attributes)
        for name in self.telemetry.xray_indexed_attributes or ():
            if name not in names:
                raise FieldError(
                    "telemetry.xray_indexed_attributes",
                    name,
                    "the service never sets it: use attributes the library sets "
                    f"({', '.join(contract.SPAN_ATTRIBUTES)}) or the app's own, listed in app.span_attributes"
                    + (f" ({', '.join(self.app.span_attributes)})" if self.app.span_attributes else ""),
                )
        indexed = self.collector_indexed_attributes
        if len(indexed) > aws_limits.XRAY_MAX_ANNOTATIONS:
            by_default = self.telemetry.xray_indexed_attributes is None
            raise FieldError(
                "app.span_attributes" if by_default else "telemetry.xray_indexed_attributes",
                self.app.span_attributes if by_default else indexed,
                f"X-Ray indexes at most {aws_limits.XRAY_MAX_ANNOTATIONS} annotations a trace and these make "
                f"{len(indexed)}: name at most {aws_limits.XRAY_MAX_ANNOTATIONS} in telemetry.xray_indexed_attributes",
            )

    def _check_table(self) -> None:
        """The table's name variable is not one the app already sets."""
        if self.table is not None and self.table.name_variable in self.app.environment:
            raise FieldError(
                "table.name_variable",
                self.table.name_variable,
                "app.environment already sets it; use another name for the table's",
            )

    def _check_browser_traces(self) -> None:
        """The frontend's spans need a share per worker, the collector to send them to, an origin to come from."""
        workers = self.app.web_concurrency
        for name in ("task_per_second", "source_per_minute"):
            value = getattr(self.browser_traces, name)
            if value < workers:
                raise FieldError(
                    f"browser_traces.{name}",
                    value,
                    f"each of the app's {workers} gunicorn workers (app.web_concurrency) takes an equal share: "
                    f"use {workers} or more",
                )
        if not self.browser_traces.enabled:
            return
        if not self.telemetry.needs_collector:
            raise FieldError(
                "browser_traces.enabled",
                True,
                "the frontend's spans go to the collector: set telemetry.opentelemetry = True too, or leave them off",
            )
        if not self.edge.frontend_origins:
            raise FieldError(
                "browser_traces.enabled",
                True,
                "no browser may send spans without an allowed origin: "
                "set edge.frontend_origins (the frontend's origins)",
            )

    def _check_containers_fit(self) -> None:
        parts, task = self.telemetry, self.task
        cpu = APP_MIN_CPU_UNITS + (XRAY_DAEMON_CPU_UNITS if parts.needs_xray_daemon else 0)
        cpu += COLLECTOR_CPU_UNITS if parts.needs_collector else 0
        memory = APP_MIN_MEMORY_MIB + (XRAY_DAEMON_MEMORY_RESERVATION_MIB if parts.needs_xray_daemon else 0)
        memory += COLLECTOR_MEMORY_RESERVATION_MIB if parts.needs_collector else 0
        if task.memory_mib < memory:
            raise FieldError(
                "task.memory_mib",
                task.memory_mib,
                f"the app ({APP_MIN_MEMORY_MIB} MiB) and the sidecars' reservations need at least {memory} MiB",
            )
        if task.cpu < cpu:
            raise FieldError(
                "task.cpu", task.cpu, f"the app and the sidecars' reservations need at least {cpu} CPU units"
            )
