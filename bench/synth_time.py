"""How long `cdk synth` takes: dev, every environment, and a minimal one-service app, in one run.

    make bench-synth     # or: .venv/bin/python -m bench.synth_time --runs 3

Each command runs through the project's own CDK CLI (node_modules/.bin/cdk),
as CI runs it, alternating so drift affects all alike; the median of the
runs is reported with its ratio to the minimal app. Writes its section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.results import write_section

REPO_ROOT = Path(__file__).resolve().parents[1]

VENV_PYTHON = REPO_ROOT / ".venv" / "bin" / "python"
COMMANDS = {
    "minimal app (one ApplicationLoadBalancedFargateService)": ["--app", f"{VENV_PYTHON} bench/minimal_app/app.py"],
    "dev": ["-c", "env=dev"],
    "every environment (-c env=all)": ["-c", "env=all"],
}


def synth_seconds(arguments: list[str]) -> float:
    """Wall time of one `cdk synth --quiet` into a fresh output folder."""
    env = {
        **os.environ,
        "PATH": f"{REPO_ROOT / 'node_modules/.bin'}:{REPO_ROOT / '.venv/bin'}:{os.environ['PATH']}",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }
    with tempfile.TemporaryDirectory() as outdir:
        started = time.monotonic()
        subprocess.run(["cdk", "synth", "--quiet", "--no-notices", "-o", outdir, *arguments], cwd=REPO_ROOT, env=env,
                       check=True, capture_output=True, timeout=600)  # fmt: skip
        return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    """Time each command ``--runs`` times, alternating, and report medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args(argv)
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for run in range(args.runs):
        for name, arguments in COMMANDS.items():
            samples[name].append(synth_seconds(arguments))
            print(f"run {run + 1}: {name}: {samples[name][-1]:.1f}s", flush=True)
    baseline = statistics.median(samples[next(iter(COMMANDS))])
    lines = [
        "# Synth time",
        "",
        f"`python -m bench.synth_time --runs {args.runs}` (`make bench-synth`): "
        "`cdk synth --quiet` through the project's CLI, "
        "median of the runs, same machine as above.",
        "",
        "| what | seconds | ratio to the minimal app |",
        "| --- | ---: | ---: |",
    ]
    for name, values in samples.items():
        median = statistics.median(values)
        lines.append(f"| {name} | {median:.1f} | {median / baseline:.2f} |")
    text = "\n".join(lines) + "\n"
    write_section(args.output, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
