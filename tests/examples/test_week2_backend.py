"""The week-2 example backend: a second Flask app that uses only flask_aws_telemetry's public API.

Every route answers with its mock data's shape while the library is installed with every part off; the app
imports nothing of Cruddur; gunicorn starts it with the library's configuration
(``python:flask_aws_telemetry.gunicorn_config``) and the library's health check answers for it; its image
installs the released packages by version and copies only its own folder. Its CDK app, synthesized in a
repository of its own, is ``test_team_repository.py``'s.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import re
import signal
import subprocess
import sys
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from flask_aws_telemetry import contract as telemetry_contract
from testsupport.waiting import closed_port, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DIR = REPO_ROOT / "examples" / "week2-backend"
SERVICE_DIR = EXAMPLE_DIR / "service"  # the image's working directory
# The example's top-level modules, imported from its folder as gunicorn and "flask run" import them there.
EXAMPLE_MODULES = re.compile(r"^(app|services)(\.|$)")
HEALTH_CHECK_PATH = "/api/health-check"  # the example's, as its stages.py gives it to the task
GUNICORN_COMMAND = ["gunicorn", "--config", "python:flask_aws_telemetry.gunicorn_config", "app:create_app()"]

ACTIVITY_KEYS = {
    "uuid", "handle", "message", "replies_count", "reposts_count", "likes_count", "replies", "created_at", "expires_at",
}  # fmt: skip
REPLY_KEYS = {
    "uuid", "reply_to_activity_uuid", "handle", "message", "replies_count", "reposts_count", "likes_count",
    "created_at",
}  # fmt: skip
MESSAGE_KEYS = {"uuid", "display_name", "handle", "message", "created_at"}


def telemetry_off_environ(**overrides: str) -> dict[str, str]:
    """The library's variables with every part switched off, and the frontend's origin for CORS."""
    environ = {
        telemetry_contract.SERVICE_NAME.name: "week2-backend",
        telemetry_contract.DEPLOYMENT_ENVIRONMENT.name: "test",
        telemetry_contract.OTEL_ENABLED.name: "false",
        telemetry_contract.XRAY_ENABLED.name: "false",
        telemetry_contract.WATCHTOWER_ENABLED.name: "false",
        telemetry_contract.ROLLBAR_ENABLED.name: "false",
        telemetry_contract.BROWSER_TRACES_ENABLED.name: "false",
        telemetry_contract.FRONTEND_URL.name: "http://localhost:3000",
    }
    environ.update(overrides)
    return environ


@pytest.fixture
def example_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The example's app module, imported from its folder; the process's own modules of those names come back after."""
    monkeypatch.syspath_prepend(str(SERVICE_DIR))
    shadowed = [name for name in sys.modules if EXAMPLE_MODULES.match(name)]
    for name in shadowed:
        monkeypatch.delitem(sys.modules, name)
    yield importlib.import_module("app")
    for name in [name for name in sys.modules if EXAMPLE_MODULES.match(name) and name not in shadowed]:
        del sys.modules[name]


@pytest.fixture
def client(example_app: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A test client of the example built with the telemetry off (the app reads the process environment)."""
    for name, value in telemetry_off_environ().items():
        monkeypatch.setenv(name, value)
    return example_app.create_app().test_client()


def assert_recent(timestamp: str, now: dt.datetime, *, within: dt.timedelta) -> None:
    """``timestamp`` is an ISO 8601 time with a zone, no later than ``now`` and no earlier than ``now - within``."""
    moment = dt.datetime.fromisoformat(timestamp)
    assert moment.tzinfo is not None, timestamp
    assert now - within <= moment <= now, (timestamp, now)


def assert_activities(body: Any, now: dt.datetime) -> None:
    """``body`` is a non-empty list of activities, each created before it expires, in the last three days."""
    assert isinstance(body, list) and body
    for activity in body:
        assert set(activity) == ACTIVITY_KEYS
        assert_recent(activity["created_at"], now, within=dt.timedelta(days=3))
        assert dt.datetime.fromisoformat(activity["expires_at"]) > dt.datetime.fromisoformat(activity["created_at"])
        assert activity["replies_count"] >= len(activity["replies"])
        for reply in activity["replies"]:
            assert set(reply) == REPLY_KEYS
            assert reply["reply_to_activity_uuid"] == activity["uuid"]


def assert_messages(body: Any, now: dt.datetime) -> None:
    """``body`` is a non-empty list of messages or message groups from the last three days."""
    assert isinstance(body, list) and body
    for message in body:
        assert set(message) == MESSAGE_KEYS
        assert_recent(message["created_at"], now, within=dt.timedelta(days=3))


@pytest.mark.parametrize(
    ("path", "assert_shape"),
    [
        ("/api/activities/home", assert_activities),
        ("/api/activities/notifications", assert_activities),
        ("/api/activities/@worf", assert_activities),
        ("/api/activities/search?term=cloud", assert_activities),
        ("/api/message_groups", assert_messages),
        ("/api/messages/@worf", assert_messages),
    ],
)
def test_each_route_answers_its_mock_data_computed_from_now(client: Any, path: str, assert_shape: Any) -> None:
    """Given the telemetry off, when a route is asked, then it answers 200 with its data, dated from now."""
    response = client.get(path)
    now = dt.datetime.now(dt.UTC)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_shape(response.get_json(), now)


def test_the_home_feed_is_newest_first(client: Any) -> None:
    """The home feed lists its activities newest first."""
    created = [dt.datetime.fromisoformat(a["created_at"]) for a in client.get("/api/activities/home").get_json()]
    assert created == sorted(created, reverse=True) and len(created) > 1


def test_a_user_feed_and_a_conversation_belong_to_the_handle(client: Any) -> None:
    """The handle in the path is the author of the user's feed and a party to the conversation."""
    assert {a["handle"] for a in client.get("/api/activities/@worf").get_json()} == {"worf"}
    assert "worf" in {m["handle"] for m in client.get("/api/messages/@worf").get_json()}


def test_search_finds_by_term_and_refuses_a_blank_one(client: Any) -> None:
    """Search matches the message case-insensitively; a blank term answers 422 with the course's error name."""
    found = client.get("/api/activities/search?term=CLOUD").get_json()
    assert found and all("cloud" in activity["message"].lower() for activity in found)
    assert client.get("/api/activities/search?term=nothing-says-this").get_json() == []
    blank = client.get("/api/activities/search?term=%20")
    assert blank.status_code == 422
    assert blank.get_json() == {"errors": ["search_term_blank"]}


def test_the_health_check_answers(client: Any) -> None:
    """The health check answers 200 with success."""
    response = client.get(HEALTH_CHECK_PATH)
    assert response.status_code == 200
    assert response.get_json() == {"success": True}


def test_the_rollbar_check_fails_on_purpose(client: Any) -> None:
    """/rollbar/test raises, so an unhandled error (and, with Rollbar on, its item) is one request away."""
    assert client.get("/rollbar/test").status_code == 500


def test_cors_allows_the_frontend_url_only(client: Any) -> None:
    """The origin FRONTEND_URL names is allowed on /api/*; another origin gets no CORS header."""
    allowed = client.get("/api/activities/home", headers={"Origin": "http://localhost:3000"})
    other = client.get("/api/activities/home", headers={"Origin": "http://elsewhere.example"})
    assert allowed.headers.get("Access-Control-Allow-Origin") == "http://localhost:3000"
    assert "Access-Control-Allow-Origin" not in other.headers


def test_create_app_imports_nothing_of_cruddur() -> None:
    """Built and asked every route in a fresh interpreter, the example has loaded no module of the Cruddur app."""
    script = """
import json, sys
from app import create_app
client = create_app().test_client()
for path in ("/api/health-check", "/api/activities/home", "/api/activities/notifications", "/api/activities/@worf",
             "/api/activities/search?term=cloud", "/api/message_groups", "/api/messages/@worf"):
    assert client.get(path).status_code == 200, path
print(json.dumps(sorted(name for name in sys.modules if name == "cruddur" or name.startswith("cruddur."))))
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        cwd=SERVICE_DIR,
        env={**os.environ, **telemetry_off_environ()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def gunicorn(environ: dict[str, str], port: int) -> subprocess.Popen[str]:
    """The image's command (the library's gunicorn configuration) in its working directory: one worker on ``port``."""
    return subprocess.Popen(
        [sys.executable, "-m", *GUNICORN_COMMAND],
        cwd=SERVICE_DIR,
        env={
            **os.environ,
            **environ,
            telemetry_contract.PORT.name: str(port),
            telemetry_contract.WEB_CONCURRENCY.name: "1",
            telemetry_contract.HEALTH_CHECK_PATH.name: HEALTH_CHECK_PATH,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def answers(url: str) -> bool:
    """True when ``url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def test_gunicorn_serves_it_with_the_library_configuration_and_stops_cleanly() -> None:
    """Under gunicorn with the library's configuration on $PORT, the example serves the home feed, the library's
    health-check command passes against it, and it exits 0 on SIGTERM.
    """
    port = closed_port()
    server = gunicorn(telemetry_off_environ(), port)
    try:
        assert wait_until(lambda: answers(f"http://127.0.0.1:{port}{HEALTH_CHECK_PATH}"), timeout=30)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/activities/home", timeout=5) as response:
            assert len(json.load(response)) == 3
        check = subprocess.run(
            [sys.executable, "-m", "flask_aws_telemetry.healthcheck"],
            env={
                **os.environ,
                telemetry_contract.PORT.name: str(port),
                telemetry_contract.HEALTH_CHECK_PATH.name: HEALTH_CHECK_PATH,
            },
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=40)
        assert server.returncode == 0, output
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()


def test_gunicorn_refuses_a_bad_setting_before_any_worker_starts() -> None:
    """A bad telemetry variable stops gunicorn in its master with exit 3 and a sentence naming the variable."""
    bad = telemetry_off_environ(**{telemetry_contract.OTEL_ENABLED.name: "maybe"})
    server = gunicorn(bad, closed_port())
    output, _ = server.communicate(timeout=30)
    assert server.returncode == 3, output
    assert telemetry_contract.OTEL_ENABLED.name in output


def requirement_lines(requirements: Path) -> list[str]:
    """The requirement lines of a requirements file, comments and blank lines left out."""
    lines = [line.split("#", 1)[0].strip() for line in requirements.read_text().splitlines()]
    return [line for line in lines if line]


def released_version(package: str) -> str:
    """The version packages/<package>/pyproject.toml releases."""
    return str(tomllib.loads((REPO_ROOT / "packages" / package / "pyproject.toml").read_text())["project"]["version"])


def test_the_image_installs_the_released_library_by_version() -> None:
    """The image's requirements pin flask-aws-telemetry at the version packages/ releases; none names a path."""
    lines = requirement_lines(SERVICE_DIR / "requirements.txt")
    assert f"flask-aws-telemetry=={released_version('flask-aws-telemetry')}" in lines
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[A-Za-z0-9_.]+", line) for line in lines), lines


def test_the_cdk_app_installs_the_released_constructs_by_version() -> None:
    """The repository's requirements are the image's and flask-aws-telemetry-cdk at the version packages/ releases."""
    lines = requirement_lines(EXAMPLE_DIR / "requirements.txt")
    assert lines == [
        "-r service/requirements.txt",
        f"flask-aws-telemetry-cdk=={released_version('flask-aws-telemetry-cdk')}",
    ]


def test_the_dockerfile_copies_only_its_own_folder() -> None:
    """Each COPY source in the Dockerfile is a file or folder of service/ (the build context): nothing from above it."""
    sources = []
    for line in (SERVICE_DIR / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            sources.extend(line.split()[1:-1])
    assert sources
    for source in sources:
        assert (SERVICE_DIR / source).exists(), source
        assert (SERVICE_DIR / source).resolve().is_relative_to(SERVICE_DIR), source


def test_the_image_runs_the_library_gunicorn_configuration_as_a_non_root_user() -> None:
    """The Dockerfile's CMD is the command these tests run, and its final USER is 10001 (the task's default)."""
    dockerfile = (SERVICE_DIR / "Dockerfile").read_text()
    (cmd,) = re.findall(r"^CMD (.+)$", dockerfile, re.MULTILINE)
    assert json.loads(cmd) == GUNICORN_COMMAND
    assert re.findall(r"^USER (\S+)$", dockerfile, re.MULTILINE)[-1] == "10001"
