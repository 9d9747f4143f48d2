"""The service image: built from service/Dockerfile, run the way the synthesized dev task definition says.

The command, user, environment, secret names, read-only root file system,
writable paths, init process, dropped capabilities and stop timeout all come
from the template; only where the sidecars and Rollbar listen (loopback
stand-ins) and the bind address (GUNICORN_CMD_ARGS: loopback, on the
contract's port, which the image's HEALTHCHECK probes) differ, as in
tests/contract/test_task_definition_runs.py. The image's own HEALTHCHECK
must pass, a request must be traced to the stand-ins, and SIGTERM must stop
the container within the task's stop timeout with nothing lost.

Runs with podman or docker, whichever works here; without either, every
test is skipped with the reason. ``make image-test`` runs only these.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import uuid

import pytest

from cruddur import contract
from testsupport import templates
from testsupport.gunicorn import SERVICE_DIR, post_activity, task_environment
from testsupport.standins.aws import MotoServer, create_service_table
from testsupport.standins.otlp import OtlpReceiver
from testsupport.standins.rollbar import RollbarApi
from testsupport.standins.xray_daemon import XRayDaemon
from testsupport.waiting import wait_until

IMAGE = "localhost/cruddur-backend-flask:image-test"
BUILD_TIMEOUT_SECONDS = 900
HEALTHY_WITHIN_SECONDS = 60
REQUESTS = 3


def container_engine() -> tuple[str | None, str]:
    """The first of podman and docker that answers ``info``, or None and why neither does."""
    reasons = []
    for name in ("podman", "docker"):
        if shutil.which(name) is None:
            reasons.append(f"{name} is not installed")
            continue
        result = subprocess.run([name, "info"], capture_output=True, text=True, timeout=60)
        if result.returncode == 0:
            return name, ""
        reasons.append(f"{name} does not work here ({(result.stderr.strip().splitlines() or ['no output'])[-1][:120]})")
    return None, "no container engine: " + "; ".join(reasons) + " (on these machines: ../shared/tools/podman-here.sh)"


@pytest.fixture(scope="module")
def engine() -> str:
    """podman or docker; skips the module, with the reason, when neither works."""
    name, reason = container_engine()
    if name is None:
        pytest.skip(reason)
    return name


@pytest.fixture(scope="module")
def image(engine) -> str:
    """service/Dockerfile, built (podman keeps HEALTHCHECK only in the docker format)."""
    command = [engine, "build", "-t", IMAGE]
    if engine == "podman":
        command += ["--format", "docker"]
    result = subprocess.run(
        [*command, "-f", str(SERVICE_DIR / "Dockerfile"), str(SERVICE_DIR.parent)],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return IMAGE


@pytest.fixture(scope="module")
def app_container(dev) -> dict:
    """The app container definition of the synthesized dev task, with the task's volumes."""
    volumes = templates.task_definition(dev)["Properties"].get("Volumes", [])
    return {**templates.app_container(dev), "TaskVolumes": volumes}


def run_arguments(app: dict, environ: dict[str, str]) -> list[str]:
    """``run`` options that reproduce the task definition: user, read-only root, writable paths, init, capabilities."""
    arguments = ["--network", "host", "--user", app["User"], "--stop-timeout", str(app["StopTimeout"])]
    if app.get("ReadonlyRootFilesystem"):
        arguments.append("--read-only")
    volumes = {v["Name"] for v in app["TaskVolumes"] if "Host" not in v}
    for mount in app.get("MountPoints", []):
        assert mount["SourceVolume"] in volumes, mount  # an empty task volume: a fresh, private, writable directory
        arguments += ["--tmpfs", f"{mount['ContainerPath']}:rw,mode=1777"]
    linux = app.get("LinuxParameters", {})
    if linux.get("InitProcessEnabled"):
        arguments.append("--init")
    for capability in linux.get("Capabilities", {}).get("Drop", []):
        arguments += ["--cap-drop", capability]
    for name, value in environ.items():
        arguments += ["--env", f"{name}={value}"]
    return arguments


def _health(engine: str, name: str) -> str:
    """The image's HEALTHCHECK, run once now: 'healthy' or why not."""
    if engine == "podman":
        result = subprocess.run([engine, "healthcheck", "run", name], capture_output=True, text=True, timeout=30)
        return "healthy" if result.returncode == 0 else (result.stdout + result.stderr).strip() or "unhealthy"
    result = subprocess.run(
        [engine, "inspect", "--format", "{{.State.Health.Status}}", name], capture_output=True, text=True, timeout=30
    )
    return result.stdout.strip()


def test_the_image_runs_as_the_task_definition_says(engine, image, app_container, tmp_path):
    """Read-only root with only the declared writable path; HEALTHCHECK passes; traced; SIGTERM stops it in time."""
    app = app_container
    assert app["ReadonlyRootFilesystem"] is True and app.get("MountPoints"), "the task must declare its writable paths"
    name = f"cruddur-image-test-{uuid.uuid4().hex[:8]}"
    port = contract.CONTAINER_PORT  # the HEALTHCHECK probes it; the host network is shared, so it must be free
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            pytest.skip(f"port {port} is in use on this machine (make local?); the image's HEALTHCHECK needs it")
    with (
        OtlpReceiver() as collector,
        XRayDaemon() as daemon,
        RollbarApi() as rollbar,
        MotoServer(tmp_path / "moto.log") as dynamodb,
    ):
        table_ref = templates.environment(app)[contract.DYNAMODB_TABLE_NAME.name]["Ref"]
        environ = task_environment(app, {table_ref: create_service_table(dynamodb.url)})
        environ.update(
            {
                contract.OTEL_EXPORTER_OTLP_ENDPOINT.name: collector.url,
                contract.XRAY_DAEMON_ADDRESS.name: daemon.address,
                contract.ROLLBAR_ENDPOINT.name: rollbar.endpoint,
                contract.AWS_ENDPOINT_URL_DYNAMODB.name: dynamodb.url,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port}",
            }
        )
        started = subprocess.run(
            [engine, "run", "--detach", "--name", name, *run_arguments(app, environ), image, *app["Command"]],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert started.returncode == 0, started.stderr[-3000:]
        try:
            states: list[str] = []

            def healthy() -> bool:
                states.append(_health(engine, name))
                return states[-1] == "healthy"

            assert wait_until(healthy, timeout=HEALTHY_WITHIN_SECONDS, interval=1.0), (
                f"HEALTHCHECK: {states[-3:]}\n{_logs(engine, name)}"
            )

            # The root is read-only; the declared path is the only one the app user may write.
            probe = (
                "import os, tempfile\n"
                "try:\n    open('/app/probe', 'w')\nexcept OSError as e:\n    print('root', e.errno)\n"
                "print('tmp', tempfile.mkstemp()[1])"
            )
            result = subprocess.run(
                [engine, "exec", name, "python", "-c", probe], capture_output=True, text=True, timeout=30
            )
            assert "root 30" in result.stdout, result.stdout + result.stderr  # 30: EROFS, read-only file system
            assert f"tmp {contract.APP_TEMP_DIR}/" in result.stdout, result.stdout + result.stderr

            trace_ids = [f"6b01{uuid.uuid4().hex[4:]}" for _ in range(REQUESTS)]
            for trace_id in trace_ids:
                assert post_activity(port, f"image {trace_id}", trace_id) == 200

            # SIGTERM, as ECS sends it; the container must be gone within the task's stop timeout.
            began = time.monotonic()
            subprocess.run([engine, "kill", "--signal", "TERM", name], check=True, capture_output=True, timeout=30)
            waited = subprocess.run(
                [engine, "wait", name], capture_output=True, text=True, timeout=app["StopTimeout"] + 10
            )
            elapsed = time.monotonic() - began
            logs = _logs(engine, name)
        finally:
            subprocess.run([engine, "rm", "--force", name], capture_output=True, timeout=60)

        assert elapsed < app["StopTimeout"], f"stopped after {elapsed:.1f}s"
        assert waited.stdout.strip() == "0", logs[-3000:]  # gunicorn exited cleanly
        # nothing lost: every request's span and segment reached the stand-ins before the container exited
        server_spans = [s for s in collector.spans if s.name == "POST /api/activities"]
        assert {s.trace_id for s in server_spans} == set(trace_ids)
        assert {s["trace_id"] for s in daemon.segments} == {f"1-{t[:8]}-{t[8:]}" for t in trace_ids}
        lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
        assert {line["trace_id"] for line in lines if line.get("logger") == "cruddur.activities"} == set(trace_ids)
        assert rollbar.items == []


def _logs(engine: str, name: str) -> str:
    result = subprocess.run([engine, "logs", name], capture_output=True, text=True, timeout=30)
    return result.stdout + result.stderr


def test_without_an_engine_the_reason_is_given(monkeypatch):
    """No podman or docker on PATH: the skip reason names both and how to get one here."""
    monkeypatch.setenv("PATH", "/nonexistent")
    name, reason = container_engine()
    assert name is None
    assert "podman is not installed" in reason and "docker is not installed" in reason and "podman-here.sh" in reason
