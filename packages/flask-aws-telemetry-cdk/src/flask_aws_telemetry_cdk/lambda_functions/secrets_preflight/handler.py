"""Secrets preflight: fail the deploy early when a SecureString the task needs is missing.

A CloudFormation custom resource (CDK provider framework) that runs before
the ECS service is created or updated. It checks parameter metadata only
(``ssm:DescribeParameters``): it never reads a value, and its role cannot
decrypt. When a parameter is missing or not a SecureString, the deploy fails
with one message naming every such parameter and the exact command to fix it.

Resource properties:
    ParameterNames: the SecureString parameter names the task definition references
    FixCommand: the command that puts them (``make secrets ENV=<env>``)
"""

from __future__ import annotations

import logging
from typing import Any

import boto3

log = logging.getLogger()
log.setLevel(logging.INFO)

_clients: dict[str, Any] = {}


def ssm_client() -> Any:
    """The SSM client, created once per container."""
    if "ssm" not in _clients:
        _clients["ssm"] = boto3.client("ssm")
    return _clients["ssm"]


class PreflightFailed(RuntimeError):
    """A secret the task needs is missing or of the wrong type."""


def find_problems(parameter_names: list[str], client: Any) -> list[str]:
    """One line per parameter that is missing or not a SecureString; empty when all is well."""
    found: dict[str, str] = {}
    # DescribeParameters accepts at most 50 names per filter value list.
    for start in range(0, len(parameter_names), 50):
        chunk = parameter_names[start : start + 50]
        paginator = client.get_paginator("describe_parameters")
        pages = paginator.paginate(ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": chunk}])
        for page in pages:
            for parameter in page["Parameters"]:
                found[parameter["Name"]] = parameter["Type"]
    problems = []
    for name in parameter_names:
        if name not in found:
            problems.append(f"{name} does not exist")
        elif found[name] != "SecureString":
            problems.append(f"{name} is a {found[name]}, not a SecureString")
    return problems


def on_event(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """The provider framework's onEvent: check on Create and Update, do nothing on Delete."""
    properties = event.get("ResourceProperties", {})
    physical_id = event.get("PhysicalResourceId") or f"secrets-preflight-{properties.get('Environment', 'unknown')}"
    request_type = event["RequestType"]
    if request_type == "Delete":
        return {"PhysicalResourceId": physical_id}
    names = list(properties["ParameterNames"])
    problems = find_problems(names, ssm_client())
    if problems:
        message = (
            f"secrets preflight failed: {'; '.join(problems)}. "
            f"Put them with: {properties['FixCommand']} (values from the environment variables of the same names)"
        )
        log.error(message)
        raise PreflightFailed(message)
    log.info("secrets preflight passed for %s", ", ".join(names))
    return {"PhysicalResourceId": physical_id, "Data": {"Checked": len(names)}}
