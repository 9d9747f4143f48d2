"""cdk-nag's AWS Solutions rules over the whole app, and how a finding is acknowledged.

cdk-nag 3 runs as a CDK policy-validation plugin: an unacknowledged finding
fails ``cdk synth`` and is listed in ``cdk.out/policy-validation-report.json``.
An acknowledgement always names its reason and is attached to the narrowest
construct it concerns.
"""

from __future__ import annotations

from typing import cast

from aws_cdk import Acknowledgment, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import Construct, IConstruct

# A construct without resources, added to the app's root when the checks are applied: applied once per app.
_APPLIED_MARKER = "FlaskAwsTelemetryComplianceChecks"


def apply_compliance_checks(app: IConstruct) -> None:
    """Validate every stack of ``app`` (its root) against AwsSolutionsChecks when it synthesizes; once per app."""
    root = app.node.root
    if root.node.try_find_child(_APPLIED_MARKER) is not None:
        return
    Construct(cast(Construct, root), _APPLIED_MARKER)
    Validations.of(root).add_plugins(AwsSolutionsChecks(root, verbose=True, write_suppressions_to_cloud_formation=True))


def acknowledge(construct: IConstruct | None, rule_id: str, reason: str) -> None:
    """Accept finding ``rule_id`` (``Rule`` or ``Rule[FindingId]``) on ``construct`` and its children.

    ``construct`` is often a ``node.default_child``, which CDK types as optional: None is refused by name.
    """
    if construct is None:
        raise ValueError(f"{rule_id}: no construct to acknowledge it on (a node without a default child?)")
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))
