"""make bench-cost's configurations: each one's environment and table row, read from its fields alone."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from bench.request_cost import (
    CAPTURED,
    CONFIGURATIONS,
    OFF,
    SAMPLED_BOTH,
    SAMPLED_OPENTELEMETRY_ONLY,
    UNSAMPLED,
    Configuration,
    SamplingRate,
    render,
)
from cruddur import contract
from infra.environments import load_environment

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "RESULTS.md"
COLLECTOR_URL, DAEMON_ADDRESS, DYNAMODB_URL, TABLE_NAME = "http://127.0.0.1:4318", "127.0.0.1:2000", "http://ddb", "t"
TRACERS = (contract.OTEL_ENABLED, contract.XRAY_ENABLED)
ANOMALY = (contract.SLOW_REQUEST_SECONDS, contract.ANOMALY_CAPTURE_PER_SECOND)
# Per configuration: the tracer switches, the fixed rate of every rule (None: no rules), the anomaly settings.
EXPECTED = [
    (OFF, (None, None), None, (None, None)),
    (UNSAMPLED, ("true", "true"), 0.0, (None, None)),
    (CAPTURED, ("true", "true"), 0.0, ("0.000001", "1000000000")),
    (SAMPLED_OPENTELEMETRY_ONLY, ("true", None), 1.0, (None, None)),
    (SAMPLED_BOTH, ("true", "true"), 1.0, (None, None)),
]


def _environ(configuration: Configuration) -> dict[str, str]:
    """The configuration's environment against fixed addresses."""
    return configuration.environ(COLLECTOR_URL, DAEMON_ADDRESS, DYNAMODB_URL, TABLE_NAME)


@pytest.mark.parametrize(
    ("configuration", "tracers", "fixed_rate", "anomaly"), EXPECTED, ids=[c.label for c, *_ in EXPECTED]
)
def test_each_configuration_sets_the_tracers_rules_and_anomaly_capture_its_fields_name(
    configuration, tracers, fixed_rate, anomaly
):
    """Sampled, OpenTelemetry only: OpenTelemetry on, no X-Ray SDK, prod's rules all at rate 1."""
    environ = _environ(configuration)
    assert tuple(environ.get(var.name) for var in TRACERS) == tracers
    assert tuple(environ.get(var.name) for var in ANOMALY) == anomaly
    if fixed_rate is None:
        assert contract.XRAY_SAMPLING_RULES.name not in environ
    else:
        assert {r["FixedRate"] for r in json.loads(environ[contract.XRAY_SAMPLING_RULES.name])} == {fixed_rate}
    assert (contract.OTEL_EXPORTER_OTLP_ENDPOINT.name in environ) == (tracers[0] == "true")
    assert (contract.XRAY_DAEMON_ADDRESS.name in environ) == (tracers[1] == "true")


def test_the_rules_are_prods_with_only_the_rate_changed():
    """Rate 0 also empties the reservoirs (nothing sampled however slow the requests); rate 1 keeps them."""
    prod = load_environment("prod").sampling_policy.api_rules()
    assert SamplingRate.NONE.rules() == [{**r, "FixedRate": 0.0, "ReservoirSize": 0} for r in prod]
    assert SamplingRate.EVERY.rules() == [{**r, "FixedRate": 1.0} for r in prod]


def test_every_configuration_names_the_service_and_its_own_table():
    """The service name, the environment and the data, from the contract, in every configuration."""
    for configuration in CONFIGURATIONS:
        environ = _environ(configuration)
        assert set(environ) <= contract.NAMES, configuration.label
        assert environ[contract.SERVICE_NAME.name] == "cruddur-backend-flask"
        assert environ[contract.DYNAMODB_TABLE_NAME.name] == TABLE_NAME
        assert environ[contract.AWS_ENDPOINT_URL_DYNAMODB.name] == DYNAMODB_URL


def test_sampling_without_a_tracer_is_refused():
    """A rate with no tracer to apply it would measure telemetry off under another label."""
    with pytest.raises(ValueError, match=r"^rules alone: sampling and every_request_an_anomaly need"):
        Configuration("rules alone", sampling=SamplingRate.EVERY)


def test_the_table_keeps_the_labels_and_columns_of_bench_results():
    """Rendered from typed configurations, the table has RESULTS.md's header, rows and column count."""
    requests = {c: (2000.0 + index, 6000.0 + index) for index, c in enumerate(CONFIGURATIONS)}
    instructions = {c: 6.5e6 + index for index, c in enumerate(CONFIGURATIONS)}
    args = argparse.Namespace(batches=1, batch=1, callgrind_requests=1)
    rendered = render(requests, instructions, {}, {}, args, 1.0)
    published = RESULTS.read_text().split("# Where a request's CPU goes", 1)[1].split("\n# ", 1)[0]

    def table(text: str) -> list[list[str]]:
        """The rows of the first table in ``text``, each split into its cells."""
        rows = text.split("\n\n| configuration", 1)[1].split("\n\n", 1)[0]
        return [[cell.strip() for cell in row.strip("|").split("|")] for row in ("| configuration" + rows).splitlines()]

    ours, theirs = table(rendered), table(published)
    assert ours[:2] == theirs[:2]
    assert [row[0] for row in ours[2:]] == [row[0] for row in theirs[2:]]
    assert {len(row) for row in ours} == {len(row) for row in theirs}
    assert ours[2][1:] == ["2000", "+0", "6000", "+0", "6.50 M", "+0.00 M"]  # telemetry off is the reference
