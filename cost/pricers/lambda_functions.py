"""Lambda functions: invocations and GB-seconds; the canary's runs from its schedule, every other function once a
deploy.
"""

from __future__ import annotations

from cost.inputs import Inputs
from cost.lines import MILLION, Line, money

LAMBDA_FUNCTION = "AWS::Lambda::Function"
TYPES = frozenset({LAMBDA_FUNCTION})
DEFAULT_MEMORY_MB = 128
CANARY_SECONDS_PER_RUN = 3.0
# The secrets preflight, its provider framework and CDK's custom-resource handlers run once per deploy, about one a day.
PER_DEPLOY_RUNS_PER_MONTH = 30
PER_DEPLOY_SECONDS_PER_RUN = 1.0


def lines(inputs: Inputs) -> list[Line]:
    """Requests and compute of every function."""
    p = inputs.prices
    out = []
    for logical_id, function in inputs.resources.sorted_of_type(LAMBDA_FUNCTION):
        memory_gb = function["Properties"].get("MemorySize", DEFAULT_MEMORY_MB) / 1024
        if logical_id in inputs.workload.canary_runs:
            runs, seconds = inputs.workload.canary_runs[logical_id], CANARY_SECONDS_PER_RUN
        else:
            runs, seconds = PER_DEPLOY_RUNS_PER_MONTH, PER_DEPLOY_SECONDS_PER_RUN
        cost = runs / MILLION * p["lambda_request_million"] + runs * seconds * memory_gb * p["lambda_gb_second"]
        out.append(
            Line(
                f"Lambda: {logical_id}",
                round(runs, 1),
                "invocations",
                p["lambda_request_million"] / MILLION,
                money(cost),
            )
        )
    return out
