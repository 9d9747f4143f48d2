"""Telemetry overhead: throughput and latency of the service under gunicorn, per telemetry configuration.

    make bench            # or: .venv/bin/python -m bench.overhead --rounds 12 --seconds 3

Each configuration runs the service as the task does (gunicorn, 2 workers)
with stand-ins on loopback for the collector (OTLP/HTTP), the X-Ray daemon
(UDP), CloudWatch Logs and Rollbar, so exporting is real work, and its data
in DynamoDB (moto's server, a table per service instance, on the load
generator's CPU like every stand-in). Load comes
from wrk in a separate process. All configurations run at once and short
loads alternate between them for many rounds, so that the drift of a shared
machine falls on all alike; the table reports medians of the rounds and each
ratio as the median of the same-round ratios to a reference: telemetry off,
and the course setup (the course's week-2 instrumentation of the same app,
bench/course_app.py). Each exporting configuration has its own collector and
daemon stand-ins; the run fails if any of them received nothing. Writes its
section of bench/RESULTS.md. This is a benchmark: nothing here is a test.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import enum
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from botocore.credentials import EnvProvider

from bench import course_contract
from bench.dynamodb_replay import ReplayProcess
from bench.results import write_section
from cruddur import contract
from infra.environments import load_environment
from testsupport.gunicorn import start_gunicorn, stop
from testsupport.standins.aws import CloudWatchLogsApi, MotoServer, create_service_table
from testsupport.standins.otlp import OtlpReceiver
from testsupport.standins.rollbar import RollbarApi
from testsupport.standins.xray_daemon import XRayDaemon
from testsupport.standins.xray_sampling_api import XRaySamplingApi
from testsupport.waiting import closed_port, wait_until

REPO_ROOT = Path(__file__).resolve().parents[1]

ENDPOINTS = {
    "GET /api/activities/home": [],
    "POST /api/activities": ["-s", str(REPO_ROOT / "bench" / "post_activity.lua")],
}
# The course's setup is the project's app behind another factory, imported from the repository root.
COURSE_COMMAND = (*contract.APP_COMMAND[:-1], "--pythonpath", str(REPO_ROOT), "bench.course_app:create_course_app()")
SLOW_COLLECTOR_SECONDS = 1.0
LOAD_CPU, SERVICE_CPU = 0, 1
# The AWS SDK's own credential variables (the task's role supplies credentials in ECS, so the contract has none):
# moto and the replay endpoint accept any.
FAKE_CREDENTIALS = {EnvProvider.ACCESS_KEY: "bench", EnvProvider.SECRET_KEY: "bench"}


class Instrumentation(enum.Enum):
    """What instruments the service in a configuration."""

    NONE = "none"  # the project's telemetry off, and nothing else
    COURSE = "course"  # the course's week-2 instrumentation of the same app (bench/course_app.py)
    PROJECT = "project"  # the project's telemetry, as prod runs it


@dataclass(frozen=True)
class Configuration:
    """One telemetry configuration of the benchmark: its row in the table, its instrumentation and its backends.

    ``xray_sdk``, ``every_request_sampled``, ``backends_down`` and
    ``collector_delay_seconds`` vary the project's telemetry; ``reference``
    is the short name of a configuration every other is compared with
    (always run), ``None`` for the others.
    """

    label: str
    instrumentation: Instrumentation
    xray_sdk: bool = True
    every_request_sampled: bool = False
    backends_down: bool = False
    collector_delay_seconds: float = 0.0
    reference: str | None = None

    def __post_init__(self) -> None:
        """Reject variations of the project's telemetry on a configuration that does not run it."""
        varied = not self.xray_sdk or self.every_request_sampled or self.backends_down or self.collector_delay_seconds
        if varied and self.instrumentation is not Instrumentation.PROJECT:
            raise ValueError(
                f"{self.label}: xray_sdk, every_request_sampled, backends_down and collector_delay_seconds vary "
                f"the project's telemetry, and instrumentation is {self.instrumentation.value}"
            )

    @property
    def command(self) -> tuple[str, ...]:
        """The gunicorn command that starts this configuration's service."""
        return COURSE_COMMAND if self.instrumentation is Instrumentation.COURSE else contract.APP_COMMAND

    @property
    def exports(self) -> bool:
        """True when its stand-ins must receive something: it is instrumented and its backends are up."""
        return self.instrumentation is not Instrumentation.NONE and not self.backends_down

    @property
    def sends_segments(self) -> bool:
        """True when an X-Ray SDK records segments: the course's, or the project's off the OpenTelemetry-only path."""
        return self.instrumentation is Instrumentation.COURSE or (
            self.instrumentation is Instrumentation.PROJECT and self.xray_sdk
        )


TELEMETRY_OFF = Configuration("telemetry off", Instrumentation.NONE, reference="off")
COURSE_SETUP = Configuration("course setup", Instrumentation.COURSE, reference="course")
PROD = Configuration("prod", Instrumentation.PROJECT)
# The OpenTelemetry-only X-Ray path: no X-Ray SDK, so no segments reach a daemon.
PROD_OPENTELEMETRY_ONLY = Configuration("prod, OpenTelemetry only", Instrumentation.PROJECT, xray_sdk=False)
ALL_SAMPLED = Configuration("all sampled", Instrumentation.PROJECT, every_request_sampled=True)
# Every exporter and the sampling proxy point at a closed port: its stand-ins expect nothing.
BACKENDS_DOWN = Configuration("prod, backends down", Instrumentation.PROJECT, backends_down=True)
COLLECTOR_SLOW = Configuration(
    "prod, collector slow", Instrumentation.PROJECT, collector_delay_seconds=SLOW_COLLECTOR_SECONDS
)
CONFIGURATIONS = (
    TELEMETRY_OFF,
    COURSE_SETUP,
    PROD,
    PROD_OPENTELEMETRY_ONLY,
    ALL_SAMPLED,
    BACKENDS_DOWN,
    COLLECTOR_SLOW,
)


def parse_configuration(label: str) -> Configuration:
    """The configuration whose table label is ``label`` (``--configuration``)."""
    for configuration in CONFIGURATIONS:
        if configuration.label == label:
            return configuration
    allowed = ", ".join(repr(c.label) for c in CONFIGURATIONS)
    raise argparse.ArgumentTypeError(f"no configuration {label!r}; allowed: {allowed}")


def sampling_rules_for(configuration: Configuration) -> list[dict]:
    """The X-Ray rules a configuration's sampling proxy serves: prod's, their catch-all at rate 1 if all are sampled."""
    rules = load_environment("prod").sampling_policy.api_rules()
    if configuration.every_request_sampled:
        return [{**rule, "FixedRate": 1.0} if rule["URLPath"] == "*" else rule for rule in rules]
    return rules


def _flag(on: bool) -> str:
    """A contract boolean's value."""
    return "true" if on else "false"


def environ_for(
    configuration: Configuration,
    collector: OtlpReceiver,
    daemon: XRayDaemon,
    sampling: XRaySamplingApi | None,
    logs_url: str,
    rollbar: RollbarApi,
    *,
    dynamodb_url: str,
    table_name: str,
) -> dict[str, str]:
    """The contract's variables for one configuration (the course setup: the variables its docker-compose set).

    Every configuration keeps its data in its own ``table_name``.
    """
    base = {
        contract.SERVICE_NAME.name: "cruddur-backend-flask",
        contract.DEPLOYMENT_ENVIRONMENT.name: "bench",
        contract.LOG_LEVEL.name: "INFO",
        contract.DYNAMODB_TABLE_NAME.name: table_name,
        contract.AWS_ENDPOINT_URL_DYNAMODB.name: dynamodb_url,
        **FAKE_CREDENTIALS,
    }
    if configuration.instrumentation is Instrumentation.NONE:
        return base
    if configuration.instrumentation is Instrumentation.COURSE:
        # No sampler variable: the SDK's default sampler, as in the course.
        return {
            **base,
            contract.SERVICE_NAME.name: course_contract.SERVICE_NAME,
            contract.OTEL_EXPORTER_OTLP_ENDPOINT.name: collector.url,
            contract.XRAY_DAEMON_ADDRESS.name: daemon.address,
            course_contract.XRAY_URL_VARIABLE: "*127.0.0.1*",
        }
    if sampling is None:
        raise ValueError(f"{configuration.label}: the project's telemetry needs a sampling proxy")
    collector_url, daemon_address, sampling_url = collector.url, daemon.address, sampling.url
    rollbar_endpoint = rollbar.endpoint
    if configuration.backends_down:
        closed = f"127.0.0.1:{closed_port()}"
        collector_url, daemon_address, sampling_url = f"http://{closed}", closed, f"http://{closed}"
        logs_url, rollbar_endpoint = f"http://{closed}", f"http://{closed}/api/1/"
    return {
        **base,
        contract.OTEL_ENABLED.name: "true",
        contract.OTEL_EXPORTER_OTLP_ENDPOINT.name: collector_url,
        # The rules as the task carries them, and a sampling proxy serving them with X-Ray's targets.
        contract.XRAY_SAMPLING_RULES.name: json.dumps(sampling.rules),
        contract.XRAY_SAMPLING_ENDPOINT.name: sampling_url,
        contract.XRAY_ENABLED.name: _flag(configuration.xray_sdk),
        contract.XRAY_DAEMON_ADDRESS.name: daemon_address,
        # as prod runs it: off there, stdout and the awslogs driver carry each line once
        contract.WATCHTOWER_ENABLED.name: _flag(load_environment("prod").telemetry.watchtower),
        contract.WATCHTOWER_LOG_GROUP.name: "/bench/watchtower",
        contract.AWS_ENDPOINT_URL_LOGS.name: logs_url,
        contract.AWS_REGION.name: "us-east-1",
        contract.ROLLBAR_ENABLED.name: "true",
        contract.ROLLBAR_ACCESS_TOKEN.name: "bench-token",
        contract.ROLLBAR_ENDPOINT.name: rollbar_endpoint,
    }


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _search(pattern: str, output: str, flags: int = 0) -> re.Match[str]:
    """The first match of ``pattern`` in wrk's ``output``; wrk output without it is an error naming the pattern."""
    match = re.search(pattern, output, flags)
    if match is None:
        raise ValueError(f"wrk output has no line matching {pattern!r}:\n{output}")
    return match


def parse_wrk(output: str) -> dict[str, float]:
    """Requests per second and the p50 and p99 latency (ms) from wrk --latency output."""
    rps = float(_search(r"Requests/sec:\s+([\d.]+)", output)[1])
    latency = {}
    for percentile in ("50", "99"):
        match = _search(rf"^\s+{percentile}(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        latency[percentile] = float(match[1]) * _UNITS[match[2]]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": rps,
        "p50_ms": latency["50"],
        "p99_ms": latency["99"],
        "non_2xx": float(errors[1]) if errors else 0.0,
    }


def run_wrk(url: str, extra: list[str], seconds: int, connections: int) -> dict[str, float]:
    """One wrk run against ``url``."""
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--latency", *extra, url]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=True)
    return parse_wrk(result.stdout)


class RunningService:
    """The service under gunicorn in one configuration, on its own port, pinned to SERVICE_CPU."""

    def __init__(self, configuration: Configuration, environ: dict[str, str], log_path: Path) -> None:
        """Start the configuration's command; ``log_path`` takes stdout and stderr, as the awslogs driver would."""
        self.configuration = configuration
        self.port = closed_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._output = open(log_path, "a")
        # The service (master and workers inherit it at fork) runs on SERVICE_CPU; this process,
        # the stand-ins and wrk stay on LOAD_CPU, so the load generator never competes with the service.
        os.sched_setaffinity(0, {SERVICE_CPU})
        try:
            self.process = start_gunicorn(environ, self.port, configuration.command, output=self._output)
        finally:
            os.sched_setaffinity(0, {LOAD_CPU})

    def healthy(self) -> bool:
        """True once the health check answers 200."""
        try:
            with urllib.request.urlopen(f"{self.base}/api/health-check", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    def load(self, endpoint: str, seconds: int, connections: int) -> dict[str, float]:
        """One wrk run against ``endpoint`` ("METHOD /path")."""
        path = endpoint.split(" ", 1)[1]
        return run_wrk(f"{self.base}{path}", ENDPOINTS.get(endpoint, []), seconds, connections)

    def stop(self) -> None:
        """SIGTERM, as ECS stops it."""
        stop(self.process)
        self._output.close()


def machine() -> str:
    """A one-line description of this machine."""
    model = "unknown CPU"
    with contextlib.suppress(OSError, StopIteration), open("/proc/cpuinfo") as cpuinfo:
        model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    python, system = platform.python_version(), f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB, Python {python}, {system}"


def main(argv: list[str] | None = None) -> int:
    """Run every configuration for ``--rounds`` alternating rounds and write RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "bench" / "RESULTS.md")
    parser.add_argument(
        "--configuration",
        action="append",
        type=parse_configuration,
        metavar="LABEL",
        help="run only the configuration of this table label (repeatable); the references, telemetry off and the "
        "course setup, always run",
    )
    args = parser.parse_args(argv)
    chosen = set(args.configuration or CONFIGURATIONS)
    configurations = tuple(c for c in CONFIGURATIONS if c.reference is not None or c in chosen)
    if shutil.which("wrk") is None:
        print("error: wrk is not installed; install it with: apt-get install -y wrk", file=sys.stderr)
        return 2
    if len(os.sched_getaffinity(0)) < 2:
        print("error: the benchmark needs two CPUs: one for the service, one for the load", file=sys.stderr)
        return 2
    os.sched_setaffinity(0, {LOAD_CPU})

    samples: dict[Configuration, dict[str, list[dict[str, float]]]] = {
        c: {e: [] for e in ENDPOINTS} for c in configurations
    }
    started = time.monotonic()
    # The stand-ins accept without decoding: in production the collector and the
    # daemon have CPU of their own, here they would take it from the service.
    with contextlib.ExitStack() as stack:
        scratch = stack.enter_context(tempfile.TemporaryDirectory())
        rollbar, logs = stack.enter_context(RollbarApi()), stack.enter_context(CloudWatchLogsApi())
        # Each configuration has its own collector and daemon, so what each one delivered can be checked.
        standins = {
            configuration: (
                stack.enter_context(OtlpReceiver(decode=False)),
                stack.enter_context(XRayDaemon(decode=False)),
                stack.enter_context(XRaySamplingApi(sampling_rules_for(configuration))),
            )
            for configuration in configurations
        }
        for configuration, (collector, _, _) in standins.items():
            collector.delay_seconds = configuration.collector_delay_seconds
        # started from this process, so both run on LOAD_CPU; the services talk to the replay endpoint
        dynamodb = stack.enter_context(MotoServer(Path(scratch) / "dynamodb.log"))
        replay = stack.enter_context(ReplayProcess(dynamodb.url))
        # Every configuration runs at once (idle ones cost nothing), so that short runs can
        # alternate many times: the machine's drift then falls on all of them alike. Each
        # endpoint has its own instance: the POSTs add activities, which the home page would
        # otherwise return (and copy) in ever growing numbers.
        services: dict[tuple[Configuration, str], RunningService] = {}
        try:
            for configuration in configurations:
                for endpoint in ENDPOINTS:
                    table_name = create_service_table(dynamodb.url)
                    environ = environ_for(
                        configuration,
                        *standins[configuration],
                        logs.url,
                        rollbar,
                        dynamodb_url=replay.url,
                        table_name=table_name,
                    )
                    slug = f"{configuration.label}-{endpoint}".replace(" ", "-").replace(",", "").replace("/", "_")
                    log_path = Path(scratch) / f"{slug}.log"
                    services[configuration, endpoint] = RunningService(configuration, environ, log_path)
            for service in services.values():
                if not wait_until(service.healthy, timeout=60):
                    raise RuntimeError(f"{service.configuration.label}: the service did not start")
                service.load("GET /api/health-check", 1, args.connections)  # warm-up
            # Each instance's requests once through moto (seeded tables, its reads and writes), then replayed.
            for (_, endpoint), service in services.items():
                service.load(endpoint, 1, 1)
            print(f"DynamoDB answers recorded: {replay.freeze()}", flush=True)
            for round_number in range(args.rounds):
                print(f"round {round_number + 1}/{args.rounds}", flush=True)
                for (configuration, endpoint), service in services.items():
                    samples[configuration][endpoint].append(service.load(endpoint, args.seconds, args.connections))
        finally:
            for service in services.values():
                service.stop()
        missing = undelivered(standins)
        if missing:
            raise RuntimeError("nothing was exported by " + "; ".join(missing))
    elapsed = time.monotonic() - started

    report = render(samples, args, elapsed)
    write_section(args.output, report)
    print(report)
    return 0


def undelivered(
    standins: dict[Configuration, tuple[OtlpReceiver, XRayDaemon, XRaySamplingApi | None]], timeout: float = 10.0
) -> list[str]:
    """Each exporting configuration whose collector received no OTLP request, or whose daemon no segment if expected."""
    missing = []
    for configuration, (collector, daemon, _) in standins.items():
        if not configuration.exports:
            continue
        segments = configuration.sends_segments

        def delivered(c: OtlpReceiver = collector, d: XRayDaemon = daemon, s: bool = segments) -> bool:
            """True once the collector has a request and the daemon a frame (when segments are expected)."""
            return c.requests > 0 and (d.frames > 0 or not s)

        if not wait_until(delivered, timeout=timeout):
            received = (("spans", collector.requests), ("X-Ray segments", daemon.frames if segments else 1))
            nothing = [what for what, count in received if not count]
            missing.append(f"{configuration.label}: no {' and no '.join(nothing)} reached its stand-ins")
    return missing


def _median(results: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in results)


def _paired_ratio(results: list[dict[str, float]], reference: list[dict[str, float]], key: str) -> float:
    """The median over rounds of ``results``' figure divided by ``reference``'s in the same round."""
    return statistics.median(r[key] / o[key] for r, o in zip(results, reference, strict=True))


def render(
    samples: dict[Configuration, dict[str, list[dict[str, float]]]], args: argparse.Namespace, elapsed: float
) -> str:
    """RESULTS.md: the command, the machine, and a table per endpoint."""
    lines = [
        "# Telemetry overhead",
        "",
        f"Measured {dt.date.today().isoformat()} with `make bench` "
        f"(`python -m bench.overhead --rounds {args.rounds} --seconds {args.seconds} "
        f"--connections {args.connections}`), "
        f"{elapsed / 60:.1f} minutes.",
        "",
        f"Machine: {machine()}. gunicorn with 2 workers (gthread, 4 threads each) as in the task definition, "
        f"pinned to CPU {SERVICE_CPU}; wrk (1 thread) and the stand-ins pinned to CPU {LOAD_CPU}, so the load never "
        "competes with the service; stand-ins on loopback for the collector (OTLP/HTTP, accepted "
        "without decoding) and the daemon (UDP), one of each per configuration, CloudWatch Logs "
        "(CreateLogStream/PutLogEvents) and Rollbar. "
        "Every configuration's service runs throughout; each round loads each of them in turn for "
        f"{args.seconds} s per endpoint. Figures are medians of the rounds; each ratio is the median of the "
        "rounds' ratios to the reference (*off*: telemetry off; *course*: the course setup) in the same round "
        "(runs seconds apart, so the drift of a shared machine cancels out).",
        "",
        "Configurations: *course setup* is the same app with the project's telemetry off, instrumented as the "
        "course's week-2 backend is (`bench/course_app.py`: FlaskInstrumentor, RequestsInstrumentor, "
        "BatchSpanProcessor(OTLPSpanExporter()) with the SDK's default sampler, so every request is traced; "
        "xray_recorder with XRayMiddleware and the X-Ray SDK's default sampler, which without a sampling-rules "
        "API keeps its local rule: 1 request a second and 5 % of the others); *prod* is prod's sampling rules "
        "(served by a sampling API stand-in with X-Ray's targets: a reservoir of "
        f"{load_environment('prod').sampling_policy.catch_all()[0]} a second per worker, then "
        f"{load_environment('prod').sampling_policy.catch_all()[1]:g} of the rest) with OpenTelemetry, the X-Ray SDK "
        "and Rollbar on, and watchtower as prod has it "
        f"({'on' if load_environment('prod').telemetry.watchtower else 'off: stdout carries each log line once'}); "
        "*prod, OpenTelemetry only* is the same on the OpenTelemetry-only X-Ray path "
        "(no X-Ray SDK: the collector would carry the spans to X-Ray); "
        "*all sampled* has every request but health checks sampled; *backends down* points every exporter and the "
        "sampling proxy at a closed port; "
        f"*collector slow* answers OTLP after {SLOW_COLLECTOR_SECONDS:g} s.",
        "",
    ]
    figures = ("rps", "p50_ms", "p99_ms")
    references = [(c, c.reference) for c in samples if c.reference is not None]
    ratio_columns = [f"{figure} vs {short}" for _, short in references for figure in ("req/s", "p50", "p99")]
    for endpoint in ENDPOINTS:
        lines += [
            f"## {endpoint}",
            "",
            "| " + " | ".join(["configuration", "req/s", "p50 ms", "p99 ms", *ratio_columns, "non-2xx"]) + " |",
            "| --- |" + " ---: |" * (len(ratio_columns) + 4),
        ]
        for configuration, by_endpoint in samples.items():
            results = by_endpoint[endpoint]
            cells = [
                configuration.label,
                f"{_median(results, 'rps'):,.0f}",
                *(f"{_median(results, k):.2f}" for k in figures[1:]),
            ]
            for reference, _ in references:
                cells += (f"{_paired_ratio(results, samples[reference][endpoint], k):.2f}" for k in figures)
            cells.append(f"{sum(r['non_2xx'] for r in results):.0f}")
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
