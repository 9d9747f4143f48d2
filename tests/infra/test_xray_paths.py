"""The four X-Ray paths, as synthesized: each task's containers, the app's environment, the task role's X-Ray
actions, the room the sidecars take, what each path costs, the configurations that cannot go together, and the
warning the SDK's end of support brings (on a date given to synth, never today's).

dev on each path (``dev``: the X-Ray SDK and daemon; ``dev-sdk-collector``: the collector in the daemon's place;
``dev-sdk-collector-alone``: the same with OpenTelemetry off; ``dev-otel``: OpenTelemetry to X-Ray's OTLP endpoint;
``dev-otel-segments``: OpenTelemetry to PutTraceSegments) is synthesized once per session (tests/conftest.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from types import SimpleNamespace

import pytest

from cost.estimate import estimate
from cost.prices import load_prices
from cost.usage import load_usage, profile_for
from cruddur import contract
from flask_aws_telemetry import contract as telemetry_contract
from flask_aws_telemetry_cdk.assembly import synthesize
from flask_aws_telemetry_cdk.components.task_definition import check_telemetry_parts
from flask_aws_telemetry_cdk.config import ConfigError, TelemetryConfig, XRayPath
from flask_aws_telemetry_cdk.config.xray_support import (
    END_OF_SUPPORT_WARNING_ID,
    SYNTH_DATE_CONTEXT_KEY,
    XRAY_SDK_END_OF_SUPPORT,
    end_of_support_warning,
    synth_date,
)
from flask_aws_telemetry_cdk.models.app_environment import AppEnvironment, ProcessSettings
from flask_aws_telemetry_cdk.models.collector_xray import XRAY_OTLP_ACTIONS, XRAY_SEGMENT_ACTIONS, CollectorXRay
from flask_aws_telemetry_cdk.models.fargate import (
    COLLECTOR_CPU_UNITS,
    COLLECTOR_MEMORY_RESERVATION_MIB,
    XRAY_DAEMON_CPU_UNITS,
    XRAY_DAEMON_MEMORY_RESERVATION_MIB,
)
from infra.environments import load_environment
from testsupport import templates

APP, DAEMON, COLLECTOR = (
    contract.APP_CONTAINER_NAME,
    contract.XRAY_DAEMON_CONTAINER_NAME,
    contract.COLLECTOR_CONTAINER_NAME,
)

# Each synthesized environment: its path, OpenTelemetry on or off, its containers, its role's X-Ray actions.
PATHS = {
    "dev": (XRayPath.XRAY_SDK_AND_DAEMON, True, {APP, DAEMON, COLLECTOR}, XRAY_SEGMENT_ACTIONS),
    "dev-sdk-collector": (XRayPath.XRAY_SDK_AND_COLLECTOR, True, {APP, COLLECTOR}, XRAY_SEGMENT_ACTIONS),
    "dev-sdk-collector-alone": (XRayPath.XRAY_SDK_AND_COLLECTOR, False, {APP, COLLECTOR}, XRAY_SEGMENT_ACTIONS),
    "dev-otel": (XRayPath.OPENTELEMETRY_COLLECTOR, True, {APP, COLLECTOR}, XRAY_OTLP_ACTIONS),
    "dev-otel-segments": (XRayPath.OPENTELEMETRY_PUT_TRACE_SEGMENTS, True, {APP, COLLECTOR}, XRAY_SEGMENT_ACTIONS),
}


@pytest.fixture(scope="module", params=list(PATHS))
def on_path(request, synthesized_environments):
    """dev synthesized on each path in turn."""
    return synthesized_environments(request.param)


def _expected(env):
    path, opentelemetry, containers, actions = PATHS[_name(env)]
    assert (env.config.telemetry.xray_path, env.config.telemetry.opentelemetry) == (path, opentelemetry)
    return SimpleNamespace(path=path, opentelemetry=opentelemetry, containers=containers, actions=actions)


def _name(env) -> str:
    return next(name for name, (path, otel, *_) in PATHS.items() if (path, otel) == _config_key(env.config))


def _config_key(config) -> tuple[XRayPath, bool]:
    return config.telemetry.xray_path, config.telemetry.opentelemetry


def _as_list(value):
    return value if isinstance(value, list) else [value]


# -- the task on each path ----------------------------------------------------------------------------------------


def test_each_path_runs_its_containers_and_never_a_daemon_beside_the_receiver(on_path):
    """The daemon only where it is named; the collector everywhere OpenTelemetry or the SDK's segments need it; a
    daemon and a collector that holds UDP 2000 never share a task.
    """
    expected = _expected(on_path)
    containers = templates.containers(on_path)
    assert set(containers) == expected.containers
    udp_2000 = [
        name
        for name, container in containers.items()
        if {"ContainerPort": telemetry_contract.XRAY_DAEMON_PORT, "Protocol": "udp"}
        in container.get("PortMappings", [])
    ]
    listener = {XRayPath.XRAY_SDK_AND_DAEMON: [DAEMON], XRayPath.XRAY_SDK_AND_COLLECTOR: [COLLECTOR]}
    assert udp_2000 == listener.get(expected.path, [])
    app = templates.app_container(on_path)
    assert {d["ContainerName"] for d in app["DependsOn"]} == expected.containers - {APP}


def test_the_app_is_told_where_its_segments_and_sampling_go(on_path):
    """The X-Ray SDK sends to 127.0.0.1:2000 (the daemon, or the collector's awsxray receiver in its place) and asks
    the same port for sampling; OpenTelemetry alone has no SDK and asks the collector's proxy; capture only with
    OpenTelemetry.
    """
    expected = _expected(on_path)
    variables = templates.environment(templates.app_container(on_path))
    sdk = expected.path in (XRayPath.XRAY_SDK_AND_DAEMON, XRayPath.XRAY_SDK_AND_COLLECTOR)
    assert variables[contract.XRAY_ENABLED.name] == ("true" if sdk else "false")
    assert variables.get(contract.XRAY_DAEMON_ADDRESS.name) == ("127.0.0.1:2000" if sdk else None)
    assert variables[contract.XRAY_SAMPLING_ENDPOINT.name] == "http://127.0.0.1:2000"
    assert variables[contract.OTEL_ENABLED.name] == ("true" if expected.opentelemetry else "false")
    assert (contract.ANOMALY_CAPTURE_PER_SECOND.name in variables) is expected.opentelemetry
    assert (contract.OTEL_EXPORTER_OTLP_ENDPOINT.name in variables) is expected.opentelemetry


def test_the_task_role_may_call_exactly_its_paths_xray_actions(on_path):
    """Segments' actions where the daemon or the awsxray exporter sends, OTLP's where the otlphttp exporter does;
    never both sets.
    """
    expected = _expected(on_path)
    statements = templates.policy_statements(on_path, "TaskRole")
    xray = sorted(a for s in statements for a in _as_list(s["Action"]) if a.startswith("xray:"))
    assert xray == sorted(expected.actions)
    (statement,) = [s for s in statements if any(a.startswith("xray:") for a in _as_list(s["Action"]))]
    assert statement["Resource"] == "*"


def test_the_collectors_xray_exporter_is_the_one_the_task_role_allows(on_path):
    """Read from the synthesized collector configuration, not from the path: an ``awsxray`` exporter only where the role
    may call PutTraceSegments, an ``otlphttp/xray`` exporter only where it may call PutSpans, and no X-Ray exporter
    where the daemon sends (the role's segment actions are the daemon's there).
    """
    statements = templates.policy_statements(on_path, "TaskRole")
    allowed = {a for s in statements for a in _as_list(s["Action"]) if a.startswith("xray:")}
    exporters = set(templates.collector_configuration(on_path)["exporters"])
    xray_exporters = exporters & {"awsxray", "otlphttp/xray"}
    assert len(xray_exporters) <= 1, f"spans would reach X-Ray twice: {sorted(xray_exporters)}"
    if "awsxray" in exporters:
        assert "xray:PutTraceSegments" in allowed and "xray:PutSpans" not in allowed
    elif "otlphttp/xray" in exporters:
        assert "xray:PutSpans" in allowed and "xray:PutTraceSegments" not in allowed
    else:
        assert DAEMON in templates.containers(on_path), "nothing sends to X-Ray on this path"
        assert "xray:PutSpans" not in allowed


def test_the_daemons_room_goes_to_the_app_where_the_collector_takes_its_place(on_path):
    """The sidecars reserve the collector's 128 units and 256 MiB, plus the daemon's 32 and 64 only on its path;
    the task's size is the config's, and the app has what the sidecars leave.
    """
    expected = _expected(on_path)
    task = templates.task_definition(on_path)["Properties"]
    sidecars = templates.sidecars(on_path).values()
    reserved = (sum(c["Cpu"] for c in sidecars), sum(c["MemoryReservation"] for c in sidecars))
    daemon = expected.path is XRayPath.XRAY_SDK_AND_DAEMON
    assert reserved == (
        COLLECTOR_CPU_UNITS + (XRAY_DAEMON_CPU_UNITS if daemon else 0),
        COLLECTOR_MEMORY_RESERVATION_MIB + (XRAY_DAEMON_MEMORY_RESERVATION_MIB if daemon else 0),
    )
    assert (int(task["Cpu"]), int(task["Memory"])) == (on_path.config.task.cpu, on_path.config.task.memory_mib)


def test_the_collector_holds_udp_2000_only_in_the_daemons_place(synthesized_environments):
    """Its OTLP ports on every path; the daemon's UDP port only where it takes the daemon's place."""
    for name in PATHS:
        env = synthesized_environments(name)
        collector = templates.containers(env)[COLLECTOR]
        ports = {(p["ContainerPort"], p["Protocol"]) for p in collector["PortMappings"]}
        in_daemons_place = env.config.telemetry.xray_path is XRayPath.XRAY_SDK_AND_COLLECTOR
        assert ports == {(4317, "tcp"), (4318, "tcp")} | ({(2000, "udp")} if in_daemons_place else set()), name


def test_prod_captures_and_boosts_on_the_opentelemetry_path_to_put_trace_segments(synthesized_environments):
    """Capture's limit and the boosted catch-all reach the app as on the default path, and synth does not warn that
    they do nothing.
    """
    env = synthesized_environments("prod-otel-segments")
    variables = templates.environment(templates.app_container(env))
    assert float(variables[contract.ANOMALY_CAPTURE_PER_SECOND.name]) == env.config.telemetry.anomaly_capture_per_second
    assert env.config.telemetry.anomaly_capture_per_second > 0
    carried = json.loads(variables[contract.XRAY_SAMPLING_RULES.name])
    assert [rule["SamplingRateBoost"] for rule in carried if rule.get("SamplingRateBoost")]
    assert not [w for w in templates.warnings(env) if "not captured" in w]


# -- the properties the constructs read, for every path -------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "opentelemetry", "xray_sdk", "needs_collector", "needs_xray_daemon", "exports", "indexes"),
    [
        (XRayPath.XRAY_SDK_AND_DAEMON, True, True, True, True, False, False),
        (XRayPath.XRAY_SDK_AND_DAEMON, False, True, False, True, False, False),
        (XRayPath.XRAY_SDK_AND_COLLECTOR, True, True, True, False, True, False),
        (XRayPath.XRAY_SDK_AND_COLLECTOR, False, True, True, False, True, False),
        (XRayPath.OPENTELEMETRY_COLLECTOR, True, False, True, False, True, False),
        (XRayPath.OPENTELEMETRY_PUT_TRACE_SEGMENTS, True, False, True, False, True, True),
    ],
)
def test_what_each_path_runs(path, opentelemetry, xray_sdk, needs_collector, needs_xray_daemon, exports, indexes):
    """The SDK on its two paths; the daemon on one; the collector wherever spans or the SDK's segments go to it."""
    telemetry = TelemetryConfig(xray_path=path, opentelemetry=opentelemetry)
    telemetry.check()
    assert (
        telemetry.xray_sdk,
        telemetry.needs_collector,
        telemetry.needs_xray_daemon,
        telemetry.collector_exports_to_xray,
        telemetry.indexes_attributes,
    ) == (xray_sdk, needs_collector, needs_xray_daemon, exports, indexes)
    assert telemetry.collector_xray is path.collector_xray


# -- the attributes the awsxray exporter indexes --------------------------------------------------------------------


def test_by_default_the_exporter_indexes_what_the_sdk_path_annotates():
    """The library's attributes and Cruddur's, each the annotation the SDK gives it (app.result_length ->
    app_result_length); nothing on the paths where the collector makes no segments of OpenTelemetry's spans.
    """
    config = load_environment("dev").with_changes(telemetry={"xray_path": XRayPath.OPENTELEMETRY_PUT_TRACE_SEGMENTS})
    assert config.collector_indexed_attributes == (*telemetry_contract.SPAN_ATTRIBUTES, *contract.SPAN_ATTRIBUTES)
    annotations = {telemetry_contract.xray_annotation_key(name) for name in config.collector_indexed_attributes}
    assert {"anomaly_captured", "anomaly_reason", "app_now", "app_result_length", "app_user_handle"} <= annotations
    for path in set(XRayPath) - {XRayPath.OPENTELEMETRY_PUT_TRACE_SEGMENTS}:
        assert load_environment("dev").with_changes(telemetry={"xray_path": path}).collector_indexed_attributes == ()


def test_an_environment_may_index_fewer():
    """Named attributes are indexed as given, in their order; an empty tuple indexes none."""
    base = load_environment("dev")
    chosen = (contract.RESULT_LENGTH_ATTRIBUTE, telemetry_contract.ANOMALY_CAPTURED_ATTRIBUTE)
    segments = {"xray_path": XRayPath.OPENTELEMETRY_PUT_TRACE_SEGMENTS}
    assert base.with_changes(
        telemetry={**segments, "xray_indexed_attributes": chosen}
    ).collector_indexed_attributes == (chosen)
    assert base.with_changes(telemetry={**segments, "xray_indexed_attributes": ()}).collector_indexed_attributes == ()


# -- bad input: one sentence naming the environment, the field, the value and what is allowed -----------------------

SEGMENTS = XRayPath.OPENTELEMETRY_PUT_TRACE_SEGMENTS
MANY = tuple(f"app.attribute_{index}" for index in range(48))


@pytest.mark.parametrize(
    ("sections", "field", "value_text", "allowed_text"),
    [
        (
            {"telemetry": {"xray_path": XRayPath.OPENTELEMETRY_COLLECTOR, "opentelemetry": False}},
            "telemetry.xray_path",
            "'opentelemetry-collector'",
            "set telemetry.opentelemetry = True, or use XRayPath.XRAY_SDK_AND_COLLECTOR",
        ),
        (
            {"telemetry": {"xray_path": SEGMENTS, "opentelemetry": False}},
            "telemetry.xray_path",
            "'opentelemetry-put-trace-segments'",
            "carries OpenTelemetry's spans to X-Ray: set telemetry.opentelemetry = True",
        ),
        (
            {"telemetry": {"xray_indexed_attributes": ("anomaly.captured",)}},
            "telemetry.xray_indexed_attributes",
            "('anomaly.captured',)",
            "leave it None, or use xray_path = XRayPath.OPENTELEMETRY_PUT_TRACE_SEGMENTS",
        ),
        (
            {"telemetry": {"xray_path": XRayPath.XRAY_SDK_AND_COLLECTOR, "xray_indexed_attributes": ()}},
            "telemetry.xray_indexed_attributes",
            "()",
            "the X-Ray SDK's own annotations reach X-Ray unchanged",
        ),
        (
            {
                "telemetry": {
                    "xray_path": XRayPath.OPENTELEMETRY_COLLECTOR,
                    "xray_indexed_attributes": ("anomaly.reason",),
                }
            },
            "telemetry.xray_indexed_attributes",
            "('anomaly.reason',)",
            "every attribute is searchable in Transaction Search",
        ),
        (
            {"telemetry": {"xray_path": SEGMENTS, "xray_indexed_attributes": ("app.cart_total",)}},
            "telemetry.xray_indexed_attributes",
            "'app.cart_total'",
            "the service never sets it: use attributes the library sets (app.now, anomaly.captured, anomaly.reason) "
            "or the app's own, listed in app.span_attributes (app.result_length",
        ),
        (
            {"telemetry": {"xray_path": SEGMENTS, "xray_indexed_attributes": ("has space",)}},
            "telemetry.xray_indexed_attributes",
            "('has space',)",
            "use a tuple of span attribute names",
        ),
        (
            {"telemetry": {"xray_path": SEGMENTS, "xray_indexed_attributes": ("anomaly.reason", "anomaly.reason")}},
            "telemetry.xray_indexed_attributes",
            "'anomaly.reason'",
            "name each attribute once",
        ),
        (
            {"app": {"span_attributes": ["app.result_length"]}},
            "app.span_attributes",
            "['app.result_length']",
            "use a tuple of span attribute names",
        ),
        (
            {"telemetry": {"xray_path": SEGMENTS}, "app": {"span_attributes": MANY}},
            "app.span_attributes",
            "app.attribute_0",
            "X-Ray indexes at most 50 annotations a trace and these make 51",
        ),
        (
            # 256 + 256 + 64 MiB: the daemon's reservation does not fit in 512 MiB beside the collector's.
            {"task": {"cpu": 256, "memory_mib": 512}},
            "task.memory_mib",
            "512",
            "need at least 576 MiB",
        ),
    ],
)
def test_combinations_that_do_not_go_together_stop_synth(sections, field, value_text, allowed_text):
    """Given a path and a setting that do not go together, building dev's config raises one sentence."""
    base = load_environment("dev")
    with pytest.raises(ConfigError) as error:
        base.with_changes(**sections)
    message = str(error.value)
    assert message.startswith(f"environment 'dev': {field} = "), message
    assert value_text in message and allowed_text in message, message
    assert message.count("is invalid;") == 1


def test_without_the_daemon_the_smaller_task_fits():
    """The same 512 MiB that refuses the daemon's path holds the collector in the daemon's place (256 + 256 MiB)."""
    config = load_environment("dev").with_changes(
        task={"cpu": 256, "memory_mib": 512}, telemetry={"xray_path": XRayPath.XRAY_SDK_AND_COLLECTOR}
    )
    assert config.task == dataclasses.replace(load_environment("dev").task, cpu=256, memory_mib=512)


def _app_environment(*, opentelemetry: bool, xray_sdk: bool) -> AppEnvironment:
    return AppEnvironment(
        service_name="app",
        environment_name="dev",
        log_level="INFO",
        opentelemetry=opentelemetry,
        xray_sdk=xray_sdk,
        watchtower=False,
        rollbar=False,
        sampling_rules_json="[]",
        slow_request_seconds=1.0,
        anomaly_capture_per_second=0.0,
        process=ProcessSettings(port=8000, web_concurrency=2, health_check_path="/health", writable_path="/tmp"),
        logger_prefix="flask_aws_telemetry",
    )


@pytest.mark.parametrize(
    ("opentelemetry", "xray_sdk", "daemon", "xray", "message"),
    [
        (True, True, True, CollectorXRay.SDK_SEGMENTS, r"both would listen on UDP 2000"),
        (True, False, False, CollectorXRay.SDK_SEGMENTS, r"telemetry\.xray_sdk is False: nothing would send it"),
        (False, True, False, CollectorXRay.OTLP, r"CollectorXRay\.OTLP but telemetry\.opentelemetry is False"),
        (False, True, False, CollectorXRay.OTEL_SEGMENTS, r"OTEL_SEGMENTS but telemetry\.opentelemetry is False"),
        (True, True, False, CollectorXRay.NONE, r"^telemetry\.xray_sdk is True but xray_daemon is None"),
    ],
)
def test_the_task_definition_refuses_parts_that_do_not_go_together(opentelemetry, xray_sdk, daemon, xray, message):
    """A daemon beside the receiver cannot be configured (the config has one path); the construct refuses it too."""
    telemetry = _app_environment(opentelemetry=opentelemetry, xray_sdk=xray_sdk)
    with pytest.raises(ValueError, match=message):
        check_telemetry_parts(telemetry, object() if daemon else None, SimpleNamespace(xray=xray), None, None)


def test_the_collector_in_the_daemons_place_runs_without_opentelemetry():
    """The SDK alone, the collector its receiver: accepted with no daemon, refused without the collector."""
    telemetry = _app_environment(opentelemetry=False, xray_sdk=True)
    check_telemetry_parts(telemetry, None, SimpleNamespace(xray=CollectorXRay.SDK_SEGMENTS), None, None)
    with pytest.raises(ValueError, match=r"^telemetry\.xray_sdk is True but xray_daemon is None"):
        check_telemetry_parts(telemetry, None, None, None, None)


# -- the end of the X-Ray SDK's support, on a date given to synth ---------------------------------------------------


@pytest.mark.parametrize(
    ("path", "opentelemetry", "change"),
    [
        (XRayPath.XRAY_SDK_AND_DAEMON, True, "set xray_path=XRayPath.XRAY_SDK_AND_COLLECTOR in its TelemetryConfig"),
        (XRayPath.XRAY_SDK_AND_COLLECTOR, True, "set xray_path=XRayPath.OPENTELEMETRY_PUT_TRACE_SEGMENTS in its"),
        (
            XRayPath.XRAY_SDK_AND_COLLECTOR,
            False,
            "xray_path=XRayPath.OPENTELEMETRY_PUT_TRACE_SEGMENTS and opentelemetry=True in its TelemetryConfig",
        ),
    ],
)
def test_from_the_end_of_support_the_sdk_paths_are_told_the_one_line_change(path, opentelemetry, change):
    """On 25 February 2027 and after, a sentence with the date and the change; the day before, nothing."""
    telemetry = TelemetryConfig(xray_path=path, opentelemetry=opentelemetry)
    assert end_of_support_warning("dev", telemetry, dt.date(2027, 2, 24)) is None
    for day in (XRAY_SDK_END_OF_SUPPORT, dt.date(2028, 1, 1)):
        warning = end_of_support_warning("dev", telemetry, day)
        assert warning is not None
        assert warning.startswith("environment 'dev' still ")
        assert "whose support ended on 25 February 2027" in warning and change in warning


@pytest.mark.parametrize("path", [XRayPath.OPENTELEMETRY_COLLECTOR, XRayPath.OPENTELEMETRY_PUT_TRACE_SEGMENTS])
def test_the_opentelemetry_paths_are_never_warned(path):
    """No SDK, no daemon: nothing to say on any day."""
    assert end_of_support_warning("dev", TelemetryConfig(xray_path=path), dt.date(2030, 1, 1)) is None


def test_the_date_synth_judges_by_is_the_context_value_or_today():
    """An ISO date from the context; none given is today's (UTC); anything else one sentence naming the key."""
    assert synth_date("2027-03-01") == dt.date(2027, 3, 1)
    assert isinstance(synth_date(None), dt.date)
    with pytest.raises(ConfigError, match=rf"^context {SYNTH_DATE_CONTEXT_KEY} = 'next week' is invalid; use an ISO"):
        synth_date("next week")


@pytest.fixture(scope="module")
def dev_synthesized_on(tmp_path_factory):
    """dev's default path synthesized with synth's date fixed to each day asked for."""
    config = load_environment("dev")
    cache = {}

    def on(day: str):
        if day not in cache:
            cache[day] = synthesize(
                config, tmp_path_factory.mktemp(f"cdk-{day}"), context={SYNTH_DATE_CONTEXT_KEY: day}
            )
        return cache[day]

    return on


def test_synth_warns_once_from_the_end_of_support_and_not_the_day_before(dev_synthesized_on):
    """The warning is a CDK annotation with its id (acknowledgeable like the others); the templates are unchanged."""
    after, before = dev_synthesized_on("2027-02-25"), dev_synthesized_on("2027-02-24")
    (warning,) = [w for w in templates.warnings(after) if "support ended" in w]
    assert "environment 'dev'" in warning and "xray_path=XRayPath.XRAY_SDK_AND_COLLECTOR" in warning
    assert END_OF_SUPPORT_WARNING_ID in warning
    assert not [w for w in templates.warnings(before) if "support ended" in w]
    assert after.templates == before.templates


# -- what each path costs ---------------------------------------------------------------------------------------------


def _priced(env) -> dict[str, tuple[float, str]]:
    usage, _ = profile_for(load_usage(), env.config.name)
    result = estimate(env.config.name, list(env.templates.values()), usage, load_prices())
    return {line.item: (line.quantity, str(line.monthly_usd)) for line in result.lines}


def test_make_cost_prices_each_path_by_what_it_sends_to_xray(synthesized_environments):
    """PutTraceSegments paths as traces recorded, the OTLP path as spans ingested; no daemon, no daemon lines; the
    daemon's share goes to the app, so Fargate bills the same vCPU-hours and GB-hours on every path.
    """
    fargate_hours = []
    for name, (path, *_rest) in PATHS.items():
        lines = _priced(synthesized_environments(name))
        recorded = [item for item in lines if item.startswith("X-Ray traces recorded")]
        spans = [item for item in lines if item.startswith("X-Ray spans ingested")]
        assert (bool(spans), bool(recorded)) == (
            (True, False) if path is XRayPath.OPENTELEMETRY_COLLECTOR else (False, True)
        ), name
        assert any(DAEMON in item for item in lines) is (path is XRayPath.XRAY_SDK_AND_DAEMON), name
        fargate_hours.append(
            tuple(
                sum(quantity for item, (quantity, _) in lines.items() if item.startswith(f"Fargate Spot {kind}:"))
                for kind in ("vCPU", "memory")
            )
        )
    for vcpu_hours, gb_hours in fargate_hours:
        assert vcpu_hours == pytest.approx(fargate_hours[0][0], abs=0.2)
        assert gb_hours == pytest.approx(fargate_hours[0][1], abs=0.2)
