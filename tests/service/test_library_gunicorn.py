"""The library's gunicorn config, hooks and hardening checks, under a real gunicorn, with a Flask app that is not
Cruddur:

    gunicorn --config python:flask_aws_telemetry.gunicorn_config "any_app:create_app()"

The hardening cases run gunicorn as root and as a user without privileges: as
whichever this test runs as, and as the other one by switching user with
setpriv (when root) or in a user namespace that maps this user to root
(when not).
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from flask_aws_telemetry import contract
from flask_aws_telemetry.healthcheck import probe
from testsupport.waiting import closed_port, wait_until

# A uid with no account and no privileges, as the image's USER.
UNPRIVILEGED_UID = 10001
ANY_APP = '''
"""A Flask app that is not Cruddur: a health route and one route, the telemetry installed from the environment."""

from flask import Flask

from flask_aws_telemetry import Telemetry


def create_app():
    app = Flask("any_app")

    @app.get("/health")
    def health():
        return {"status": "ok"}

    @app.get("/hello")
    def hello():
        return {"hello": "world"}

    Telemetry.install(app)
    return app
'''
# The address the library's config binds: all interfaces, on PORT.
LISTENING = re.compile(r"Listening at: http://0\.0\.0\.0:(\d+)")


@pytest.fixture(scope="module")
def app_dir() -> Iterator[Path]:
    """A folder with the app, readable by any uid (a worker running as another user imports it too)."""
    path = Path(tempfile.mkdtemp(prefix="any-app-"))
    path.chmod(0o755)
    (path / "any_app.py").write_text(ANY_APP)
    (path / "any_app.py").chmod(0o644)
    yield path
    shutil.rmtree(path)


def _identity(root: bool) -> list[str]:
    """The command prefix that runs gunicorn as root (``root``) or as a user without privileges."""
    if root == (os.geteuid() == 0):
        return []
    if root:
        return ["unshare", "--map-root-user"]  # uid 0 inside a user namespace of its own
    # uid 10001, keeping only the capability to read any file: the interpreter may live under /root (pyenv).
    # It grants no write, so a directory the uid may not write stays so.
    read_only = "+dac_read_search"
    return [
        "setpriv",
        f"--reuid={UNPRIVILEGED_UID}",
        f"--regid={UNPRIVILEGED_UID}",
        "--clear-groups",
        f"--inh-caps={read_only}",
        f"--ambient-caps={read_only}",
    ]


def start(app_dir: Path, port: int, *, root: bool | None = None, output=subprocess.PIPE, **environ: str):
    """The library's gunicorn config serving the app on ``port`` with the given variables."""
    prefix = _identity(root) if root is not None else []
    env = {
        "PATH": os.environ["PATH"],
        "HOME": "/tmp",
        contract.SERVICE_NAME.name: "any-app",
        contract.PORT.name: str(port),
        **environ,
    }
    command = [*prefix, sys.executable, "-m", "gunicorn", "--config", contract.GUNICORN_CONFIG, "any_app:create_app()"]
    return subprocess.Popen(
        command, cwd=app_dir, env=env, stdout=output, stderr=output, text=True, start_new_session=True
    )


def stop(process: subprocess.Popen) -> tuple[str, str]:
    """SIGTERM, as ECS sends it; what it wrote."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.communicate(timeout=contract.STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"gunicorn did not stop within {contract.STOP_TIMEOUT_SECONDS}s:\n{err[-3000:]}")


def refused(process: subprocess.Popen) -> tuple[int, list[str]]:
    """The exit status and stderr lines of a gunicorn that must stop by itself, before serving."""
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail("gunicorn kept running")
    return process.returncode, err.splitlines()


def serves(app_dir: Path, **kwargs) -> tuple[int, str]:
    """Start, wait for the health route, stop: the exit status and stderr of a gunicorn that must serve."""
    port = closed_port()
    process = start(app_dir, port, **kwargs)
    try:
        up = wait_until(lambda: probe(port, "/health", timeout_seconds=0.5) is None, timeout=30)
    finally:
        _, err = stop(process)
    assert up, err[-3000:]
    return process.returncode, err


# -- one gunicorn, run once for the module: what the config sets --------------------------------------------------


@dataclass
class Run:
    port: int
    writable: Path
    out: str
    err: str
    returncode: int
    health_check: subprocess.CompletedProcess
    worker_files: list[str]


@pytest.fixture(scope="module")
def run(app_dir) -> Iterator[Run]:
    """The app under the library's config with PORT, WEB_CONCURRENCY=3 and APP_WRITABLE_PATH; a request to /hello and
    three health checks; the container's health-check command; then SIGTERM.
    """
    writable = Path(tempfile.mkdtemp(prefix="app-writable-"))
    port = closed_port()
    process = start(app_dir, port, WEB_CONCURRENCY="3", APP_WRITABLE_PATH=str(writable))
    try:
        assert wait_until(lambda: probe(port, "/health", timeout_seconds=0.5) is None, timeout=30)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/hello", timeout=5) as response:
            assert response.status == 200
        for _ in range(2):
            assert probe(port, "/health") is None
        health_check = subprocess.run(
            [sys.executable, *contract.HEALTH_CHECK_COMMAND[1:]],
            env={"PORT": str(port)},
            capture_output=True,
            text=True,
            timeout=10,
        )
        assert wait_until(lambda: len(_children(process.pid)) == 3, timeout=10)
        worker_files = [path for child in _children(process.pid) for path in _open_files(child)]
    finally:
        out, err = stop(process)
    yield Run(port, writable, out, err, process.returncode, health_check, worker_files)
    shutil.rmtree(writable)


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (gunicorn's workers, of its master), from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def _open_files(pid: int) -> list[str]:
    """The paths a process holds open, as /proc shows them (an unlinked file ends in " (deleted)")."""
    paths = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            paths.append(os.readlink(fd))
        except OSError:
            pass
    return paths


def test_it_binds_all_interfaces_on_port(run):
    """bind = 0.0.0.0:$PORT: the load balancer reaches the container's port."""
    assert LISTENING.findall(run.err) == [str(run.port)], run.err[-3000:]


def test_it_runs_web_concurrency_gthread_workers(run):
    """workers = $WEB_CONCURRENCY, the number the telemetry's per-task limits divide by."""
    assert "Using worker: gthread" in run.err
    assert len(re.findall(r"Booting worker with pid: \d+", run.err)) == 3


def test_the_workers_keep_their_files_in_app_writable_path(run):
    """worker_tmp_dir = $APP_WRITABLE_PATH: each worker's heartbeat file is there (created, then unlinked)."""
    heartbeats = [path for path in run.worker_files if path.startswith(f"{run.writable}/")]
    assert len(heartbeats) == 3, run.worker_files


def test_the_container_health_check_passes(run):
    """python -m flask_aws_telemetry.healthcheck with PORT alone: the default HEALTH_CHECK_PATH, /health."""
    assert (run.health_check.returncode, run.health_check.stderr) == (0, "")


def test_only_the_request_writes_a_request_line_on_the_default_prefix(run):
    """Health checks (HEALTH_CHECK_PATH) are quiet by default; /hello's line is on flask_aws_telemetry.request."""
    lines = [line for line in run.out.splitlines() if '"logger": "flask_aws_telemetry.request"' in line]
    assert len(lines) == 1 and '"http_route": "/hello"' in lines[0]


def test_sigterm_drains_every_worker_and_exits_0(run):
    """Every worker that booted exits, and the master with 0."""
    booted = set(re.findall(r"Booting worker with pid: (\d+)", run.err))
    assert set(re.findall(r"Worker exiting \(pid: (\d+)\)", run.err)) == booted
    assert run.returncode == 0, run.err[-3000:]


def test_the_timeouts_fit_the_load_balancer_and_the_task(monkeypatch):
    """keepalive outlives the load balancer's idle timeout; the graceful stop and the drain fit inside the task's
    stop timeout; no control socket; the app imported after fork.
    """
    from flask_aws_telemetry import gunicorn_config

    monkeypatch.setenv("APP_WRITABLE_PATH", "/var/app")
    config = importlib.reload(gunicorn_config)
    assert config.keepalive > config.LOAD_BALANCER_IDLE_TIMEOUT_SECONDS == 60
    assert contract.SHUTDOWN_DRAIN_SECONDS < config.graceful_timeout < contract.STOP_TIMEOUT_SECONDS
    assert (config.control_socket_disable, config.preload_app, config.worker_class) == (True, False, "gthread")
    assert config.worker_tmp_dir == "/var/app"
    monkeypatch.undo()
    importlib.reload(gunicorn_config)


def test_an_app_s_own_config_star_imports_the_settings_and_hooks():
    """``from flask_aws_telemetry.gunicorn_config import *`` gives the settings and both hooks, nothing else."""
    namespace: dict = {}
    exec("from flask_aws_telemetry.gunicorn_config import *", namespace)
    names = set(namespace) - {"__builtins__"}
    assert {"bind", "workers", "worker_tmp_dir", "on_starting", "worker_exit"} <= names
    assert not {name for name in names if name.startswith("_") or name in ("os", "contract", "stop")}


# -- what stops gunicorn before it serves ---------------------------------------------------------------------------


def test_a_bad_port_stops_gunicorn_with_one_sentence(app_dir):
    """The config parses the process variables: PORT=http is refused before anything binds."""
    status, lines = refused(start(app_dir, closed_port(), PORT="http"))
    assert status == 3
    assert lines == ["configuration error: PORT='http' is invalid; use a whole number from 1 to 65535"]


def test_a_bad_telemetry_variable_stops_the_master_with_one_sentence(app_dir):
    """on_starting validates every telemetry variable in the master, before any worker."""
    status, lines = refused(start(app_dir, closed_port(), TELEMETRY_OTEL_ENABLED="maybe"))
    assert status == 3
    assert lines[-1] == "configuration error: TELEMETRY_OTEL_ENABLED='maybe' is invalid; use true or false"
    assert not [line for line in lines if "Booting worker" in line]


def test_root_in_an_ecs_task_stops_gunicorn_naming_the_dockerfile_s_user(app_dir):
    """uid 0 with the ECS agent's variable: one sentence, what to add to the Dockerfile."""
    ecs = {contract.ECS_CONTAINER_METADATA_URI_V4.name: f"http://127.0.0.1:{closed_port()}/v4/task"}
    status, lines = refused(start(app_dir, closed_port(), root=True, **ecs))
    assert status == 3
    assert lines[-1].startswith("configuration error: the app runs as root (uid 0) in an ECS task; add `USER 10001`")
    assert "to the image's Dockerfile" in lines[-1]
    assert not [line for line in lines if "Listening at" in line or "Booting worker" in line]


def test_root_outside_ecs_still_serves(app_dir):
    """docker run on a laptop, as root: no ECS agent, no refusal."""
    status, err = serves(app_dir, root=True)
    assert status == 0, err[-3000:]


def test_a_user_without_privileges_in_an_ecs_task_serves(app_dir):
    """The image's USER in an ECS task: the checks pass."""
    ecs = {contract.ECS_CONTAINER_METADATA_URI_V4.name: f"http://127.0.0.1:{closed_port()}/v4/task"}
    status, err = serves(app_dir, root=False, **ecs)
    assert status == 0, err[-3000:]


def test_a_missing_writable_path_stops_gunicorn_naming_the_volume(app_dir, tmp_path):
    """APP_WRITABLE_PATH that does not exist: one sentence, what the task mounts there."""
    missing = tmp_path / "not-mounted"
    status, lines = refused(start(app_dir, closed_port(), APP_WRITABLE_PATH=str(missing)))
    assert status == 3
    assert lines[-1] == (
        f"configuration error: APP_WRITABLE_PATH='{missing}' does not exist; the task mounts a writable volume there "
        "(its root file system is read-only), so set it to that volume's path and keep the image from writing "
        "anywhere else"
    )


def test_a_writable_path_the_user_cannot_write_stops_gunicorn(app_dir):
    """A directory the app's user may not write: one sentence naming the uid."""
    read_only = Path(tempfile.mkdtemp(prefix="read-only-"))
    try:
        read_only.chmod(0o555)
        status, lines = refused(start(app_dir, closed_port(), root=False, APP_WRITABLE_PATH=str(read_only)))
    finally:
        read_only.chmod(0o755)
        read_only.rmdir()
    assert status == 3
    uid = os.geteuid() if os.geteuid() != 0 else UNPRIVILEGED_UID
    assert lines[-1].startswith(
        f"configuration error: APP_WRITABLE_PATH='{read_only}' is not writable by uid {uid} (Permission denied); "
    )
