"""Where a request's CPU goes: the service's own work, an unsampled request's telemetry, a sampled one's, by part.

    make bench-cost       # or: .venv/bin/python -m bench.request_cost

In-process and single-threaded, so the figures are CPU microseconds per
request without gunicorn, the network or the load generator: the app is
called as a WSGI application, and each sampled batch is exported (OTLP
encoding included) before its time is taken; the collector and daemon
stand-ins receive in a child process, and the data is in DynamoDB (moto's
server, a process of its own), outside the figures. Configurations
are measured in short alternating batches and the minimum per configuration
is kept, which on a shared machine is the figure least disturbed by other
tenants. Then each configuration runs again under valgrind's callgrind
(``--callgrind-requests``, 0 to skip; valgrind must be installed): machine
instructions per request, a count other tenants cannot move. Then the parts
of a sampled request are measured alone. Writes its section of
bench/RESULTS.md (``--output``). A benchmark: nothing here is a test.

The configurations: telemetry off; prod's rules at a rate of 0 with both
tracers (an unsampled request with no anomaly); the same with every request
an anomaly and no capture limit (each request captured and exported); every
request sampled, with OpenTelemetry only and with both tracers.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import enum
import io
import json
import logging
import os
import pstats
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.credentials import EnvProvider
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder

from bench.results import write_section
from cruddur import contract, extensions
from cruddur.app import create_app
from cruddur.seed import seed_at_start
from infra.environments import load_environment
from testsupport.standins.aws import MotoServer, create_service_table

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

REPO_ROOT = Path(__file__).resolve().parents[1]

PATH = "/api/activities/home"
WARM_UP_REQUESTS = 100
# Under callgrind (about 50 times slower): requests counted per configuration, after a warm-up of their own.
CALLGRIND_REQUESTS = 50
CALLGRIND_WARM_UP_REQUESTS = 20


class SamplingRate(enum.Enum):
    """The fixed rate prod's rules carry in a configuration: the rule matching is the same work either way."""

    # No reservoir either, so that nothing is sampled however slowly the requests run (callgrind runs them
    # about 50 times slower, and a reservoir of one a second would then sample a share of them).
    NONE = "none"
    EVERY = "every"

    def rules(self) -> list[dict[str, Any]]:
        """The prod environment's rules as the task carries them, every one at this rate."""
        rules = load_environment("prod").sampling_policy.api_rules()
        if self is SamplingRate.NONE:
            return [{**rule, "FixedRate": 0.0, "ReservoirSize": 0} for rule in rules]
        return [{**rule, "FixedRate": 1.0} for rule in rules]


@dataclass(frozen=True)
class Configuration:
    """One configuration of the in-process measure: its row in the table, its tracers and what they record."""

    label: str
    opentelemetry: bool = False
    xray_sdk: bool = False
    sampling: SamplingRate | None = None
    every_request_an_anomaly: bool = False

    def __post_init__(self) -> None:
        """Reject sampling or anomaly capture without a tracer to do it."""
        if (self.sampling is not None or self.every_request_an_anomaly) and not (self.opentelemetry or self.xray_sdk):
            raise ValueError(f"{self.label}: sampling and every_request_an_anomaly need opentelemetry or xray_sdk on")

    def environ(self, collector_url: str, daemon_address: str, dynamodb_url: str, table_name: str) -> dict[str, str]:
        """The contract's variables for this configuration, its data in ``table_name``."""
        environ = {
            contract.SERVICE_NAME.name: "cruddur-backend-flask",
            contract.DEPLOYMENT_ENVIRONMENT.name: "bench",
            contract.DYNAMODB_TABLE_NAME.name: table_name,
            contract.AWS_ENDPOINT_URL_DYNAMODB.name: dynamodb_url,
        }
        if self.opentelemetry:
            environ[contract.OTEL_ENABLED.name] = "true"
            environ[contract.OTEL_EXPORTER_OTLP_ENDPOINT.name] = collector_url
        if self.xray_sdk:
            environ[contract.XRAY_ENABLED.name] = "true"
            environ[contract.XRAY_DAEMON_ADDRESS.name] = daemon_address
        if self.sampling is not None:
            environ[contract.XRAY_SAMPLING_RULES.name] = json.dumps(self.sampling.rules())
        if self.every_request_an_anomaly:
            # Slower than a microsecond, and no limit: each request is captured and exported.
            environ[contract.SLOW_REQUEST_SECONDS.name] = "0.000001"
            environ[contract.ANOMALY_CAPTURE_PER_SECOND.name] = "1000000000"
        return environ


OFF = Configuration("telemetry off")
UNSAMPLED = Configuration(
    "unsampled, no anomaly (OpenTelemetry and X-Ray on, prod's rules at rate 0)",
    opentelemetry=True,
    xray_sdk=True,
    sampling=SamplingRate.NONE,
)
CAPTURED = Configuration(
    "unsampled, captured as an anomaly (both tracers)",
    opentelemetry=True,
    xray_sdk=True,
    sampling=SamplingRate.NONE,
    every_request_an_anomaly=True,
)
SAMPLED_OPENTELEMETRY_ONLY = Configuration(
    "sampled, OpenTelemetry only", opentelemetry=True, sampling=SamplingRate.EVERY
)
SAMPLED_BOTH = Configuration(
    "sampled, OpenTelemetry and X-Ray", opentelemetry=True, xray_sdk=True, sampling=SamplingRate.EVERY
)
CONFIGURATIONS = (OFF, UNSAMPLED, CAPTURED, SAMPLED_OPENTELEMETRY_ONLY, SAMPLED_BOTH)
# The AWS SDK's own credential variables (the task's role supplies credentials in ECS, so the contract has none):
# moto accepts any.
FAKE_CREDENTIALS = {EnvProvider.ACCESS_KEY: "bench", EnvProvider.SECRET_KEY: "bench"}


# As gunicorn hands it over behind the load balancer, which adds a root-only X-Amzn-Trace-Id.
_REQUEST = EnvironBuilder(
    path=PATH,
    headers=Headers({"User-Agent": "wrk", "X-Amzn-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793"}),
    environ_base={"REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "50000"},
).get_environ()


def _environ() -> dict[str, Any]:
    return {**_REQUEST, "wsgi.input": io.BytesIO()}


def _call(app: Any) -> None:
    response = app(_environ(), lambda status, headers, *exc_info: None)
    b"".join(response)
    if hasattr(response, "close"):
        response.close()


# Run from the repository root, which ``python -c`` puts first on the child's path.
_STAND_INS = """
import json, sys
from testsupport.standins.otlp import OtlpReceiver
from testsupport.standins.xray_daemon import XRayDaemon
with OtlpReceiver(decode=False) as collector, XRayDaemon(decode=False) as daemon:
    print(json.dumps({"collector": collector.url, "daemon": daemon.address}), flush=True)
    sys.stdin.read()
"""


@contextlib.contextmanager
def stand_ins() -> Iterator[tuple[str, str, str]]:
    """(collector URL, daemon address, DynamoDB URL) of stand-ins in other processes, outside the service's CPU."""
    child = subprocess.Popen(
        [sys.executable, "-c", _STAND_INS], cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert child.stdin is not None and child.stdout is not None  # both are pipes
    try:
        with tempfile.TemporaryDirectory() as scratch, MotoServer(Path(scratch) / "dynamodb.log") as dynamodb:
            where = json.loads(child.stdout.readline())
            yield where["collector"], where["daemon"], dynamodb.url
    finally:
        child.stdin.close()
        child.wait(timeout=10)


def _environs(collector_url: str, daemon_address: str, dynamodb_url: str) -> dict[Configuration, dict[str, str]]:
    """Each configuration's variables, each with a table of its own, in the order of the table."""
    for variable, value in FAKE_CREDENTIALS.items():
        os.environ.setdefault(variable, value)
    environs = {
        configuration: configuration.environ(
            collector_url, daemon_address, dynamodb_url, create_service_table(dynamodb_url)
        )
        for configuration in CONFIGURATIONS
    }
    for environ in environs.values():
        seed_at_start(environ)  # as the task's start does: the home feed reads the course's data
    return environs


def _calls_per_request(app: Any, requests: int = 200) -> float:
    """Python function calls per request on the request's thread: a count no other tenant of the machine can disturb.

    Export runs on the exporter's thread and is not in this count (it is in the µs).
    """
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(requests):
        _call(app)
    profile.disable()
    # typeshed leaves out the totals Stats computes in its constructor.
    return pstats.Stats(profile).total_calls / requests  # type: ignore[attr-defined]


def measure_requests(batches: int, batch: int) -> dict[Configuration, tuple[float, float]]:
    """(CPU µs, function calls) per request for each configuration; µs: minimum over alternating batches."""
    with stand_ins() as (collector_url, daemon_address, dynamodb_url):
        environs = _environs(collector_url, daemon_address, dynamodb_url)
        apps = {configuration: create_app(environ=environ) for configuration, environ in environs.items()}
        logging.getLogger().setLevel(logging.WARNING)
        for app in apps.values():
            for _ in range(WARM_UP_REQUESTS):
                _call(app)
        best = {configuration: float("inf") for configuration in apps}
        for _ in range(batches):
            for configuration, app in apps.items():
                provider = app.extensions[extensions.TELEMETRY].tracer_provider
                started = time.process_time()
                for _ in range(batch):
                    _call(app)
                if provider is not None:
                    provider.force_flush(10_000)
                best[configuration] = min(best[configuration], (time.process_time() - started) / batch * 1e6)
        calls = {configuration: _calls_per_request(app) for configuration, app in apps.items()}
        for app in apps.values():
            app.extensions[extensions.TELEMETRY].shutdown(5)
    return {configuration: (best[configuration], calls[configuration]) for configuration in apps}


def _callgrind_child(environ_file: Path, requests: int) -> None:
    """Under callgrind: one configuration's app, warmed up, then ``requests`` requests and their export, between marks.

    ``os.getppid()`` zeroes callgrind's counters (``--zero-before=getppid``)
    and ``os.getpgrp()`` dumps them (``--dump-before=getpgrp``): neither is
    called anywhere else in the service, so the dump holds the requests alone.
    """
    app = create_app(environ=json.loads(environ_file.read_text()))
    logging.getLogger().setLevel(logging.WARNING)
    for _ in range(CALLGRIND_WARM_UP_REQUESTS):
        _call(app)
    telemetry = app.extensions[extensions.TELEMETRY]
    if telemetry.tracer_provider is not None:
        telemetry.tracer_provider.force_flush(10_000)
    os.getppid()
    for _ in range(requests):
        _call(app)
    if telemetry.tracer_provider is not None:
        telemetry.tracer_provider.force_flush(10_000)
    os.getpgrp()
    telemetry.shutdown(5)


def _callgrind_instructions(environ_file: Path, requests: int, scratch: Path) -> int:
    """The instructions (Ir) callgrind counts, every thread, between the child's two marks."""
    out = scratch / "callgrind.out"
    subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            "--zero-before=getppid",
            "--dump-before=getpgrp",
            sys.executable,
            "-m",
            "bench.request_cost",
            "--callgrind-child",
            str(environ_file),
            "--requests",
            str(requests),
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    marked = Path(f"{out}.1")  # the dump at the second mark; the file without a suffix is the rest, up to exit
    for line in marked.read_text().splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise RuntimeError(f"callgrind wrote no summary to {marked}")


def measure_instructions(requests: int) -> dict[Configuration, float]:
    """Instructions per request for each configuration, under callgrind: a count the machine's load does not move.

    The export of the requests' spans and segments (other threads) is in it.
    """
    per_request = {}
    with stand_ins() as (collector_url, daemon_address, dynamodb_url), tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        for configuration, environ in _environs(collector_url, daemon_address, dynamodb_url).items():
            environ_file = scratch / "environ.json"
            environ_file.write_text(json.dumps(environ))
            per_request[configuration] = _callgrind_instructions(environ_file, requests, scratch) / requests
    return per_request


def _min_us(work: Callable[[], Any], number: int = 2000, repeat: int = 7) -> float:
    return min(timeit.repeat(work, number=number, repeat=repeat)) / number * 1e6


def _unsampled_telemetry_us(bare_app: Callable[..., Any], exporter: Any) -> float:
    """What the request path adds to a request nobody records, around an app that does nothing: CPU µs.

    The whole service's figures carry its DynamoDB call (about 3 ms through
    botocore), whose jitter hides a difference of tens of µs; this is the
    same telemetry, built from the same settings, without it.
    """
    from flask_aws_telemetry import provider as telemetry_provider
    from flask_aws_telemetry.aws_calls import AwsCallTracing
    from flask_aws_telemetry.capture import AnomalyCapture
    from flask_aws_telemetry.request_path import build_wsgi_chain
    from flask_aws_telemetry.settings import TelemetrySettings

    rules = load_environment("prod").sampling_policy.api_rules()
    settings = TelemetrySettings.from_environ(
        {
            contract.SERVICE_NAME.name: "cruddur-backend-flask",
            contract.OTEL_ENABLED.name: "true",
            contract.XRAY_SAMPLING_RULES.name: json.dumps([{**r, "FixedRate": 0.0} for r in rules]),
        }
    )
    provider = telemetry_provider.build_tracer_provider(settings, exporter)
    sampler = telemetry_provider.build_rules_sampler(settings, provider.resource)
    capture = AnomalyCapture(
        tracer_provider=provider,
        xray_recorder=None,
        aws_calls=AwsCallTracing(tracer_provider=provider, xray_recorder=None),
        slow_request_seconds=settings.slow_request_seconds,
        per_second=settings.anomaly_capture_per_second,
    )
    guarded = build_wsgi_chain(bare_app, tracer_provider=provider, sampler=sampler, capture=capture)
    _call(guarded)  # the fallback rules' one log line, outside the measurement
    return _min_us(lambda: _call(guarded)) - _min_us(lambda: _call(bare_app))


def _request_line_us() -> float:
    """What the request line adds to a Flask request (its clock, record, JSON and write, here to /dev/null): CPU µs."""
    from flask import Flask

    from flask_aws_telemetry import logs

    def flask_app(request_lines: bool) -> Flask:
        app = Flask("bench")
        app.add_url_rule(PATH, "home", lambda: {})
        if request_lines:
            logs.install_request_lines(app)
        return app

    root = logging.getLogger()
    level = root.level
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        handler = logs.configure_logging(level="INFO", service="bench", environment="bench")
        try:
            plain, lined = flask_app(False), flask_app(True)
            return _min_us(lambda: _call(lined)) - _min_us(lambda: _call(plain))
        finally:
            root.removeHandler(handler)
            root.setLevel(level)


def measure_parts() -> dict[str, float]:
    """The parts of a sampled request, each alone: CPU µs per call."""
    from aws_xray_sdk.core import AWSXRayRecorder
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware
    from opentelemetry.metrics import NoOpMeterProvider
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    finished = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(finished))
    tracer = provider.get_tracer("bench")

    def bare_app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
        return [b"{}"]

    middleware = OpenTelemetryMiddleware(bare_app, tracer_provider=provider, meter_provider=NoOpMeterProvider())

    def child_span() -> None:
        with tracer.start_as_current_span("home-activities") as span:
            span.set_attribute("app.now", "2026-11-21T00:00:00+00:00")
            span.set_attribute("app.result_length", 3)

    parts = {
        (
            "an unsampled request's telemetry "
            "(header guard, trace context, X-Ray's rules at prod's, non-recording span, anomaly watch)"
        ): (_unsampled_telemetry_us(bare_app, InMemorySpanExporter())),
        "OpenTelemetry WSGI middleware (server span, request attributes)": _min_us(lambda: _call(middleware)),
        "one child span with two attributes": _min_us(child_span),
        "the request line (logs.install_request_lines: one JSON line a request, written to stdout)": _request_line_us(),
    }
    finished.clear()
    _call(middleware)
    child_span()
    server, child = finished.get_finished_spans()
    parts["OTLP encoding of the server span"] = _min_us(lambda: encode_spans([server]).SerializeToString())
    parts["OTLP encoding of the child span"] = _min_us(lambda: encode_spans([child]).SerializeToString())

    with stand_ins() as (_, daemon_address, _dynamodb):
        recorder = AWSXRayRecorder()
        recorder.configure(service="bench", daemon_address=daemon_address, context_missing="LOG_ERROR", sampling=False)

        def segment() -> None:
            recorder.begin_segment(
                "bench", traceid="1-5759e988-bd862e3fe1be46a994272793", parent_id="53995c3f42cd8ad8", sampling=1
            )
            sub = recorder.begin_subsegment("home-activities")
            sub.put_metadata("app.result_length", 3, "app")
            sub.put_annotation("app_result_length", 3)
            recorder.end_subsegment()
            recorder.end_segment()  # serialized and sent to the daemon over UDP

        parts["X-Ray segment and subsegment, serialized and sent"] = _min_us(segment, number=500)
    return parts


def measure_floor(batch_requests: int = 170) -> dict[str, float]:
    """The least the two tracing libraries can spend on one sampled request's output, without the service: CPU µs.

    The spans and the segment are the service's own, captured from a sampled
    request with both tracers; each is then rebuilt by the libraries' public
    calls alone, with no WSGI, context, sampling or botocore work around
    them: the spans started with their names, kinds and attributes and ended
    (the SDK's span and attribute handling), the request's spans OTLP-encoded
    in a batch as the batch processor sends them (``batch_requests`` requests'
    worth), and the segment begun with its subsegments, their fields set,
    ended and sent to a UDP socket (the X-Ray SDK's serialization and
    emitter). Whatever the service does, a sampled request with both tracers
    costs at least their sum.
    """
    from aws_xray_sdk.core import AWSXRayRecorder
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exported = InMemorySpanExporter()
    segments: list[Any] = []

    with stand_ins() as (collector_url, daemon_address, dynamodb_url):
        environ = SAMPLED_BOTH.environ(collector_url, daemon_address, dynamodb_url, create_service_table(dynamodb_url))
        app = create_app(environ=environ, span_exporter=exported)
        logging.getLogger().setLevel(logging.WARNING)
        telemetry = app.extensions[extensions.TELEMETRY]
        telemetry.xray_recorder.emitter.send_entity = segments.append
        for _ in range(batch_requests):
            _call(app)
        telemetry.tracer_provider.force_flush(10_000)
        spans = exported.get_finished_spans()
        telemetry.shutdown(5)
        per_request = len(spans) // batch_requests
        request_spans, segment = spans[-per_request:], segments[-1]

        provider = _otel_sdk_provider(request_spans[0].resource)
        tracers = {_scope_name(span): provider.get_tracer(_scope_name(span)) for span in request_spans}

        def build_spans() -> None:
            for span in request_spans:
                tracers[_scope_name(span)].start_span(
                    span.name, kind=span.kind, attributes=span.attributes, start_time=span.start_time
                ).end(end_time=span.end_time)

        recorder = AWSXRayRecorder()
        recorder.configure(
            service=segment.name, daemon_address=daemon_address, context_missing="LOG_ERROR", sampling=False
        )

        def build_segment() -> None:
            built = recorder.begin_segment(
                segment.name, traceid=segment.trace_id, parent_id=segment.parent_id, sampling=1
            )
            built.http = dict(segment.http)
            _build_subsegments(recorder, segment.subsegments)
            recorder.end_segment()  # serialized and sent to the daemon stand-in over UDP

        batch = spans[: per_request * batch_requests]
        return {
            f"the request's {per_request} spans (names, kinds, attributes), started and ended by the SDK": _min_us(
                build_spans
            ),
            f"the same spans OTLP-encoded, in batches of {len(batch)}": _min_us(
                lambda: encode_spans(batch).SerializeToString(), number=20
            )
            / batch_requests,
            (
                f"its X-Ray segment and {_count_subsegments(segment.subsegments)} subsegments, "
                "built, serialized and sent"
            ): _min_us(build_segment, number=500),
        }


def _scope_name(span: ReadableSpan) -> str:
    """The name of the instrumentation that made ``span`` (every span of the service's instrumentations has one)."""
    scope = span.instrumentation_scope
    if scope is None:
        raise ValueError(f"span {span.name!r} has no instrumentation scope")
    return scope.name


def _otel_sdk_provider(resource: Any) -> Any:
    """A tracer provider with ``resource`` whose ended spans go nowhere (as a batch processor's queue holds them)."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class Drop(SpanExporter):
        def export(self, spans):
            return SpanExportResult.SUCCESS

    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(Drop()))
    return provider


def _build_subsegments(recorder: Any, subsegments: list[Any]) -> None:
    for subsegment in subsegments:
        built = recorder.begin_subsegment(subsegment.name, subsegment.namespace)
        for name in ("http", "aws", "metadata", "annotations"):
            value = getattr(subsegment, name, None)
            if value:
                setattr(built, name, dict(value))
        _build_subsegments(recorder, subsegment.subsegments)
        recorder.end_subsegment()


def _count_subsegments(subsegments: list[Any]) -> int:
    return sum(1 + _count_subsegments(s.subsegments) for s in subsegments)


def render(
    requests: dict[Configuration, tuple[float, float]],
    instructions: dict[Configuration, float],
    parts: dict[str, float],
    floor: dict[str, float],
    args: argparse.Namespace,
    elapsed: float,
) -> str:
    """A RESULTS.md section."""
    off, off_calls = requests[OFF]
    lines = [
        "# Where a request's CPU goes",
        "",
        f"`make bench-cost` (`python -m bench.request_cost --batches {args.batches} --batch {args.batch} "
        f"--callgrind-requests {args.callgrind_requests}`), "
        f"{elapsed:.0f} s. GET {PATH} called in-process as a WSGI app, single-threaded, export included "
        "(the stand-ins receive in a child process, outside the figures); "
        "CPU µs per request, minimum over alternating batches; each request includes its DynamoDB call through "
        "botocore (moto behind it), whose jitter moves the whole request's µs by hundreds between runs, so the "
        "unsampled overhead is measured alone below; the count of Python function calls on the request's thread "
        "(export excluded) does not move, nor does the count of machine instructions per request under valgrind's "
        f"callgrind (every thread, export included; {args.callgrind_requests} requests after a warm-up, between two "
        "marks in the process: the figure that settles a target when the machine is shared). "
        f"Load average (1 minute) when it finished: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
        "well above the cores, the µs are inflated and only the counts compare.",
        "",
        "| configuration | µs per request | telemetry's µs | calls on the request's thread | telemetry's calls "
        "| instructions per request (callgrind) | telemetry's instructions |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    off_instructions = instructions.get(OFF)
    for configuration, (us, calls) in requests.items():
        counted = instructions.get(configuration)
        counted_cells = (
            f"{counted / 1e6:.2f} M | {(counted - off_instructions) / 1e6:+.2f} M"
            if counted is not None and off_instructions is not None
            else "– | –"
        )
        lines.append(
            f"| {configuration.label} | {us:.0f} | {us - off:+.0f} | {calls:.0f} | {calls - off_calls:+.0f} "
            f"| {counted_cells} |"
        )
    lines += ["", "| part of a request, alone | µs |", "| --- | ---: |"]
    lines += [f"| {name} | {value:.0f} |" for name, value in parts.items()]
    lines += [
        "",
        "The floor: what the libraries alone spend on one sampled request's output with both tracers "
        "(the service's own spans and segment, captured, then rebuilt by the libraries' public calls with "
        "nothing of the service around them; `measure_floor`). A sampled request cannot cost less than its sum.",
        "",
        "| the libraries' work for one sampled request, alone | µs |",
        "| --- | ---: |",
    ]
    lines += [f"| {name} | {value:.0f} |" for name, value in floor.items()]
    lines.append(f"| sum | {sum(floor.values()):.0f} |")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure, print, and append the section to ``--output``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "bench" / "RESULTS.md")
    parser.add_argument("--callgrind-requests", type=int, default=CALLGRIND_REQUESTS, help="0: no callgrind counts")
    parser.add_argument("--callgrind-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.callgrind_child is not None:
        sys.stdout = open(os.devnull, "w")
        _callgrind_child(args.callgrind_child, args.requests)
        return 0
    # The service's own log lines would only measure the terminal.
    sys.stdout = open(os.devnull, "w")
    started = time.monotonic()
    requests = measure_requests(args.batches, args.batch)
    instructions = measure_instructions(args.callgrind_requests) if args.callgrind_requests > 0 else {}
    parts = measure_parts()
    floor = measure_floor()
    report = render(requests, instructions, parts, floor, args, time.monotonic() - started)
    sys.stdout = sys.__stdout__
    write_section(args.output, report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
