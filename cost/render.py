"""The estimates as text tables, markdown (for a pull-request comment) or JSON (for tools)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from cost.estimate import Estimate
from cost.lines import Saving
from cost.prices import DEFAULT_PRICES


def saving_text(saving: Saving) -> str:
    """One saving as a sentence: the charge without what saves it and with it."""
    without, with_it = saving.without, saving.with_it
    return (
        f"saved by {saving.item}, not in the total: {without.item} {without.quantity:,} {without.unit} "
        f"({without.monthly_usd:,.2f}) without it, "
        f"{with_it.quantity:,} {with_it.unit} ({with_it.monthly_usd:,.2f}) with it"
    )


def render_text(estimates: list[Estimate], prices: dict[str, Any]) -> str:
    """Plain tables."""
    out = [f"Prices: {prices['region']}, {prices['currency']}, as of {prices['as_of']} ({DEFAULT_PRICES.name})", ""]
    for est in estimates:
        out.append(f"{est.environment} ({est.variant}): {est.total:,.2f} {prices['currency']}/month")
        for line in est.lines:
            out.append(f"  {line.monthly_usd:>9,.2f}  {line.item}: {line.quantity:,} {line.unit}")
        for item in est.not_priced:
            out.append(f"  {'?':>9}  not priced: {item}")
        for saving in est.savings:
            out.append(f"  {-saving.monthly_usd:>9,.2f}  {saving_text(saving)}")
        out.append("")
    return "\n".join(out)


def render_markdown(estimates: list[Estimate], prices: dict[str, Any]) -> str:
    """Markdown tables for a pull-request comment."""
    out = ["### Monthly cost estimate", "", "| environment | variant | USD / month |", "| --- | --- | ---: |"]
    out += [f"| {e.environment} | {e.variant} | {e.total:,.2f} |" for e in estimates]
    for est in estimates:
        out += [
            "",
            f"<details><summary>{est.environment} ({est.variant})</summary>",
            "",
            "| item | quantity | USD |",
            "| --- | ---: | ---: |",
        ]
        out += [f"| {line.item} | {line.quantity:,} {line.unit} | {line.monthly_usd:,.2f} |" for line in est.lines]
        out += [f"| not priced: {item} | | ? |" for item in est.not_priced]
        out += [f"| {saving_text(s)} | | {-s.monthly_usd:,.2f} |" for s in est.savings]
        out += ["", "</details>"]
    out += ["", f"Prices: {prices['region']}, as of {prices['as_of']}. Usage: cost/usage.yaml."]
    return "\n".join(out) + "\n"


def render_json(estimates: list[Estimate], prices: dict[str, Any]) -> str:
    """Everything, for tools."""
    document = {
        "prices": {k: prices[k] for k in ("region", "currency", "as_of", "source")},
        "estimates": [
            {
                "environment": e.environment,
                "variant": e.variant,
                "total_usd": str(e.total),
                "lines": [{**asdict(line), "monthly_usd": str(line.monthly_usd)} for line in e.lines],
                "not_priced": e.not_priced,
                "savings": [
                    {
                        "item": s.item,
                        "monthly_usd": str(s.monthly_usd),
                        "without": {**asdict(s.without), "monthly_usd": str(s.without.monthly_usd)},
                        "with": {**asdict(s.with_it), "monthly_usd": str(s.with_it.monthly_usd)},
                    }
                    for s in e.savings
                ],
            }
            for e in estimates
        ],
    }
    return json.dumps(document, indent=2) + "\n"


RENDERERS = {"text": render_text, "markdown": render_markdown, "json": render_json}
