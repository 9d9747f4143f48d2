"""Synthesize one environment in-process as an app's CDK app does, and read its templates (tests, make cost)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App
from aws_cdk.assertions import Template

from flask_aws_telemetry_cdk.config import EnvironmentConfig
from flask_aws_telemetry_cdk.environment_stacks import FlaskAppStacks

STACK_KEYS = ("network", "observability", "service")


def project_context(cdk_json: Path = Path("cdk.json")) -> dict[str, Any]:
    """The feature flags and defaults from the project's cdk.json (the working directory's), as the CLI passes them;
    none without a cdk.json.
    """
    if not cdk_json.is_file():
        return {}
    context: dict[str, Any] = json.loads(cdk_json.read_text()).get("context", {})
    return context


@dataclass(frozen=True)
class SynthesizedEnvironment:
    """One environment's cloud assembly: its config, stack names and templates."""

    config: EnvironmentConfig
    outdir: Path
    stack_names: dict[str, str]
    templates: dict[str, dict[str, Any]]

    def template(self, key: str) -> Template:
        """The assertions Template of stack ``key`` (network, observability, service)."""
        return Template.from_json(self.templates[key])

    def resources(self, key: str, resource_type: str) -> dict[str, dict[str, Any]]:
        """The resources of ``resource_type`` in stack ``key``, by logical id."""
        return {
            logical_id: resource
            for logical_id, resource in self.templates[key]["Resources"].items()
            if resource["Type"] == resource_type
        }

    def all_resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """The resources of ``resource_type`` in every stack."""
        found: dict[str, dict[str, Any]] = {}
        for key in STACK_KEYS:
            found.update({f"{key}/{lid}": r for lid, r in self.resources(key, resource_type).items()})
        return found


def synthesize(
    config: EnvironmentConfig, outdir: Path, *, context: dict[str, Any] | None = None
) -> SynthesizedEnvironment:
    """Build and synthesize ``config``'s stacks into ``outdir`` with cdk.json's context and ``context`` (default
    none: such as ``{"flask-aws-telemetry:synth-date": "2027-03-01"}``); compliance failures raise.
    """
    app = App(outdir=str(outdir), context={**project_context(), **(context or {}), "env": config.name})
    stacks = FlaskAppStacks(app, config)
    assembly = app.synth()
    stack_names = {key: stack.stack_name for key, stack in zip(STACK_KEYS, stacks.all(), strict=True)}
    templates = {
        key: json.loads(Path(assembly.get_stack_by_name(name).template_full_path).read_text())
        for key, name in stack_names.items()
    }
    return SynthesizedEnvironment(config=config, outdir=outdir, stack_names=stack_names, templates=templates)
