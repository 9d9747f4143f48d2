"""The real sidecars, built from their upstream Go modules by ``make sidecars`` into ``.sidecars/bin``.

    from testsupport import sidecars

    sidecars.collector()      # the OpenTelemetry Collector (sidecars/collector): reads AOT_CONFIG_CONTENT as ADOT does
    sidecars.healthcheck()    # the task's collector health-check command (asks health_check on 127.0.0.1:13133)
    sidecars.xray_daemon()    # the X-Ray daemon (sidecars/xray-daemon), or SidecarUnavailable saying why
    sidecars.collector_environment(dev, secrets={"HONEYCOMB_API_KEY": "fake"})  # the collector's env as ECS gives it
    text, ports = sidecars.listening_on_free_ports(text)  # its listeners moved to free loopback ports

Each function returns the binary's path, or raises ``SidecarUnavailable``
with one sentence saying what is missing and how to get it (run ``make
sidecars``; ``make test`` does). A test that needs a sidecar the machine
could not build skips with that sentence:

    daemon = sidecars.xray_daemon_or_skip()
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from cruddur import contract
from testsupport import templates
from testsupport.waiting import closed_port

if TYPE_CHECKING:
    from flask_aws_telemetry_cdk.assembly import SynthesizedEnvironment

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".sidecars" / "bin"


class SidecarUnavailable(RuntimeError):
    """A sidecar binary is not built on this machine."""


def _built(name: str, source: str) -> Path:
    path = BIN / name
    if not path.is_file():
        raise SidecarUnavailable(f"{path} is not built: run `make sidecars` (it builds {source} with Go).")
    return path


def collector() -> Path:
    """The collector built from sidecars/collector (components of components/collector_config.py)."""
    return _built("otelcol-cruddur", "sidecars/collector")


def healthcheck() -> Path:
    """The collector's container health-check command, as the task definition runs it."""
    return _built("healthcheck", "sidecars/collector/healthcheck")


def xray_daemon() -> Path:
    """The X-Ray daemon built from github.com/aws/aws-xray-daemon at sidecars/xray-daemon/go.mod's pin."""
    reason = BIN / "xray.unavailable"
    if reason.is_file():
        lines = [line.strip() for line in reason.read_text().splitlines() if line.strip()]
        lines = [line for line in lines if not line.startswith("go: downloading")]
        raise SidecarUnavailable(
            "the X-Ray daemon could not be built from its Go module (sidecars/xray-daemon): "
            + (" ".join(lines) if lines else "go build failed without a message")
        )
    return _built("xray", "sidecars/xray-daemon")


def xray_daemon_or_skip() -> Path:
    """The X-Ray daemon, or the calling test skipped with the reason it is not built."""
    try:
        return xray_daemon()
    except SidecarUnavailable as missing:
        pytest.skip(str(missing))


def collector_environment(
    env: SynthesizedEnvironment, *, secrets: dict[str, str], region: str = "us-east-1"
) -> dict[str, str]:
    """The collector container's environment as ECS gives it: its variables, and each secret's value.

    ``AOT_CONFIG_CONTENT`` is the SSM parameter's text from the templates;
    every other secret the container names must be in ``secrets`` (fake
    values: ``{"HONEYCOMB_API_KEY": "..."}``), or this fails naming it. A
    variable set to the stack's region (``Ref AWS::Region``) gets ``region``.
    """
    container = templates.sidecars(env)[contract.COLLECTOR_CONTAINER_NAME]
    variables = {
        name: region if value == {"Ref": "AWS::Region"} else value
        for name, value in templates.environment(container).items()
    }
    tokens = sorted(name for name, value in variables.items() if not isinstance(value, str))
    assert not tokens, f"the collector's variables {tokens} are CloudFormation tokens this function cannot resolve"
    values = {"AOT_CONFIG_CONTENT": templates.collector_configuration_text(env), **secrets}
    names = [secret["Name"] for secret in container.get("Secrets", [])]
    missing = sorted(set(names) - set(values))
    assert not missing, f"the collector's secrets {missing} have no value: pass them in secrets="
    return {**variables, **{name: values[name] for name in names}}


def listening_on_free_ports(config_text: str) -> tuple[str, dict[str, int]]:
    """The collector configuration with each listener on a free loopback port, and those ports by listener.

    The task's fixed ports (4317, 4318, 13133, 2000) may be taken on a
    shared machine; the listeners are ``otlp_grpc``, ``otlp_http``,
    ``health_check`` and, on the OpenTelemetry-only paths, ``awsproxy``,
    or, where the collector is the X-Ray daemon, ``xray_udp`` (the
    ``awsxray`` receiver's segments) and ``xray_proxy`` (its sampling proxy),
    and ``metrics``: the collector's own Prometheus endpoint, which it
    opens on localhost:8888 unless told otherwise (two collectors on one
    machine, as under pytest-xdist, would collide there).
    """
    config = yaml.safe_load(config_text)
    listeners = {"health_check": config["extensions"]["health_check"]}
    if "otlp" in config["receivers"]:  # not in the collector that stands in for the daemon (ecs_task)
        listeners["otlp_grpc"] = config["receivers"]["otlp"]["protocols"]["grpc"]
        listeners["otlp_http"] = config["receivers"]["otlp"]["protocols"]["http"]
    if "awsproxy" in config["extensions"]:
        listeners["awsproxy"] = config["extensions"]["awsproxy"]
    if "awsxray" in config["receivers"]:  # the collector as the X-Ray daemon: segments (UDP) and sampling (TCP)
        listeners["xray_udp"] = config["receivers"]["awsxray"]
        listeners["xray_proxy"] = config["receivers"]["awsxray"]["proxy_server"]
    ports = {}
    for name, listener in listeners.items():
        ports[name] = closed_port()
        listener["endpoint"] = f"127.0.0.1:{ports[name]}"
    ports["metrics"] = closed_port()
    telemetry = config["service"].setdefault("telemetry", {})
    telemetry.setdefault("metrics", {})["readers"] = [
        {"pull": {"exporter": {"prometheus": {"host": "127.0.0.1", "port": ports["metrics"]}}}}
    ]
    return yaml.safe_dump(config, sort_keys=False), ports
