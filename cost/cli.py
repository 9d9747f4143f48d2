"""``python -m cost``: synthesize every environment in-process and print its monthly estimate.

make cost                     # text tables for dev, staging, prod
make cost FORMAT=markdown     # for a pull-request comment
make cost FORMAT=json         # for tools
make cost XRAY_PATH=opentelemetry-collector   # every environment as if on that X-Ray path (any XRayPath value:
                                              # xray-sdk-and-daemon, xray-sdk-and-collector, opentelemetry-collector,
                                              # opentelemetry-put-trace-segments)
python -m cost --env prod     # one environment (repeat --env for more)

Every environment is priced with its usage profile (``cost/usage.yaml``), or
with the file's ``default`` one (its estimate says so). Where the file has
neither, the environment is named on stderr and left out, and naming it with
``--env`` is an error of one sentence.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from cost.estimate import estimates_for
from cost.prices import DEFAULT_PRICES, load_prices
from cost.render import RENDERERS
from cost.usage import DEFAULT_USAGE, UsageError, load_usage, profile_for
from flask_aws_telemetry_cdk import XRayPath


def main(argv: list[str] | None = None) -> int:
    """Synthesize every environment in-process and print the estimates."""
    parser = argparse.ArgumentParser(
        prog="python -m cost", description="Estimate the monthly bill of every environment."
    )
    parser.add_argument("--format", choices=sorted(RENDERERS), default="text")
    parser.add_argument("--prices", type=Path, default=DEFAULT_PRICES)
    parser.add_argument("--usage", type=Path, default=DEFAULT_USAGE)
    parser.add_argument(
        "--xray-path",
        choices=[path.value for path in XRayPath],
        help="price every environment on this path to X-Ray (default: each environment's own)",
    )
    parser.add_argument("--env", action="append", dest="envs", help="an environment to price (default: every one)")
    args = parser.parse_args(argv)

    from flask_aws_telemetry_cdk import ConfigError
    from infra.environments import ENVIRONMENTS, load_environment

    prices = load_prices(args.prices)
    usage = load_usage(args.usage)
    names = args.envs or list(ENVIRONMENTS)
    for name in names:
        if name not in ENVIRONMENTS:
            print(
                f"error: unknown environment '{name}'; valid environments are {', '.join(ENVIRONMENTS)}",
                file=sys.stderr,
            )
            return 2
    priced = []
    for name in names:  # before any synthesis: a missing profile is one sentence, not a traceback after a minute
        try:
            profile_for(usage, name, args.usage)
        except UsageError as error:
            if args.envs:
                print(f"error: {error}", file=sys.stderr)
                return 2
            print(f"note: environment '{name}' has no usage profile in {args.usage}: not priced", file=sys.stderr)
            continue
        priced.append(name)
    from flask_aws_telemetry_cdk import synthesize  # loads the CDK: only once the arguments are known to be good

    environments = {}
    with tempfile.TemporaryDirectory() as outdir:
        for name in priced:
            try:
                config = load_environment(name)
            except ConfigError as error:
                print(f"error: {error}", file=sys.stderr)
                return 2
            if args.xray_path:
                config = config.with_changes(telemetry={"xray_path": XRayPath(args.xray_path)})
            synthesized = synthesize(config, Path(outdir) / name)
            environments[name] = list(synthesized.templates.values())
    estimates = estimates_for(environments, usage, prices)
    if args.xray_path:
        for result in estimates:
            result.environment = f"{result.environment} on {args.xray_path}"
    print(RENDERERS[args.format](estimates, prices), end="")
    return 0
