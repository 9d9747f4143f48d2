"""Every collector configuration, on every X-Ray path, loads and starts in the real collector.

The collector is ``make sidecars``' build of ``sidecars/collector`` (the
upstream OpenTelemetry Collector modules, with exactly the components
``components/collector_config.py`` uses, the ``awsxray`` receiver and
exporter among them). Each synthesized configuration is given as ECS gives
it to the sidecar: the SSM parameter's text in ``AOT_CONFIG_CONTENT``, the
secrets and ``AWS_REGION`` as environment variables; and the configuration
of each ``CollectorXRay`` (what the collector does for X-Ray on each path)
is rendered and given the same way. A configuration the collector rejects
fails with the collector's own message; a collector that does not start, or
exits, fails with its last log lines.

The ``awsxray`` exporter changes the spans it is handed without saying so;
the last test shows the real collector panicking where it is handed shared
data, and not with our configuration, given the same segment.
"""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest
import yaml

from cruddur import contract
from flask_aws_telemetry_cdk.components.collector_config import (
    collector_command,
    render_collector_config,
    shares_no_data_with_the_xray_exporter,
)
from flask_aws_telemetry_cdk.models.collector_xray import CollectorXRay
from testsupport import sidecars, templates
from testsupport.ecs_task import collector_config_on_loopback
from testsupport.standins.xray_api import XRayApi
from testsupport.traffic import new_trace_id, xray_trace_id
from testsupport.waiting import closed_port, wait_until

FAKE_SECRETS = {"HONEYCOMB_API_KEY": "fake-honeycomb-key"}
# On ECS the task role's credentials come from the container credentials endpoint; here they are fake ones
# in the environment (sigv4auth loads credentials when the configuration is validated), and nothing may ask
# the EC2 instance metadata service.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "fake-secret-access-key",
    "AWS_EC2_METADATA_DISABLED": "true",
}
TIMEOUT_SECONDS = 60
STOP_SECONDS = 20
REGION = "us-east-1"
HONEYCOMB_ENDPOINT = "https://api.honeycomb.io"
# What the environment's indexed attributes look like on the OpenTelemetry PutTraceSegments path.
INDEXED_ATTRIBUTES = ("anomaly.captured", "anomaly.reason")


def rendered(xray: CollectorXRay) -> str:
    """The configuration the observability stack stores for an environment whose collector does ``xray``."""
    indexed = INDEXED_ATTRIBUTES if xray is CollectorXRay.OTEL_SEGMENTS else ()
    return render_collector_config(honeycomb_endpoint=HONEYCOMB_ENDPOINT, xray=xray, indexed_attributes=indexed)


def environment_of(config_text: str) -> dict[str, str]:
    """The collector's environment as ECS gives it: the configuration, the Honeycomb key, the task's region."""
    return {"AOT_CONFIG_CONTENT": config_text, "AWS_REGION": REGION, **FAKE_SECRETS}


def validate(environment: dict[str, str], command: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    """The collector's own ``validate`` command, reading its configuration from AOT_CONFIG_CONTENT as ADOT does,
    with the container's ``command`` (its flags)."""
    return subprocess.run(
        [str(sidecars.collector()), "validate", *(command or [])],
        env={"PATH": "/usr/bin:/bin", **FAKE_CREDENTIALS, **environment},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )


def last_lines(result: subprocess.CompletedProcess[str], count: int = 20) -> str:
    """The collector's last output lines, to quote in a failure."""
    return "\n".join((result.stdout + result.stderr).strip().splitlines()[-count:])


def container_command(env) -> list[str]:
    """The collector container's command in the synthesized task definition (its flags), [] for the image's own."""
    return templates.sidecars(env)[contract.COLLECTOR_CONTAINER_NAME].get("Command", [])


def test_every_synthesized_configuration_loads(any_env):
    """dev, staging, prod and dev on the OpenTelemetry-only path: the collector accepts each one."""
    # Given the collector's environment as the task definition and its SSM parameter give it
    environment = sidecars.collector_environment(any_env, secrets=FAKE_SECRETS)
    # When the collector validates its configuration
    result = validate(environment, container_command(any_env))
    # Then it accepts it
    path = any_env.config.telemetry.xray_path.value
    assert result.returncode == 0, f"the collector rejects {any_env.config.name}'s ({path}):\n{last_lines(result)}"


@pytest.mark.parametrize("xray", list(CollectorXRay))
def test_the_configuration_of_every_x_ray_path_loads(xray):
    """Each CollectorXRay's configuration (the X-Ray daemon's place, OTLP, PutTraceSegments, none) is accepted."""
    # Given the configuration the observability stack renders for that path
    environment = environment_of(rendered(xray))
    # When the collector validates it, with the container's command on that path
    result = validate(environment, collector_command(xray))
    # Then it accepts it
    assert result.returncode == 0, f"the collector rejects the {xray.value!r} configuration:\n{last_lines(result)}"


@pytest.mark.parametrize("xray", list(CollectorXRay))
def test_no_configuration_hands_the_xray_exporter_shared_data(xray):
    """Where the awsxray exporter is used it is its pipeline's only exporter, after the batch processor."""
    assert shares_no_data_with_the_xray_exporter(yaml.safe_load(rendered(xray))) == []


def test_an_xray_exporter_beside_another_is_reported_as_sharing_data():
    """The check names the pipeline where the awsxray exporter would get data another exporter also holds."""
    config = yaml.safe_load(rendered(CollectorXRay.OTEL_SEGMENTS))
    config["service"]["pipelines"]["traces"]["exporters"].append("awsxray")
    assert shares_no_data_with_the_xray_exporter(config) == [
        "pipeline traces: the awsxray exporter beside ['otlphttp/honeycomb']"
    ]


def exporting_nowhere(config_text: str) -> str:
    """The configuration with every exporter, and every proxy to X-Ray, sent to a closed loopback port: nothing
    leaves the machine."""
    config = yaml.safe_load(config_text)
    nowhere = f"http://127.0.0.1:{closed_port()}"
    for name, exporter in config["exporters"].items():
        if "traces_endpoint" in exporter:
            exporter["traces_endpoint"] = f"{nowhere}/v1/traces"
        if "endpoint" in exporter or name == "awsxray":  # awsxray derives X-Ray's endpoint from the region
            exporter["endpoint"] = nowhere
    if "awsproxy" in config["extensions"]:
        config["extensions"]["awsproxy"]["aws_endpoint"] = nowhere
    if "awsxray" in config["receivers"]:
        config["receivers"]["awsxray"]["proxy_server"]["aws_endpoint"] = nowhere
    return yaml.safe_dump(config, sort_keys=False)


def assert_starts_and_stops(
    environment: dict[str, str], name: str, log: Path, command: list[str] | None = None
) -> None:
    """The collector starts with ``environment`` and the container's ``command``, its health check answers as the
    task's asks, SIGTERM stops it."""
    text, ports = sidecars.listening_on_free_ports(environment["AOT_CONFIG_CONTENT"])
    environment = {**environment, "AOT_CONFIG_CONTENT": exporting_nowhere(text)}
    health_check = [str(sidecars.healthcheck()), "--port", str(ports["health_check"])]

    def healthy() -> bool:
        return subprocess.run(health_check, capture_output=True, timeout=10, check=False).returncode == 0

    # When it starts
    with log.open("w") as output:
        collector = subprocess.Popen(
            [str(sidecars.collector()), *(command or [])],
            env={"PATH": "/usr/bin:/bin", **FAKE_CREDENTIALS, **environment},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            answered = wait_until(
                lambda: collector.poll() is not None or healthy(), timeout=TIMEOUT_SECONDS, interval=0.5
            )
            exited = collector.poll()
            # Then it keeps running and its health check answers 200
            tail = "\n".join(log.read_text().splitlines()[-20:])
            assert exited is None, f"the collector exited ({exited}) with {name}'s configuration:\n{tail}"
            assert answered and healthy(), f"the collector's health check never answered 200:\n{tail}"
        finally:
            # And SIGTERM stops it cleanly
            collector.terminate()
            stopped = collector.wait(timeout=STOP_SECONDS)
    assert stopped == 0, "\n".join(log.read_text().splitlines()[-20:])


def test_every_synthesized_configuration_starts_and_answers_the_health_check(any_env, tmp_path):
    """The collector starts with each configuration, its health check says so as the task's command asks, and
    SIGTERM stops it cleanly (listeners moved to free loopback ports, exporters to a closed one)."""
    environment = sidecars.collector_environment(any_env, secrets=FAKE_SECRETS)
    assert_starts_and_stops(environment, any_env.config.name, tmp_path / "collector.log", container_command(any_env))


# The paths no Cruddur environment takes, synthesized (tests/conftest.py FEATURES): the collector in the daemon's
# place, and OpenTelemetry to PutTraceSegments with the indexed attributes dev and prod set.
SYNTHESIZED_PATHS = ["dev-sdk-collector", "dev-otel-segments", "prod-otel-segments"]


@pytest.mark.parametrize("name", SYNTHESIZED_PATHS)
def test_the_synthesized_configuration_of_every_other_path_loads_and_starts(name, synthesized_environments, tmp_path):
    """As above, for dev and prod on the paths without a daemon and without Transaction Search."""
    env = synthesized_environments(name)
    environment = sidecars.collector_environment(env, secrets=FAKE_SECRETS)
    result = validate(environment, container_command(env))
    assert result.returncode == 0, f"the collector rejects {name}'s configuration:\n{last_lines(result)}"
    assert_starts_and_stops(environment, name, tmp_path / "collector.log", container_command(env))


@pytest.mark.parametrize("xray", list(CollectorXRay))
def test_the_configuration_of_every_x_ray_path_starts_and_answers_the_health_check(xray, tmp_path):
    """As above for each CollectorXRay: the awsxray receiver binds its UDP and TCP ports, awsproxy its TCP port."""
    assert_starts_and_stops(
        environment_of(rendered(xray)), xray.value, tmp_path / "collector.log", collector_command(xray)
    )


def broken(configuration: str, change: str) -> str:
    """``configuration`` with one mistake a person could make."""
    parsed = yaml.safe_load(configuration)
    if change == "misspelt field":
        parsed["processors"]["batch/traces"]["send_batch_sze"] = parsed["processors"]["batch/traces"].pop(
            "send_batch_size"
        )
    elif change == "exporter not built in":
        parsed["exporters"]["debug"] = {"verbosity": "detailed"}
        parsed["service"]["pipelines"]["traces"]["exporters"].append("debug")
    elif change == "undefined extension":
        parsed["service"]["extensions"].append("sigv4auth/missing")
    return yaml.safe_dump(parsed, sort_keys=False)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("misspelt field", "send_batch_sze"),
        ("exporter not built in", "debug"),
        ("undefined extension", "sigv4auth/missing"),
    ],
)
def test_a_broken_configuration_is_rejected_with_the_collectors_message(dev, change, message):
    """The same check fails, naming what is wrong, when the configuration has a mistake."""
    # Given dev's configuration with one mistake
    environment = sidecars.collector_environment(dev, secrets=FAKE_SECRETS)
    environment["AOT_CONFIG_CONTENT"] = broken(environment["AOT_CONFIG_CONTENT"], change)
    # When the collector validates it
    result = validate(environment)
    # Then it refuses, and its message names the mistake
    assert result.returncode != 0, f"the collector accepted a configuration with a {change}"
    assert message in result.stdout + result.stderr, last_lines(result)


# The awsxray exporter and shared data


def sdk_frame(trace_id: str) -> bytes:
    """A closed segment as the X-Ray SDK for Python sends it to the daemon: a header line, then the document
    (the SDK writes ``in_progress: false`` into every closed segment)."""
    started = int(trace_id.split("-")[1], 16)  # the request's start, as X-Ray trace ids begin with it
    segment = {
        "name": "cruddur",
        "id": "53995c3f42cd8ad8",
        "trace_id": trace_id,
        "start_time": started,
        "end_time": started + 0.25,
        "in_progress": False,
        "http": {"request": {"method": "GET", "url": "http://127.0.0.1/api/activities/home"}},
    }
    return b'{"format": "json", "version": 1}\n' + json.dumps(segment).encode()


def sharing_the_batch(config_text: str) -> str:
    """The collector-as-daemon pipeline with Honeycomb's exporter beside awsxray: one batch, two exporters."""
    config = yaml.safe_load(config_text)
    config["service"]["pipelines"]["traces/xray"]["exporters"].append("otlphttp/honeycomb")
    return yaml.safe_dump(config, sort_keys=False)


@pytest.mark.parametrize("layout", ["as rendered", "sharing the batch"])
def test_the_xray_exporter_given_shared_data_panics_and_ours_never_is(layout, tmp_path):
    """One SDK segment through the real receiver and exporter: with awsxray alone in its pipeline (ours) it reaches
    X-Ray; beside another exporter the collector panics ("invalid access to shared data"), as the issue saw it."""
    # Given the collector as the daemon, X-Ray's stand-in behind it, laid out as rendered or sharing the batch
    trace_id = xray_trace_id(new_trace_id())
    text = rendered(CollectorXRay.SDK_SEGMENTS)
    if layout == "sharing the batch":
        text = sharing_the_batch(text)
    log = tmp_path / "collector.log"
    with XRayApi([], region=REGION, access_key=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                 secret_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]) as xray, log.open("w") as output:  # fmt: skip
        config, ports = collector_config_on_loopback(text, backends={}, xray_endpoint=xray.url)
        collector = subprocess.Popen(
            [str(sidecars.collector()), *(collector_command(CollectorXRay.SDK_SEGMENTS) or [])],
            env={"PATH": "/usr/bin:/bin", **FAKE_CREDENTIALS, **environment_of(exporting_honeycomb_nowhere(config))},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            health_check = [str(sidecars.healthcheck()), "--port", str(ports["health_check"])]
            wait_until(
                lambda: (
                    collector.poll() is not None
                    or subprocess.run(health_check, capture_output=True, timeout=10, check=False).returncode == 0
                ),
                timeout=TIMEOUT_SECONDS,
                interval=0.2,
            )
            # When the SDK's segment arrives on the receiver's UDP port
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sdk:
                sdk.sendto(sdk_frame(trace_id), ("127.0.0.1", ports["xray_udp"]))
            wait_until(lambda: collector.poll() is not None or bool(xray.segments_of(trace_id)), timeout=20)
        finally:
            if collector.poll() is None:
                collector.terminate()
            exit_status = collector.wait(timeout=STOP_SECONDS)
        output.flush()
        # Then ours sends it to X-Ray and stops cleanly; sharing the batch, the collector dies on it
        tail = "\n".join(log.read_text().splitlines()[-30:])
        if layout == "as rendered":
            assert [s["id"] for s in xray.segments_of(trace_id)] == ["53995c3f42cd8ad8"], tail
            assert exit_status == 0, tail
            xray.assert_clean()
        else:
            assert exit_status != 0 and "invalid access to shared data" in log.read_text(), tail
            assert xray.segments_of(trace_id) == []


def exporting_honeycomb_nowhere(config_text: str) -> str:
    """The configuration with Honeycomb's exporter sent to a closed loopback port."""
    config = yaml.safe_load(config_text)
    config["exporters"]["otlphttp/honeycomb"]["endpoint"] = f"http://127.0.0.1:{closed_port()}"
    return yaml.safe_dump(config, sort_keys=False)
