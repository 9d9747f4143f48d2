"""service/Dockerfile runs Cruddur as its task does: the library's health-check command, Cruddur's process variables,
its port, its user and its command, each the contract's value.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from cruddur import contract

DOCKERFILE = Path(__file__).resolve().parents[2] / "service" / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined and comments dropped."""
    logical, pending = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1].strip()) for text in logical]


def _last(instruction: str) -> str:
    (*_, arguments) = [args for name, args in _instructions() if name == instruction]
    return arguments


def test_the_health_check_is_the_library_s_command():
    """HEALTHCHECK runs python -m flask_aws_telemetry.healthcheck, the command the task definition runs."""
    arguments = _last("HEALTHCHECK")
    command = json.loads(arguments[arguments.index("CMD") + len("CMD") :])
    assert command == list(contract.APP_HEALTHCHECK_COMMAND) == ["python", "-m", "flask_aws_telemetry.healthcheck"]


def test_the_image_sets_cruddur_s_process_variables():
    """docker run serves on Cruddur's port with its workers, health path and logger prefix, as the task does."""
    environment = {}
    for arguments in [args for name, args in _instructions() if name == "ENV"]:
        environment.update(dict(pair.split("=", 1) for pair in shlex.split(arguments)))
    assert {name: environment.get(name) for name in contract.PROCESS_ENVIRONMENT} == contract.PROCESS_ENVIRONMENT


@pytest.mark.parametrize(
    ("instruction", "expected"),
    [
        ("EXPOSE", str(contract.CONTAINER_PORT)),
        ("USER", contract.APP_USER),
        ("CMD", json.dumps(list(contract.APP_COMMAND))),
    ],
)
def test_port_user_and_command_are_the_contract_s(instruction, expected):
    """The port the load balancer reaches, the uid the hardening expects, the task's command."""
    assert _last(instruction) == expected
