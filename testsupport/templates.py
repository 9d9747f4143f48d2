"""Reading a synthesized environment (``flask_aws_telemetry_cdk.assembly.SynthesizedEnvironment``) as the tests need it.

    from testsupport import templates

    app = templates.app_container(dev)                      # the app's container definition
    templates.environment(app)["DYNAMODB_TABLE_NAME"]       # {"Ref": "<table logical id>"}
    templates.sampling_rules(dev)                           # the SamplingRule of each deployed rule
    templates.xray_groups(dev)                              # group name -> filter expression
    templates.collector_configuration_text(dev)             # the collector's YAML, as ECS gives it (AOT_CONFIG_CONTENT)

Every function reads the templates only, and fails (an AssertionError
naming what it looked for) where the environment has no such thing or more
than one. What one test alone reads stays in that test.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import yaml

from cruddur import contract

if TYPE_CHECKING:
    from flask_aws_telemetry_cdk.assembly import SynthesizedEnvironment

TOKEN = "<token>"


def _one(resources: dict[str, dict[str, Any]], what: str) -> tuple[str, dict[str, Any]]:
    assert len(resources) == 1, f"expected one {what}, found {sorted(resources)}"
    return next(iter(resources.items()))


def task_definition_id(env: SynthesizedEnvironment) -> str:
    """The logical id of the service's task definition."""
    return _one(env.resources("service", "AWS::ECS::TaskDefinition"), "task definition")[0]


def task_definition(env: SynthesizedEnvironment) -> dict[str, Any]:
    """The service's task definition resource (``Properties``: Cpu, Memory, Volumes, ContainerDefinitions, ...)."""
    return _one(env.resources("service", "AWS::ECS::TaskDefinition"), "task definition")[1]


def containers(env: SynthesizedEnvironment) -> dict[str, dict[str, Any]]:
    """The task definition's containers by name: the app and its sidecars."""
    return {c["Name"]: c for c in task_definition(env)["Properties"]["ContainerDefinitions"]}


def app_container(env: SynthesizedEnvironment) -> dict[str, Any]:
    """The app container of the task definition (``contract.APP_CONTAINER_NAME``)."""
    return containers(env)[contract.APP_CONTAINER_NAME]


def sidecars(env: SynthesizedEnvironment) -> dict[str, dict[str, Any]]:
    """Every container of the task definition but the app, by name."""
    return {name: c for name, c in containers(env).items() if name != contract.APP_CONTAINER_NAME}


def environment(container: dict[str, Any]) -> dict[str, Any]:
    """A container's environment variables as the template sets them (a value may be a token, such as a ``Ref``)."""
    return {item["Name"]: item["Value"] for item in container.get("Environment", [])}


def ecs_service(env: SynthesizedEnvironment) -> dict[str, Any]:
    """The ECS service resource (with its ``DependsOn``)."""
    return _one(env.resources("service", "AWS::ECS::Service"), "ECS service")[1]


def sampling_rules(env: SynthesizedEnvironment) -> list[dict[str, Any]]:
    """The ``SamplingRule`` of each X-Ray sampling rule the observability stack deploys, in template order."""
    return [r["Properties"]["SamplingRule"] for r in env.resources("observability", "AWS::XRay::SamplingRule").values()]


def xray_groups(env: SynthesizedEnvironment) -> dict[str, str]:
    """The X-Ray groups the observability stack deploys: group name -> filter expression."""
    return {
        g["Properties"]["GroupName"]: g["Properties"]["FilterExpression"]
        for g in env.resources("observability", "AWS::XRay::Group").values()
    }


def collector_configuration_text(env: SynthesizedEnvironment) -> str:
    """The ADOT collector's configuration as the one SSM parameter stores it: the text ECS puts in
    AOT_CONFIG_CONTENT.
    """
    _, parameter = _one(env.all_resources("AWS::SSM::Parameter"), "SSM parameter")
    return parameter["Properties"]["Value"]


def collector_configuration(env: SynthesizedEnvironment) -> dict[str, Any]:
    """The ADOT collector's configuration, parsed from the one SSM parameter of the templates."""
    return yaml.safe_load(collector_configuration_text(env))


def alarms(env: SynthesizedEnvironment) -> dict[str, dict[str, Any]]:
    """The service stack's alarms: AlarmName -> Properties."""
    return {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in env.resources("service", "AWS::CloudWatch::Alarm").values()
    }


def policy_statements(env: SynthesizedEnvironment, role: str) -> list[dict[str, Any]]:
    """The statements of the service stack's one IAM policy whose logical id contains ``role`` (``TaskRole``, ...)."""
    policies = {lid: p for lid, p in env.resources("service", "AWS::IAM::Policy").items() if role in lid}
    return _one(policies, f"IAM policy of {role}")[1]["Properties"]["PolicyDocument"]["Statement"]


def joined(value: str | dict[str, Any]) -> str:
    """A string or an ``Fn::Join`` of strings and tokens, with each token written ``<token>``."""
    if isinstance(value, str):
        return value
    separator, parts = value["Fn::Join"]
    return separator.join(part if isinstance(part, str) else TOKEN for part in parts)


def dashboard_body(env: SynthesizedEnvironment) -> dict[str, Any]:
    """The service stack's one dashboard, its body parsed (tokens as ``<token>``): ``{"widgets": [...]}``."""
    _, dashboard = _one(env.resources("service", "AWS::CloudWatch::Dashboard"), "dashboard")
    return json.loads(joined(dashboard["Properties"]["DashboardBody"]))


def warnings(env: SynthesizedEnvironment) -> list[str]:
    """The warning annotations of the service stack, as `cdk synth` prints them."""
    return annotations(env, "aws:cdk:warning")


def infos(env: SynthesizedEnvironment) -> list[str]:
    """The informational annotations of the service stack, as `cdk synth` prints them."""
    return annotations(env, "aws:cdk:info")


def annotations(env: SynthesizedEnvironment, kind: str) -> list[str]:
    """The service stack's annotations of one ``kind`` (``aws:cdk:warning``, ``aws:cdk:info``)."""
    manifest = json.loads((env.outdir / "manifest.json").read_text())
    artifact = manifest["artifacts"][env.stack_names["service"]]
    metadata = dict(artifact.get("metadata", {}))
    if "additionalMetadataFile" in artifact:
        metadata.update(json.loads((env.outdir / artifact["additionalMetadataFile"]).read_text()))
    return [entry["data"] for entries in metadata.values() for entry in entries if entry["type"] == kind]
