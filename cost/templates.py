"""Reading the synthesized templates: every stack of one environment as one set of resources."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask_aws_telemetry_cdk.resource_roles import role_of

SCALABLE_TARGET = "AWS::ApplicationAutoScaling::ScalableTarget"
# What a template keeps without a retention or expiry (a log group, a bucket) is priced as ten years' worth.
UNEXPIRED_DAYS = 3650


def ref(value: Any) -> str | None:
    """The logical id a ``{"Ref": id}`` names; None for anything else."""
    return value.get("Ref") if isinstance(value, dict) else None


def get_att_target(value: Any) -> str | None:
    """The logical id a ``{"Fn::GetAtt": [id, attribute]}`` reads from; None for anything else."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return value["Fn::GetAtt"][0]
    return None


class Resources:
    """All stacks of one environment as one set of resources, by logical id."""

    def __init__(self, templates: Iterable[Mapping[str, Any]]) -> None:
        """Merge the ``Resources`` of every template."""
        self.by_id: dict[str, dict[str, Any]] = {}
        for template in templates:
            self.by_id.update(template.get("Resources", {}))

    def __getitem__(self, logical_id: str) -> dict[str, Any]:
        """The resource called ``logical_id``."""
        return self.by_id[logical_id]

    def sorted_items(self) -> list[tuple[str, dict[str, Any]]]:
        """Every (logical id, resource), by logical id."""
        return sorted(self.by_id.items())

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        """The resources of CloudFormation type ``kind``, by logical id."""
        return {lid: r for lid, r in self.by_id.items() if r["Type"] == kind}

    def sorted_of_type(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        """The resources of type ``kind`` as (logical id, resource), by logical id."""
        return sorted(self.of_type(kind).items())

    def with_role(self, role: str) -> list[tuple[str, dict[str, Any]]]:
        """The resources the stack marked as playing ``role`` (``resource_roles``), by logical id."""
        return [(lid, r) for lid, r in self.sorted_items() if role_of(r) == role]

    def scheduled_actions(self) -> list[list[dict[str, Any]]]:
        """The ``ScheduledActions`` of every scalable target that has some."""
        targets = self.of_type(SCALABLE_TARGET).values()
        return [
            t.get("Properties", {})["ScheduledActions"]
            for t in targets
            if t.get("Properties", {}).get("ScheduledActions")
        ]
