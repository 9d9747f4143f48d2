"""Lambda: the canary runs as often as its schedule says, every other function once a deploy (30 a month)."""

from __future__ import annotations

import pytest

from cost.pricers import lambda_functions
from cost.templates import Resources
from flask_aws_telemetry_cdk.resource_roles import TRACE_CANARY
from tests.cost.fragments import by_item, canary, inputs_of

PREFLIGHT = {"Preflight": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 128}}}


def test_the_canary_runs_on_its_schedule_and_the_others_once_a_deploy():
    """Every 5 minutes for 730 h is 8,760 runs of 3 s at 128 MB; the preflight 30 runs of 1 s."""
    assert by_item(lambda_functions.lines(inputs_of({**canary(), **PREFLIGHT}))) == {
        "Lambda: Canary": (8760.0, "0.06"),  # 8,760 * 0.20 / 1e6 + 8,760 * 3 s * 0.125 GB * 0.0000166667
        "Lambda: Preflight": (30, "0.00"),
    }


def test_a_function_the_stack_did_not_mark_is_not_taken_for_the_canary():
    """The same function and schedule without the mark: priced once a deploy."""
    assert by_item(lambda_functions.lines(inputs_of(canary(marked=False)))) == {"Lambda: Canary": (30, "0.00")}


def test_a_schedule_the_tool_cannot_read_is_refused():
    """A rate in hours is an error naming it, not a guess."""
    with pytest.raises(ValueError, match=r"schedule not understood: rate\(1 hour\)"):
        inputs_of(canary("rate(1 hour)"))


def test_prod_marks_its_canary_function_and_nothing_else(prod):
    """The construct sets the mark: exactly the trace canary's function carries it."""
    marked = Resources(prod.templates.values()).with_role(TRACE_CANARY)
    assert [(logical_id.startswith("TraceCanaryFunction"), r["Type"]) for logical_id, r in marked] == [
        (True, "AWS::Lambda::Function")
    ]
