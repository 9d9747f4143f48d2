"""Print the stacks of a synthesized cloud assembly and how many resources of each type they hold."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path


def summarize(assembly_dir: Path) -> str:
    """A table: one line per stack with its resource count, then the counts by type."""
    manifest = json.loads((assembly_dir / "manifest.json").read_text())
    lines = []
    for artifact_id, artifact in manifest["artifacts"].items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        template = json.loads((assembly_dir / artifact["properties"]["templateFile"]).read_text())
        resources = template.get("Resources", {})
        by_type = Counter(resource["Type"] for resource in resources.values() if resource["Type"] != "AWS::CDK::Metadata")
        lines.append(f"{artifact_id}: {sum(by_type.values())} resources")
        lines.extend(f"    {count:3d}  {resource_type}" for resource_type, count in sorted(by_type.items()))
    if not lines:
        raise SystemExit(f"error: no stacks in {assembly_dir}; run 'make synth' first")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and print the summary."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("assembly_dir", type=Path, nargs="?", default=Path("cdk.out"))
    args = parser.parse_args(argv)
    if not (args.assembly_dir / "manifest.json").is_file():
        raise SystemExit(f"error: {args.assembly_dir}/manifest.json not found; run 'make synth' first")
    print(summarize(args.assembly_dir))


if __name__ == "__main__":
    sys.exit(main())
