"""What an environment's stacks hold, before and after ``cdk destroy``.

    python -m scripts.stack_inventory --env dev > before.json
    python -m scripts.stack_inventory --report before.json after.json   # markdown

The report lists the stacks removed with their resources by type, and the
log groups that still exist afterwards (prod keeps them by design).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import Any

import boto3
from botocore.exceptions import ClientError

from infra.environments import load_environment

STACK_SUFFIXES = ("network", "observability", "service")


def inventory(env_name: str, cloudformation: Any, logs: Any) -> dict[str, Any]:
    """The environment's stacks, their resources, and which of its log groups exist."""
    config = load_environment(env_name)
    stacks: dict[str, list[dict[str, str]]] = {}
    for suffix in STACK_SUFFIXES:
        name = f"{config.resource_prefix}-{suffix}"
        try:
            resources = cloudformation.describe_stack_resources(StackName=name)["StackResources"]
        except ClientError:
            continue  # the stack does not exist
        stacks[name] = [
            {
                "type": r["ResourceType"],
                "logical_id": r["LogicalResourceId"],
                "physical_id": r.get("PhysicalResourceId", ""),
            }
            for r in resources
        ]
    return {"environment": env_name, "stacks": stacks, "existing_log_groups": _existing_log_groups(stacks, logs)}


def _existing_log_groups(stacks: dict[str, list[dict[str, str]]], logs: Any) -> list[str]:
    names = [r["physical_id"] for resources in stacks.values() for r in resources if r["type"] == "AWS::Logs::LogGroup"]
    existing = []
    for name in names:
        found = logs.describe_log_groups(logGroupNamePrefix=name).get("logGroups", [])
        if any(group["logGroupName"] == name for group in found):
            existing.append(name)
    return existing


def report(before: dict[str, Any], after: dict[str, Any], logs: Any | None = None) -> str:
    """Markdown: what destroy removed, and what it kept."""
    removed = [name for name in before["stacks"] if name not in after["stacks"]]
    lines = [f"## cdk destroy {before['environment']}", ""]
    if not removed:
        lines.append("No stack was removed.")
    for name in removed:
        counts = Counter(r["type"] for r in before["stacks"][name])
        lines.append(f"- removed **{name}**: " + ", ".join(f"{n} {t}" for t, n in sorted(counts.items())))
    remaining = [name for name in after["stacks"]]
    if remaining:
        lines.append("")
        lines.append("Still present: " + ", ".join(remaining))
    kept = before["existing_log_groups"]
    if logs is not None:
        kept = [
            n
            for n in kept
            if any(g["logGroupName"] == n for g in logs.describe_log_groups(logGroupNamePrefix=n)["logGroups"])
        ]
    if kept:
        lines.append("")
        lines.append("Log groups kept (RemovalPolicy.RETAIN): " + ", ".join(f"`{n}`" for n in kept))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """--env NAME prints an inventory as JSON; --report BEFORE AFTER prints markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--env")
    group.add_argument("--report", nargs=2, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args(argv)
    if args.env:
        print(json.dumps(inventory(args.env, boto3.client("cloudformation"), boto3.client("logs")), indent=2))
    else:
        with open(args.report[0]) as before, open(args.report[1]) as after:
            print(report(json.load(before), json.load(after), boto3.client("logs")), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
