"""python -m flask_aws_telemetry.healthcheck: exit 0 on a 2xx from the app's health path on loopback, else 1 and one
line on stderr, within its timeout.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from flask_aws_telemetry import contract
from flask_aws_telemetry.healthcheck import TIMEOUT_SECONDS, probe
from testsupport.standins.loopback_http import LoopbackHttpServer
from testsupport.waiting import closed_port

COMMAND = [sys.executable, *contract.HEALTH_CHECK_COMMAND[1:]]


class HealthEndpoint(LoopbackHttpServer):
    """An app's health route: answers GET with ``status`` (after ``delay_seconds``), and remembers the paths."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def respond(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple:
        self.paths.append(path)
        extra = {"Location": "/elsewhere"} if 300 <= self.status < 400 else {}
        return self.status, b'{"status": "ok"}', extra


@pytest.fixture
def endpoint():
    with HealthEndpoint() as server:
        yield server


def _run(environ: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(COMMAND, env=environ, capture_output=True, text=True, timeout=TIMEOUT_SECONDS + 5)


def test_the_command_is_the_module_the_contract_names():
    """The task definition and a Dockerfile run the same command."""
    assert contract.HEALTH_CHECK_COMMAND == ("python", "-m", "flask_aws_telemetry.healthcheck")


@pytest.mark.parametrize("status", [200, 204])
def test_a_2xx_is_healthy(endpoint, status):
    """Any 2xx from GET PORT/HEALTH_CHECK_PATH on loopback."""
    endpoint.status = status
    assert probe(endpoint.port, "/health") is None
    assert endpoint.paths == ["/health"]


@pytest.mark.parametrize("status", [302, 404, 503])
def test_any_other_status_is_unhealthy_and_says_it(endpoint, status):
    """A redirect is not followed: the check is about this server's own answer."""
    endpoint.status = status
    assert probe(endpoint.port, "/health") == f"GET http://127.0.0.1:{endpoint.port}/health answered {status}"
    assert endpoint.paths == ["/health"]


def test_nothing_listening_is_unhealthy():
    """A refused connection is one line naming the URL."""
    port = closed_port()
    assert probe(port, "/health") == f"GET http://127.0.0.1:{port}/health: Connection refused"


def test_a_hanging_app_is_unhealthy_within_the_timeout(endpoint):
    """An app that does not answer is reported when the timeout passes, not when the caller gives up."""
    endpoint.delay_seconds = 2.0
    started = time.monotonic()
    reason = probe(endpoint.port, "/health", timeout_seconds=0.3)
    elapsed = time.monotonic() - started
    assert reason == f"GET http://127.0.0.1:{endpoint.port}/health: no answer within 0.3 s"
    assert elapsed < 1.5  # the 0.3 s timeout, far from the app's 2 s
    assert TIMEOUT_SECONDS < 5  # inside ECS's and Docker's default health-check timeout


def test_the_command_reads_port_and_path_and_exits_0_quietly(endpoint):
    """PORT and HEALTH_CHECK_PATH from the environment, as the task sets them; a proxy in the environment is not
    asked.
    """
    environ = {
        "PORT": str(endpoint.port),
        "HEALTH_CHECK_PATH": "/api/health-check",
        "HTTP_PROXY": f"http://127.0.0.1:{closed_port()}",
        "http_proxy": f"http://127.0.0.1:{closed_port()}",
    }
    result = _run(environ)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert endpoint.paths == ["/api/health-check"]


def test_the_command_exits_1_with_one_line_on_stderr(endpoint):
    """An unhealthy app: exit 1, and the reason is the one line the container's health log shows."""
    endpoint.status = 503
    result = _run({"PORT": str(endpoint.port)})
    assert result.returncode == 1
    assert result.stderr == f"unhealthy: GET http://127.0.0.1:{endpoint.port}/health answered 503\n"


def test_a_bad_variable_is_unhealthy_naming_it():
    """A PORT that is no port: exit 1, the settings' sentence."""
    result = _run({"PORT": "http"})
    assert result.returncode == 1
    assert result.stderr == "unhealthy: PORT='http' is invalid; use a whole number from 1 to 65535\n"
