"""Every synthesized collector configuration loads, and starts, in the real collector.

The collector is ``make sidecars``' build of ``sidecars/collector`` (the
upstream OpenTelemetry Collector modules, with exactly the components
``components/collector_config.py`` uses). Each configuration is given
as ECS gives it to the sidecar: the SSM parameter's text in
``AOT_CONFIG_CONTENT``, the secrets and ``AWS_REGION`` as environment
variables. A configuration the collector rejects fails with the collector's
own message; a collector that does not start, or exits, fails with its last
log lines.
"""

from __future__ import annotations

import subprocess

import pytest
import yaml

from testsupport import sidecars
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


def validate(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The collector's own ``validate`` command, reading its configuration from AOT_CONFIG_CONTENT as ADOT does."""
    return subprocess.run(
        [str(sidecars.collector()), "validate"],
        env={"PATH": "/usr/bin:/bin", **FAKE_CREDENTIALS, **environment},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )


def last_lines(result: subprocess.CompletedProcess[str], count: int = 20) -> str:
    """The collector's last output lines, to quote in a failure."""
    return "\n".join((result.stdout + result.stderr).strip().splitlines()[-count:])


def test_every_synthesized_configuration_loads(any_env):
    """dev, staging, prod and dev on the OpenTelemetry-only path: the collector accepts each one."""
    # Given the collector's environment as the task definition and its SSM parameter give it
    environment = sidecars.collector_environment(any_env, secrets=FAKE_SECRETS)
    # When the collector validates its configuration
    result = validate(environment)
    # Then it accepts it
    path = any_env.config.telemetry.xray_path.value
    assert result.returncode == 0, f"the collector rejects {any_env.config.name}'s ({path}):\n{last_lines(result)}"


def exporting_nowhere(config_text: str) -> str:
    """The configuration with every exporter sent to a closed loopback port: nothing leaves the machine."""
    config = yaml.safe_load(config_text)
    nowhere = f"http://127.0.0.1:{closed_port()}"
    for exporter in config["exporters"].values():
        for key in ("endpoint", "traces_endpoint"):
            if key in exporter:
                exporter[key] = nowhere + ("/v1/traces" if key == "traces_endpoint" else "")
    return yaml.safe_dump(config, sort_keys=False)


def test_every_synthesized_configuration_starts_and_answers_the_health_check(any_env, tmp_path):
    """The collector starts with each configuration, its health check says so as the task's command asks, and
    SIGTERM stops it cleanly (listeners moved to free loopback ports, exporters to a closed one)."""
    # Given the collector's environment as ECS gives it, on ports free on this machine
    environment = sidecars.collector_environment(any_env, secrets=FAKE_SECRETS)
    text, ports = sidecars.listening_on_free_ports(environment["AOT_CONFIG_CONTENT"])
    environment["AOT_CONFIG_CONTENT"] = exporting_nowhere(text)
    log = tmp_path / "collector.log"
    health_check = [str(sidecars.healthcheck()), "--port", str(ports["health_check"])]

    def healthy() -> bool:
        return subprocess.run(health_check, capture_output=True, timeout=10, check=False).returncode == 0

    # When it starts
    with log.open("w") as output:
        collector = subprocess.Popen(
            [str(sidecars.collector())],
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
            assert exited is None, (
                f"the collector exited ({exited}) with {any_env.config.name}'s configuration:\n{tail}"
            )
            assert answered and healthy(), f"the collector's health check never answered 200:\n{tail}"
        finally:
            # And SIGTERM stops it cleanly
            collector.terminate()
            stopped = collector.wait(timeout=STOP_SECONDS)
    assert stopped == 0, "\n".join(log.read_text().splitlines()[-20:])


def broken(configuration: str, change: str) -> str:
    """``configuration`` with one mistake a person could make."""
    parsed = yaml.safe_load(configuration)
    if change == "misspelt field":
        parsed["processors"]["batch/traces"]["send_batch_sze"] = parsed["processors"]["batch/traces"].pop(
            "send_batch_size"
        )
    elif change == "exporter not built in":
        parsed["exporters"]["awsxray"] = {"region": "${env:AWS_REGION}"}
        parsed["service"]["pipelines"]["traces"]["exporters"].append("awsxray")
    elif change == "undefined extension":
        parsed["service"]["extensions"].append("sigv4auth/missing")
    return yaml.safe_dump(parsed, sort_keys=False)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("misspelt field", "send_batch_sze"),
        ("exporter not built in", "awsxray"),
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
