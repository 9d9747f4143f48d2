"""The task's containers as local processes, started and stopped as ECS does, on loopback.

    with ContainerProcess("xray-daemon", log_path, program(command, environ)) as daemon:
        daemon.wait_ready(lambda: tcp_port_open(port))  # fails with its last log lines if it exits first
        ...
        daemon.stop()                                # SIGTERM, then the task's stop timeout

What a container needs that only ECS gives (its ports, its image's
entrypoint, the endpoints of AWS and Honeycomb) is changed here, and only
that:

* ``xray_daemon_command``: the daemon image's entrypoint (the task definition
  gives the daemon no command of its own), on loopback ports, with X-Ray's
  endpoint (a config file's ``Endpoint``: the daemon has no flag for it),
  the region, and local mode (no EC2 instance metadata to ask);
* ``collector_in_the_daemons_place``: the collector with only the
  ``awsxray`` receiver and exporter, for the daemon path where the daemon
  cannot be built;
* ``collector_config_on_loopback``: the SSM parameter's text with each
  listening address moved to a free loopback port
  (``sidecars.listening_on_free_ports``), each backend endpoint (Honeycomb,
  X-Ray) sent to its stand-in, and X-Ray's endpoint set where the deployed
  configuration derives it from the region (``awsproxy``, the ``awsxray``
  receiver's sampling proxy, the ``awsxray`` exporter); everything else as
  deployed.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import pytest
import yaml

from cruddur import contract
from flask_aws_telemetry_cdk.components.collector_config import XRAY_PIPELINE, collector_config
from flask_aws_telemetry_cdk.models.collector_xray import CollectorXRay
from testsupport import sidecars
from testsupport.waiting import wait_until

# The daemon image's ENTRYPOINT arguments (aws-xray-daemon's Dockerfile): TCP and UDP on every interface, port 2000.
XRAY_DAEMON_IMAGE_ARGUMENTS = (
    "-t",
    f"0.0.0.0:{contract.XRAY_DAEMON_PORT}",
    "-b",
    f"0.0.0.0:{contract.XRAY_DAEMON_PORT}",
)
LOG_LINES_ON_FAILURE = 40


class ContainerProcess:
    """One container as a process: its stdout and stderr in ``log_path``, stopped with SIGTERM and a stop timeout."""

    def __init__(self, name: str, log_path: Path, start: Callable[[IO[str]], subprocess.Popen]) -> None:
        self.name = name
        self.log_path = Path(log_path)
        self._start = start
        self.process: subprocess.Popen | None = None
        self.returncode: int | None = None

    def __enter__(self):
        self._log = open(self.log_path, "w")
        self.process = self._start(self._log)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._log.close()

    def log(self) -> str:
        """Everything the container printed so far."""
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def last_lines(self, count: int = LOG_LINES_ON_FAILURE) -> str:
        """Its last ``count`` log lines, for a failure message."""
        return "\n".join(self.log().splitlines()[-count:])

    def assert_running(self) -> None:
        """Fail, with its last log lines, if the container has exited."""
        assert self.process is not None
        if self.process.poll() is not None:
            pytest.fail(
                f"{self.name} exited with status {self.process.returncode}; its last log lines:\n{self.last_lines()}"
            )

    def wait_ready(self, ready: Callable[[], bool], timeout: float = 30.0) -> None:
        """Wait until ``ready()``; fail with its last log lines if it exits first or is not ready in ``timeout``
        seconds.
        """
        assert self.process is not None
        wait_until(lambda: self.process.poll() is not None or ready(), timeout=timeout, interval=0.1)
        self.assert_running()
        if not ready():
            pytest.fail(f"{self.name} was not ready within {timeout:.0f} s; its last log lines:\n{self.last_lines()}")

    def stop(self, timeout: float = contract.STOP_TIMEOUT_SECONDS) -> int:
        """SIGTERM, as ECS sends it; fail (after SIGKILL, as ECS would) if it outlives the stop timeout. Its exit
        status.
        """
        assert self.process is not None
        self.assert_running()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            pytest.fail(
                f"{self.name} did not stop within {timeout:.0f} s of SIGTERM; its last log lines:\n{self.last_lines()}"
            )
        return self.returncode


def program(command: list[str], environ: dict[str, str]) -> Callable[[IO[str]], subprocess.Popen]:
    """How ``ContainerProcess`` starts a sidecar's binary: ``command`` with exactly the container's ``environ``."""
    return lambda output: subprocess.Popen(command, env=environ, stdout=output, stderr=subprocess.STDOUT, text=True)


def tcp_port_open(port: int) -> bool:
    """Something accepts TCP connections on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def xray_daemon_command(
    binary: Path, *, udp_port: int, tcp_port: int, region: str, endpoint: str, config_dir: Path
) -> list[str]:
    """The daemon image's entrypoint with loopback ports, and X-Ray's ``endpoint``, ``region`` and local mode added."""
    config = Path(config_dir) / "xray-daemon.yaml"
    config.write_text(yaml.safe_dump({"Version": 2, "Endpoint": endpoint}))
    arguments = list(XRAY_DAEMON_IMAGE_ARGUMENTS)
    arguments[arguments.index("-t") + 1] = f"127.0.0.1:{tcp_port}"
    arguments[arguments.index("-b") + 1] = f"127.0.0.1:{udp_port}"
    return [str(binary), *arguments, "--config", str(config), "--region", region, "--local-mode"]


def collector_in_the_daemons_place() -> str:
    """The collector as the X-Ray daemon and nothing more: the ``awsxray`` receiver (the SDK's UDP frames, the
    sampling proxy) to the ``awsxray`` exporter, as the collector-as-daemon path renders them, and its health check.

    Where the daemon's module cannot be built, the tests of the daemon path
    run this in the daemon container's place: a real program reads the SDK's
    frames and proxies its sampling calls, as the daemon would.
    """
    config = collector_config(honeycomb_endpoint="https://unused.invalid", xray=CollectorXRay.SDK_SEGMENTS)
    pipeline = config["service"]["pipelines"][XRAY_PIPELINE]
    return yaml.safe_dump(
        {
            "extensions": {"health_check": config["extensions"]["health_check"]},
            "receivers": {name: config["receivers"][name] for name in pipeline["receivers"]},
            "processors": {name: config["processors"][name] for name in pipeline["processors"]},
            "exporters": {name: config["exporters"][name] for name in pipeline["exporters"]},
            "service": {"extensions": ["health_check"], "pipelines": {XRAY_PIPELINE: pipeline}},
        },
        sort_keys=False,
    )


def _rewrite_endpoints(node: Any, backends: dict[str, str], rewritten: set[str]) -> Any:
    """``node`` with every endpoint URL whose host matches a pattern of ``backends`` sent to that stand-in, path
    kept.
    """
    if isinstance(node, list):
        return [_rewrite_endpoints(item, backends, rewritten) for item in node]
    if not isinstance(node, dict):
        return node
    result = {}
    for key, value in node.items():
        if key in ("endpoint", "traces_endpoint") and isinstance(value, str) and "://" in value:
            parts = urlsplit(value)
            for host_pattern, standin in backends.items():
                if re.fullmatch(host_pattern, parts.netloc, re.IGNORECASE):
                    value = standin.rstrip("/") + parts.path
                    rewritten.add(host_pattern)
        result[key] = _rewrite_endpoints(value, backends, rewritten)
    return result


def collector_config_on_loopback(
    config_text: str, *, backends: dict[str, str], xray_endpoint: str | None = None
) -> tuple[str, dict[str, int]]:
    """The deployed configuration with its listeners on free loopback ports and its backends at their stand-ins.

    ``backends`` maps a pattern of a backend's host (``api\\.honeycomb\\.io``)
    to its stand-in's URL; the deployed endpoint's path is kept. ``xray_endpoint``
    is X-Ray's stand-in, for the parts the deployed configuration gives no
    URL (they derive X-Ray's from the region): where ``awsproxy`` and the
    ``awsxray`` receiver's proxy forward the sampling API, and where the
    ``awsxray`` exporter sends ``PutTraceSegments``. Returns the YAML and the
    ports (``sidecars.listening_on_free_ports``). Fails naming a backend no exporter sends to.
    """
    listening, ports = sidecars.listening_on_free_ports(config_text)
    config = yaml.safe_load(listening)
    if xray_endpoint is not None:
        # Each part that calls X-Ray derives its endpoint from the region when deployed: here, the stand-in's.
        if "awsproxy" in config["extensions"]:
            config["extensions"]["awsproxy"]["aws_endpoint"] = xray_endpoint
        if "awsxray" in config["receivers"]:
            config["receivers"]["awsxray"]["proxy_server"]["aws_endpoint"] = xray_endpoint
        if "awsxray" in config["exporters"]:
            config["exporters"]["awsxray"]["endpoint"] = xray_endpoint
    rewritten: set[str] = set()
    config["exporters"] = _rewrite_endpoints(config["exporters"], backends, rewritten)
    assert rewritten == set(backends), f"no exporter of the configuration sends to {sorted(set(backends) - rewritten)}"
    return yaml.safe_dump(config, sort_keys=False), ports
