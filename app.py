#!/usr/bin/env python3
"""CDK entry point: synthesize the stacks of one environment.

    cdk synth -c env=dev|staging|prod [-c image_uri=REGISTRY/IMAGE:TAG]

Environment look-ups happen here and nowhere else.
"""

from __future__ import annotations

import dataclasses
import sys

from aws_cdk import App

from stacks.compliance import apply_compliance_checks
from stacks.config import ConfigError
from stacks.environment_stacks import create_environment_stacks
from stacks.environments import DEFAULT_ENVIRONMENT, load_environment


def main() -> None:
    """Build the selected environment and apply the compliance checks."""
    app = App()
    env_name = app.node.try_get_context("env") or DEFAULT_ENVIRONMENT
    try:
        config = load_environment(env_name)
        image_uri = app.node.try_get_context("image_uri")
        if image_uri:
            config = dataclasses.replace(config, image_uri=image_uri)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    create_environment_stacks(app, config)
    apply_compliance_checks(app)
    app.synth()


if __name__ == "__main__":
    main()
