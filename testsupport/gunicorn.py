"""Run the service under gunicorn the way the task does, and stop it the way ECS does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from cruddur import contract

SERVICE_DIR = Path(__file__).resolve().parents[1] / "service"


def start_gunicorn(
    environ: dict[str, str],
    port: int,
    command: Sequence[str] = contract.APP_COMMAND,
    *,
    output: Any = subprocess.PIPE,
    cwd: Path = SERVICE_DIR,
) -> subprocess.Popen:
    """``command`` (the task's) with ``environ`` in ``cwd`` (the image's working directory, default the service's);
    the address changes only through GUNICORN_CMD_ARGS, and PORT says it (the health check asks there).
    WEB_CONCURRENCY defaults to Cruddur's worker count when ``environ`` does not set it.

    ``output`` receives stdout and stderr. The default pipe suits short tests
    that read it with ``stop``; a long run must pass a file, or the pipe fills
    and every log write blocks.
    """
    if command[0] != "gunicorn":
        raise ValueError(f"expected a gunicorn command, got {command!r}")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "WEB_CONCURRENCY": str(contract.WORKERS),
        **environ,
        "PORT": str(port),
        "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port}",
    }
    return subprocess.Popen(
        [sys.executable, "-m", *command],
        cwd=cwd,
        env=env,
        stdout=output,
        stderr=output if output is not subprocess.PIPE else subprocess.PIPE,
        text=True,
    )


def stop(process: subprocess.Popen, timeout: float = contract.STOP_TIMEOUT_SECONDS) -> tuple[str, str]:
    """SIGTERM, as ECS sends it; fail if the process outlives the task's stop timeout."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
        pytest.fail(f"gunicorn did not stop within {timeout}s:\n{err[-3000:]}")


def task_environment(container: dict[str, Any], logical_names: dict[str, str]) -> dict[str, str]:
    """A synthesized container's environment and secrets as ECS gives them at run time, on a test machine.

    ``Ref``s resolve through ``logical_names`` (and the region to us-east-1);
    each secret gets a stand-in value, never a real one.
    """

    def resolve(value: str | dict[str, Any]) -> str:
        if isinstance(value, str):
            return value
        ref = value.get("Ref")
        if ref == "AWS::Region":
            return "us-east-1"
        if ref in logical_names:
            return logical_names[ref]
        raise AssertionError(f"unexpected token in the task environment: {value!r}")

    environ = {e["Name"]: resolve(e["Value"]) for e in container.get("Environment", [])}
    environ.update({s["Name"]: f"test-value-for-{s['Name'].lower()}" for s in container.get("Secrets", [])})
    return environ


def post_activity(port: int, message: str, trace_id: str | None = None) -> int:
    """POST /api/activities on loopback ``port`` as andrewbrown, continuing ``trace_id`` (W3C) when given; the
    status.
    """
    headers = {"Content-Type": "application/json"}
    if trace_id is not None:
        headers["traceparent"] = f"00-{trace_id}-{'1' * 16}-01"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/activities",
        data=json.dumps({"handle": "andrewbrown", "message": message}).encode(),
        headers=headers,
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status
