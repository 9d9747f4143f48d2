"""Print cdk-nag's findings from a cloud assembly as GitHub Actions annotations.

    python -m scripts.nag_annotations cdk.out

Reads ``validation-report.json`` (written by every synth) and prints one
``::error`` or ``::warning`` line per violating construct. Prints nothing
when there is no finding; always exits 0 (the synth step is the gate).
"""

import json
import sys
from pathlib import Path


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def annotations(report: dict) -> list[str]:
    """One workflow command per violating construct."""
    lines = []
    for plugin in report.get("pluginReports", []):
        for violation in plugin.get("violations", []):
            level = "error" if violation.get("severity", "error") == "error" else "warning"
            title = _escape(f"{violation['ruleName']} ({plugin.get('pluginName', 'cdk-nag')})")
            description = _escape(violation.get("description", ""))
            for construct in violation.get("violatingConstructs", []):
                path = _escape(construct.get("constructPath", "?"))
                lines.append(f"::{level} title={title}::{path}: {description}")
    return lines


def main(argv: list[str]) -> int:
    """Print the annotations of the assembly named in ``argv``."""
    assembly = Path(argv[0] if argv else "cdk.out")
    report_path = assembly / "validation-report.json"
    if not report_path.is_file():
        print(f"::warning title=cdk-nag::{report_path} not found; did synth run?")
        return 0
    for line in annotations(json.loads(report_path.read_text())):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
