"""``python -m cost``: synthesize every environment in-process and print its monthly estimate.

    make cost                     # text tables for dev, staging, prod
    make cost FORMAT=markdown     # for a pull-request comment
    make cost FORMAT=json         # for tools
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from cost.estimate import estimates_for
from cost.prices import DEFAULT_PRICES, load_prices
from cost.render import RENDERERS
from cost.usage import DEFAULT_USAGE, load_usage


def main(argv: list[str] | None = None) -> int:
    """Synthesize every environment in-process and print the estimates."""
    parser = argparse.ArgumentParser(prog="python -m cost", description="Estimate the monthly bill of every environment.")
    parser.add_argument("--format", choices=sorted(RENDERERS), default="text")
    parser.add_argument("--prices", type=Path, default=DEFAULT_PRICES)
    parser.add_argument("--usage", type=Path, default=DEFAULT_USAGE)
    args = parser.parse_args(argv)

    from stacks.assembly import synthesize
    from stacks.environments import ENVIRONMENTS, load_environment

    prices = load_prices(args.prices)
    usage = load_usage(args.usage)
    environments = {}
    with tempfile.TemporaryDirectory() as outdir:
        for name in ENVIRONMENTS:
            synthesized = synthesize(load_environment(name), Path(outdir) / name)
            environments[name] = list(synthesized.templates.values())
    print(RENDERERS[args.format](estimates_for(environments, usage, prices), prices), end="")
    return 0
