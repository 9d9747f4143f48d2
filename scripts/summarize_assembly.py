"""Print the stacks of a synthesized cloud assembly and how many resources of each type they hold."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path


def stack_templates(assembly_dir: Path):
    """(stack name, template) for each stack of the assembly, in manifest order."""
    manifest = json.loads((assembly_dir / "manifest.json").read_text())
    for artifact_id, artifact in manifest["artifacts"].items():
        if artifact.get("type") == "aws:cloudformation:stack":
            yield artifact_id, json.loads((assembly_dir / artifact["properties"]["templateFile"]).read_text())


def summarize(assembly_dir: Path) -> str:
    """A table: one line per stack with its resource count, then the counts by type."""
    lines = []
    for artifact_id, template in stack_templates(assembly_dir):
        resources = template.get("Resources", {})
        by_type = Counter(
            resource["Type"] for resource in resources.values() if resource["Type"] != "AWS::CDK::Metadata"
        )
        lines.append(f"{artifact_id}: {sum(by_type.values())} resources")
        lines.extend(f"    {count:3d}  {resource_type}" for resource_type, count in sorted(by_type.items()))
    if not lines:
        raise SystemExit(f"error: no stacks in {assembly_dir}; run 'make synth' first")
    return "\n".join(lines)


def retained(assembly_dir: Path) -> list[str]:
    """The resources ``cdk destroy`` leaves behind by design (DeletionPolicy Retain)."""
    kept = []
    for artifact_id, template in stack_templates(assembly_dir):
        for logical_id, resource in template.get("Resources", {}).items():
            if resource.get("DeletionPolicy") == "Retain":
                kept.append(f"{artifact_id}/{logical_id} ({resource['Type']})")
    return kept


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and print the summary (or, with --retained, what destroy keeps)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("assembly_dir", type=Path, nargs="?", default=Path("cdk.out"))
    parser.add_argument("--retained", action="store_true", help="list what cdk destroy keeps by design")
    args = parser.parse_args(argv)
    if not (args.assembly_dir / "manifest.json").is_file():
        raise SystemExit(f"error: {args.assembly_dir}/manifest.json not found; run 'make synth' first")
    if not args.retained:
        print(summarize(args.assembly_dir))
        return
    kept = retained(args.assembly_dir)
    if not kept:
        print("destroy keeps nothing: every resource of these stacks is deleted")
        return
    print("destroy keeps these by design (RemovalPolicy.RETAIN); delete them by hand when no longer needed:")
    for item in kept:
        print(f"  {item}")


if __name__ == "__main__":
    main()
