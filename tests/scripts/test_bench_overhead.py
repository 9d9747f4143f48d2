"""make bench's configurations: each one's environment, command and table row, read from its fields alone."""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench import course_contract
from bench.overhead import (
    ALL_SAMPLED,
    BACKENDS_DOWN,
    COLLECTOR_SLOW,
    CONFIGURATIONS,
    COURSE_COMMAND,
    COURSE_SETUP,
    ENDPOINTS,
    FAKE_CREDENTIALS,
    PROD,
    PROD_OPENTELEMETRY_ONLY,
    TELEMETRY_OFF,
    Configuration,
    Instrumentation,
    environ_for,
    parse_configuration,
    render,
    sampling_rules_for,
)
from cruddur import contract
from infra.environments import load_environment
from testsupport.standins.otlp import OtlpReceiver
from testsupport.standins.rollbar import RollbarApi
from testsupport.standins.xray_daemon import XRayDaemon
from testsupport.standins.xray_sampling_api import XRaySamplingApi

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "RESULTS.md"
LOGS_URL = "http://127.0.0.1:4566"
DYNAMODB_URL = "http://127.0.0.1:4567"
TABLE_NAME = "bench-table"
PROD_WATCHTOWER = "true" if load_environment("prod").telemetry.watchtower else "false"
TRACERS = (contract.OTEL_ENABLED, contract.XRAY_ENABLED, contract.WATCHTOWER_ENABLED, contract.ROLLBAR_ENABLED)
# Per configuration, the value of each telemetry switch (None: not set, the contract's default, off).
SWITCHES = [
    (TELEMETRY_OFF, (None, None, None, None)),
    (COURSE_SETUP, (None, None, None, None)),  # bench/course_app.py switches the project's telemetry off itself
    (PROD, ("true", "true", PROD_WATCHTOWER, "true")),
    (PROD_OPENTELEMETRY_ONLY, ("true", "false", PROD_WATCHTOWER, "true")),
    (ALL_SAMPLED, ("true", "true", PROD_WATCHTOWER, "true")),
    (BACKENDS_DOWN, ("true", "true", PROD_WATCHTOWER, "true")),
    (COLLECTOR_SLOW, ("true", "true", PROD_WATCHTOWER, "true")),
]
PROJECT_CONFIGURATIONS = [c for c in CONFIGURATIONS if c.instrumentation is Instrumentation.PROJECT]


class Backends:
    """One configuration's stand-ins, as make bench gives them to ``environ_for``."""

    def __init__(self, stack: contextlib.ExitStack, configuration: Configuration) -> None:
        """Start a collector, a daemon, a sampling API serving the configuration's rules, and Rollbar."""
        self.collector = stack.enter_context(OtlpReceiver(decode=False))
        self.daemon = stack.enter_context(XRayDaemon(decode=False))
        self.sampling = stack.enter_context(XRaySamplingApi(sampling_rules_for(configuration)))
        self.rollbar = stack.enter_context(RollbarApi())

    def environ(self, configuration: Configuration) -> dict[str, str]:
        """The configuration's environment against these stand-ins."""
        return environ_for(
            configuration,
            self.collector,
            self.daemon,
            self.sampling,
            LOGS_URL,
            self.rollbar,
            dynamodb_url=DYNAMODB_URL,
            table_name=TABLE_NAME,
        )


@pytest.fixture(scope="module")
def backends() -> Iterator[Callable[[Configuration], Backends]]:
    """Each configuration's stand-ins, started once for the module."""
    with contextlib.ExitStack() as stack:
        started: dict[Configuration, Backends] = {}
        yield lambda configuration: started.setdefault(configuration, Backends(stack, configuration))


@pytest.mark.parametrize(("configuration", "switches"), SWITCHES, ids=[c.label for c, _ in SWITCHES])
def test_each_configuration_switches_on_the_telemetry_its_fields_name(backends, configuration, switches):
    """OpenTelemetry only: OpenTelemetry on and the X-Ray SDK off; watchtower always as prod has it."""
    environ = backends(configuration).environ(configuration)
    assert tuple(environ.get(var.name) for var in TRACERS) == switches


def test_telemetry_off_sets_only_the_service_its_data_and_credentials(backends):
    """No telemetry variable at all: every part of the project's telemetry keeps its default, off."""
    assert backends(TELEMETRY_OFF).environ(TELEMETRY_OFF) == {
        contract.SERVICE_NAME.name: "cruddur-backend-flask",
        contract.DEPLOYMENT_ENVIRONMENT.name: "bench",
        contract.LOG_LEVEL.name: "INFO",
        contract.DYNAMODB_TABLE_NAME.name: TABLE_NAME,
        contract.AWS_ENDPOINT_URL_DYNAMODB.name: DYNAMODB_URL,
        **FAKE_CREDENTIALS,
    }


def test_the_course_setup_sets_what_the_courses_docker_compose_set(backends):
    """The course's service name, its X-Ray naming pattern, the collector and the daemon; no sampler, no rules."""
    stand_ins = backends(COURSE_SETUP)
    environ = stand_ins.environ(COURSE_SETUP)
    assert environ[contract.SERVICE_NAME.name] == course_contract.SERVICE_NAME == "backend-flask"
    assert environ[course_contract.XRAY_URL_VARIABLE] == "*127.0.0.1*"
    assert environ[contract.OTEL_EXPORTER_OTLP_ENDPOINT.name] == stand_ins.collector.url
    assert environ[contract.XRAY_DAEMON_ADDRESS.name] == stand_ins.daemon.address
    assert contract.XRAY_SAMPLING_RULES.name not in environ and contract.XRAY_SAMPLING_ENDPOINT.name not in environ


@pytest.mark.parametrize(
    "configuration", [PROD, PROD_OPENTELEMETRY_ONLY, ALL_SAMPLED, COLLECTOR_SLOW], ids=lambda c: c.label
)
def test_an_exporting_configuration_points_every_exporter_at_its_own_stand_ins(backends, configuration):
    """Collector, daemon, sampling proxy, CloudWatch Logs and Rollbar: the stand-ins the run checks afterwards."""
    stand_ins = backends(configuration)
    environ = stand_ins.environ(configuration)
    assert environ[contract.OTEL_EXPORTER_OTLP_ENDPOINT.name] == stand_ins.collector.url
    assert environ[contract.XRAY_DAEMON_ADDRESS.name] == stand_ins.daemon.address
    assert environ[contract.XRAY_SAMPLING_ENDPOINT.name] == stand_ins.sampling.url
    assert environ[contract.AWS_ENDPOINT_URL_LOGS.name] == LOGS_URL
    assert environ[contract.ROLLBAR_ENDPOINT.name] == stand_ins.rollbar.endpoint


def test_backends_down_points_every_exporter_and_the_sampling_proxy_at_one_closed_port(backends):
    """The same port in all five, where nothing listens and which none of its stand-ins holds."""
    stand_ins = backends(BACKENDS_DOWN)
    environ = stand_ins.environ(BACKENDS_DOWN)
    exporters = (
        contract.OTEL_EXPORTER_OTLP_ENDPOINT,
        contract.XRAY_DAEMON_ADDRESS,
        contract.XRAY_SAMPLING_ENDPOINT,
        contract.AWS_ENDPOINT_URL_LOGS,
        contract.ROLLBAR_ENDPOINT,
    )
    ports = {int(re.search(r"127\.0\.0\.1:(\d+)", environ[var.name])[1]) for var in exporters}
    assert len(ports) == 1
    port = ports.pop()
    assert port not in {stand_ins.collector.port, stand_ins.sampling.port, stand_ins.rollbar.port}
    assert environ[contract.XRAY_DAEMON_ADDRESS.name] != stand_ins.daemon.address
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_only_all_sampled_serves_and_carries_the_catch_all_at_rate_1(backends):
    """Every project configuration carries the rules its sampling proxy serves: prod's, bar all sampled's catch-all."""
    prod_rules = load_environment("prod").sampling_policy.api_rules()
    for configuration in PROJECT_CONFIGURATIONS:
        stand_ins = backends(configuration)
        carried = json.loads(stand_ins.environ(configuration)[contract.XRAY_SAMPLING_RULES.name])
        assert carried == stand_ins.sampling.rules
        if configuration is ALL_SAMPLED:
            assert [r["FixedRate"] for r in carried if r["URLPath"] == "*"] == [1.0]
            assert [r for r in carried if r["URLPath"] != "*"] == [r for r in prod_rules if r["URLPath"] != "*"]
        else:
            assert carried == prod_rules


def test_collector_slow_is_prod_with_a_slow_collector(backends):
    """Its environment is prod's; only its collector stand-in answers late (make bench reads the delay's field)."""
    stand_ins = backends(PROD)
    assert stand_ins.environ(COLLECTOR_SLOW) == stand_ins.environ(PROD)
    assert COLLECTOR_SLOW.collector_delay_seconds > 0 and all(
        c.collector_delay_seconds == 0 for c in CONFIGURATIONS if c is not COLLECTOR_SLOW
    )


def test_every_variable_set_is_the_contracts_the_courses_or_the_aws_sdks_credentials(backends):
    """No name of the service's environment is spelled in the benchmark: each comes from where it is defined."""
    allowed = contract.NAMES | {course_contract.XRAY_URL_VARIABLE} | set(FAKE_CREDENTIALS)
    for configuration in CONFIGURATIONS:
        assert set(backends(configuration).environ(configuration)) <= allowed, configuration.label


def test_the_course_setup_alone_runs_the_course_app_and_the_exporters_are_checked_by_their_fields():
    """Command, expected deliveries and references follow the fields; the labels are the table's and nothing else."""
    assert [c.command for c in CONFIGURATIONS] == [
        COURSE_COMMAND if c is COURSE_SETUP else contract.APP_COMMAND for c in CONFIGURATIONS
    ]
    assert [c.label for c in CONFIGURATIONS if not c.exports] == ["telemetry off", "prod, backends down"]
    assert [c.label for c in CONFIGURATIONS if c.exports and not c.sends_segments] == ["prod, OpenTelemetry only"]
    assert [(c.label, c.reference) for c in CONFIGURATIONS if c.reference] == [
        ("telemetry off", "off"),
        ("course setup", "course"),
    ]


def test_a_variation_of_the_projects_telemetry_on_another_instrumentation_is_refused():
    """Backends down on the course setup would silently measure the course with its backends up."""
    with pytest.raises(ValueError, match=r"^course, down: .*backends_down.* instrumentation is course$"):
        Configuration("course, down", Instrumentation.COURSE, backends_down=True)


def test_a_configuration_is_chosen_by_its_table_label():
    """--configuration takes the label printed in the table; an unknown one is refused with the labels allowed."""
    assert [parse_configuration(c.label) for c in CONFIGURATIONS] == list(CONFIGURATIONS)
    with pytest.raises(argparse.ArgumentTypeError, match=r"no configuration 'prod, slow'; allowed: 'telemetry off'"):
        parse_configuration("prod, slow")


def _table(text: str, endpoint: str) -> list[list[str]]:
    """The rows of the table under ``## endpoint`` in ``text``, each split into its cells."""
    section = text.split(f"## {endpoint}\n", 1)[1].split("\n## ", 1)[0]
    return [
        [cell.strip() for cell in line.strip("|").split("|")] for line in section.splitlines() if line.startswith("|")
    ]


def test_the_tables_keep_the_labels_and_columns_of_bench_results():
    """Rendered from typed configurations, each endpoint's table has RESULTS.md's header, rows and column count."""
    figures = {"rps": 400.0, "p50_ms": 18.0, "p99_ms": 35.0, "non_2xx": 0.0}
    samples = {c: {e: [figures, figures] for e in ENDPOINTS} for c in CONFIGURATIONS}
    rendered = render(samples, argparse.Namespace(rounds=2, seconds=3, connections=8), 60.0)
    published = RESULTS.read_text().split("# Telemetry overhead", 1)[1].split("\n# ", 1)[0]
    for endpoint in ENDPOINTS:
        ours, theirs = _table(rendered, endpoint), _table(published, endpoint)
        assert ours[:2] == theirs[:2]  # header and alignment row
        assert [row[0] for row in ours[2:]] == [row[0] for row in theirs[2:]]
        assert {len(row) for row in ours} == {len(row) for row in theirs}
