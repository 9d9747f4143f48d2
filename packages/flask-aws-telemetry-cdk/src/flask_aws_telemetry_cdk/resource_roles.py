"""What a resource is for, said on purpose by the construct that creates it.

Tools that read the synthesized templates (``make cost``) recognise a
resource by its role instead of guessing it from its properties. A role is a
CloudFormation resource Metadata entry, written by ``mark`` and read by
``role_of``::

    "Metadata": {"flask-aws-telemetry:role": "trace-canary"}

Metadata changes nothing in AWS. This module imports nothing from aws-cdk at
run time, so the cost estimate can read roles without the CDK app.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_cdk import CfnResource

METADATA_KEY = "flask-aws-telemetry:role"
# The trace canary's function (components/trace_canary.py); its schedule is the rule that targets it.
TRACE_CANARY = "trace-canary"


def mark(resource: CfnResource, role: str) -> None:
    """Say in ``resource``'s template Metadata that it plays ``role``."""
    resource.add_metadata(METADATA_KEY, role)


def role_of(resource: Mapping[str, Any]) -> str | None:
    """The role a synthesized resource was marked with; None when it has none."""
    return resource.get("Metadata", {}).get(METADATA_KEY)
